"""The VQ-VAE: codebook math (EMA, restarts, nearest code), straight-through gradients,
perplexity / usage, and the tokenizer's encode / decode / save / load contract."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.tokenizers import TokenizerError, VQTokenizer, build_tokenizer, load_tokenizer, save_vqvae
from unmask.tokenizers.vqvae import (
    VQVAE,
    EMAVectorQuantizer,
    VQVAEConfig,
    codebook_perplexity,
    codebook_usage,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_config(**kw: object) -> VQVAEConfig:
    base: dict[str, object] = dict(image_size=8, channels=8, downsample=1, res_blocks=1, codebook_size=16, code_dim=4)
    base.update(kw)
    return VQVAEConfig(**base)  # type: ignore[arg-type]


def test_ema_update_matches_the_formula_on_a_hand_case() -> None:
    q = EMAVectorQuantizer(2, 1, decay=0.5, eps=1e-5, dead_threshold=0.0)
    q.cluster_size.copy_(torch.tensor([1.0, 1.0]))
    q.embed_sum.copy_(torch.tensor([[0.0], [10.0]]))
    z = torch.tensor([[1.0], [3.0], [12.0]])
    restarted = q.ema_update(z, torch.tensor([0, 0, 1]))
    assert restarted == 0
    # N = 0.5·[1, 1] + 0.5·[2, 1] = [1.5, 1];  m = 0.5·[0, 10] + 0.5·[4, 12] = [2, 11]
    assert torch.allclose(q.cluster_size, torch.tensor([1.5, 1.0]))
    assert torch.allclose(q.embed_sum, torch.tensor([[2.0], [11.0]]))
    eps, total = 1e-5, 2.5
    smoothed = [(1.5 + eps) / (total + 2 * eps) * total, (1.0 + eps) / (total + 2 * eps) * total]
    expect = torch.tensor([[2.0 / smoothed[0]], [11.0 / smoothed[1]]])
    assert torch.allclose(q.embedding, expect, rtol=1e-6)
    assert abs(q.embedding[0, 0].item() - 4 / 3) < 1e-4 and abs(q.embedding[1, 0].item() - 11) < 1e-3


def test_with_decay_zero_each_code_becomes_the_mean_of_its_vectors() -> None:
    q = EMAVectorQuantizer(3, 2, decay=0.0, eps=1e-9, dead_threshold=0.0)
    z = torch.tensor([[0.0, 2.0], [2.0, 4.0], [5.0, 5.0], [-1.0, -1.0], [-3.0, -1.0]])
    q.ema_update(z, torch.tensor([0, 0, 1, 2, 2]))
    assert torch.allclose(q.embedding, torch.tensor([[1.0, 3.0], [5.0, 5.0], [-2.0, -1.0]]), atol=1e-6)


def test_dead_codes_are_restarted_onto_batch_vectors_and_live_ones_are_kept() -> None:
    q = EMAVectorQuantizer(4, 2, decay=0.9, dead_threshold=1.0)
    q.cluster_size.copy_(torch.tensor([50.0, 50.0, 1.05, 0.5]))
    q.embedding.copy_(torch.tensor([[0.0, 0.0], [10.0, 0.0], [100.0, 100.0], [-100.0, -100.0]]))
    q.embed_sum.copy_(q.embedding * q.cluster_size[:, None])
    z = torch.tensor([[0.1, 0.0], [-0.1, 0.0], [10.2, 0.0], [9.8, 0.0], [0.0, 0.1], [10.0, 0.1]])
    idx = q.nearest(z)
    assert idx.tolist() == [0, 0, 1, 1, 0, 1]
    before = q.embedding[:2].clone()
    restarted = q.ema_update(z, idx, torch.Generator().manual_seed(0))
    # codes 2 (1.05·0.9 = 0.945 < 1) and 3 died; codes 0 and 1 follow their vectors
    assert restarted == 2
    rows = {tuple(r) for r in z.tolist()}
    new = [tuple(r) for r in q.embedding[2:].tolist()]
    assert all(r in rows for r in new) and new[0] != new[1]  # distinct batch vectors
    assert torch.allclose(q.cluster_size[2:], torch.tensor([1.0, 1.0]))
    assert torch.allclose(q.embed_sum[2:], q.embedding[2:])
    assert torch.allclose(q.embedding[:2], before, atol=0.2)
    # same generator seed, same restarts
    q2 = EMAVectorQuantizer(4, 2, decay=0.9, dead_threshold=1.0)
    q2.load_state_dict({k: v.clone() for k, v in q.state_dict().items()})
    q2.cluster_size[3] = 0.0
    q.cluster_size[3] = 0.0
    q.restart_dead(z, torch.Generator().manual_seed(5))
    q2.restart_dead(z, torch.Generator().manual_seed(5))
    assert torch.equal(q.embedding, q2.embedding)


def test_restarts_off_when_threshold_is_zero_and_more_dead_codes_than_vectors() -> None:
    q = EMAVectorQuantizer(8, 2, dead_threshold=0.0)
    assert q.ema_update(torch.ones(3, 2), torch.zeros(3, dtype=torch.long)) == 0
    q = EMAVectorQuantizer(8, 2, dead_threshold=1.0)
    z = torch.arange(6.0).view(3, 2)
    assert q.ema_update(z, torch.zeros(3, dtype=torch.long), torch.Generator().manual_seed(0)) == 8
    assert {tuple(r) for r in q.embedding.tolist()} <= {tuple(r) for r in z.tolist()}


def test_the_first_update_moves_the_whole_codebook_onto_data() -> None:
    torch.manual_seed(0)
    q = EMAVectorQuantizer(16, 3, decay=0.99, dead_threshold=1.0)
    z = torch.randn(200, 3) * 5 + 40  # far from the N(0, 1) initial codes: one code takes every vector
    idx = q.nearest(z)
    assert idx.unique().numel() == 1
    assert q.ema_update(z, idx, torch.Generator().manual_seed(1)) == 15
    rows = {tuple(r) for r in z.tolist()}
    winner = int(idx[0])
    others = [tuple(r) for i, r in enumerate(q.embedding.tolist()) if i != winner]
    assert all(r in rows for r in others) and len(set(others)) == 15  # restarted on distinct data vectors
    # the mean of its vectors, up to the Laplace smoothing (1 − K·ε/2 here)
    assert torch.allclose(q.embedding[winner], z.mean(0), rtol=2e-4)


def test_nearest_is_the_argmin_of_squared_distances_with_ties_to_the_lowest_index() -> None:
    torch.manual_seed(0)
    q = EMAVectorQuantizer(32, 5)
    z = torch.randn(300, 5)
    assert torch.equal(q.nearest(z), torch.cdist(z, q.embedding).argmin(1))
    q2 = EMAVectorQuantizer(3, 1)
    q2.embedding.copy_(torch.tensor([[1.0], [-1.0], [1.0]]))
    assert q2.nearest(torch.tensor([[0.0], [1.0]])).tolist() == [0, 0]


def test_straight_through_gradient_and_commitment() -> None:
    torch.manual_seed(0)
    q = EMAVectorQuantizer(8, 4)
    z = torch.randn(2, 4, 3, 3, requires_grad=True)
    out = q(z)
    assert out.indices.shape == (2, 3, 3) and out.counts.sum().item() == 18
    codes = q.embedding[out.indices].permute(0, 3, 1, 2)
    assert torch.allclose(out.quantized, codes)
    assert torch.allclose(out.commitment, ((z - codes) ** 2).mean())
    (out.quantized * torch.arange(4.0).view(1, 4, 1, 1)).sum().backward()
    assert torch.allclose(z.grad, torch.arange(4.0).view(1, 4, 1, 1).expand_as(z))  # identity Jacobian


@pytest.mark.parametrize(
    ("counts", "ppl", "usage"),
    [([5, 5, 0, 0], 2.0, 0.5), ([3, 3, 3, 3], 4.0, 1.0), ([0, 9, 0, 0], 1.0, 0.25), ([0, 0, 0, 0], 0.0, 0.0)],
)
def test_perplexity_and_usage(counts: list[int], ppl: float, usage: float) -> None:
    c = torch.tensor(counts)
    assert math.isclose(codebook_perplexity(c), ppl, rel_tol=1e-9, abs_tol=1e-12)
    assert codebook_usage(c) == usage
    p = np.array([1, 2, 3, 4]) / 10
    assert math.isclose(codebook_perplexity(torch.tensor([1, 2, 3, 4])), math.exp(-(p * np.log(p)).sum()))


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"image_size": 28, "downsample": 3}, "divisible by 2^downsample = 8"),
        ({"in_channels": 2}, "in_channels must be 1 or 3"),
        ({"codebook_size": 70000}, "codebook_size must be <= 65536"),
        ({"ema_decay": 1.0}, "ema_decay must be in [0, 1)"),
        ({"channels": 0}, "channels must be an integer >= 1"),
        ({"dead_threshold": -1.0}, "dead_threshold must be >= 0"),
    ],
)
def test_config_rejects_bad_values(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        tiny_config(**kw)


@pytest.mark.parametrize(("downsample", "channels"), [(1, 1), (2, 1), (1, 3), (3, 3)])
def test_tokenizer_round_trip_shapes_ranges_and_reload(tmp_path: Path, downsample: int, channels: int) -> None:
    torch.manual_seed(0)
    cfg = tiny_config(image_size=16, downsample=downsample, in_channels=channels, codebook_size=16)
    model = VQVAE(cfg)
    path = save_vqvae(model, tmp_path / "vq.safetensors")
    tok = VQTokenizer.load(path)
    rng = np.random.default_rng(0)
    shape = (5, 16, 16) if channels == 1 else (5, 16, 16, 3)
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    codes = tok.encode(images)
    f = 2**downsample
    assert codes.shape == (5, 16 // f, 16 // f) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) <= 15
    assert tok.vocab_size == 17 and tok.grid == (16 // f, 16 // f)
    out = tok.decode(codes)
    assert out.shape == shape and out.dtype == np.uint8
    # the same codes as the in-memory model, after save / load / build_tokenizer from the spec
    x = torch.as_tensor(images).float().div(127.5).sub(1)
    x = x[:, None] if channels == 1 else x.permute(0, 3, 1, 2)
    assert torch.equal(codes, model.eval().encode_indices(x))
    spec = tok.config()
    assert spec["name"] == "vqvae" and spec["path"] == str(path.resolve()) and len(spec["sha256"]) == 64
    again = build_tokenizer(spec)
    assert torch.equal(again.encode(images), codes)
    assert np.array_equal(again.decode(codes), out)
    # decoding is the decoder of the codebook vectors, clamped and rounded
    ref = model.decode_indices(codes).clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    ref_np = ref[:, 0].numpy() if channels == 1 else ref.permute(0, 2, 3, 1).numpy()
    assert np.array_equal(out, ref_np)


def test_grey_images_are_repeated_for_an_rgb_vqvae(tmp_path: Path) -> None:
    torch.manual_seed(1)
    tok = VQTokenizer.load(save_vqvae(VQVAE(tiny_config(in_channels=3)), tmp_path / "v.safetensors"))
    grey = np.random.default_rng(1).integers(0, 256, (3, 8, 8), dtype=np.uint8)
    assert torch.equal(tok.encode(grey), tok.encode(np.repeat(grey[..., None], 3, axis=-1)))
    grey_tok = VQTokenizer.load(save_vqvae(VQVAE(tiny_config()), tmp_path / "g.safetensors"))
    with pytest.raises(ValueError, match="takes 1-channel images, got 3"):
        grey_tok.encode(np.zeros((1, 8, 8, 3), np.uint8))


@pytest.mark.parametrize(
    ("bad", "needle"), [(16, r"id 16 outside the codebook \[0, 15\] \(the \[MASK\] id"), (-1, "id -1")]
)
def test_decode_rejects_ids_outside_the_codebook(tmp_path: Path, bad: int, needle: str) -> None:
    tok = VQTokenizer.load(save_vqvae(VQVAE(tiny_config()), tmp_path / "v.safetensors"))
    tokens = np.zeros((2, 4, 4), np.int64)
    tokens[1, 2, 3] = bad
    with pytest.raises(ValueError, match=needle):
        tok.decode(tokens)
    with pytest.raises(ValueError, match="must be integers"):
        tok.decode(np.zeros((1, 4, 4), np.float32))


def test_weights_file_errors_name_the_file(tmp_path: Path) -> None:
    path = save_vqvae(VQVAE(tiny_config()), tmp_path / "v.safetensors")
    spec = VQTokenizer.load(path).config()
    with pytest.raises(TokenizerError, match="does not exist"):
        VQTokenizer.load(tmp_path / "nope.safetensors")
    # retrained / replaced weights: the spec's hash no longer matches
    torch.manual_seed(123)
    save_vqvae(VQVAE(tiny_config()), path)
    with pytest.raises(TokenizerError, match=r"v\.safetensors.*SHA-256.*retrained or replaced"):
        build_tokenizer(spec)
    path.unlink()
    with pytest.raises(TokenizerError, match="are missing"):
        build_tokenizer(spec)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(TokenizerError, match="junk.safetensors"):
        load_tokenizer(str(tmp_path / "junk.safetensors"))
    with pytest.raises(TokenizerError, match="does not exist"):
        load_tokenizer(str(tmp_path / "missing"))
    with pytest.raises(TokenizerError, match="pixel:LEVELS"):
        load_tokenizer("pixel:many")
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(TokenizerError, match=r"has no tokenizer\.safetensors yet"):
        load_tokenizer(str(tmp_path / "run"))


def test_load_tokenizer_references(tiny_vq_run: Path) -> None:
    assert load_tokenizer("pixel:16").config() == {"name": "pixel", "levels": 16, "max_value": 255.0}
    by_dir = load_tokenizer(str(tiny_vq_run))
    by_file = load_tokenizer(str(tiny_vq_run / "tokenizer.safetensors"))
    assert by_dir.config() == by_file.config() and by_dir.vocab_size == 17
