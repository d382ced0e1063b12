"""Markdown tables of the joint-model experiments from their run directories and eval outputs.

.venv/bin/python experiments/joint/report.py --runs runs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unmask.training.curves import read_run_summary


def _train_summary(run: Path) -> dict[str, float]:
    recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]
    trains = [r for r in recs if r["event"] == "train"]
    last = trains[-1]
    return {
        "steps": last["step"],
        "train_s": last["elapsed_s"],
        "s_per_step": last["elapsed_s"] / last["step"],
        "wall_s": read_run_summary(run).seconds,
        **{k: v for k, v in [r for r in recs if r["event"] == "checkpoint"][-1].items() if k.startswith("eval_loss")},
    }


def _metrics(path: Path) -> dict:
    return json.loads((path / "metrics.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", default="runs")
    args = ap.parse_args()
    runs = Path(args.runs)
    ev = runs / "joint-eval"

    print("### Training (same backbone, batch 64, steps; one thread on a shared 2-core CPU)\n")
    print("| run | steps | mean s/step | training s | held-out losses at the end |")
    print("|---|---:|---:|---:|---|")
    for name in ("shapes-joint", "shapes-seg-disc", "fmnist-joint", "fmnist-cls-disc", "shapes-joint3"):
        if not (runs / name / "metrics.jsonl").is_file():
            continue
        s = _train_summary(runs / name)
        # a discriminative run never predicts its input stream: its loss there is 0 by construction
        losses = ", ".join(f"{k[5:]} {v:.3f}" for k, v in s.items() if k.startswith("eval_loss_") and v != 0)
        print(f"| `{name}` | {s['steps']} | {s['s_per_step']:.2f} | {s['train_s']:.0f} | {losses} |")

    print("\n### Segmentation (image → mask), shapes test, first 500 images\n")
    print("| model | sampler | CFG | NFE per batch of 250 | mIoU | pixel acc. |")
    print("|---|---|---:|---:|---:|---:|")
    rows = [
        ("seg-disc", "discriminative baseline", "one call, arg-max"),
        ("seg-joint-s1", "joint", "one call, arg-max"),
        ("seg-joint-s32-cfg1", "joint", "Euler 32 steps, T = 1"),
        ("seg-joint-s32-cfg2", "joint", "Euler 32 steps, T = 1"),
        ("seg-joint-s32-cfg1-greedy", "joint", "Euler 32 steps, top-k 1"),
        ("seg-joint-s32-cfg2-greedy", "joint", "Euler 32 steps, top-k 1"),
    ]
    base = None
    for key, model, how in rows:
        if not (ev / key / "metrics.json").is_file():
            continue
        m = _metrics(ev / key)
        mask = m["streams"]["mask"]
        if key == "seg-disc":
            base = mask["miou"]
        ratio = f" ({mask['miou'] / base:.3f}×)" if base and key != "seg-disc" else ""
        print(
            f"| {model} | {how} | {m['sampler']['cfg']:g} | {m['nfe'] / 2:g} | {mask['miou']:.4f}{ratio} "
            f"| {mask['pixel_accuracy']:.4f} |"
        )
    if (ev / "seg-joint-uncertainty" / "metrics.json").is_file():
        u = _metrics(ev / "seg-joint-uncertainty")["streams"]["mask"]
        print(
            f"\nUncertainty run (8 images × 16 samples): mIoU of one sample {u['miou']:.4f}, mean over samples "
            f"{u['miou_mean_over_samples']:.4f}, majority vote {u['majority_vote']['miou']:.4f}; mean pixel entropy "
            f"{u['mean_pixel_entropy']:.4f} nats"
        )

    print("\n### Generation from the joint shapes model (500 samples, FD vs the 2,000 test images)\n")
    print("| mode | CFG | steps | FD (EfficientNet-Lite0) | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|")
    for key in ("m2i-cfg1", "m2i-cfg2", "shapes-joint-samples"):
        if not (ev / key / "metrics.json").is_file():
            continue
        m = _metrics(ev / key)
        im = m["streams"]["image"]
        print(
            f"| {m['mode']} | {m['sampler']['cfg']:g} | {m['sampler']['steps']} | {im['fd']:.2f} | "
            f"{im['precision']:.3f} | {im['recall']:.3f} |"
        )
    real = ev / "shapes-real-train-fd.json"
    if real.is_file():
        r = json.loads(real.read_text())
        print(f"| real train images (reference point) | | | {r['fd']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} |")

    print("\n### Classification (image → label), Fashion-MNIST test, 10,000 images\n")
    print("| model | how | CFG | accuracy |")
    print("|---|---|---:|---:|")
    base = None
    for key, model in (
        ("cls-disc", "discriminative baseline"),
        ("cls-joint-cfg1", "joint"),
        ("cls-joint-cfg2", "joint"),
    ):
        if not (ev / key / "metrics.json").is_file():
            continue
        m = _metrics(ev / key)
        acc = m["streams"]["label"]["accuracy"]
        if key == "cls-disc":
            base = acc
        ratio = f" ({acc / base:.3f}×)" if base and key != "cls-disc" else ""
        print(f"| {model} | one call, arg-max | {m['sampler']['cfg']:g} | {acc:.4f}{ratio} |")

    _digits_table(runs, ev)
    _joint3_table(ev)


def _digits_table(runs: Path, ev: Path) -> None:
    """digits-joint vs digits-cls-disc, each with both inits, over training seeds: accuracy on the whole
    digits test split (one arg-max call, CFG 1)."""
    rows = [  # (model, init, eval name, run name), {s} = the training seed
        ("joint", "U-ViT (σ 0.02, positions × 1)", "digits-cls-joint-s{s}", "digits-joint-s{s}"),
        ("joint", "σ 1, positions × 0.1", "digits-cls-joint-e1-s{s}", "digits-joint-e1-s{s}"),
        ("discriminative", "U-ViT (σ 0.02, positions × 1)", "digits-cls-disc-u-s{s}", "digits-cls-disc-u-s{s}"),
        ("discriminative", "σ 1, positions × 0.1", "digits-cls-disc-s{s}", "digits-cls-disc-s{s}"),
    ]
    seeds = sorted(
        {int(p.name.rsplit("-s", 1)[1]) for p in ev.glob("digits-cls-*-s*") if p.name.rsplit("-s", 1)[1].isdigit()}
    )
    found = {
        (r, s): _metrics(ev / r[2].format(s=s))["streams"]["label"]["accuracy"]
        for r in rows
        for s in seeds
        if (ev / r[2].format(s=s) / "metrics.json").is_file()
    }
    if not found:
        return
    used = [s for s in seeds if any((r, s) in found for r in rows)]
    n = next(_metrics(ev / r[2].format(s=s))["n"] for (r, s) in found)
    print(f"\n### Classification (image → label), digits test, {n} images, by training seed\n")
    print("| model | init | " + " | ".join(f"seed {s}" for s in used) + " | mean | s/step |")
    print("|---|---|" + "---:|" * (len(used) + 2))
    means = {}
    for r in rows:
        accs = [found.get((r, s)) for s in used]
        got = [a for a in accs if a is not None]
        if not got:
            continue
        means[r] = sum(got) / len(got)
        speed = [_train_summary(runs / r[3].format(s=s))["s_per_step"] for s in used if (r, s) in found]
        cells = " | ".join("—" if a is None else f"{a:.4f}" for a in accs)
        print(f"| {r[0]} | {r[1]} | {cells} | {means[r]:.4f} | {sum(speed) / len(speed):.2f} |")
    kinds = ("joint", "discriminative")
    best = {k: max((v, r) for r, v in means.items() if r[0] == k) for k in kinds if any(r[0] == k for r in means)}
    if len(best) == 2:
        (j, jr), (d, dr) = best["joint"], best["discriminative"]
        print(f"\nEach model with its better init: joint {j:.4f} ({jr[1]})", end=" ")
        print(f"/ discriminative {d:.4f} ({dr[1]}) = **{j / d:.3f}×**")


def _seg(m: dict) -> str:
    mask = m["streams"]["mask"]
    return f"mIoU {mask['miou']:.4f}, pixel acc. {mask['pixel_accuracy']:.4f}"


def _cls(m: dict) -> str:
    return f"accuracy {m['streams']['label']['accuracy']:.4f} (n = {m['n']})"


def _seg_cls(m: dict) -> str:
    return f"{_seg(m)}; label {_cls(m)}"


def _gen(m: dict) -> str:
    im = m["streams"]["image"]
    if "fd" not in im:
        return "not scored (--no-fd)"
    text = f"FD {im['fd']:.2f}, precision {im['precision']:.3f}, recall {im['recall']:.3f}"
    if im.get("conditional_accuracy") is not None:
        text += (
            f"; conditional accuracy {im['conditional_accuracy']:.4f} "
            f"(judge's test accuracy {im['classifier_test_accuracy']:.4f})"
        )
    return text


def _joint3_table(ev: Path) -> None:
    """Every direction of the one three-stream model (experiments/joint/eval.sh, joint3), beside the two-stream runs."""
    rows = [
        ("j3-seg-cfg1", "image → mask", _seg, "seg-joint-s32-cfg1"),
        ("j3-seg-cfg2", "image → mask", _seg, "seg-joint-s32-cfg2"),
        ("j3-cls-cfg1", "image → label", _cls, None),
        ("j3-cls-cfg2", "image → label", _cls, None),
        ("j3-seg-cls-cfg1", "image → mask, label", _seg_cls, None),
        ("j3-m2i-cfg1", "mask → image", _gen, "m2i-cfg1"),
        ("j3-m2i-cfg2", "mask → image", _gen, "m2i-cfg2"),
        ("j3-l2i-cfg2", "label → image", _gen, None),
        ("j3-joint-samples", "joint", _gen, "shapes-joint-samples"),
    ]
    if not any((ev / key / "metrics.json").is_file() for key, *_ in rows):
        return
    print("\n### One model of image, mask and label (`shapes-joint3`), shapes test\n")
    print("| direction | sampler | CFG | `shapes-joint3` | two-stream `shapes-joint` |")
    print("|---|---|---:|---|---|")
    for key, direction, describe, twin in rows:
        if not (ev / key / "metrics.json").is_file():
            continue
        m = _metrics(ev / key)
        sampler = m["sampler"]
        how = "one call, arg-max" if sampler["steps"] == 1 else f"Euler {sampler['steps']} steps"
        other = describe(_metrics(ev / twin)) if twin and (ev / twin / "metrics.json").is_file() else "—"
        print(f"| {direction} | {how} | {sampler['cfg']:g} | {describe(m)} | {other} |")


if __name__ == "__main__":
    main()
