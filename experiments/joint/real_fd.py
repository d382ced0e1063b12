"""FD of real shapes train images against the shapes test reference: the floor the mask -> image FD is read against.

.venv/bin/python experiments/joint/real_fd.py --n 500 --out runs/joint-eval/shapes-real-train-fd.json
"""

from __future__ import annotations

import argparse
import json

from unmask._io import atomic_write_text
from unmask.data import get_dataset
from unmask.eval import evaluate_samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=500, help="real train images (the first N)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    images = get_dataset("shapes", "train").images()[: args.n]
    report = evaluate_samples(images, None, "shapes", classifier=False, levels=16)
    report = {"what": f"first {args.n} real shapes train images vs the test split", **report}
    atomic_write_text(args.out, json.dumps(report, indent=2) + "\n")
    print(json.dumps({"fd": report["fd"], "n": args.n}))


if __name__ == "__main__":
    main()
