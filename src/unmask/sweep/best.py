"""The best cell of a sweep on one measure, recorded in the run it was drawn from (``sampling.json``).

``unmask sweep … --best fd`` picks the row with the lowest Fréchet distance (the highest for
precision, recall, Inception-style score and accuracy) and writes its sampler settings, with where
they come from, next to the checkpoint: ``unmask sample`` then draws with them unless told otherwise.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..samplers.settings import SETTINGS, write_sampling
from ..training.checkpoint import is_release
from .table import METRICS, as_float, read_rows

__all__ = ["HIGHER_IS_BETTER", "best_row", "row_settings", "record_best", "record_folder"]

#: Whether a larger value of a sweep metric is better: the measures ``--best`` can pick on. ``change_ratio`` is
#: not one (its best value is 1, the real clips' amount of change, not an end of its range).
HIGHER_IS_BETTER = {
    "fd": False,
    "precision": True,
    "recall": True,
    "inception_score": True,
    "accuracy": True,
    "motion_ratio": True,
}
assert set(HIGHER_IS_BETTER) <= set(METRICS)


def _check_metric(metric: str) -> None:
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r} for --best; choose one of {', '.join(HIGHER_IS_BETTER)}")


def best_row(rows: list[dict[str, str]], metric: str) -> dict[str, str]:
    """The row with the best finite ``metric`` (the first of equals); ``ValueError`` when the metric is
    unknown or no row has it."""
    _check_metric(metric)
    scored = [(as_float(r.get(metric)), i) for i, r in enumerate(rows)]
    scored = [(v, i) for v, i in scored if math.isfinite(v)]
    if not scored:
        raise ValueError(f"no cell of the sweep has a value for {metric!r} (measured: {_measured(rows)})")
    sign = -1.0 if HIGHER_IS_BETTER[metric] else 1.0
    _, index = min((sign * v, i) for v, i in scored)
    return rows[index]


def _measured(rows: list[dict[str, str]]) -> str:
    have = [m for m in METRICS if any(math.isfinite(as_float(r.get(m))) for r in rows)]
    return ", ".join(have) or "nothing"


def row_settings(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row's sampler settings, typed (empty cells — settings that do not apply — left out)."""
    out: dict[str, Any] = {}
    for key, (_, kind) in SETTINGS.items():
        text = row.get(key, "")
        if text == "" or text is None:
            continue
        if kind is bool:
            out[key] = text in ("True", "true", "1")
        elif kind is int:
            out[key] = int(float(text))
        elif kind is float:
            out[key] = float(text)
        else:
            out[key] = text
    return out


def record_folder(ckpt: str | Path) -> Path:
    """Where a checkpoint argument's recorded settings live: the run (a run directory, or the run two
    levels up from ``RUN/checkpoints/step_N``), else the folder itself (a zoo entry)."""
    p = Path(ckpt)
    if p.parent.name == "checkpoints" and (p.parent.parent / "config.json").is_file():
        return p.parent.parent
    return p


def record_best(csv_path: str | Path, metric: str, ckpt: str | Path, sweep_meta: dict[str, Any]) -> Path:
    """Write the best row of ``csv_path`` on ``metric`` as ``sampling.json`` of ``ckpt``'s run; returns its path."""
    _check_metric(metric)
    folder = record_folder(ckpt)
    if is_release(folder):
        raise ValueError(
            f"{str(folder)!r} is a release (its files are digested in its manifest): record the best settings in "
            "the run it came from and export it again"
        )
    rows = read_rows(csv_path)
    row = best_row(rows, metric)
    source = {
        "sweep": str(Path(csv_path).resolve()),
        "cells": len(rows),
        **{k: sweep_meta.get(k) for k in ("checkpoint", "step", "weights", "n", "seed", "ref", "ref_n", "extractor")},
        "row": {m: as_float(row.get(m)) for m in METRICS if math.isfinite(as_float(row.get(m)))},
    }
    return write_sampling(
        folder,
        row_settings(row),
        metric=metric,
        value=as_float(row[metric]),
        higher_is_better=HIGHER_IS_BETTER[metric],
        source=source,
    )
