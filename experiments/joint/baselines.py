"""Discriminative baselines for the joint models (issue 19), on the joint models' own splits.

* Classification on pixels (``unmask.eval.discriminative_baselines.sklearn_classifier_baselines``):
  logistic regression and an RBF SVC on the flattened [0, 1] pixels of digits and Fashion-MNIST,
  C chosen by stratified 5-fold cross-validation on the train split only, scored once on test.
* Segmentation on ``shapes`` (``unet_segmenter_baseline``): a U-Net (width 32, depth 3,
  GroupNorm, logits on the 16×16 mask grid) trained with AdamW (lr 2e-3, weight decay 0.05,
  100 warm-up steps, cosine to 0.1×), ±1 mask pixel (±2 image pixels) shifts, batch 64; scored
  every 200 steps on 1,000 train images held out of training, and stopped by the project's
  plateau criterion (held-out loss improved < 1% over the last quarter of the steps, none
  before 1,000 steps); the test split (2,000 images) is scored once, by the final model.

Writes ``OUT/baselines.json`` and prints Markdown tables. Runs are single-threaded unless
``--threads`` says otherwise.

Full size (compute reserved; run when it is free). The RBF SVC fit grows about quadratically
with the training set, so Fashion-MNIST's classifiers are fit on a stratified 20,000-image
subsample of its 60,000 (recorded as ``train_n`` in the JSON and in the table):

    OMP_NUM_THREADS=1 .venv/bin/python experiments/joint/baselines.py --out runs/joint-eval/baselines \\
        --datasets digits --steps 20000
    OMP_NUM_THREADS=1 .venv/bin/python experiments/joint/baselines.py --out runs/joint-eval/baselines-fmnist \\
        --datasets fashion-mnist --train-n 20000 --folds 3 --no-seg

(the first runs digits and the shapes U-Net to its plateau, at most 20,000 steps; the second
Fashion-MNIST's classifiers only). The U-Net's state goes to ``OUT/unet_state.pt`` at every
evaluation: the same command run again resumes it (a larger ``--steps`` continues the cosine over
the new budget from the resumed step). Smoke run (seconds to minutes):

    OMP_NUM_THREADS=1 .venv/bin/python experiments/joint/baselines.py --out /tmp/bl-smoke \\
        --steps 20 --train-n 200 --seg-train-n 256 --val-n 64 --test-n 64 --eval-every 10 --width 8 --depth 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from unmask.eval.discriminative_baselines import sklearn_classifier_baselines, unet_segmenter_baseline
from unmask.training.plateau import plateau_stop_rule


def _classification_table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| dataset | model | train images | tuned C (CV acc.) | test acc. | test acc. at C = 1 | fit s |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    names = {"logreg": "logistic regression", "svc": "SVC (RBF, gamma scale)"}
    for r in results:
        for key, m in r["models"].items():
            default = m.get("test_accuracy_default_c")
            rows.append(
                f"| {r['dataset']} | {names[key]} | {r['train_n']:,} of {r['train_total']:,} "
                f"| {m['best_params']['C']:g} ({m['cv_accuracy']:.4f}) | {m['test_accuracy']:.4f} "
                f"| {'' if default is None else f'{default:.4f}'} | {m['fit_seconds']:.0f} |"
            )
    return "\n".join(rows)


def _segmentation_table(seg: dict[str, Any]) -> str:
    t = seg["test"]
    last = seg["curve"][-1]
    head = (
        "| model | parameters | steps | stopped | held-out loss | held-out mIoU | test mIoU | test pixel acc. |\n"
        "|---|---:|---:|---|---:|---:|---:|---:|\n"
        f"| U-Net w{seg['config']['width']} d{seg['config']['depth']} | {seg['num_parameters']:,} | {seg['steps']} "
        f"| {'plateau' if seg['stopped_early'] else 'budget'} | {last['loss']:.4f} | {last['miou']:.4f} "
        f"| {t['miou']:.4f} | {t['pixel_accuracy']:.4f} |"
    )
    curve = ["| step | held-out loss | pixel acc. | mIoU |", "|---:|---:|---:|---:|"]
    curve += [f"| {r['step']} | {r['loss']:.4f} | {r['pixel_accuracy']:.4f} | {r['miou']:.4f} |" for r in seg["curve"]]
    return head + "\n\nLearning curve (held-out = train images kept out of training):\n\n" + "\n".join(curve)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for baselines.json")
    ap.add_argument("--datasets", nargs="*", default=["digits", "fashion-mnist"], help="classification datasets")
    ap.add_argument("--train-n", type=int, default=None, help="stratified subsample of each classification train split")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds for C")
    ap.add_argument("--no-seg", action="store_true", help="skip the shapes U-Net")
    ap.add_argument("--steps", type=int, default=20_000, help="U-Net step budget (the plateau usually ends it sooner)")
    ap.add_argument("--min-steps", type=int, default=1000, help="no plateau decision before this step")
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--val-n", type=int, default=1000, help="shapes train images held out for the curve and stopping")
    ap.add_argument("--seg-train-n", type=int, default=None, help="cap on the shapes images trained on")
    ap.add_argument("--test-n", type=int, default=None, help="first shapes test images scored (default: all 2,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (2 when nothing else runs)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}

    out["classification"] = []
    for name in args.datasets:
        t0 = time.perf_counter()
        res = sklearn_classifier_baselines(name, train_n=args.train_n, seed=args.seed, folds=args.folds)
        res["seconds"] = round(time.perf_counter() - t0, 1)
        out["classification"].append(res)
        print(f"[{name}] " + ", ".join(f"{k} {m['test_accuracy']:.4f}" for k, m in res["models"].items()), flush=True)

    if not args.no_seg:
        run = unet_segmenter_baseline(
            "shapes",
            width=args.width,
            depth=args.depth,
            val_n=args.val_n,
            train_n=args.seg_train_n,
            test_n=args.test_n,
            seed=args.seed,
            max_steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            eval_every=args.eval_every,
            threads=args.threads,
            state_path=args.out / "unet_state.pt",  # written at every evaluation; a rerun resumes from it
            stop=plateau_stop_rule(args.min_steps),
            log=lambda r: print(
                f"[shapes] step {r['step']}: held-out loss {r['loss']:.4f}, mIoU {r['miou']:.4f}", flush=True
            ),
        )
        out["segmentation"] = run.to_dict(tuple(run.extra["class_names"]))
        print(f"[shapes] {run.reason}", flush=True)

    (args.out / "baselines.json").write_text(json.dumps(out, indent=1) + "\n")
    if out["classification"]:
        print("\n### Classification on pixels (scikit-learn; C by cross-validation on the train split)\n")
        print(_classification_table(out["classification"]))
    if "segmentation" in out:
        print("\n### Segmentation on shapes (U-Net; test split scored once, by the final model)\n")
        print(_segmentation_table(out["segmentation"]))
    print(f"\nwrote {args.out / 'baselines.json'}")


if __name__ == "__main__":
    main()
