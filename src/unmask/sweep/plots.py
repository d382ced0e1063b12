"""Figures in the form of the paper's Figure 2: a metric against NFE, temperature and CFG."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .grid import SETTINGS
from .table import as_float, read_rows

__all__ = ["plot_sweep", "series"]

#: x axis → (CSV column, axis label, log scale)
AXES = {
    "nfe": ("steps", "sampling steps (NFE)", True),
    "temperature": ("temperature", "softmax temperature", False),
    "cfg": ("cfg", "CFG scale w", False),
}


Line = tuple[tuple[str, str], ...]


def series(rows: list[dict[str, str]], x: str, metric: str = "fd") -> dict[Line, list[tuple[float, float]]]:
    """Group rows into lines along column ``x``: rows equal in every other setting form one line.

    Returns {settings that identify the line: [(x, metric), …] sorted by x}; lines with
    fewer than two points are dropped.
    """
    lines: dict[Line, list[tuple[float, float]]] = defaultdict(list)
    for r in rows:
        if r.get(x, "") == "" or r.get(metric, "") == "":
            continue
        key = tuple((k, r.get(k, "")) for k in SETTINGS if k != x and r.get(k, "") != "")
        lines[key].append((as_float(r[x]), as_float(r[metric])))
    return {k: sorted(v) for k, v in lines.items() if len({p[0] for p in v}) >= 2}


def _label(key: Line, varying: set[str]) -> str:
    parts = [f"{k}={v}" if k != "sampler" else v for k, v in key if k in varying]
    return ", ".join(parts) or "all"


def plot_sweep(csv_path: str | Path, out_dir: str | Path, metric: str = "fd", ylabel: str | None = None) -> list[Path]:
    """Write ``{metric}_vs_{nfe,temperature,cfg}.png`` for every axis the sweep varies; returns the paths.
    ``ylabel``: the y axis's label (default the FD's, or the metric's name)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_rows(csv_path)
    written: list[Path] = []
    for name, (column, xlabel, log) in AXES.items():
        lines = series(rows, column, metric)
        if not lines:
            continue
        keys = list(lines)
        varying = {k for k in SETTINGS if len({dict(key).get(k) for key in keys}) > 1}
        fig, ax = plt.subplots(figsize=(5.2, 3.8), dpi=120)
        for key in keys:
            pts = lines[key]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, lw=1.4, label=_label(key, varying))
        if log:
            ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel or {"fd": "Fréchet distance (EfficientNet-Lite0)"}.get(metric, metric))
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend(fontsize=7, frameon=False)
        fig.tight_layout()
        path = Path(out_dir) / f"{metric}_vs_{name}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
