"""The schema's fixed choices (``Literal`` fields) agree with the library, and are checked on merge."""

from __future__ import annotations

import typing

import pytest

from unmask.config import ConfigError, load_config, load_tokenizer_config, schema
from unmask.interpolants import TIMESTEPS
from unmask.losses import REDUCTIONS, STREAM_WEIGHTINGS, WEIGHTINGS
from unmask.models.initialization import INITS
from unmask.samplers import SAMPLERS, UPDATES
from unmask.samplers.maskgit import GUMBEL_MODES


@pytest.mark.parametrize(
    ("alias", "library"),
    [
        (schema.Init, INITS),
        (schema.Timesteps, TIMESTEPS),
        (schema.Weighting, WEIGHTINGS),
        (schema.Reduction, REDUCTIONS),
        (schema.StreamWeighting, STREAM_WEIGHTINGS),
        (schema.SamplerName, tuple(SAMPLERS)),
        (schema.GumbelMode, GUMBEL_MODES),
        (schema.Update, UPDATES),
    ],
)
def test_literal_choices_are_the_library_s(alias: object, library: tuple[str, ...]) -> None:
    assert typing.get_args(alias) == tuple(library)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.precision=fp8", "train.precision='fp8' is not one of auto, fp32, bf16"),
        ("optim.lr_schedule=step", "optim.lr_schedule='step' is not one of constant, cosine"),
        ("sample.update=3", "sample.update=3 is not one of exact, euler"),
        ("sample.gumbel=cubic", "sample.gumbel='cubic' is not one of linear, warmup, none"),
        ("model.init=xavier", "model.init='xavier' is not one of balanced, uvit"),
    ],
)
def test_a_value_outside_a_literal_is_refused_naming_key_and_choices(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("tiny", [override])
    assert str(err.value) == message


def test_optional_literals_take_null_and_the_tokenizer_config_shares_the_types() -> None:
    assert load_config("tiny", ["sample.sampler=null"]).sample.sampler is None
    with pytest.raises(ConfigError, match="train.lr_schedule='step' is not one of constant, cosine"):
        load_tokenizer_config(None, ["train.lr_schedule=step"])


def test_validate_does_not_change_the_config() -> None:
    cfg = load_config("tiny")
    cfg.model.dim = None
    before = cfg.to_dict()
    cfg.validate()
    assert cfg.to_dict() == before
    assert cfg.resolve().model.dim is not None
