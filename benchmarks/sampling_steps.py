"""Benchmark: Euler sampling at many steps vs few, on the default digits model.

Measures, in one run and side by side, network evaluations (NFE) and wall time of
the Euler sampler at several step counts for an implicit-timestep model (ITM) and an
explicit-timestep one (ETM), with idle-step skipping on (default) and off. Speed does
not depend on the weights, and neither do the reveal steps, so a checkpoint is
optional (--ckpt); without one, the default architecture is randomly initialised.

    .venv/bin/python benchmarks/sampling_steps.py [--ckpt runs/digits] [--batch 64] [--repeats 3]

Writes a Markdown table to stdout (and --out, if given).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from unmask.config import load_config
from unmask.data import get_dataset
from unmask.inference import load_model
from unmask.samplers import EulerSampler
from unmask.training import build_model


def timed(sampler: EulerSampler, model: torch.nn.Module, labels: torch.Tensor, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for r in range(repeats):
        gen = torch.Generator().manual_seed(r)
        t0 = time.perf_counter()
        out = sampler.sample(model, labels=labels, generator=gen)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=None, help="an ITM checkpoint / run (default: random default-preset weights)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", default="16,64,256,1000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    data = get_dataset("digits", "train")
    models = {}
    if args.ckpt:
        models["ITM"] = load_model(args.ckpt)[0]
    else:
        models["ITM"] = build_model(load_config("digits"), data).eval()
    models["ETM"] = build_model(load_config("digits-etm"), data).eval()
    labels = torch.arange(args.batch) % 10
    steps = [int(s) for s in args.steps.split(",")]
    rows = []
    for kind, model in models.items():
        for skip in (True, False):
            for s in steps:
                sampler = EulerSampler(steps=s, cfg=2.0, skip_idle=skip)
                sec, out = timed(sampler, model, labels, args.repeats)
                rows.append((kind, skip, s, out.nfe, float(out.nfe_per_sample.float().mean()), sec))
    load = os.getloadavg()[0]
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, load average at end {load:.2f}. Batch {args.batch} × 8×8 tokens (patch 2), "
        f"CFG 2 (doubled batch), median of {args.repeats} runs.",
        "",
        "| model | skip idle | steps | forward calls | evals / sample | wall s | vs 64 steps |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    base = {(k, sk): sec for k, sk, s, _, _, sec in rows if s == 64}
    for kind, skip, s, nfe, per, sec in rows:
        ratio = sec / base[(kind, skip)] if (kind, skip) in base else float("nan")
        lines.append(f"| {kind} | {'on' if skip else 'off'} | {s} | {nfe} | {per:.1f} | {sec:.3f} | {ratio:.2f}× |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
