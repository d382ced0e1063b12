"""Interpolants: from data x_1 and time t to a partially masked x_t (paper Eq. 1, 6, 8, 10), for one token
grid or several named streams with their own vocabularies and times (§3.4)."""

from .path import MaskingInterpolant, PathSample
from .streams import (
    TIMESTEPS,
    MultiPathSample,
    MultiStreamInterpolant,
    StreamSpec,
    check_stream_values,
    parse_stream_values,
)
from .times import DEFAULT_EPS, sample_times

__all__ = [
    "MaskingInterpolant",
    "PathSample",
    "MultiStreamInterpolant",
    "MultiPathSample",
    "StreamSpec",
    "TIMESTEPS",
    "parse_stream_values",
    "check_stream_values",
    "sample_times",
    "DEFAULT_EPS",
]
