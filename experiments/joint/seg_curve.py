"""Segmentation mIoU against training steps, for every checkpoint of the given runs.

Each checkpoint of each run is scored image → mask on the first ``--n`` shapes test images
by one call and arg-max (``unmask joint --steps 1``, the discriminative baseline's own
read-out), so joint and discriminative runs are compared the same way at every budget.
Results are cached per checkpoint in ``OUT/<run>-<step>/metrics.json`` (a checkpoint
already scored is not scored again); the table goes to stdout and to ``OUT/curve.json``,
the figure to ``--png``: mIoU against training steps, and against the training samples
that showed the model the whole image with the mask to predict (all of them for the
discriminative baseline; for a joint model the share of draws that hold the image clean,
``path.clean_stream_prob`` split over the streams by ``path.clean_stream_weights``).

    .venv/bin/python experiments/joint/seg_curve.py runs/shapes-seg-disc runs/shapes-joint-seg \
        --out runs/joint-eval/curve --png docs/joint_seg_curve.png
"""

from __future__ import annotations

import argparse
import functools
import json
import re
from pathlib import Path

from unmask.config import Config
from unmask.data import StreamDataset, get_dataset
from unmask.joint import run_joint
from unmask.losses import MultiStreamObjective
from unmask.training import build_objective
from unmask.training.checkpoint import list_checkpoints
from unmask.training.factories import stream_specs


@functools.cache
def _test_split(name: str, options: str) -> StreamDataset:
    """The test split of dataset ``name`` with ``options`` (JSON), built once per script run."""
    data = get_dataset(name, "test", **json.loads(options))
    assert isinstance(data, StreamDataset)
    return data


def image_whole_share(config: Config) -> float:
    """The share of training draws holding the image whole while the mask is scored: 1 for the
    discriminative baseline (image pinned at t = 1), else the clean-stream draws that pick the
    image (``path.clean_stream_prob`` split over the streams by ``path.clean_stream_weights``)."""
    if config.path.stream_times().get("image") == 1.0:
        return 1.0
    data = _test_split(config.data.name, json.dumps(config.data.options(), sort_keys=True))
    objective = build_objective(config, data.vocab_size, stream_specs(config, data))
    assert isinstance(objective, MultiStreamObjective)
    return objective.interpolant.clean_share("image")


def score(run: Path, out: Path, n: int) -> list[dict[str, float]]:
    """[{step, miou, pixel_accuracy}] over ``run``'s checkpoints, oldest first."""
    dests = {}
    for ckpt in list_checkpoints(run):
        dest = out / f"{run.name}-{int(ckpt.name.rsplit('_', 1)[1])}"
        if not (dest / "metrics.json").is_file():
            run_joint(ckpt, "image->mask", dest, n=n, steps=1, fd=False)
        dests[dest] = None
    # checkpoints scored earlier and pruned since (train.keep_checkpoints) keep their point
    for dest in out.glob(f"{run.name}-*"):
        if re.fullmatch(re.escape(run.name) + r"-\d+", dest.name) and (dest / "metrics.json").is_file():
            dests[dest] = None
    rows = []
    for dest in dests:
        m = json.loads((dest / "metrics.json").read_text())
        if m["n"] != n:
            raise SystemExit(f"{dest} scored {m['n']} images, not --n {n}: remove it to rescore")
        mask = m["streams"]["mask"]
        rows.append({"step": m["step"], "miou": mask["miou"], "pixel_accuracy": mask["pixel_accuracy"]})
    return sorted(rows, key=lambda r: r["step"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run directories of image/mask models")
    ap.add_argument("--out", type=Path, default=Path("runs/joint-eval/curve"))
    ap.add_argument("--n", type=int, default=500, help="test images (the first N)")
    ap.add_argument("--png", type=Path, default=None, help="write the figure here")
    args = ap.parse_args()
    configs = {run.name: Config.from_dict(json.loads((run / "config.json").read_text())) for run in args.runs}
    curves = {run.name: score(run, args.out, args.n) for run in args.runs}
    shares = {name: image_whole_share(c) for name, c in configs.items()}
    batch = {name: c.train.batch_size for name, c in configs.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curve.json").write_text(json.dumps({"curves": curves, "image_whole_share": shares}, indent=1) + "\n")
    print("| run | image-whole share | step | mIoU | pixel acc. |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in curves.items():
        for r in rows:
            print(f"| `{name}` | {shares[name]:.2f} | {r['step']} | {r['miou']:.4f} | {r['pixel_accuracy']:.4f} |")
    if args.png is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
        for name, rows in curves.items():
            steps = [r["step"] for r in rows]
            miou = [r["miou"] for r in rows]
            style = "--" if shares[name] == 1.0 else "-"
            (line,) = axes[0].plot(steps, miou, style, marker="o", label=name)
            seen = [s * batch[name] * shares[name] / 1000 for s in steps]
            axes[1].plot(seen, miou, style, marker="o", color=line.get_color(), label=name)
        axes[0].set_xlabel("training steps")
        axes[1].set_xlabel("thousands of training samples with the whole image shown")
        axes[0].set_ylabel("mIoU, image → mask")
        fig.suptitle(f"shapes segmentation, one call + arg-max, first {args.n} test images", fontsize=10)
        for ax in axes:
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        args.png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.png, dpi=120)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
