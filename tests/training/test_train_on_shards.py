"""Training on token shards: the same weights as in memory, refusal of foreign shards, and a latent
(VQ-token) model whose samples decode through the VQ-VAE recorded in its checkpoint."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.config import ConfigError, load_config
from unmask.data.pretokenize import tokenize_dataset
from unmask.inference import generate, load_model, sampler_from_config
from unmask.tokenizers import TokenizerError, VQTokenizer, build_tokenizer, save_vqvae
from unmask.tokenizers.vqvae import VQVAE
from unmask.training import load_checkpoint, train

pytestmark = pytest.mark.usefixtures("one_thread")

STEPS = [
    "train.threads=1",
    "train.steps=6",
    "train.ckpt_every=6",
    "train.log_every=3",
    "train.eval_batches=1",
    "optim.warmup_steps=2",
]


@pytest.fixture(scope="module")
def pixel_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pixel-shards") / "digits"
    tokenize_dataset("pixel:17", "digits", out, shard_size=600)
    return out


@pytest.mark.parametrize("workers", [0, 1])
def test_training_on_shards_gives_the_weights_of_training_in_memory(
    pixel_shards: Path, tmp_path: Path, workers: int
) -> None:
    train(load_config("tiny", STEPS), tmp_path / "mem", progress=False)
    shard_cfg = load_config(
        "tiny", [*STEPS, f"data.shards={pixel_shards}", "data.tokenizer=pixel:17", f"train.workers={workers}"]
    )
    train(shard_cfg, tmp_path / "shards", progress=False)
    a, b = load_checkpoint(tmp_path / "mem"), load_checkpoint(tmp_path / "shards")
    assert a.step == b.step == 6
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
        assert torch.equal(a.ema[key], b.ema[key]), key


def test_resume_on_shards_is_exact(pixel_shards: Path, tmp_path: Path) -> None:
    over = [*STEPS, f"data.shards={pixel_shards}", "data.tokenizer=pixel:17"]
    train(load_config("tiny", over), tmp_path / "full", progress=False)
    train(load_config("tiny", over), tmp_path / "part", progress=False, stop_after=3)
    train(load_config("tiny", [*over, "train.workers=1"]), tmp_path / "part", resume=True, progress=False)
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "part")
    assert all(torch.equal(a.model[k], b.model[k]) for k in a.model)


def test_shards_made_by_another_tokenizer_are_refused(pixel_shards: Path, tmp_path: Path) -> None:
    cfg = load_config("tiny", [*STEPS, f"data.shards={pixel_shards}", "data.tokenizer=pixel:16"])
    with pytest.raises(ConfigError, match="made by another tokenizer"):
        train(cfg, tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_an_eval_split_the_shards_lack_is_refused(pixel_shards: Path, tmp_path: Path) -> None:
    cfg = load_config(
        "tiny", [*STEPS, f"data.shards={pixel_shards}", "data.tokenizer=pixel:17", "train.eval_split=val"]
    )
    with pytest.raises(
        ConfigError, match=r"train.eval_split='val': the shards in .* have no such split \(they have test, train\)"
    ):
        train(cfg, tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["data.shards=/x"], "needs data.tokenizer"),
        (["data.tokenizer=pixel:17"], "needs data.shards"),
        (["data.shards=/x", "data.tokenizer=pixel:17", "data.levels=16"], "does not apply to shards"),
        (["train.workers=-1"], "train.workers must be >= 0"),
    ],
)
def test_data_config_errors(overrides: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config("tiny", overrides)


@pytest.fixture(scope="module")
def latent_run(tiny_vq_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A latent model: digits through the tiny VQ-VAE (4×4 codes of 16), trained 6 steps on the shards."""
    root = tmp_path_factory.mktemp("latent")
    vq = root / "vq"
    shutil.copytree(tiny_vq_run, vq)
    shards = root / "shards"
    tokenize_dataset(str(vq), "digits", shards)
    run = root / "run"
    train(load_config("tiny", [*STEPS, f"data.shards={shards}", f"data.tokenizer={vq}"]), run, progress=False)
    return run, vq


