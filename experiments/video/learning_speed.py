"""Why does the video backbone learn more slowly per pixel than the image backbone? (issue 20)

A learning-speed probe on a fixed small batch of ``bouncing-shapes`` clips (the ``video`` preset's
data: 8 frames of 16×16 at 8 grey levels), every arm trained the same way: the preset's masked ITM
objective (linear schedule, masked cross-entropy, no clean prefix), AdamW with a 10-step warm-up
then a constant learning rate, batch = the whole fixed set, gradient clipping at 2, seed 0. The
score is the cross-entropy (nats) on the masked *shape* pixels at t = 0.9 (90% of tokens revealed,
so a masked shape pixel has revealed neighbours of the same level to copy), averaged over 4 fixed
mask draws, on the same training clips (this is a memorisation probe, not a held-out score). For
the video arms it is also read on the first frames alone, the very pixels the image arm is
scored on.

Arms (``--arms``; each a name → what it changes):

* ``image``: the token-grid ``Transformer`` on the first frames (N images of 16×16);
* ``video``: the ``VideoTransformer`` on the whole clips (depth blocks alternate spatial and
  temporal, so it has depth / 2 spatial blocks);
* ``video-1frame``: the video backbone on one-frame clips of the first frames (the same pixels
  and the same task as ``image``; only the architecture differs);
* ``video-deep``: the video backbone with twice the depth (as many spatial blocks as ``image``);
* ``video-still``: the first frame repeated T times (no motion: does the time axis itself cost?);
* ``video-p2``: 2×2 instead of 4×4 patches;
* ``video-uvit``: the U-ViT initialisation instead of the balanced one;
* ``video-notime``: temporal positions off (``pos_time`` zeroed: frames told apart only by content).

Writes ``OUT/learning_speed.json`` (curves) and ``OUT/learning_speed.png`` and prints a Markdown
table. Run it when the CPU is free (about a minute per 100 steps per arm at the default size on
2 threads):

    .venv/bin/python experiments/video/learning_speed.py --out runs/video-speed --steps 400

Smoke run: ``--steps 10 --eval-every 5 --dim 32 --depth 2 --heads 2 --n 4``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from unmask.config import load_config
from unmask.interpolants import sample_times
from unmask.models import Transformer, TransformerConfig, VideoTransformer, VideoTransformerConfig
from unmask.training import build_objective
from unmask.training.batches import load_training_data

ARMS = ("image", "video", "video-1frame", "video-notime", "video-deep", "video-uvit", "video-still", "video-p2")


def arm_data(arm: str, clips: torch.Tensor) -> torch.Tensor:
    """The fixed batch an arm trains on: first frames (N, H, W), one-frame clips, still clips or the clips."""
    first = clips[:, 0]
    if arm == "image":
        return first
    if arm == "video-1frame":
        return first[:, None]
    if arm == "video-still":
        return first[:, None].expand_as(clips).contiguous()
    return clips


def arm_model(arm: str, data: torch.Tensor, vocab: int, classes: int, args: argparse.Namespace) -> torch.nn.Module:
    """The backbone of ``arm`` for ``data``, sized by ``args`` (dim, depth, heads, patch)."""
    common = dict(vocab_size=vocab, dim=args.dim, heads=args.heads, num_classes=classes, timestep=False)
    if arm == "image":
        return Transformer(TransformerConfig(grid=tuple(data.shape[1:]), patch=args.patch, depth=args.depth, **common))
    cfg = VideoTransformerConfig(grid=tuple(data.shape[1:]), patch=args.patch, depth=args.depth, **common)
    if arm == "video-deep":
        cfg = replace(cfg, depth=2 * args.depth)
    elif arm == "video-p2":
        cfg = replace(cfg, patch=2)
    elif arm == "video-uvit":
        cfg = replace(cfg, init="uvit")
    model = VideoTransformer(cfg)
    if arm == "video-notime":
        with torch.no_grad():
            model.pos_time.zero_()
    return model


@torch.no_grad()
def shape_ce(model: Any, objective: Any, x1: torch.Tensor, labels: torch.Tensor, t: float) -> tuple[float, float]:
    """(CE on all masked shape pixels, CE on the masked shape pixels of the first frame) at time ``t``,
    over 4 fixed mask draws. Shape pixels: levels in the upper half (the background is below)."""
    model.eval()
    mask_id = model.config.vocab_size - 1
    shape = x1 >= mask_id // 2
    first = torch.zeros_like(shape)
    if x1.ndim == 4:
        first[:, 0] = True
    else:
        first[:] = True
    tot = [0.0, 0.0]
    cnt = [0, 0]
    for seed in range(4):
        gen = torch.Generator().manual_seed(100 + seed)
        target = objective.corrupt(x1, torch.full((len(x1),), t), gen)
        logits = objective.predict(model, target, labels).float()
        logp = F.log_softmax(logits, -1).gather(-1, x1[..., None])[..., 0]
        masked = (target.x_t == mask_id) & shape
        for k, sel in enumerate((masked, masked & first)):
            tot[k] += float(-logp[sel].sum())
            cnt[k] += int(sel.sum())
    model.train()
    return tot[0] / max(cnt[0], 1), tot[1] / max(cnt[1], 1)


def run_arm(arm: str, clips: torch.Tensor, labels: torch.Tensor, objective: Any, args: argparse.Namespace) -> dict:
    """Train one arm on its fixed batch; its curve of shape-pixel CEs and its seconds per step."""
    data = arm_data(arm, clips)
    torch.manual_seed(args.seed)
    model = arm_model(arm, data, args.vocab, args.classes, args)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    curve: list[dict[str, float]] = []
    seconds = 0.0
    model.train()
    for step in range(1, args.steps + 1):
        for group in opt.param_groups:
            group["lr"] = args.lr * min(1.0, step / 10)
        t0 = time.perf_counter()
        target = objective.corrupt(data, sample_times(len(data), generator=gen), gen)
        out = objective.loss(objective.predict(model, target, labels), target)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        seconds += time.perf_counter() - t0
        loss = out.loss.item()
        if not math.isfinite(loss):
            raise RuntimeError(f"arm {arm}: loss {loss} at step {step}")
        if step % args.eval_every == 0 or step == args.steps:
            ce, ce_first = shape_ce(model, objective, data, labels, 0.9)
            curve.append({"step": step, "loss": loss, "shape_ce": ce, "shape_ce_first_frame": ce_first})
            print(f"[{arm}] step {step}: loss {loss:.3f}, shape CE {ce:.3f} (first frame {ce_first:.3f})")
    return {"arm": arm, "params": params, "shape": list(data.shape), "s_per_step": seconds / args.steps, "curve": curve}


def plot(results: list[dict], path: Path) -> None:
    """Shape-pixel CE (first frames) against step for every arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for r in results:
        steps = [c["step"] for c in r["curve"]]
        ax.plot(steps, [c["shape_ce_first_frame"] for c in r["curve"]], marker="o", ms=3, label=r["arm"])
    ax.set_xlabel("step (batch = the whole fixed set)")
    ax.set_ylabel("CE on masked shape pixels of the first frames, t = 0.9 (nats)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    ap.add_argument("--n", type=int, default=16, help="clips in the fixed batch")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config("video", ["path.prefix_prob=0"])
    data, _ = load_training_data(cfg)
    clips = data.tokens[: args.n].long()
    labels = data.labels[: args.n].long()
    args.vocab, args.classes = data.vocab_size, data.num_classes
    objective = build_objective(cfg, args.vocab)
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    for arm in args.arms:  # written after every arm: a probe stopped early keeps the arms it finished
        results.append(run_arm(arm, clips, labels, objective, args))
        record = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "arms": results}
        (args.out / "learning_speed.json").write_text(json.dumps(record, indent=1) + "\n")
        plot(results, args.out / "learning_speed.png")
    print("\n| arm | trains on | parameters | s/step | shape CE at t = 0.9, final | first frames |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        last = r["curve"][-1]
        shape = "×".join(map(str, r["shape"]))
        print(
            f"| {r['arm']} | {shape} | {r['params']:,} | {r['s_per_step']:.3f} | {last['shape_ce']:.3f} "
            f"| {last['shape_ce_first_frame']:.3f} |"
        )
    print(f"\nwrote {args.out / 'learning_speed.json'} and learning_speed.png")


if __name__ == "__main__":
    main()
