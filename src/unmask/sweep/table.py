"""The sweep CSV (``OUT/sweep.csv``): its columns, reading and atomic writing.

Below the runner, the plots and the best-cell pick, which all read it: the plots no longer
import the runner that draws them (that was an import cycle).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from .._io import atomic_write_text
from .grid import SETTINGS

__all__ = ["METRICS", "COLUMNS", "read_rows", "write_rows", "as_float"]

#: every measure a row can hold: images get the first five; clips (video models) get ``fd`` (the frame FD),
#: ``change_ratio`` (their frame-to-frame change over the real clips') and ``motion_ratio`` (their motion score
#: over the real clips', ``unmask.eval.video``)
METRICS = ("fd", "precision", "recall", "inception_score", "accuracy", "change_ratio", "motion_ratio")
COLUMNS = ("cell", *SETTINGS.keys(), "seed", "n", "nfe", "nfe_per_sample", *METRICS, "seconds")


def read_rows(csv_path: str | Path) -> list[dict[str, str]]:
    """The rows of a sweep CSV (empty list if it does not exist)."""
    p = Path(csv_path)
    if not p.is_file():
        return []
    with open(p, newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(csv_path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite the CSV with ``rows`` (missing values as empty cells), atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    atomic_write_text(csv_path, buf.getvalue())


def as_float(value: str | None) -> float:
    """A CSV cell as float (NaN when empty)."""
    if value is None or value == "":
        return math.nan
    return float(value)
