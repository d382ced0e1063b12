"""Training speed with ``train.compile=true`` against eager, through the real ``unmask train`` loop.

For each preset, in one process and one run, the same short training run (same seed, data,
steps and threads) is made twice into temporary directories: eager, then compiled
(``torch.compile``, inductor's C++ kernels on the CPU). From each run's ``metrics.jsonl``:

* the steady rate: the median ``samples_per_s`` of the log windows after the first (the first
  window of the compiled run holds the compilation);
* the first window's wall time, which for the compiled run is what compiling costs a run;
* the training loss at the last step, as a check that both ran the same computation (they
  draw the same batches; the numbers differ only in floating-point rounding).

The ratio compiled ÷ eager of the steady rate is the speed-up a long run gets once compiled.
Inductor caches compiled kernels on disk (``TORCHINDUCTOR_CACHE_DIR``, default under /tmp), so
a second run of this script compiles faster than the first; the first-window time printed is
the one of this run.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/compile_speed.py --presets fmnist-joint fmnist \\
        --steps 150 --log-every 25 --threads 2 --out runs/bench/compile_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from unmask.config import load_config
from unmask.training import train


def run_once(preset: str, compile: bool, steps: int, log_every: int, threads: int, extra: list[str]) -> dict[str, Any]:
    """One short training run of ``preset``; its steady rate, first-window time and last loss."""
    overrides = [
        f"train.steps={steps}",
        f"train.log_every={log_every}",
        f"train.ckpt_every={steps}",
        f"train.threads={threads}",
        f"train.compile={'true' if compile else 'false'}",
        "train.until_plateau=false",
        "train.plateau_min_steps=0",
        "train.eval_batches=1",
        *extra,
    ]
    config = load_config(preset, overrides)
    tmp_dir = tempfile.TemporaryDirectory(prefix="unmask-compile-bench-")
    with tmp_dir as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        result = train(config, Path(tmp) / "run", progress=False)
        wall = time.perf_counter() - t0
        records = [json.loads(line) for line in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    windows = [r for r in records if r.get("event") == "train"]
    if len(windows) < 2:
        raise SystemExit(f"{preset}: need at least two log windows, got {len(windows)}; raise --steps")
    # the loop's own fallback warnings (``training.step._compiled``): "… training eagerly"
    fallback = sorted({str(w.message) for w in caught if "training eagerly" in str(w.message)})
    first = windows[0]["elapsed_s"]
    return {
        "preset": preset,
        "compile": compile,
        "fell_back_to_eager": bool(fallback),
        "warnings": fallback,
        "steps": result.step,
        "samples_per_s": statistics.median(w["samples_per_s"] for w in windows[1:]),
        "first_window_s": first,
        "first_window_steps": windows[0]["step"],
        "wall_s": wall,
        "last_loss": windows[-1]["loss"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["fmnist-joint", "fmnist"])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--override", nargs="*", default=[], help="section.key=value for every preset")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for preset in args.presets:
        eager = run_once(preset, False, args.steps, args.log_every, args.threads, args.override)
        compiled = run_once(preset, True, args.steps, args.log_every, args.threads, args.override)
        row = {
            "preset": preset,
            "eager": eager,
            "compiled": compiled,
            "speedup": compiled["samples_per_s"] / eager["samples_per_s"],
            "compile_overhead_s": compiled["first_window_s"] - eager["first_window_s"],
        }
        rows.append(row)
        print(json.dumps(row))
    result = {"threads": args.threads, "torch": torch.__version__, "load_average": os.getloadavg(), "rows": rows}
    print(json.dumps({"load_average": result["load_average"]}))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
