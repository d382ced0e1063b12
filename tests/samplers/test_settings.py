"""Sampler settings as data: the checks of a recorded sampling.json (every key, type and range named)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unmask.samplers import EulerSampler, MaskGITSampler, read_sampling, sampling_file, write_sampling
from unmask.samplers.settings import SETTINGS, build_from_settings, check_settings


def test_every_setting_round_trips_through_a_file(tmp_path: Path) -> None:
    euler = {
        "sampler": "euler",
        "steps": 32,
        "temperature": 0.8,
        "cfg": 1.5,
        "schedule": "cosine",
        "top_p": 0.9,
        "top_k": 0,
        "argmax": False,
        "update": "exact",
        "adaptive": True,
        "corrector": 0.1,
    }
    maskgit = {
        "sampler": "maskgit",
        "steps": 16,
        "gumbel": "linear",
        "gumbel_temperature": 30.0,
        "cfg_schedule": "linear",
        "cfg": 1.0,
    }
    assert set(euler) | set(maskgit) == set(SETTINGS)
    for settings, kind in ((euler, EulerSampler), (maskgit, MaskGITSampler)):
        path = write_sampling(tmp_path, settings, metric="fd", value=1.5, higher_is_better=False, source={"n": 10})
        record = read_sampling(path)
        assert record["settings"] == settings and record["metric"] == "fd" and record["source"] == {"n": 10}
        sampler = build_from_settings(record["settings"], "linear")
        assert isinstance(sampler, kind) and sampler.steps == settings["steps"]
    assert not (tmp_path / ".sampling.json.tmp").exists()


def test_sampling_file_is_found_beside_a_run_or_a_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    ckpt = run / "checkpoints" / "step_00000010"
    ckpt.mkdir(parents=True)
    assert sampling_file(run) is None and sampling_file(ckpt) is None
    write_sampling(run, {"sampler": "euler", "steps": 8}, metric="fd", value=1.0, higher_is_better=False, source={})
    assert sampling_file(run) == run / "sampling.json" == sampling_file(ckpt)


@pytest.mark.parametrize(
    "record,message",
    [
        ({"settings": {"sampler": "euler", "steps": 8}, "extra": 1}, "unknown key 'extra'"),
        ({"metric": "fd"}, "has no 'settings'"),
        ({"settings": {"sampler": "ddpm"}}, "sampler must be one of euler, maskgit, prime, got 'ddpm'"),
        ({"settings": {"sampler": "euler", "stepz": 8}}, "unknown .* setting 'stepz'"),
        ({"settings": {"sampler": "euler", "steps": "many"}}, "steps must be an integer, got 'many'"),
        ({"settings": {"sampler": "euler", "steps": 0}}, "steps"),
        ({"settings": {"sampler": "euler", "temperature": -1.0}}, "temperature"),
        ({"settings": {"sampler": "euler", "top_p": 1.5}}, "top_p"),
        ({"settings": {"sampler": "euler", "gumbel": "linear"}}, "'gumbel' does not apply to the euler sampler"),
        ({"settings": {"sampler": "maskgit", "gumbel": "loud"}}, "loud"),
        ({"settings": {"sampler": "euler", "schedule": "zigzag"}}, "zigzag"),
        ({"settings": "euler"}, "must be a mapping"),
    ],
)
def test_a_bad_sampling_file_is_one_error_naming_the_file_and_value(tmp_path: Path, record: dict, message: str) -> None:
    path = tmp_path / "sampling.json"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=message) as err:
        read_sampling(path)
    assert str(path) in str(err.value)


def test_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "sampling.json"
    path.write_text("{settings: euler")
    with pytest.raises(ValueError, match="is not valid JSON"):
        read_sampling(path)
    with pytest.raises(ValueError, match="best settings: setting 'corrector' does not apply to the maskgit"):
        write_sampling(
            tmp_path,
            {"sampler": "maskgit", "corrector": 0.1},
            metric="fd",
            value=1.0,
            higher_is_better=False,
            source={},
        )
    assert check_settings({"sampler": "prime", "argmax": True, "steps": 4})["argmax"] is True
