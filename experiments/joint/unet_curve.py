"""The shapes U-Net baseline's learning curve from ``experiments/joint/baselines.py``'s JSON: held-out loss
and mIoU against steps, with the test mIoU of the final model and the step the plateau rule stopped it.

    .venv/bin/python experiments/joint/unet_curve.py runs/joint-eval/baselines-shapes/baselines.json \\
        --png docs/shapes_unet_curve.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", type=Path, help="baselines.json with a 'segmentation' entry")
    ap.add_argument("--png", type=Path, required=True)
    args = ap.parse_args()
    seg = json.loads(args.json.read_text()).get("segmentation")
    if seg is None:
        raise SystemExit(f"{args.json} holds no segmentation run (baselines.py was run with --no-seg)")
    steps = [r["step"] for r in seg["curve"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    a.plot(steps, [r["loss"] for r in seg["curve"]], marker="o", ms=3)
    a.set_ylabel("held-out loss (nats per mask pixel)")
    b.plot(steps, [r["miou"] for r in seg["curve"]], marker="o", ms=3, label="held-out (1,000 train images)")
    b.axhline(seg["test"]["miou"], color="k", ls="--", lw=1, label=f"test, final model: {seg['test']['miou']:.4f}")
    b.set_ylim(top=max(seg["test"]["miou"], *(r["miou"] for r in seg["curve"])) + 0.02)
    b.set_ylabel("mIoU")
    b.legend(fontsize=8)
    for ax in (a, b):
        ax.set_xlabel("step (batch 64)")
        ax.axvline(seg["steps"], color="grey", lw=0.8)
        ax.grid(alpha=0.3)
    cfg = seg["config"]
    fig.suptitle(
        f"U-Net w{cfg['width']} d{cfg['depth']} on shapes ({seg['num_parameters']:,} parameters): "
        f"stopped at step {seg['steps']} ({'plateau' if seg['stopped_early'] else 'budget'})",
        fontsize=10,
    )
    fig.tight_layout()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=120)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
