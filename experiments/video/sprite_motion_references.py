"""Reference values of the sprite motion measure (unmask.eval.sprite_motion) on moving-fashion-mnist: where
real clips land and where clips that are not moving sprites land. Prints a Markdown table.

    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python experiments/video/sprite_motion_references.py [--n 1000]

Rows (sprite_motion_report of N clips of the test split, 8 grey levels):

* real: the test clips, and separately those with one item and those with two (the split's renderer draws
  the count first: ``RandomState(1).randint(1, 3, size=1000)``);
* frame-shuffled: each clip's frames in a random order (neither the identity nor the reversal);
* jittered: the first frame displaced at random by up to 3 px per axis in every later frame (rigid, not smooth);
* frames of other clips: frame t of each clip taken from a random clip (items that teleport);
* still: the first frame repeated T times;
* uniform noise;
* blurred real: the real clips blurred (Gaussian, sigma 1.5 px) and stretched to [0, 255] (shape lost,
  motion kept).

With --continuation, a second table: sprite_continuation_error from 4 given frames of the real clips with
frames 4 … 7 from the real clip itself, the last given frame held, another clip, and the real frames shuffled.
"""

from __future__ import annotations

import argparse

import numpy as np

from unmask.data import TokenDataset, get_dataset
from unmask.data.videos import MOVING_FASHION_SPLIT_SEEDS
from unmask.eval.motion import blur_frames, hold_frame, shuffle_frames
from unmask.eval.sprite_motion import jitter_frames, sprite_continuation_error, sprite_motion_report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="test clips (default all 1,000)")
    ap.add_argument("--continuation", action="store_true", help="also the continuation table")
    args = ap.parse_args()
    ds = get_dataset("moving-fashion-mnist", "test", levels=8)
    assert isinstance(ds, TokenDataset)
    real = np.asarray(ds.tokenizer.decode(ds.tokens[: args.n]))
    count = np.random.RandomState(MOVING_FASHION_SPLIT_SEEDS["test"]).randint(1, 3, size=len(ds))[: len(real)]
    rng = np.random.RandomState(0)
    rows = {
        "real (test split)": real,
        "real, one item": real[count == 1],
        "real, two items": real[count == 2],
        "frame-shuffled real": shuffle_frames(real),
        "jittered first frame (±3 px per frame)": jitter_frames(real),
        "each frame from a random clip": real[rng.randint(0, len(real), size=real.shape[:2]), np.arange(real.shape[1])],
        "still (first frame × T)": hold_frame(real, 1),
        "uniform noise": rng.randint(0, 256, size=real.shape).astype(np.uint8),
        "blurred real (shape lost, motion kept)": blur_frames(real),
    }
    print("| clips | n | score | pass rate | rigid | smooth | two motions | moving | mean speed (px/frame) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, clips in rows.items():
        r = sprite_motion_report(clips)
        print(
            f"| {name} | {r['n']} | {r['score']:.3f} | {r['pass_rate']:.3f} | {r['rigid']:.3f} | "
            f"{r['smooth_rate']:.3f} | {r['two_motion_rate']:.3f} | {r['moving_rate']:.3f} | {r['mean_speed']:.2f} |"
        )
    if not args.continuation:
        return
    k = 4
    other = np.roll(real, 1, axis=0)
    conts = {
        "real continued by itself": real,
        "last given frame held": hold_frame(real, k),
        "frames 4 … 7 of another clip": np.concatenate([real[:, :k], other[:, k:]], axis=1),
        "real frames 4 … 7 shuffled": np.concatenate([real[:, :k], shuffle_frames(real[:, k:])], axis=1),
    }
    print()
    print(
        "| continuation (4 given frames) | position error (px) | per frame 4 … 7 | found | hold error | "
        "pixel error | hold pixel error | score |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for name, clips in conts.items():
        c = sprite_continuation_error(clips, real, given_frames=k)
        per = " / ".join(f"{e:.2f}" for e in c["position_error_per_frame"])  # type: ignore[attr-defined]
        m = c["motion"]
        assert isinstance(m, dict)
        print(
            f"| {name} | {c['position_error']:.2f} | {per} | {c['found_rate']:.3f} | {c['hold_error']:.2f} | "
            f"{c['pixel_error']:.1f} | {c['hold_pixel_error']:.1f} | {m['score']:.3f} |"
        )


if __name__ == "__main__":
    main()
