"""Reference values of the motion measure (unmask.eval.motion) on bouncing-shapes: where real clips land
and where clips that are not a bouncing body land. Prints two Markdown tables.

    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python experiments/video/motion_references.py [--n 1000]

Rows of the first table (motion_report of N clips of the test split, 8 grey levels):

* real: the test clips;
* frame-shuffled: each clip's frames in a random order (neither the identity nor the reversal);
* still: the first frame repeated T times;
* noise: uniform grey noise;
* blurred blobs: noise blurred (Gaussian, sigma 1.5 px) and stretched to [0, 255], each frame drawn
  independently (blobs that come and go);
* blurred real: the real clips blurred the same way (one moving blob: the measure is about motion,
  not shape, so this row scores like the real clips).

The second table is continuation_error from 4 given frames of the real clips with frames 4 … 7 from:
the real clip itself, the last given frame held still, another clip, and the real frames shuffled.
"""

from __future__ import annotations

import argparse

import numpy as np

from unmask.data import TokenDataset, get_dataset
from unmask.eval.motion import blur_frames, continuation_error, hold_frame, motion_report, shuffle_frames


def noise(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Uniform uint8 grey noise of ``shape``."""
    return np.random.RandomState(seed).randint(0, 256, size=shape).astype(np.uint8)


def tails(real: np.ndarray, tail: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` frames of ``real`` followed by frames k … T − 1 of ``tail``."""
    return np.concatenate([real[:, :k], tail[:, k:]], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="test clips (default all 1,000)")
    args = ap.parse_args()
    ds = get_dataset("bouncing-shapes", "test", levels=8)
    assert isinstance(ds, TokenDataset)
    real = np.asarray(ds.tokenizer.decode(ds.tokens[: args.n]))
    rows = {
        "real (test split)": real,
        "frame-shuffled real": shuffle_frames(real),
        "still (first frame × T)": hold_frame(real, 1),
        "uniform noise": noise(real.shape),
        "blurred blobs (per frame)": blur_frames(noise(real.shape)),
        "blurred real (shape lost, motion kept)": blur_frames(real),
    }
    print(
        "| clips | n | score | pass rate | one object | constant size | constant velocity | moving | "
        "mean speed (px/frame) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, clips in rows.items():
        r = motion_report(clips)
        print(
            f"| {name} | {r['n']} | {r['score']:.3f} | {r['pass_rate']:.3f} | {r['one_object_rate']:.3f} | "
            f"{r['constant_size_rate']:.3f} | {r['constant_velocity_rate']:.3f} | {r['moving_rate']:.3f} | "
            f"{r['mean_speed']:.2f} |"
        )
    k = 4
    other = np.roll(real, 1, axis=0)
    conts = {
        "real continued by itself": real,
        "last given frame held": hold_frame(real, k),
        "frames 4 … 7 of another clip": tails(real, other, k),
        "real frames 4 … 7 shuffled": np.concatenate([real[:, :k], shuffle_frames(real[:, k:])], axis=1),
    }
    print()
    print(
        "| continuation (4 given frames) | position error (px) | per frame 4 … 7 | found | hold error | score | pass |"
    )
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, clips in conts.items():
        c = continuation_error(clips, real, given_frames=k)
        per = " / ".join(f"{e:.2f}" for e in c["position_error_per_frame"])  # type: ignore[attr-defined]
        m = c["motion"]
        assert isinstance(m, dict)
        print(
            f"| {name} | {c['position_error']:.2f} | {per} | {c['found_rate']:.3f} | {c['hold_error']:.2f} | "
            f"{m['score']:.3f} | {m['pass_rate']:.3f} |"
        )
    per = " / ".join(f"{e:.2f}" for e in c["extrapolation_error_per_frame"])  # type: ignore[attr-defined]
    print(
        f"\nthe given real track continued at constant speed, reflected at the walls (extrapolate_track): "
        f"{c['extrapolation_error']:.2f} px ({per})"
    )


if __name__ == "__main__":
    main()
