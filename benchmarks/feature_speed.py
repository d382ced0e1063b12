"""EfficientNet-Lite0 features with the batch norms folded into the convolutions against the plain network.

Every frame FD and image FD of the project goes through this network (``unmask eval``, ``unmask sweep``, the
plateau scripts' measures), so its speed is a large share of every evaluation. The two networks are timed side
by side in one process, alternating, on the same batches of real frames (bouncing-shapes, 16 × 16 at 8 grey
levels, resized to 224 × 224 as the extractor does), and their features compared: the largest relative
difference of a feature vector, and the Fréchet distance between the two feature sets of the same frames and
its change against a reference set.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/feature_speed.py --frames 512 --batch 64 --repeats 3 --threads 2
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from unmask.data import TokenDataset, get_dataset
from unmask.eval.features import FeatureExtractor
from unmask.eval.features.efficientnet import load_efficientnet_lite0, preprocess_efficientnet
from unmask.eval.frechet import FeatureStats, frechet_distance


def frames_of(split: str, n: int) -> np.ndarray:
    """The first ``n`` frames (uint8 (n, 16, 16)) of bouncing-shapes' ``split`` clips."""
    ds = get_dataset("bouncing-shapes", split, levels=8)
    assert isinstance(ds, TokenDataset)
    clips = np.asarray(ds.tokenizer.decode(ds.tokens[: n // 8 + 1]))
    return clips.reshape(-1, *clips.shape[2:])[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=512)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    plain = load_efficientnet_lite0().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    fused = load_efficientnet_lite0().fuse_batch_norms_().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    frames, others = frames_of("test", args.frames), frames_of("val", args.frames)

    def features(net: torch.nn.Module, images: np.ndarray) -> tuple[np.ndarray, float]:
        out, seconds = [], 0.0
        with torch.inference_mode():
            for i in range(0, len(images), args.batch):
                x = preprocess_efficientnet(FeatureExtractor.to_tensor(images[i : i + args.batch]))
                start = time.perf_counter()
                out.append(net.features(x).double().numpy())  # type: ignore[operator]
                seconds += time.perf_counter() - start
        return np.concatenate(out), seconds

    times: dict[str, list[float]] = {"plain": [], "fused": []}
    for _ in range(args.repeats):  # alternating, so a change of load hits both
        a, t_plain = features(plain, frames)
        b, t_fused = features(fused, frames)
        times["plain"].append(t_plain)
        times["fused"].append(t_fused)
    ref_plain, _ = features(plain, others)
    ref_fused, _ = features(fused, others)
    rel = np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)

    def fd(x: np.ndarray, y: np.ndarray) -> float:
        return frechet_distance(FeatureStats.from_features(x), FeatureStats.from_features(y))

    fd_plain, fd_fused = fd(a, ref_plain), fd(b, ref_fused)
    result = {
        "frames": len(frames),
        "batch": args.batch,
        "threads": args.threads,
        "seconds_plain": times["plain"],
        "seconds_fused": times["fused"],
        "speedup_median": float(np.median(np.array(times["plain"]) / np.array(times["fused"]))),
        "frames_per_s_fused_best": len(frames) / min(times["fused"]),
        "frames_per_s_plain_best": len(frames) / min(times["plain"]),
        "feature_rel_diff_max": float(rel.max()),
        "fd_plain_vs_fused_same_frames": fd(a, b),
        "fd_test_vs_val_plain": fd_plain,
        "fd_test_vs_val_fused": fd_fused,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
