"""Samplers: from all-[MASK] to data. Euler (Algorithm 1) with CFG, temperature, top-k/p, argmax."""

from .categorical import check_sampling_options, draw_categorical, filter_logits
from .euler import UPDATES, EulerSampler, SampleOutput, step_hazards
from .guidance import TokenModel, check_cfg, guided_logits

__all__ = [
    "EulerSampler",
    "SampleOutput",
    "step_hazards",
    "UPDATES",
    "guided_logits",
    "check_cfg",
    "TokenModel",
    "filter_logits",
    "draw_categorical",
    "check_sampling_options",
]
