"""Segmentation mIoU or classification accuracy against training budget, for every checkpoint of the given runs.

Each checkpoint of each run (at most ``--points`` of them, evenly spread, the last always) is scored
image → TARGET (``--target mask``: mIoU on the shapes
test images; ``--target label``: accuracy) on the first ``--n`` examples of ``--split`` (test unless
told: a recipe study chooses on ``val`` where the dataset has one, so the test split is read once) by one call and
arg-max (``unmask joint --steps 1``, the discriminative baseline's own read-out), so joint and
discriminative runs are compared the same way at every budget. Results are cached per
checkpoint in ``OUT/<run>-<step>/metrics.json`` (a checkpoint already scored is not scored
again); the table goes to stdout and to ``OUT/curve.json``, the figure to ``--png``: the score
against training steps, and against the training samples that showed the model the whole
image with some of the target to predict. That share is measured, not assumed: the run's own
objective corrupts ``--draws`` test batches and the share of samples whose image is whole and
whose target has a masked position is counted (1 for the discriminative baseline; for a joint
model about ``path.clean_stream_prob`` × the image's share of the clean draws × the target's
mask rate).

    .venv/bin/python experiments/joint/curve.py runs/shapes-seg-disc runs/shapes-joint-seg \
        --out runs/joint-eval/curve --png docs/joint_seg_curve.png
    .venv/bin/python experiments/joint/curve.py runs/digits-cls-disc-reg2 runs/digits-joint-reg --target label \
        --n 359 --out runs/joint-eval/cls-curve --png docs/joint_digits_cls_curve.png
"""

from __future__ import annotations

import argparse
import functools
import json
import re
from pathlib import Path

import torch

from unmask.config import Config
from unmask.data import StreamDataset, get_dataset
from unmask.joint import run_joint
from unmask.losses import MultiStreamObjective
from unmask.training import build_objective
from unmask.training.checkpoint import list_checkpoints
from unmask.training.curves import read_run_events
from unmask.training.factories import stream_specs


@functools.cache
def _test_split(name: str, options: str) -> StreamDataset:
    """The test split of dataset ``name`` with ``options`` (JSON), built once per script run."""
    data = get_dataset(name, "test", **json.loads(options))
    assert isinstance(data, StreamDataset)
    return data


def image_whole_share(config: Config, target: str, draws: int = 200) -> float:
    """The share of training draws that hold the image whole while some of ``target`` is masked (scored).

    Measured on the run's own objective: ``draws`` corruptions of the test split's first 64
    examples at uniform times (the trainer's draw of t), seed 0.
    """
    if config.path.stream_times().get("image") == 1.0 and config.path.stream_times().get(target) == 0.0:
        return 1.0
    data = _test_split(config.data.name, json.dumps(config.data.options(), sort_keys=True))
    objective = build_objective(config, data.vocab_size, stream_specs(config, data))
    assert isinstance(objective, MultiStreamObjective)
    x_1 = {k: v[:64] for k, v in data.streams.items()}
    gen = torch.Generator().manual_seed(0)
    hits = total = 0
    for _ in range(draws):
        t = torch.rand(64, generator=gen)
        path = objective.corrupt(x_1, t, gen)
        mask_id = {k: data.vocab_sizes[k] - 1 for k in data.names}
        whole = (path.x_t["image"] != mask_id["image"]).flatten(1).all(1)
        scored = (path.x_t[target] == mask_id[target]).flatten(1).any(1)
        hits += int((whole & scored).sum())
        total += 64
    return hits / total


def spread(items: list[Path], points: int) -> list[Path]:
    """At most ``points`` of ``items`` (>= 1; 0: all), evenly spaced by position, the last always among them."""
    if points <= 0 or len(items) <= points:
        return items
    if points == 1:
        return items[-1:]
    idx = sorted({round(i * (len(items) - 1) / (points - 1)) for i in range(points)})
    return [items[i] for i in idx]


def score(run: Path, out: Path, n: int, target: str, split: str = "test", points: int = 0) -> list[dict[str, float]]:
    """[{step, score, …}] over ``run``'s checkpoints (at most ``points`` of them, evenly spread; 0: all),
    oldest first, on the first ``n`` examples of ``split``: mIoU and pixel accuracy for a mask target,
    accuracy for a label."""
    dests = {}
    for ckpt in spread(list_checkpoints(run), points):
        dest = out / f"{run.name}-{int(ckpt.name.rsplit('_', 1)[1])}"
        if not (dest / "metrics.json").is_file():
            run_joint(ckpt, f"image->{target}", dest, n=n, steps=1, fd=False, split=split)
        dests[dest] = None
    # checkpoints scored earlier and pruned since (train.keep_checkpoints) keep their point
    for dest in out.glob(f"{run.name}-*"):
        if re.fullmatch(re.escape(run.name) + r"-\d+", dest.name) and (dest / "metrics.json").is_file():
            dests[dest] = None
    rows = []
    for dest in dests:
        m = json.loads((dest / "metrics.json").read_text())
        if m["n"] != n or m.get("split", "test") != split:
            raise SystemExit(
                f"{dest} scored {m['n']} images of {m.get('split', 'test')}, not --n {n} of {split}: "
                "remove it to rescore, or give another --out"
            )
        stream = m["streams"][target]
        if target == "mask":
            rows.append({"step": m["step"], "score": stream["miou"], "pixel_accuracy": stream["pixel_accuracy"]})
        else:
            rows.append({"step": m["step"], "score": stream["accuracy"]})
    seconds = training_seconds(run)
    for r in rows:
        r["train_s"] = seconds.get(int(r["step"]), float("nan"))
    return sorted(rows, key=lambda r: r["step"])


