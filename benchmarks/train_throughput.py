"""Training throughput and FLOP utilisation against this machine's measured fp32 matmul peak.

In one process and one run: (1) the matmul peak, the best of several large square fp32
matmuls (2·n³ FLOP each) with the same thread count; (2) for each preset, the FLOPs of
one training step counted exactly by ``torch.utils.flop_counter.FlopCounterMode`` (with
``unmask.training.flops.flop_counter_mode``'s formula for the CPU attention op)
(forward and backward matmuls and attention; elementwise work is not counted, as in the
usual MFU definition), and the wall time of real training steps (data, interpolant,
forward, loss, backward, clipping, AdamW, EMA: the loop of ``unmask train``, without
checkpoints). Utilisation = counted FLOP/s ÷ matmul peak. A profile splits the step time
into data + interpolant, forward + loss, backward, optimiser + EMA.

    .venv/bin/python benchmarks/train_throughput.py --presets fmnist digits --threads 2 --steps 20
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import torch

from unmask.config import load_config
from unmask.data import batch_indices, get_dataset
from unmask.interpolants import sample_times
from unmask.training import EMA, build_model, build_objective, fused_adamw_available
from unmask.training.flops import flop_counter_mode


def matmul_peak(n: int = 2048, repeats: int = 8) -> float:
    """Best fp32 GFLOP/s of an n×n by n×n matmul."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def bench_preset(preset: str, steps: int, overrides: list[str]) -> dict[str, Any]:
    cfg = load_config(preset, overrides)
    ds = get_dataset(cfg.data.name, "train", **cfg.data.options())
    model = build_model(cfg, ds)
    obj = build_objective(cfg, ds.vocab_size)
    ema = EMA(model, cfg.optim.ema_decay)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, fused=fused_adamw_available(torch.device("cpu")))
    gen = torch.Generator().manual_seed(0)
    bs = cfg.train.batch_size
    labels = ds.labels

    def step(i: int, timings: dict[str, float] | None = None) -> None:
        t0 = time.perf_counter()
        idx = batch_indices(len(ds), bs, i, 0)
        x1 = ds.tokens[idx]
        t = sample_times(bs, generator=gen)
        target = obj.corrupt(x1, t, gen)
        y = None
        if model.num_classes > 0 and labels is not None:
            y = labels[idx]
        t1 = time.perf_counter()
        out = obj.loss(obj.predict(model, target, y), target)
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        t3 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        opt.step()
        ema.update(model)
        t4 = time.perf_counter()
        if timings is not None:
            for key, dt in (
                ("data+interpolant", t1 - t0),
                ("forward+loss", t2 - t1),
                ("backward", t3 - t2),
                ("optimizer+ema", t4 - t3),
            ):
                timings[key] = timings.get(key, 0.0) + dt

    model.train()
    with flop_counter_mode() as fc:  # also counts the CPU attention op (unmask.training.flops)
        step(0)
    flops = fc.get_total_flops()
    for i in range(1, 3):  # warm-up
        step(i)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    for i in range(3, 3 + steps):
        step(i, timings)
    seconds = (time.perf_counter() - t0) / steps
    positions = int(ds.tokens[0].numel())
    return {
        "preset": preset,
        "parameters": model.num_parameters(),
        "batch_size": bs,
        "tokens_per_sample": positions,
        "sequence_positions": model.config.num_positions,
        "gflop_per_step": flops / 1e9,
        "seconds_per_step": seconds,
        "samples_per_s": bs / seconds,
        "tokens_per_s": bs * positions / seconds,
        "gflop_per_s": flops / seconds / 1e9,
        "profile_fraction": {k: v / steps / seconds for k, v in timings.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", nargs="+", default=["fmnist", "digits"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--override", nargs="*", default=[], help="section.key=value applied to every preset")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_peak()
    rows = []
    for preset in args.presets:
        r = bench_preset(preset, args.steps, args.override)
        r["utilisation"] = r["gflop_per_s"] / peak
        rows.append(r)
        print(json.dumps(r))
    result = {
        "threads": args.threads,
        "matmul_peak_gflop_s": peak,
        "load_average": os.getloadavg(),
        "torch": torch.__version__,
        "rows": rows,
    }
    print(json.dumps({"matmul_peak_gflop_s": peak, "load_average": result["load_average"]}))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
