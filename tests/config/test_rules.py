"""The rules of ``unmask.config.rules`` that come from elsewhere: the sample section's ranges are the
samplers' own checks, run at load time and naming the config key."""

from __future__ import annotations

import pytest

from unmask.config import ConfigError, load_config
from unmask.samplers import MaskGITSampler


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["sample.temperature=0"], "sample.temperature must be a finite number > 0, got 0.0"),
        (["sample.top_p=0"], "sample.top_p must be in (0, 1], got 0.0"),
        (["sample.top_k=-1"], "sample.top_k must be an integer >= 0 (0 disables it), got -1"),
        (["sample.cfg=.inf"], "sample.cfg must be a finite number >= 0, got inf"),
        (["sample.steps=0"], "sample.steps must be an integer >= 1, got 0"),
        (["sample.sampler=maskgit", "sample.gumbel_temperature=.inf"], "sample.gumbel_temperature must be finite"),
    ],
)
def test_sample_options_are_checked_by_the_samplers_checks(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("tiny", overrides)
    assert str(err.value).startswith(message)


def test_the_sampler_and_the_config_refuse_the_same_gumbel_scale() -> None:
    with pytest.raises(ValueError, match="^gumbel_temperature must be >= 0, got -1.0$"):
        MaskGITSampler(gumbel_temperature=-1.0)
    with pytest.raises(ConfigError, match="^sample.gumbel_temperature must be >= 0, got -1.0$"):
        load_config("tiny", ["sample.sampler=maskgit", "sample.gumbel_temperature=-1"])
