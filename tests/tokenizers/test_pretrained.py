"""The diffusers VQModel adapter, on a tiny randomly initialised VQModel of the SD-VQ-f8 family
that the test saves to a temporary folder (nothing is downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.tokenizers import DiffusersVQTokenizer, TokenizerError, build_tokenizer, load_tokenizer

diffusers = pytest.importorskip("diffusers")  # in the test extra; skipped only where it is not installed
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny_vqmodel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SD-VQ-f8's layout (DownEncoderBlock2D / UpDecoderBlock2D, latent 4 = vq_embed_dim), scaled down:
    3 blocks → f = 4, 64 codes."""
    torch.manual_seed(0)
    model = diffusers.VQModel(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(8, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        num_vq_embeddings=64,
        vq_embed_dim=4,
        norm_num_groups=4,
        sample_size=16,
    )
    folder = tmp_path_factory.mktemp("vqmodel") / "tiny-sd-vq"
    model.save_pretrained(str(folder))
    return folder


def test_encode_indices_in_range_and_decode_shape(tiny_vqmodel: Path) -> None:
    tok = DiffusersVQTokenizer.load(tiny_vqmodel)
    assert tok.factor == 4 and tok.codebook_size == 64 and tok.vocab_size == 65
    images = np.random.default_rng(0).integers(0, 256, (3, 16, 24, 3), dtype=np.uint8)
    codes = tok.encode(images)
    assert codes.shape == (3, 4, 6) and codes.dtype == torch.int64
    assert 0 <= int(codes.min()) and int(codes.max()) <= 63
    out = tok.decode(codes)
    assert out.shape == (3, 16, 24, 3) and out.dtype == np.uint8


def test_codes_are_the_nearest_codebook_vectors_of_the_latents(tiny_vqmodel: Path) -> None:
    tok = DiffusersVQTokenizer.load(tiny_vqmodel)
    images = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    x = torch.as_tensor(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        h = tok.model.encode(x).latents  # (2, 4, 4, 4)
        flat = h.permute(0, 2, 3, 1).reshape(-1, 4)
        expect = torch.cdist(flat, tok.model.quantize.embedding.weight).argmin(1).view(2, 4, 4)
        assert torch.equal(tok.encode(images), expect)
        # decode(codes) is the model's own decoder applied to the quantised latents
        quant, _, _ = tok.model.quantize(h)
        ref = tok.model.decode(quant, force_not_quantize=True).sample.clamp(-1, 1)
    ref_u8 = torch.round((ref + 1) * 127.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(tok.decode(expect), ref_u8)


def test_grey_images_are_repeated_to_rgb(tiny_vqmodel: Path) -> None:
    tok = DiffusersVQTokenizer.load(tiny_vqmodel)
    grey = np.random.default_rng(2).integers(0, 256, (2, 16, 16), dtype=np.uint8)
    assert torch.equal(tok.encode(grey), tok.encode(np.repeat(grey[..., None], 3, axis=-1)))
    with pytest.raises(ValueError, match="divisible by 4"):
        tok.encode(np.zeros((1, 10, 16, 3), np.uint8))


def test_spec_round_trip_and_reference_detection(tiny_vqmodel: Path) -> None:
    tok = load_tokenizer(str(tiny_vqmodel))
    assert isinstance(tok, DiffusersVQTokenizer)
    spec = tok.config()
    assert spec["name"] == "diffusers-vq" and spec["path"] == str(tiny_vqmodel.resolve())
    again = build_tokenizer(spec)
    images = np.random.default_rng(3).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    assert torch.equal(again.encode(images), tok.encode(images))


def test_out_of_range_codes_and_bad_folders_are_clear_errors(tiny_vqmodel: Path, tmp_path: Path) -> None:
    tok = DiffusersVQTokenizer.load(tiny_vqmodel)
    with pytest.raises(ValueError, match=r"id 64 outside the codebook \[0, 63\]"):
        tok.decode(np.full((1, 2, 2), 64))
    with pytest.raises(TokenizerError, match="does not exist"):
        DiffusersVQTokenizer.load(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TokenizerError, match="has no config.json"):
        DiffusersVQTokenizer.load(empty)
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text((tiny_vqmodel / "config.json").read_text())
    with pytest.raises(TokenizerError, match="has no weights file"):
        load_tokenizer(str(no_weights))
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL"}))
    with pytest.raises(TokenizerError, match="does not describe a diffusers VQModel"):
        DiffusersVQTokenizer.load(other)


def test_changed_weights_are_refused_by_the_spec(tiny_vqmodel: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_vqmodel, copy)
    spec = DiffusersVQTokenizer.load(copy).config()
    cfg = json.loads((copy / "config.json").read_text())
    cfg["scaling_factor"] = 0.5
    (copy / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(TokenizerError, match="config or weights changed"):
        build_tokenizer(spec)
