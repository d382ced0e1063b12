"""Idle steps during sampling: MDM vs MDM-Prime checkpoints, against Proposition A.1.

For each checkpoint and step count S, draws n samples with the model's own sampler
(Euler for MDM, Prime for MDM-Prime) and reports the mean number of idle steps per
sample (steps at which nothing — no token, no sub-token — was revealed), the idle
fraction, the expected count from Proposition A.1 (Σ_i (1 − P_i)^N with N = L tokens
for MDM and L·ℓ sub-tokens for Prime), the network evaluations per sample, and the
wall time. Idle steps depend only on the schedule and S, not on the network.

    .venv/bin/python experiments/prime/idle_steps.py --ckpt runs/kjv runs/kjv-prime2 runs/kjv-prime4 \\
        --steps 128 1024 --n 64 --out runs/prime-idle.json
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from unmask.inference import load_model
from unmask.samplers import expected_idle_steps
from unmask.training import default_sampler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", nargs="+", required=True)
    ap.add_argument("--steps", nargs="+", type=int, default=[128, 1024])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = []
    for ckpt in args.ckpt:
        model, info = load_model(ckpt)
        length = model.config.num_positions * model.config.patch ** len(model.config.grid)
        ell = max(model.subtokens, 1)
        for steps in args.steps:
            sampler = default_sampler(model, info.config, steps=steps)
            t0 = time.perf_counter()
            out = sampler.sample(model, args.n, generator=torch.Generator().manual_seed(args.seed))
            seconds = time.perf_counter() - t0
            idle = out.idle_steps.double()
            row = {
                "checkpoint": ckpt,
                "subtokens": ell,
                "tokens": length,
                "steps": steps,
                "n": args.n,
                "idle_steps": float(idle.mean()),
                "idle_stderr": float(idle.std()) / args.n**0.5,
                "idle_fraction": float(idle.mean()) / steps,
                "expected_idle_steps": expected_idle_steps(sampler.schedule, steps, length * ell),  # type: ignore[attr-defined]
                "nfe": out.nfe,
                "evals_per_sample": float(out.nfe_per_sample.float().mean()),
                "seconds": seconds,
            }
            if ell > 1:
                row["token_idle_steps"] = float(out.token_idle_steps.double().mean())  # type: ignore[attr-defined]
            rows.append(row)
            print(json.dumps(row))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
