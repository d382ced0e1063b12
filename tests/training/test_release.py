"""Releases (the zoo's format): EMA weights in fp16 with config, recorded settings and digests."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from unmask.inference import load_model
from unmask.training.checkpoint import CheckpointError, is_release, load_checkpoint, save_release


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_release_loads_like_its_run_in_float32(tiny_run: Path, tmp_path: Path) -> None:
    out = save_release(tiny_run, tmp_path / "zoo" / "tiny", note="test")
    assert is_release(out) and not is_release(tiny_run)
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "ema.safetensors", "manifest.json"]
    ckpt, run = load_checkpoint(out), load_checkpoint(tiny_run)
    assert ckpt.step == run.step and ckpt.config == run.config and ckpt.model is ckpt.ema
    for key, value in run.ema.items():
        assert ckpt.ema[key].dtype == torch.float32
        torch.testing.assert_close(ckpt.ema[key], value.half().float())
    model, _ = load_model(out)
    raw, _ = load_model(out, weights="raw")  # a release's raw weights are its EMA weights
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), raw.state_dict().values(), strict=True))
    with pytest.raises(CheckpointError, match="is a release .EMA weights only.: it has no training state"):
        load_checkpoint(out, with_state=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["release"]["note"] == "test" and manifest["release"]["dtype"] == "float16"
    # weights are as readable as the config beside them (safetensors alone creates them 0600)
    assert {(p.stat().st_mode & 0o777) for p in out.iterdir()} == {0o666 & ~_umask()}
    float32 = save_release(tiny_run, tmp_path / "zoo" / "tiny32", dtype="float32")
    assert (float32 / "ema.safetensors").stat().st_size > (out / "ema.safetensors").stat().st_size * 1.8


def test_release_carries_the_runs_recorded_settings_and_refuses_to_overwrite(
    tiny_run: Path, tmp_path: Path, run_cli
) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    settings = {"sampler": "maskgit", "steps": 4, "gumbel": "linear", "cfg": 1.0}
    record = {"settings": settings, "metric": "fd", "value": 1.0, "higher_is_better": False, "source": {}}
    (run / "sampling.json").write_text(json.dumps(record))
    out = save_release(run, tmp_path / "zoo" / "tiny")
    assert json.loads((out / "sampling.json").read_text()) == record
    with pytest.raises(CheckpointError, match="exists; pass overwrite=True"):
        save_release(run, out)
    save_release(run, out, overwrite=True)
    code, stdout, err = run_cli(["sample", "--ckpt", str(out), "--out", str(tmp_path / "s.npz"), "--n", "4"])
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["sampler"] == "maskgit" and summary["settings"] == str(out / "sampling.json")
    code, stdout, _ = run_cli(["zoo", "list", str(tmp_path / "zoo")])
    assert code == 0 and json.loads(stdout)["entries"][0]["best"] == {"metric": "fd", "value": 1.0}


@pytest.mark.parametrize("victim", ["ema.safetensors", "config.json", "sampling.json"])
def test_an_altered_release_is_refused_by_name(tiny_run: Path, tmp_path: Path, victim: str) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "sampling.json").write_text(json.dumps({"settings": {"sampler": "euler", "steps": 4}}))
    out = save_release(run, tmp_path / "zoo" / "tiny")
    path = out / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"{victim} does not match its SHA-256"):
        load_checkpoint(out)


def test_bad_release_options(tiny_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dtype must be 'float16' or 'float32', got 'int8'"):
        save_release(tiny_run, tmp_path / "x", dtype="int8")
    with pytest.raises(CheckpointError, match="does not exist"):
        save_release(tmp_path / "nothing", tmp_path / "y")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
