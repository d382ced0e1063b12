"""Paired comparison of two classifiers scored on the same test examples (``unmask joint --mode image->label`` outputs).

Prints each one's accuracy with its binomial standard error, the examples only one of them gets
right, and the exact two-sided McNemar p-value (a binomial test on those discordant examples):
on a small test split (359 digits) a difference of a few images is what chance alone gives.

    .venv/bin/python experiments/joint/paired.py runs/joint-eval/digits-cls-joint runs/joint-eval/digits-cls-disc
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np


def _correct(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(folder / "samples.npz") as d:
        pred, true = d["sampled_label"][0].reshape(-1), d["true_label"].reshape(-1)
    return pred == true, true


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: P(|X − n/2| ≥ |only_a − n/2|) for X ~ Binomial(n = only_a + only_b, 1/2)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path, help="eval folder of the first model (metrics.json, samples.npz)")
    ap.add_argument("b", type=Path, help="eval folder of the second model, same examples")
    args = ap.parse_args()
    ca, ta = _correct(args.a)
    cb, tb = _correct(args.b)
    if not np.array_equal(ta, tb):
        raise SystemExit(f"{args.a} and {args.b} were not scored on the same examples")
    n = ca.size
    only_a, only_b = int((ca & ~cb).sum()), int((cb & ~ca).sum())
    out = {"n": n, "only_a": only_a, "only_b": only_b, "p_mcnemar": mcnemar_exact(only_a, only_b)}
    for name, c in (("a", ca), ("b", cb)):
        acc = float(c.mean())
        out[f"accuracy_{name}"] = acc
        out[f"se_{name}"] = math.sqrt(acc * (1 - acc) / n)
    out["ratio_a_over_b"] = out["accuracy_a"] / out["accuracy_b"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
