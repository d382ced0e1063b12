"""Sampling throughput (images/s) at 16 … 1,000 steps: Euler on ITM and ETM, and MaskGIT.

The default Fashion-MNIST architecture (``fmnist`` size, 28×28 tokens at 16 levels, 4×4
patches), class-conditional with CFG 2 (one forward over the doubled batch per call).
Speed does not depend on the weights, nor do the reveal steps, so checkpoints are
optional (``--itm`` / ``--etm``; randomly initialised otherwise). Euler skips idle
steps (its default): a sample is evaluated only at the steps where one of its tokens is
revealed. MaskGIT reveals at least one token per step until none is left, so S > 784
steps cost at most 784 calls.

    .venv/bin/python benchmarks/sampling_throughput.py [--itm runs/fmnist-itm --etm runs/fmnist-etm] [--batch 64]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from unmask.config import load_config
from unmask.inference import load_model
from unmask.models import Transformer
from unmask.samplers import EulerSampler, MaskGITSampler


def model_for(preset: str, ckpt: str | None) -> Transformer:
    if ckpt:
        return load_model(ckpt)[0]
    torch.manual_seed(0)
    cfg = load_config(preset)
    return Transformer(cfg.model.backbone(17, (28, 28), 10)).eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--itm", default=None)
    ap.add_argument("--etm", default=None)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", default="16,64,256,1000")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    itm, etm = model_for("fmnist", args.itm), model_for("fmnist-etm", args.etm)
    labels = torch.arange(args.batch) % 10
    steps = [int(s) for s in args.steps.split(",")]
    rows = []
    for s in steps:
        for name, model, sampler in (
            ("Euler, ITM", itm, EulerSampler(steps=s, cfg=2.0)),
            ("Euler, ETM", etm, EulerSampler(steps=s, cfg=2.0)),
            ("MaskGIT (Gumbel), ITM", itm, MaskGITSampler(steps=s, cfg=2.0)),
        ):
            t0 = time.perf_counter()
            out = sampler.sample(model, labels=labels, generator=torch.Generator().manual_seed(0))
            sec = time.perf_counter() - t0
            rows.append((name, s, out.nfe, float(out.nfe_per_sample.float().mean()), sec))
            print(rows[-1], flush=True)
    lines = [
        f"Machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"load average at end {os.getloadavg()[0]:.2f}. Batch {args.batch} × 784 tokens (49 positions), "
        "CFG 2 (doubled batch), one run per cell.",
        "",
        "| sampler | steps | forward calls | evals / sample | wall s | images / s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s, nfe, per, sec in rows:
        lines.append(f"| {name} | {s} | {nfe} | {per:.1f} | {sec:.2f} | {args.batch / sec:.3g} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
