"""How sampling and training time and peak memory grow with batch size, sequence length and vocabulary.

Every measurement runs in a fresh subprocess, so its peak resident memory (``ru_maxrss``)
is its own; the baseline RSS of a process that only built the model is subtracted, so the
memory column is what the work itself added. The model is a small 1-D transformer
(dim 128, depth 2, 4 heads, patch 1) on L tokens; sampling is the Euler sampler with every
step evaluated (``skip_idle=False``, 8 steps), training one AdamW step of the masked
cross-entropy; each is run twice and the second is timed.

    .venv/bin/python benchmarks/scaling.py --out runs/scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, torch
from unmask.models import Transformer, TransformerConfig
from unmask.samplers import EulerSampler
from unmask.interpolants import MaskingInterpolant, sample_times
from unmask.losses import MaskedCrossEntropy
torch.set_num_threads(int(sys.argv[5]))
what, batch, length, vocab = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(0)
model = Transformer(TransformerConfig(vocab_size=vocab, grid=(length,), dim=128, depth=2, heads=4, timestep=False))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, foreach=True)  # imported before the baseline
path = MaskingInterpolant("linear", vocab)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def work(seed):
    g = torch.Generator().manual_seed(seed)
    if what == "sample":
        model.eval()
        out = EulerSampler(steps=8, skip_idle=False).sample(model, batch, generator=g)
        assert int(out.tokens.max()) < vocab - 1
    else:
        model.train()
        x1 = torch.randint(0, vocab - 1, (batch, length), generator=g)
        p = path.sample(x1, sample_times(batch, generator=g), g)
        opt.zero_grad(set_to_none=True)
        MaskedCrossEntropy()(model(p.x_t, None, None), p, path.schedule).loss.backward()
        opt.step()


torch.nn.init.normal_(model.head.weight, std=0.02)
work(0)  # warm-up: first-call costs are not the work's
t0 = time.perf_counter()
work(1)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "added_mb": (peak - base) / 1024}))
"""


def measure(what: str, batch: int, length: int, vocab: int, threads: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(batch), str(length), str(vocab), str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    sweeps = {
        "batch": [dict(batch=b, length=256, vocab=257) for b in (8, 16, 32, 64, 128)],
        "length": [dict(batch=4, length=n, vocab=257) for n in (64, 256, 1024, 4096)],
        "vocab": [dict(batch=4, length=256, vocab=v) for v in (18, 257, 4097, 16385)],
    }
    rows = []
    for axis, points in sweeps.items():
        for point in points:
            for what in ("sample", "train"):
                r = {"axis": axis, "what": what, **point, **measure(what, threads=args.threads, **point)}
                rows.append(r)
                print(json.dumps(r), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"threads": args.threads, "load_average": os.getloadavg(), "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
