"""Samplers by name, built from plain option dicts (configs, sweeps, the CLI)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .autoregressive import AutoregressiveSampler
from .base import Sampler
from .euler import EulerSampler
from .maskgit import MaskGITSampler
from .prime import PrimeSampler

__all__ = ["SAMPLERS", "Sampler", "build_sampler", "sampler_options"]

#: "prime" needs an MDM-Prime model (sub-token inputs), "autoregressive" a causal model;
#: "euler" and "maskgit" take masked models on plain tokens.
SAMPLERS: dict[str, type[Sampler]] = {
    "euler": EulerSampler,
    "maskgit": MaskGITSampler,
    "prime": PrimeSampler,
    "autoregressive": AutoregressiveSampler,
}


def sampler_options(name: str) -> list[str]:
    """The option names sampler ``name`` accepts."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(sorted(SAMPLERS))}")
    cls: Any = SAMPLERS[name]  # every registered sampler is a dataclass: its fields are its options
    return [f.name for f in dataclasses.fields(cls)]


def build_sampler(name: str, **options: Any) -> Sampler:
    """``build_sampler("maskgit", steps=12, gumbel="linear")``; unknown options are errors naming them."""
    valid = sampler_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"sampler {name!r} has no option {unknown[0]!r}; its options: {', '.join(valid)}")
    return SAMPLERS[name](**options)
