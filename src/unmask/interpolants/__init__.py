"""Interpolants: from data x_1 and time t to a partially masked x_t (paper Eq. 1, 6, 8, 10)."""

from .path import MaskingInterpolant, PathSample
from .times import DEFAULT_EPS, sample_times

__all__ = ["MaskingInterpolant", "PathSample", "sample_times", "DEFAULT_EPS"]
