from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from unmask.config import Config, ConfigError, apply_overrides, load_config, preset_names
from unmask.models import MODEL_PRESETS


def test_default_preset_is_digits_itm_class_conditional() -> None:
    cfg = load_config()
    assert cfg.preset == "digits"
    assert cfg.data.name == "digits"
    assert cfg.model.timestep is False
    assert cfg.model.class_conditional is True


@pytest.mark.parametrize("name", preset_names())
def test_every_shipped_preset_loads_and_resolves_model_fields(name: str) -> None:
    cfg = load_config(name)
    for key in ("dim", "depth", "heads", "mlp_ratio", "patch"):
        assert getattr(cfg.model, key) is not None, key


def test_resolved_model_fields_come_from_the_size_unless_overridden() -> None:
    cfg = load_config("digits", ["model.size=small", "model.depth=3"])
    assert cfg.model.dim == MODEL_PRESETS["small"]["dim"]
    assert cfg.model.depth == 3


def test_overrides_are_typed() -> None:
    cfg = load_config("tiny", ["train.steps=7", "optim.lr=3e-4", "model.timestep=true", "path.schedule=cosine"])
    assert cfg.train.steps == 7 and isinstance(cfg.train.steps, int)
    assert cfg.optim.lr == pytest.approx(3e-4)
    assert cfg.model.timestep is True
    assert cfg.path.schedule == "cosine"
    # an int is accepted for a float field
    assert load_config("tiny", ["optim.lr=1"]).optim.lr == 1.0


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("train.steps=abc", "train.steps"),
        ("train.steps=1.5", "train.steps"),
        ("train.steps=true", "train.steps"),
        ("model.timestep=3", "model.timestep"),
        ("optim.lr=fast", "optim.lr"),
        ("train.nosuchkey=1", "train.nosuchkey"),
        ("nosection.steps=1", "nosection"),
        ("steps=1", "section.key"),
        ("train.steps", "section.key=value"),
        ("path.schedule=wiggly", "wiggly"),
        ("loss.weighting=snr", "snr"),
        ("model.size=gigantic", "gigantic"),
        ("data.name=imagenet", "imagenet"),
        ("train.steps=0", "train.steps"),
        ("sample.top_p=1.5", "sample.top_p"),
        ("sample.temperature=0", "sample.temperature"),
        ("sample.cfg=-1", "sample.cfg"),
        ("path.smoothing=2", "path.smoothing"),
        ("loss.time_power=0", "loss.time_power: time power must be a finite number > 0, got 0.0"),
        ("loss.time_power=nan", "loss.time_power: time power must be a finite number > 0, got nan"),
        ("train.precision=fp8", "fp8"),
        # the trunk is checked with the config, not when the model is built (once an internal error)
        ("model.depth=-1", "depth must be >= 1, got -1"),
        ("model.dim=0", "must divide dim (0)"),
        ("model.heads=5", "heads (5) must divide dim"),
        ("model.mlp_ratio=0", "mlp_ratio must be > 0, got 0"),
        ("model.dropout=1", "dropout must be in [0, 1), got 1"),
        ("model.patch=0", "model.patch must be >= 1, got 0"),
        ("model.token_dim=-2", "model.token_dim must be >= 0, got -2"),
    ],
)
def test_bad_overrides_name_the_offending_key_or_value(override: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_config("tiny", [override])


def test_unknown_preset_is_an_error_listing_the_choices() -> None:
    with pytest.raises(ConfigError, match="nope.*digits"):
        load_config("nope")


def test_preset_may_be_a_yaml_file(tmp_path: Path) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text("train:\n  steps: 42\nmodel:\n  size: tiny\n")
    cfg = load_config(str(f))
    assert cfg.train.steps == 42 and cfg.model.size == "tiny"
    f.write_text("train:\n  stepz: 42\n")
    with pytest.raises(ConfigError, match="train.stepz"):
        load_config(str(f))


def test_json_round_trip_is_exact() -> None:
    cfg = load_config("digits-etm", ["train.steps=11", "path.schedule=cubic", "path.cubic_a=1.5"])
    again = Config.from_dict(json.loads(cfg.to_json()))
    assert again == cfg


def test_from_dict_rejects_unknown_and_mistyped_keys() -> None:
    d = load_config("tiny").to_dict()
    d["train"]["bogus"] = 1
    with pytest.raises(ConfigError, match="train.bogus"):
        Config.from_dict(d)
    d = load_config("tiny").to_dict()
    d["train"]["steps"] = "many"
    with pytest.raises(ConfigError, match="train.steps"):
        Config.from_dict(d)


def test_apply_overrides_parses_yaml_scalars() -> None:
    cfg = apply_overrides(Config(), ["sample.schedule=null", "sample.schedule=cosine"])
    assert cfg.sample.schedule == "cosine"
    cfg = apply_overrides(Config(), ["sample.schedule=null"])
    assert cfg.sample.schedule is None


def test_sample_sampler_and_its_maskgit_options_are_checked() -> None:
    cfg = load_config("tiny", ["sample.sampler=maskgit", "sample.gumbel_temperature=30"])
    assert (cfg.sample.sampler, cfg.sample.gumbel_temperature) == ("maskgit", 30.0)
    with pytest.raises(ConfigError, match="sample.sampler='ddpm' is not one of"):
        load_config("tiny", ["sample.sampler=ddpm"])
    with pytest.raises(ConfigError, match="apply to sample.sampler=maskgit"):
        load_config("tiny", ["sample.gumbel=none"])
    with pytest.raises(ConfigError, match="sample.gumbel_temperature must be >= 0, got -1.0"):
        load_config("tiny", ["sample.sampler=maskgit", "sample.gumbel_temperature=-1"])
