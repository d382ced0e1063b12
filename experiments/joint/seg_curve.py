"""Segmentation mIoU against training steps, for every checkpoint of the given runs.

Each checkpoint of each run is scored image → mask on the first ``--n`` shapes test images
by one call and arg-max (``unmask joint --steps 1``, the discriminative baseline's own
read-out), so joint and discriminative runs are compared the same way at every budget.
Results are cached per checkpoint in ``OUT/<run>-<step>/metrics.json`` (a checkpoint
already scored is not scored again); the table goes to stdout and to ``OUT/curve.json``,
the figure to ``--png``.

    .venv/bin/python experiments/joint/seg_curve.py runs/shapes-seg-disc runs/shapes-joint-seg \
        --out runs/joint-eval/curve --png docs/joint_seg_curve.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unmask.joint import run_joint
from unmask.training.checkpoint import list_checkpoints


def score(run: Path, out: Path, n: int) -> list[dict[str, float]]:
    """[{step, miou, pixel_accuracy}] over ``run``'s checkpoints, oldest first."""
    rows = []
    for ckpt in list_checkpoints(run):
        step = int(ckpt.name.rsplit("_", 1)[1])
        dest = out / f"{run.name}-{step}"
        if not (dest / "metrics.json").is_file():
            run_joint(ckpt, "image->mask", dest, n=n, steps=1, fd=False)
        mask = json.loads((dest / "metrics.json").read_text())["streams"]["mask"]
        rows.append({"step": step, "miou": mask["miou"], "pixel_accuracy": mask["pixel_accuracy"]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run directories of image/mask models")
    ap.add_argument("--out", type=Path, default=Path("runs/joint-eval/curve"))
    ap.add_argument("--n", type=int, default=500, help="test images (the first N)")
    ap.add_argument("--png", type=Path, default=None, help="write the figure here")
    args = ap.parse_args()
    curves = {run.name: score(run, args.out, args.n) for run in args.runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curve.json").write_text(json.dumps(curves, indent=1) + "\n")
    print("| run | " + " | ".join(["step", "mIoU", "pixel acc."]) + " |")
    print("|---|---:|---:|---:|")
    for name, rows in curves.items():
        for r in rows:
            print(f"| `{name}` | {r['step']} | {r['miou']:.4f} | {r['pixel_accuracy']:.4f} |")
    if args.png is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for name, rows in curves.items():
            ax.plot([r["step"] for r in rows], [r["miou"] for r in rows], marker="o", label=name)
        ax.set_xlabel("training steps (batch 64)")
        ax.set_ylabel(f"mIoU, image → mask (one call, arg-max; {args.n} test images)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        args.png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.png, dpi=120)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
