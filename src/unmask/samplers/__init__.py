"""Samplers: from all-[MASK] to data. Euler (Algorithm 1), MaskGIT-style confidence sampling,
the MDM-Prime sub-token sampler and multi-stream modes (joint, A->B), with CFG, temperature,
top-k/p and float64 draws shared in one place; starting states of edits
(``edit_init``), of which continuation of token clips from given frames is one."""

from .autoregressive import AutoregressiveSampler
from .base import Sampler
from .categorical import check_sampling_options, draw_categorical, filter_logits
from .continuation import continuation_init, edit_init, frame_region
from .euler import UPDATES, EulerSampler, SampleOutput, remask_probabilities, step_hazards, time_grid
from .guidance import TokenModel, check_cfg, guided_logits
from .maskgit import CFG_SCHEDULES, GUMBEL_MODES, MaskGITSampler, check_gumbel_temperature, unmask_counts
from .multistream import FlatStreams, MultiStreamOutput, MultiStreamSampler, parse_mode
from .prime import PrimeSampleOutput, PrimeSampler, expected_idle_steps, model_codec
from .registry import SAMPLERS, build_sampler, sampler_options
from .settings import SAMPLING_FILE, SETTINGS, check_settings, read_sampling, sampling_file, write_sampling

__all__ = [
    "EulerSampler",
    "MaskGITSampler",
    "PrimeSampler",
    "AutoregressiveSampler",
    "MultiStreamSampler",
    "MultiStreamOutput",
    "FlatStreams",
    "parse_mode",
    "Sampler",
    "PrimeSampleOutput",
    "expected_idle_steps",
    "model_codec",
    "SAMPLERS",
    "build_sampler",
    "sampler_options",
    "unmask_counts",
    "GUMBEL_MODES",
    "CFG_SCHEDULES",
    "check_gumbel_temperature",
    "time_grid",
    "remask_probabilities",
    "SampleOutput",
    "step_hazards",
    "UPDATES",
    "guided_logits",
    "check_cfg",
    "TokenModel",
    "filter_logits",
    "draw_categorical",
    "check_sampling_options",
    "continuation_init",
    "edit_init",
    "frame_region",
    "SETTINGS",
    "SAMPLING_FILE",
    "check_settings",
    "read_sampling",
    "write_sampling",
    "sampling_file",
]
