from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from unmask.config import load_config
from unmask.inference import load_model
from unmask.models import Transformer, TransformerConfig
from unmask.training import CheckpointError, list_checkpoints, load_checkpoint, load_weights, resolve_checkpoint_dir
from unmask.training.checkpoint import save_checkpoint


def _save(tmp_path: Path, step: int, model: Transformer, keep: int = 2) -> Path:
    return save_checkpoint(
        tmp_path,
        step=step,
        model=model,
        ema=model,
        config=load_config("tiny"),
        state={"step": step, "blob": torch.arange(5)},
        backbone=model.config.to_dict(),
        tokenizer={"name": "pixel", "levels": 17, "max_value": 16.0},
        keep=keep,
    )


def _model(seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    m = Transformer(
        TransformerConfig(vocab_size=18, grid=(8, 8), dim=32, depth=2, heads=2, num_classes=10, timestep=False)
    )
    with torch.no_grad():
        m.head.weight.normal_(0, 0.1)  # non-trivial logits
    return m.eval()


def test_save_then_load_gives_identical_logits(tmp_path: Path) -> None:
    m = _model()
    _save(tmp_path, 5, m)
    loaded, ckpt = load_model(tmp_path, weights="raw")
    assert ckpt.step == 5
    x = torch.randint(0, 18, (4, 8, 8))
    y = torch.tensor([0, 3, 9, 10])
    with torch.no_grad():
        assert torch.equal(m(x, None, y), loaded(x, None, y))
    st = load_checkpoint(tmp_path, with_state=True).state
    assert st is not None and st["step"] == 5 and torch.equal(st["blob"], torch.arange(5))


def test_latest_pointer_and_pruning(tmp_path: Path) -> None:
    m = _model()
    for step in (1, 2, 3, 4):
        _save(tmp_path, step, m, keep=2)
    names = [p.name for p in list_checkpoints(tmp_path)]
    assert names == ["step_00000003", "step_00000004"]
    assert resolve_checkpoint_dir(tmp_path).name == "step_00000004"
    assert (tmp_path / "checkpoints" / "latest").read_text().strip() == "step_00000004"


def test_half_written_checkpoint_is_ignored(tmp_path: Path) -> None:
    m = _model()
    _save(tmp_path, 1, m)
    # a crash while writing step 2 leaves a temporary directory without a manifest
    partial = tmp_path / "checkpoints" / ".tmp-step_00000002-999"
    partial.mkdir()
    (partial / "model.safetensors").write_bytes(b"partial")
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_00000001"]
    assert load_checkpoint(tmp_path).step == 1


@pytest.mark.parametrize("victim", ["model.safetensors", "ema.safetensors", "state.pt", "config.json"])
def test_truncated_checkpoint_file_is_reported_by_name(tmp_path: Path, victim: str) -> None:
    ckpt = _save(tmp_path, 1, _model())
    f = ckpt / victim
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=victim.replace(".", r"\.") + ".*truncated"):
        load_checkpoint(tmp_path, with_state=True)


def test_corrupted_byte_is_detected(tmp_path: Path) -> None:
    ckpt = _save(tmp_path, 1, _model())
    f = ckpt / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-3] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(tmp_path)


def test_missing_file_and_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        load_checkpoint(tmp_path)
    ckpt = _save(tmp_path, 1, _model())
    (ckpt / "ema.safetensors").unlink()
    with pytest.raises(CheckpointError, match="ema.safetensors is missing"):
        load_checkpoint(tmp_path)


def test_weights_that_do_not_match_the_model_config(tmp_path: Path) -> None:
    ckpt = _save(tmp_path, 1, _model())
    loaded = load_checkpoint(ckpt)
    other = Transformer(
        TransformerConfig(vocab_size=18, grid=(8, 8), dim=48, depth=2, heads=2, num_classes=10, timestep=False)
    )
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_weights(other, loaded.model, "ckpt")
    etm = Transformer(
        TransformerConfig(vocab_size=18, grid=(8, 8), dim=32, depth=2, heads=2, num_classes=10, timestep=True)
    )
    with pytest.raises(CheckpointError, match="missing"):
        load_weights(etm, loaded.model, "ckpt")


def test_checkpoint_whose_backbone_config_was_edited(tmp_path: Path) -> None:
    ckpt = _save(tmp_path, 1, _model())
    manifest = json.loads((ckpt / "manifest.json").read_text())
    manifest["backbone"]["dim"] = 64
    (ckpt / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="do not match the model config"):
        load_model(ckpt)


def test_resaving_the_same_step_replaces_it(tmp_path: Path) -> None:
    _save(tmp_path, 3, _model(0))
    _save(tmp_path, 3, _model(1))
    loaded, _ = load_model(tmp_path, weights="raw")
    ref = _model(1)
    assert torch.equal(loaded.head.weight, ref.head.weight)
    assert not any(p.name.startswith(".") for p in (tmp_path / "checkpoints").iterdir())


def test_run_dir_or_checkpoint_dir_resolve_alike(tiny_run: Path) -> None:
    a = resolve_checkpoint_dir(tiny_run)
    b = resolve_checkpoint_dir(a)
    assert a == b and a.name == "step_00000020"
    shutil.copytree(a, tiny_run.parent / "copy")
    assert load_checkpoint(tiny_run.parent / "copy").step == 20
