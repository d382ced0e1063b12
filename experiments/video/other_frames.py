"""Does a trained video model use the other frames of a clip? A held-out measure (issue 20).

For the first ``--n`` clips of the checkpoint's test split and every frame k, a fraction ``r`` of
frame k's pixels is revealed (the same draw for both contexts) and the model predicts the rest under
two contexts:

* **with the other frames**: every other frame of the clip revealed whole;
* **alone**: every other frame [MASK] (the model sees frame k's revealed pixels and the label only).

The score is the cross-entropy (nats per pixel) of the masked pixels of frame k, over all of them and
over the *shape* pixels (levels in the upper half, as in the learning-speed probe: the background is
below). The gain ``alone − with`` is what the other frames are worth to the model: in a bouncing-shapes
clip every frame holds the same object at a nearby place, so a model that reads them should gain a
lot, most at r = 0 (nothing of frame k shown); a model that ignores them gains nothing. Labels are the
clips' own (``--null-label`` for the unconditional reading). For an explicit-timestep model the time
given is the revealed share of the whole clip in each context.

    .venv/bin/python experiments/video/other_frames.py runs/video-itm --n 200 --reveal 0 0.5 0.9 \\
        --out runs/video-itm/eval/other_frames.json

Prints a Markdown table (rows: r; columns: CE with / alone and the gain, all pixels and shape pixels)
and writes the per-frame numbers to ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from unmask.data import get_dataset
from unmask.inference import load_model
from unmask.models import VideoTransformer


@torch.no_grad()
def frame_ce(
    model: VideoTransformer,
    clips: torch.Tensor,
    labels: torch.Tensor,
    frame: int,
    reveal: float,
    gen: torch.Generator,
    batch_size: int,
) -> dict[str, dict[str, float]]:
    """CE sums and counts on frame ``frame``'s masked pixels, with and without the other frames.

    Args:
        clips: (N, T, H, W) token clips in [0, vocab_size − 1) (no [MASK]).
        labels: (N,) class labels, or the null label.
        reveal: the share of frame ``frame``'s pixels revealed, in [0, 1).
    Returns:
        {"with" | "alone": {"all": Σ nats, "all_n": count, "shape": Σ nats, "shape_n": count}}.
    """
    mask_id = model.config.vocab_size - 1
    n, frames = clips.shape[:2]
    shown = torch.rand(clips[:, frame].shape, generator=gen) < reveal  # (N, H, W), one draw for both contexts
    shape_px = clips[:, frame] >= mask_id // 2
    out: dict[str, dict[str, float]] = {}
    for context in ("with", "alone"):
        x = clips.clone() if context == "with" else torch.full_like(clips, mask_id)
        x[:, frame] = torch.where(shown, clips[:, frame], torch.full_like(clips[:, frame], mask_id))
        sums = {"all": 0.0, "all_n": 0.0, "shape": 0.0, "shape_n": 0.0}
        for i in range(0, n, batch_size):
            xb = x[i : i + batch_size]
            t = None
            if model.config.timestep:
                t = (xb != mask_id).flatten(1).float().mean(1)
            logits = model(xb, t, labels[i : i + batch_size])[:, frame].float()  # (B, H, W, V − 1): no [MASK]
            nll = -F.log_softmax(logits, -1).gather(-1, clips[i : i + batch_size, frame, ..., None])[..., 0]
            masked = ~shown[i : i + batch_size]
            shape = masked & shape_px[i : i + batch_size]
            sums["all"] += float(nll[masked].sum())
            sums["all_n"] += float(masked.sum())
            sums["shape"] += float(nll[shape].sum())
            sums["shape_n"] += float(shape.sum())
        out[context] = sums
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ckpt", type=Path, help="a video checkpoint or run directory")
    ap.add_argument("--n", type=int, default=200, help="test clips (the first N)")
    ap.add_argument("--reveal", type=float, nargs="+", default=[0.0, 0.5, 0.9], help="shares of the frame revealed")
    ap.add_argument("--null-label", action="store_true", help="score with the null label instead of each clip's")
    ap.add_argument("--weights", choices=("ema", "raw"), default="ema", help="the checkpoint's EMA or raw weights")
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    for r in args.reveal:
        if not 0.0 <= r < 1.0:
            raise SystemExit(f"--reveal {r}: a share of the frame in [0, 1)")
    torch.set_num_threads(args.threads)
    model, ckpt = load_model(args.ckpt, weights=args.weights)
    if not isinstance(model, VideoTransformer):
        raise SystemExit(f"{args.ckpt} holds a {type(model).__name__}, not a video model")
    data = get_dataset(ckpt.config.data.name, "test", **ckpt.config.data.options())
    clips = data.tokens[: args.n].long()
    labels = data.labels[: args.n].long() if data.labels is not None and model.num_classes > 0 else None
    if labels is None or args.null_label:
        labels = torch.full((len(clips),), model.null_label, dtype=torch.long)
    frames = clips.shape[1]
    rows: list[dict[str, Any]] = []
    for r in args.reveal:
        gen = torch.Generator().manual_seed(args.seed)
        per_frame = [frame_ce(model, clips, labels, k, r, gen, args.batch_size) for k in range(frames)]
        row: dict[str, Any] = {"reveal": r, "per_frame": []}
        for part in ("all", "shape"):
            for context in ("with", "alone"):
                num = sum(f[context][part] for f in per_frame)
                den = sum(f[context][f"{part}_n"] for f in per_frame)
                row[f"{part}_{context}"] = num / max(den, 1.0)
            row[f"{part}_gain"] = row[f"{part}_alone"] - row[f"{part}_with"]
        for k, f in enumerate(per_frame):
            row["per_frame"].append(
                {
                    "frame": k,
                    **{
                        f"{part}_{c}": f[c][part] / max(f[c][f"{part}_n"], 1.0)
                        for part in ("all", "shape")
                        for c in ("with", "alone")
                    },
                }
            )
        rows.append(row)
    print(f"{ckpt.path} (step {ckpt.step}), {len(clips)} test clips, {'null label' if args.null_label else 'labels'}")
    print("\n| frame revealed | CE with other frames | alone | gain | shape px: with | alone | gain |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['reveal']:.2f} | {row['all_with']:.4f} | {row['all_alone']:.4f} | {row['all_gain']:.4f} "
            f"| {row['shape_with']:.4f} | {row['shape_alone']:.4f} | {row['shape_gain']:.4f} |"
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {"checkpoint": str(ckpt.path), "step": ckpt.step, "n": len(clips), "null_label": args.null_label}
        args.out.write_text(json.dumps({**record, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
