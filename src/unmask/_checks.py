"""Validation helpers shared by every public boundary (torch and ``unmask.errors`` only).

They raise ``UserError`` (a ``ValueError``): a value given at a public boundary is the caller's input;
``check_mapping``, for records read from files by readers that report a plain ``ValueError``, raises that."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .errors import UserError

__all__ = [
    "check_tokens",
    "check_probability",
    "check_positive",
    "check_nonnegative",
    "check_int_at_least",
    "is_int",
    "check_fields",
    "check_mapping",
    "check_stream_batch",
]


def check_tokens(x: Tensor, vocab_size: int, *, allow_mask: bool, name: str = "tokens") -> None:
    """Raise ``UserError`` (a ``ValueError``) unless ``x`` is an integer tensor of ids in the vocabulary.

    The vocabulary has ``vocab_size`` entries, the last being [MASK]; with
    ``allow_mask=False`` the mask id ``vocab_size - 1`` is rejected as well.
    """
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise UserError(f"{name} must be an integer tensor, got dtype {x.dtype}")
    if x.numel() == 0:
        return
    high = vocab_size - 1 if allow_mask else vocab_size - 2
    lo, hi = int(x.min()), int(x.max())
    if lo < 0 or hi > high:
        bad = lo if lo < 0 else hi
        what = "the vocabulary" if allow_mask else "the data vocabulary (the [MASK] id is excluded)"
        raise UserError(f"{name} contain id {bad} outside {what} [0, {high}] (vocab_size={vocab_size})")


def check_probability(value: float, name: str, *, low_open: bool = False, high_open: bool = False) -> float:
    """Check ``value`` lies in [0, 1] (ends open as requested) and return it as float."""
    v = float(value)
    lo_ok = v > 0 if low_open else v >= 0
    hi_ok = v < 1 if high_open else v <= 1
    if not (lo_ok and hi_ok) or math.isnan(v):
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise UserError(f"{name} must be in {lb}0, 1{rb}, got {value}")
    return v


def check_positive(value: float, name: str) -> float:
    """Check ``value`` is a finite number > 0."""
    v = float(value)
    if not (v > 0 and math.isfinite(v)):
        raise UserError(f"{name} must be a finite number > 0, got {value}")
    return v


def check_nonnegative(value: float, name: str) -> float:
    """Check ``value`` is a finite number >= 0."""
    v = float(value)
    if not (v >= 0 and math.isfinite(v)):
        raise UserError(f"{name} must be a finite number >= 0, got {value}")
    return v


def is_int(x: object) -> bool:
    """An integer (Python or NumPy), not a bool."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_fields(obj: object, checks: Iterable[tuple[str, bool, str]]) -> None:
    """Raise ``UserError`` (a ``ValueError``) for the first ``(field, ok, what it must be)`` that is not ok,
    naming the field and ``obj``'s value of it: a parameters dataclass's ``__post_init__``."""
    for name, ok, want in checks:
        if not ok:
            raise UserError(f"{name} must be {want}, got {getattr(obj, name)!r}")


def check_int_at_least(value: int, low: int, name: str) -> int:
    """Check ``value`` is an integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UserError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def check_mapping(data: object, valid: Collection[str], where: str, mapping: str) -> dict[str, Any]:
    """``data`` (a record read from a file) as a dict whose keys all are in ``valid``; ``ValueError``
    naming ``where`` otherwise: "<where> must hold <mapping>", or "<where>: unknown key …; valid keys: …"."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must hold {mapping}")
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(valid))}")
    return data


def check_stream_batch(
    streams: Mapping[str, Tensor],
    grids: Mapping[str, Sequence[int]],
    *,
    names: Mapping[str, str] | None = None,
) -> int:
    """Check every ``streams[s]`` has shape (B, *grids[s]) with one B for all; return B.

    ``names`` says what to call a stream in the error (default ``stream 's'``), e.g.
    ``condition stream 'label'``. Raises ``UserError`` naming the first stream that differs,
    or when ``streams`` is empty."""
    b: int | None = None
    for s, v in streams.items():
        name = names[s] if names is not None and s in names else f"stream {s!r}"
        grid = tuple(int(g) for g in grids[s])
        if tuple(v.shape[1:]) != grid:
            raise UserError(f"{name} has shape {tuple(v.shape)}, expected (B, {', '.join(map(str, grid))})")
        if b is not None and int(v.shape[0]) != b:
            raise UserError(f"{name} has {int(v.shape[0])} rows, the others {b}")
        b = int(v.shape[0])
    if b is None:
        raise UserError("no streams given")
    return b
