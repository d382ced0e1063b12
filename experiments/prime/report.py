"""Turn the MDM-Prime runs and measurements into the Markdown tables of docs/results.md.

.venv/bin/python experiments/prime/report.py --runs runs > /tmp/prime-tables.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unmask.sweep import read_rows
from unmask.training.curves import read_run_summary

TEXT_RUNS = [
    ("kjv", "MDM (ℓ = 1)"),
    ("kjv-prime2", "MDM-Prime ℓ = 2 (b = 16)"),
    ("kjv-prime4", "MDM-Prime ℓ = 4 (b = 4)"),
    ("kjv-ar", "autoregressive"),
]


def text_table(runs: Path) -> str:
    out = [
        "| model | parameters | steps × batch | wall time | validation bits / byte | ± (s.e.) | what it is |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, label in TEXT_RUNS:
        run = runs / name
        nll_path = runs / f"nll-{name}.json"
        if not (run / "metrics.jsonl").is_file() or not nll_path.is_file():
            continue
        summary = read_run_summary(run)
        cfg = json.loads((run / "config.json").read_text())
        nll = json.loads(nll_path.read_text())
        bits_se = nll["stderr_nats"] / 0.6931471805599453
        out.append(
            f"| {label} | {(summary.parameters or 0) / 1e6:.2f} M | "
            f"{summary.step or 0:,} × {cfg['train']['batch_size']} | "
            f"{summary.seconds / 60:.0f} min | **{nll['bits_per_token']:.3f}** | {bits_se:.3f} | {nll['kind']} |"
        )
    return "\n".join(out)


def idle_table(path: Path) -> str:
    rows = json.loads(path.read_text())
    out = [
        "| model | steps | idle steps / sample (measured) | Prop. A.1 expectation | idle fraction | "
        "evals / sample | wall s (64 samples) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        label = "MDM" if r["subtokens"] == 1 else f"Prime ℓ = {r['subtokens']}"
        out.append(
            f"| {label} | {r['steps']:,} | {r['idle_steps']:.1f} ± {r['idle_stderr']:.1f} | "
            f"{r['expected_idle_steps']:.1f} | {r['idle_fraction']:.1%} | {r['evals_per_sample']:.1f} | "
            f"{r['seconds']:.1f} |"
        )
    return "\n".join(out)


def image_table(runs: Path) -> str:
    """FD at equal NFE for each model and seed (sweep-X, sweep-X-s1, ...), their mean, and the references."""
    models = (("fmnist256", "MDM"), ("fmnist256-prime", "MDM-Prime ℓ = 2"), ("fmnist256-prime4", "MDM-Prime ℓ = 4"))
    steps: set[int] = set()
    table: dict[str, dict[int, list[dict[str, str]]]] = {}
    for name, label in models:
        by: dict[int, list[dict[str, str]]] = {}
        for d in sorted(runs.glob(f"sweep-{name}")) + sorted(runs.glob(f"sweep-{name}-s*")):
            for r in read_rows(d / "sweep.csv"):
                by.setdefault(int(r["steps"]), []).append(r)
        if by:
            table[label] = by
        steps |= set(by)
    cols = sorted(steps)
    out = [
        "| model | "
        + " | ".join(f"NFE {s}: FD per seed → mean" for s in cols)
        + f" | precision, accuracy (NFE {max(cols) if cols else '–'}) |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]
    for label, by in table.items():
        cells = []
        for s in cols:
            rows = sorted(by.get(s, []), key=lambda r: int(r["seed"]))
            fds = [float(r["fd"]) for r in rows]
            cells.append("–" if not fds else " / ".join(f"{x:.1f}" for x in fds) + f" → **{sum(fds) / len(fds):.1f}**")
        last = by.get(max(cols), [])
        pa = (
            f"{sum(float(r['precision']) for r in last) / len(last):.3f}, "
            f"{sum(float(r['accuracy']) for r in last) / len(last):.3f}"
            if last
            else "–"
        )
        out.append(f"| {label} | " + " | ".join(cells) + f" | {pa} |")
    base = runs / "fmnist256-baselines.json"
    if base.is_file():
        b = json.loads(base.read_text())
        for key, label in (
            ("held-out real half (floor)", "real test images"),
            ("per-class independent pixels (naive)", "naive per-pixel sampler"),
        ):
            r = b[key]
            out.append(
                f"| {label} | " + " | ".join(f"{r['fd']:.1f}" for _ in cols) + f" | {r['precision']:.3f}, "
                f"{r['conditional_accuracy']:.3f} |"
            )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs")
    ap.add_argument("--images", action="store_true", help="only the image table, with each run's training")
    args = ap.parse_args()
    runs = Path(args.runs)
    if args.images:
        for name in ("fmnist256", "fmnist256-prime", "fmnist256-prime4"):
            summary = read_run_summary(runs / name)
            if summary.step is not None:
                print(f"{name}: {summary.describe()}")
        print("\n### 256-level Fashion-MNIST: FD at equal NFE (NFE = steps for both)\n\n" + image_table(runs))
        return
    print("### Text: validation bits per byte\n\n" + text_table(runs) + "\n")
    if (runs / "prime-idle.json").is_file():
        print("### Idle steps\n\n" + idle_table(runs / "prime-idle.json") + "\n")
    print("### 256-level Fashion-MNIST: FD at equal NFE (NFE = steps for both)\n\n" + image_table(runs))


if __name__ == "__main__":
    main()
