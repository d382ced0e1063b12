"""One figure of the video ITM's sampling sweeps (issue 20): per cell of one or more ``unmask sweep`` CSVs, the frame
FD, the frame-to-frame change over the real clips' and the motion score over the real clips', side by side, with
the issue's goals drawn in (frame FD <= 10; change 0.8–1.25×; motion >= 0.8×).

    .venv/bin/python experiments/video/sweep_figure.py runs/video-plateau/itm/sweep-32000/sweep.csv \
        runs/video-plateau/itm/sweep2-32000/sweep.csv --out docs/video_itm_sampling_sweep.png --title "…"
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from unmask.sweep.table import as_float, read_rows  # noqa: E402

DEFAULTS = {"temperature": "1.0", "top_p": "1.0", "gumbel_temperature": "4.5"}


def cell_label(row: dict[str, str]) -> str:
    """'maskgit 64, CFG 1.5' plus each setting that differs from the sweeps' defaults."""
    label = f"{row['sampler']} {row['steps']}, CFG {as_float(row['cfg']):g}"
    for key, default in DEFAULTS.items():
        value = row.get(key, "")
        if value and value != default:
            label += f", {key.replace('_', ' ')} {as_float(value):g}"
    return label


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--title", default="")
    args = ap.parse_args()
    rows = [r for p in args.csv for r in read_rows(p)]
    if not rows:
        raise SystemExit(f"no sweep rows in {', '.join(map(str, args.csv))}")
    rows.sort(key=lambda r: as_float(r["fd"]))
    labels = [cell_label(r) for r in rows]
    y = range(len(rows))
    panels = (
        ("fd", "frame FD (lower is better)", [(10.0, "goal ≤ 10")]),
        ("change_ratio", "frame-to-frame change ÷ real", [(0.8, "goal 0.8–1.25×"), (1.25, None)]),
        ("motion_ratio", "motion score ÷ real", [(0.8, "goal ≥ 0.8×")]),
    )
    fig, axes = plt.subplots(1, 3, figsize=(13, 0.32 * len(rows) + 1.6), sharey=True)
    for ax, (metric, xlabel, lines) in zip(axes, panels, strict=True):
        values = [as_float(r[metric]) for r in rows]
        colors = ["tab:orange" if r["sampler"] == "maskgit" else "tab:blue" for r in rows]
        ax.barh(list(y), values, color=colors)
        for x, text in lines:
            ax.axvline(x, color="k", ls="--", lw=1, label=text)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_yticks(list(y))
    axes[0].set_yticklabels(labels, fontsize=8)
    axes[0].invert_yaxis()
    if args.title:
        fig.suptitle(args.title, fontsize=10)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(args.out)


if __name__ == "__main__":
    main()