def test_latent_model_samples_decode_through_its_vq_tokenizer(latent_run: tuple[Path, Path]) -> None:
    run, vq = latent_run
    model, ckpt = load_model(run)
    assert ckpt.backbone["grid"] == [4, 4] and ckpt.backbone["vocab_size"] == 17
    tok = build_tokenizer(ckpt.tokenizer)
    assert isinstance(tok, VQTokenizer) and ckpt.tokenizer["path"] == str((vq / "tokenizer.safetensors").resolve())
    gen = generate(model, tok, sampler_from_config(ckpt.config, steps=4), n=5, labels=[0, 1, 2, 3, 4], seed=0)
    assert gen.tokens.shape == (5, 4, 4) and gen.tokens.max() <= 15  # codes, never [MASK] = 16
    assert gen.images.shape == (5, 8, 8) and gen.images.dtype == np.uint8
    assert np.array_equal(gen.images, tok.decode(gen.tokens))
    assert gen.tokenizer == ckpt.tokenizer


def test_a_latent_checkpoint_whose_vq_weights_changed_refuses_to_decode(latent_run: tuple[Path, Path]) -> None:
    run, vq = latent_run
    ckpt = load_checkpoint(run)
    backup = (vq / "tokenizer.safetensors").read_bytes()
    try:
        torch.manual_seed(9)
        save_vqvae(VQVAE(VQTokenizer.load(vq / "tokenizer.safetensors").model.config), vq / "tokenizer.safetensors")
        with pytest.raises(TokenizerError, match="retrained or replaced"):
            build_tokenizer(ckpt.tokenizer)
    finally:
        (vq / "tokenizer.safetensors").write_bytes(backup)


def _mini_fashion(root: Path) -> None:
    """30 train / 10 test random 28×28 images in the idx.gz layout of the Debian package."""
    import gzip
    import struct

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for prefix, n in (("train", 30), ("t10k", 10)):
        for kind, arr in (
            ("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
            ("labels-idx1", (np.arange(n) % 10).astype(np.uint8)),
        ):
            head = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
            with gzip.open(root / f"{prefix}-{kind}-ubyte.gz", "wb") as fh:
                fh.write(head + arr.tobytes())


def test_sweeps_of_a_latent_model_compare_with_full_depth_images(
    tiny_vq_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unmask.sweep import run_sweep
    from unmask.sweep import runner as sweep_runner

    _mini_fashion(tmp_path / "fm")
    monkeypatch.setenv("UNMASK_FASHION_MNIST_DIR", str(tmp_path / "fm"))
    shards = tmp_path / "shards"
    tokenize_dataset(str(tiny_vq_run), "fashion-mnist", shards)  # 28×28 → 14×14 codes of 16
    over = ["data.name=fashion-mnist", f"data.shards={shards}", f"data.tokenizer={tiny_vq_run}"]
    pixel_over = ["data.name=fashion-mnist", "data.levels=16"]
    seen: list[int | None] = []

    def fake_evaluator(ref: str, levels: int | None, extractor: str, ref_n: int | None = None):  # type: ignore[no-untyped-def]
        seen.append(levels)
        return lambda images, labels: {"fd": float(images.mean())}

    monkeypatch.setattr(sweep_runner, "default_evaluator", fake_evaluator)
    grid = tmp_path / "g.yaml"
    grid.write_text("n: 4\ngrid: {sampler: euler, steps: 2}\n")
    for name, extra in (("latent", over), ("pixel", pixel_over)):
        cfg = load_config("tiny", [*STEPS, "train.steps=2", "train.ckpt_every=2", "train.batch_size=4", *extra])
        train(cfg, tmp_path / name, progress=False)
        run_sweep(tmp_path / name, grid, tmp_path / f"sweep-{name}")
    assert seen == [256, 16]  # VQ codes decode to 256-level images; pixel samples keep their 16 levels
