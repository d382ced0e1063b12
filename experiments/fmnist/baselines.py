"""Reference points for the Fashion-MNIST results, measured exactly like the sweeps.

* floor: real test images from the half of the test split that is *not* the reference;
* naive: a per-class independent-pixel sampler fitted on the training split.

Both at 16 grey levels, scored with unmask.eval.evaluate_samples against the same
reference (a fixed 5,000-image half of the test split), with the same n and labels.

    .venv/bin/python experiments/fmnist/baselines.py --n 500 --out runs/fmnist-baselines.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from unmask.data import get_dataset
from unmask.eval import IndependentPixelSampler
from unmask.eval.reference import select_indices
from unmask.eval.report import evaluate_samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--levels", type=int, default=16)
    ap.add_argument("--ref-n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    test = get_dataset("fashion-mnist", "test", args.levels)
    train = get_dataset("fashion-mnist", "train", args.levels)
    assert test.labels is not None and train.labels is not None
    ref_idx = select_indices(len(test), args.ref_n)
    held_out = np.setdiff1d(np.arange(len(test)), ref_idx)
    rng = np.random.RandomState(args.seed)
    labels = np.array([i * 10 // args.n for i in range(args.n)])
    # the floor: held-out real images with the same label balance as the samples
    test_labels = test.labels.numpy()
    pick = np.concatenate(
        [rng.choice(held_out[test_labels[held_out] == c], (labels == c).sum(), replace=False) for c in range(10)]
    )
    real = test.images()[pick]
    naive = IndependentPixelSampler().fit(train.tokens, train.labels, 10, args.levels)
    fake = test.tokenizer.decode(naive.sample(labels, torch.Generator().manual_seed(args.seed)))
    report = {}
    for name, images in (("held-out real half (floor)", real), ("per-class independent pixels (naive)", fake)):
        rep = evaluate_samples(images, labels, "fashion-mnist", levels=args.levels, ref_n=args.ref_n)
        report[name] = {k: rep[k] for k in ("fd", "precision", "recall", "inception_score", "conditional_accuracy")}
        print(name, json.dumps(report[name]))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"n": args.n, "ref_n": args.ref_n, "levels": args.levels, **report}, fh, indent=2)


if __name__ == "__main__":
    main()
