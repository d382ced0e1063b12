"""What each regulariser costs per training step, through the real ``unmask train`` loop.

The segmentation recipe study (docs/results.md, issue 19) found the `base` recipe (±1 mask-cell shifts,
weight decay 0.05, dropout 0.1) at 0.47 s per step against 0.31 s without them. This benchmark says
which of the three costs that: for one preset, the same short run (same seed, data, steps and threads)
with none of them, with each one alone and with all three, in rounds (every variant once per round,
so a change in the machine's load touches all of them alike), each run's steady rate the median
``samples_per_s`` of its log windows after the first (``compile_speed.run_once``, eager). The table
gives every variant's median over the rounds and its cost against the run without regularisation.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/regularisation_cost.py --preset shapes-seg-disc \\
        --steps 80 --log-every 20 --rounds 2 --threads 2 --out runs/bench/regularisation_cost.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_speed import run_once  # noqa: E402

#: variant → overrides on top of the preset (the shapes recipe's three regularisers and their values)
NONE = ["data.shift=0", "optim.weight_decay=0", "model.dropout=0"]
VARIANTS: dict[str, list[str]] = {
    "none": NONE,
    "shifts ±1": ["data.shift=1", "optim.weight_decay=0", "model.dropout=0"],
    "weight decay 0.05": ["data.shift=0", "optim.weight_decay=0.05", "model.dropout=0"],
    "dropout 0.1": ["data.shift=0", "optim.weight_decay=0", "model.dropout=0.1"],
    "all three": ["data.shift=1", "optim.weight_decay=0.05", "model.dropout=0.1"],
}


def summarise(rates: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Per variant: the median samples/s over the rounds and the time per sample against ``none``."""
    base = statistics.median(rates["none"])
    rows = []
    for name, values in rates.items():
        rate = statistics.median(values)
        rows.append({"variant": name, "samples_per_s": rate, "rounds": values, "time_vs_none": base / rate})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="shapes-seg-disc")
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if "none" not in args.variants:
        ap.error("--variants must include 'none', the reference")
    if args.rounds < 1:
        ap.error(f"--rounds must be >= 1, got {args.rounds}")
    torch.set_num_threads(args.threads)
    rates: dict[str, list[float]] = {name: [] for name in args.variants}
    for r in range(args.rounds):
        for name in args.variants:
            run = run_once(args.preset, False, args.steps, args.log_every, args.threads, VARIANTS[name])
            rates[name].append(run["samples_per_s"])
            print(f"round {r + 1}, {name}: {run['samples_per_s']:.1f} samples/s", flush=True)
    rows = summarise(rates)
    print("| variant | samples / s (median of rounds) | time per sample vs none |")
    print("|---|---:|---:|")
    for row in rows:
        print(f"| {row['variant']} | {row['samples_per_s']:.1f} | {row['time_vs_none']:.2f}× |")
    result = {
        "preset": args.preset,
        "steps": args.steps,
        "threads": args.threads,
        "torch": torch.__version__,
        "load_average": os.getloadavg(),
        "rows": rows,
    }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