def training_seconds(run: Path) -> dict[int, float]:
    """Step → the run's training seconds at that checkpoint (``train_s`` of its checkpoint records;
    the last record wins when a resumed run wrote a step twice)."""
    return {int(r["step"]): float(r["train_s"]) for r in read_run_events(run, "checkpoint") if "train_s" in r}


def logged_accuracy(run: Path, target: str, scored: set[int]) -> list[dict[str, float]]:
    """The held-out accuracy a discriminative run logged at checkpoints no longer on disk (pruned by
    ``train.keep_checkpoints``): image at t = 1 and ``target`` at t = 0, so the training log's
    ``eval_accuracy_<target>`` is the same arg-max accuracy, on ``train.eval_batches`` batches of the
    test split (drawn with replacement across epochs, so it may count a few examples twice). Drawn as
    hollow markers."""
    key = f"eval_accuracy_{target}"
    return [
        {"step": r["step"], "score": r[key]}
        for r in read_run_events(run, "checkpoint")
        if key in r and r["step"] not in scored
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run directories of joint or discriminative image/TARGET models")
    ap.add_argument("--target", choices=("mask", "label"), default="mask", help="the stream predicted from the image")
    ap.add_argument("--out", type=Path, default=Path("runs/joint-eval/curve"))
    ap.add_argument("--n", type=int, default=500, help="examples of --split scored (the first N)")
    ap.add_argument("--split", default="test", help="the split scored (e.g. val, for choosing a recipe)")
    ap.add_argument(
        "--points",
        type=int,
        default=30,
        help="checkpoints scored per run at most, evenly spread, the last always (0: all; default 30: a 60-checkpoint "
        "run at n = 10,000 would otherwise spend half an hour on its curve)",
    )
    ap.add_argument("--draws", type=int, default=200, help="batches of 64 corrupted to measure the image-whole share")
    ap.add_argument("--png", type=Path, default=None, help="write the figure here")
    ap.add_argument(
        "--x2",
        choices=("samples", "seconds"),
        default="samples",
        help="the right panel's axis: samples showing the whole image (default) or training seconds (wall-clock)",
    )
    ap.add_argument(
        "--ref", action="append", default=[], metavar="NAME=VALUE", help="a reference score drawn as a level line"
    )
    args = ap.parse_args()
    configs = {run.name: Config.from_dict(json.loads((run / "config.json").read_text())) for run in args.runs}
    curves = {run.name: score(run, args.out, args.n, args.target, args.split, args.points) for run in args.runs}
    shares = {name: image_whole_share(c, args.target, args.draws) for name, c in configs.items()}
    logged = {
        run.name: logged_accuracy(run, args.target, {r["step"] for r in curves[run.name]})
        for run in args.runs
        if shares[run.name] == 1.0 and args.target == "label"
    }
    batch = {name: c.train.batch_size for name, c in configs.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curve.json").write_text(
        json.dumps(
            {
                "target": args.target,
                "split": args.split,
                "curves": curves,
                "image_whole_share": shares,
                "logged": logged,
            },
            indent=1,
        )
        + "\n"
    )
    measure = "mIoU" if args.target == "mask" else "accuracy"
    extra = " pixel acc. |" if args.target == "mask" else ""
    print(f"| run | image-whole share | step | {measure} |{extra}")
    print("|---|---:|---:|---:|" + ("---:|" if extra else ""))
    for name, rows in curves.items():
        for r in rows:
            tail = f" {r['pixel_accuracy']:.4f} |" if extra else ""
            print(f"| `{name}` | {shares[name]:.3f} | {r['step']} | {r['score']:.4f} |{tail}")
    if args.png is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
        for name, rows in curves.items():
            steps = [r["step"] for r in rows]
            values = [r["score"] for r in rows]
            style = "--" if shares[name] == 1.0 else "-"
            (line,) = axes[0].plot(steps, values, style, marker="o", label=name)
            if args.x2 == "seconds":
                seen = [r["train_s"] / 60 for r in rows]
            else:
                seen = [s * batch[name] * shares[name] / 1000 for s in steps]
            axes[1].plot(seen, values, style, marker="o", color=line.get_color(), label=name)
            if logged.get(name):
                pts = logged[name]
                panels = [(axes[0], [r["step"] for r in pts])]
                if args.x2 == "samples":
                    panels.append((axes[1], [r["step"] * batch[name] / 1000 for r in pts]))
                for ax, xs in panels:
                    ax.plot(xs, [r["score"] for r in pts], ":", marker="o", mfc="none", color=line.get_color())
        for i, ref in enumerate(args.ref):
            name, value = ref.split("=", 1)
            for ax in axes:
                ax.axhline(float(value), color="grey", ls=("--", ":", "-.")[i % 3], lw=0.9, label=f"{name} {value}")
        axes[0].set_xlabel("training steps")
        if args.x2 == "seconds":
            axes[1].set_xlabel("training minutes (wall-clock, the run's own train_s)")
        else:
            axes[1].set_xlabel(f"thousands of training samples showing the whole image, {args.target} scored")
        axes[0].set_ylabel(f"{measure}, image → {args.target}")
        task = "segmentation" if args.target == "mask" else "classification"
        fig.suptitle(f"{task}, one call + arg-max, first {args.n} {args.split} examples", fontsize=10)
        for ax in axes:
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        args.png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.png, dpi=120)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
