"""Benchmark: sampler overhead per step (everything but the network) vs the model's forward time.

Runs each sampler on the default Fashion-MNIST architecture (``fmnist`` size, 28×28 tokens,
16 levels) at batch 64 with a wrapper that times every network call; overhead = total
sampling time − time inside the network, divided by the steps taken. Reported as a
fraction of one forward pass of the same batch. Goal (issue 3): ≤ 5%.

With ``--peer`` (needs ``pip install flow_matching==1.0.10``, the ``bench`` extra), the
same model, batch, labels and step count also run through the peer library's
``MixtureDiscreteEulerSolver`` on a ``MixtureDiscreteProbPath`` with the linear
(polynomial n = 1) scheduler, timed the same way, and the table gives unmask's overhead
per step as a ratio of the peer's (goal, issue 7: ≤ 0.5×). The peer's model wrapper turns
logits into probabilities over the vocabulary including [MASK] (0 there), which the
peer's interface needs; that softmax counts as peer overhead, as unmask's own softmax
counts as unmask's.

    .venv/bin/python benchmarks/sampler_overhead.py [--batch 64] [--steps 64] [--repeats 3] [--peer]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from unmask.config import load_config
from unmask.models import Transformer
from unmask.samplers import EulerSampler, MaskGITSampler


class Timed(torch.nn.Module):
    def __init__(self, inner: Transformer) -> None:
        super().__init__()
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0

    def forward(self, x, t, labels):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = self.inner(x, t, labels)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return out

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.inner, name)


def peer_overhead(model: Timed, labels: torch.Tensor, steps: int, repeats: int, batch: int) -> tuple[float, int]:
    """Median overhead per step of flow_matching's MixtureDiscreteEulerSolver on the same model."""
    from flow_matching.path import MixtureDiscreteProbPath
    from flow_matching.path.scheduler import PolynomialConvexScheduler
    from flow_matching.solver import MixtureDiscreteEulerSolver
    from flow_matching.utils import ModelWrapper

    vocab = model.inner.config.vocab_size

    class Probabilities(ModelWrapper):
        def forward(self, x: torch.Tensor, t: torch.Tensor, **extras: object) -> torch.Tensor:
            logits = self.model(x, None, extras["labels"])  # the timed network call
            p = torch.softmax(logits.float(), dim=-1)
            return torch.cat([p, torch.zeros_like(p[..., :1])], dim=-1)  # no mass on [MASK]

    solver = MixtureDiscreteEulerSolver(
        Probabilities(model), MixtureDiscreteProbPath(PolynomialConvexScheduler(n=1.0)), vocab
    )
    x0 = torch.full((batch, *model.inner.config.grid), vocab - 1)
    overheads = []
    for r in range(repeats):
        torch.manual_seed(r)
        model.seconds, model.calls = 0.0, 0
        t0 = time.perf_counter()
        solver.sample(x0, step_size=1.0 / steps, labels=labels)
        total = time.perf_counter() - t0
        overheads.append((total - model.seconds) / steps)
    return statistics.median(overheads), model.calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--peer", action="store_true", help="also time flow_matching's MixtureDiscreteEulerSolver")
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = load_config("fmnist")
    backbone = cfg.model.backbone(17, (28, 28), 10)
    model = Timed(Transformer(backbone).eval())
    labels = torch.arange(args.batch) % 10
    x = torch.full((args.batch, 28, 28), 16)
    with torch.no_grad():
        model.inner(x, None, labels)
        fwd = []
        for _ in range(5):
            t0 = time.perf_counter()
            model.inner(x, None, labels)
            fwd.append(time.perf_counter() - t0)
    forward = statistics.median(fwd)
    samplers = {
        "Euler, every step (skip_idle off)": EulerSampler(steps=args.steps, skip_idle=False),
        "Euler, default (idle steps skipped)": EulerSampler(steps=args.steps),
        "Euler + corrector η=0.05": EulerSampler(steps=args.steps, corrector=0.05, skip_idle=False),
        "MaskGIT, Gumbel linear": MaskGITSampler(steps=args.steps, gumbel="linear"),
        "MaskGIT, top-p 0.9, top-k 5": MaskGITSampler(steps=args.steps, top_p=0.9, top_k=5),
    }
    lines = [
        f"fmnist model ({sum(p.numel() for p in model.inner.parameters()) / 1e6:.2f} M parameters), batch {args.batch} "
        f"× 784 tokens (49 positions after 4×4 patches), vocabulary 17, {args.steps} steps, no CFG, "
        f"{torch.get_num_threads()} threads; one forward of the batch: {forward * 1000:.1f} ms (median of 5); "
        f"load average {os.getloadavg()[0]:.2f} at start.",
        "",
        "| sampler | network calls | overhead per step (ms) | overhead / forward |",
        "|---|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)  # rows follow as each sampler finishes
    results: dict[str, float] = {}
    if args.peer:
        per_step, calls = peer_overhead(model, labels, args.steps, args.repeats, args.batch)
        results["peer"] = per_step
        lines.append(
            f"| flow_matching 1.0.10 MixtureDiscreteEulerSolver | {calls} | {per_step * 1000:.2f} | "
            f"{per_step / forward:.1%} |"
        )
        print(lines[-1], flush=True)
    for name, sampler in samplers.items():
        overheads = []
        calls = 0
        for r in range(args.repeats):
            model.seconds, model.calls = 0.0, 0
            t0 = time.perf_counter()
            out = sampler.sample(model, labels=labels, generator=torch.Generator().manual_seed(r))
            total = time.perf_counter() - t0
            overheads.append((total - model.seconds) / out.steps)
            calls = model.calls
        per_step = statistics.median(overheads)
        results[name] = per_step
        lines.append(f"| {name} | {calls} | {per_step * 1000:.2f} | {per_step / forward:.1%} |")
        print(lines[-1], flush=True)
    if "peer" in results:
        ours = results["Euler, every step (skip_idle off)"]
        lines += [
            "",
            f"unmask Euler (every step) overhead per step / flow_matching's: **{ours / results['peer']:.2f}×** "
            "(same model, batch, labels and steps, one run).",
        ]
    text = "\n".join(lines)
    if "peer" in results:
        print("\n".join(lines[-2:]))
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
