"""Tables of experiments/digits/defaults.sh: the default digits run under both initialisations, every
sampling cell over two sampling seeds (FD, precision, recall, classifier accuracy), and each run's
training wall time and final held-out loss.

    .venv/bin/python experiments/digits/report.py --runs runs
"""

from __future__ import annotations

import argparse
from pathlib import Path

from unmask.sweep import read_rows
from unmask.sweep.table import as_float
from unmask.training.curves import read_run_events, read_run_summary

RUNS = {"digits-uvit": "U-ViT init (before)", "digits": "balanced init (after)"}


def cell_name(row: dict[str, str]) -> str:
    if row["sampler"] == "maskgit":
        return f"MaskGIT {row['steps']} steps, CFG {float(row['cfg']):g}, Gumbel {float(row['gumbel_temperature']):g}"
    return f"Euler {row['steps']} steps, CFG {float(row['cfg']):g}, T {float(row['temperature']):g}"


def run_summary(run: Path) -> str:
    ckpt = read_run_events(run, "checkpoint")[-1]
    seconds = read_run_summary(run).seconds
    return f"{seconds:.0f} s of training, held-out loss {ckpt['eval_loss']:.4f} at step {ckpt['step']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", default="runs")
    args = parser.parse_args()
    root = Path(args.runs)
    cells: dict[str, dict[str, list[dict[str, str]]]] = {}
    for run in RUNS:
        if (root / run).is_dir():
            print(f"- {RUNS[run]} (`runs/{run}`): {run_summary(root / run)}")
        for seed in (0, 1):
            for row in read_rows(root / f"sweep-{run}-s{seed}" / "sweep.csv"):
                cells.setdefault(cell_name(row), {}).setdefault(run, []).append(row)
    print()
    head = " | ".join(f"{RUNS[r]}: FD (seed 0 / 1) | precision | recall | accuracy" for r in RUNS)
    print(f"| sampler | {head} |")
    print("|---|" + "---:|---:|---:|---:|" * len(RUNS))
    for name, by_run in cells.items():
        parts = []
        for run in RUNS:
            rows = by_run.get(run, [])
            if not rows:
                parts.append(" – | – | – | – ")
                continue
            fds = " / ".join(f"{as_float(r['fd']):.3f}" for r in rows)
            means = [sum(as_float(r[key]) for r in rows) / len(rows) for key in ("precision", "recall", "accuracy")]
            parts.append(f" {fds} | " + " | ".join(f"{m:.3f}" for m in means) + " ")
        print(f"| {name} |" + "|".join(parts) + "|")


if __name__ == "__main__":
    main()
