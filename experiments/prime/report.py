"""Turn the MDM-Prime runs and measurements into the Markdown tables of docs/results.md.

.venv/bin/python experiments/prime/report.py --runs runs > /tmp/prime-tables.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from unmask.sweep import read_rows

TEXT_RUNS = [
    ("kjv", "MDM (ℓ = 1)"),
    ("kjv-prime2", "MDM-Prime ℓ = 2 (b = 16)"),
    ("kjv-prime4", "MDM-Prime ℓ = 4 (b = 4)"),
    ("kjv-ar", "autoregressive"),
]


def _events(run: Path, event: str) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r["event"] == event]


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
        start = _events(run, "start")[0]
        end = _events(run, "end")[-1]
        cfg = json.loads((run / "config.json").read_text())
        nll = json.loads(nll_path.read_text())
        bits_se = nll["stderr_nats"] / 0.6931471805599453
        out.append(
            f"| {label} | {start['parameters'] / 1e6:.2f} M | {end['step']:,} × {cfg['train']['batch_size']} | "
            f"{end['seconds'] / 60:.0f} min | **{nll['bits_per_token']:.3f}** | {bits_se:.3f} | {nll['kind']} |"
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
    sweeps = {
        label: read_rows(runs / f"sweep-{name}" / "sweep.csv")
        for name, label in (("fmnist256", "MDM"), ("fmnist256-prime", "MDM-Prime ℓ = 2"))
    }
    steps = sorted({int(r["steps"]) for rows in sweeps.values() for r in rows})
    out = ["| model | " + " | ".join(f"NFE {s}" for s in steps) + " |", "|---|" + "---:|" * len(steps)]
    for label, rows in sweeps.items():
        by = {int(r["steps"]): r for r in rows}
        cells = []
        for s in steps:
            r = by.get(s)
            cells.append("–" if r is None else f"{float(r['fd']):.1f} ({int(float(r['nfe_per_sample']))})")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs")
    args = ap.parse_args()
    runs = Path(args.runs)
    print("### Text: validation bits per byte\n\n" + text_table(runs) + "\n")
    if (runs / "prime-idle.json").is_file():
        print("### Idle steps\n\n" + idle_table(runs / "prime-idle.json") + "\n")
    print("### 256-level Fashion-MNIST: FD (evals / sample) at equal NFE\n\n" + image_table(runs))


if __name__ == "__main__":
    main()
