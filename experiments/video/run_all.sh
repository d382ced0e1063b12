#!/usr/bin/env bash
# The video experiment of issue 8 (paper §4.4, Table 5, at CPU scale): a Latte-style ITM and ETM on
# bouncing-shapes (8 frames of 16x16, 8 grey levels), frame-level FD and temporal consistency of
# whole clips and of clips continued from their first 4 frames, and GIFs of both.
#
#   experiments/video/run_all.sh            # runs/video-itm, runs/video-etm, their samples and evaluations
#
# Numbers: docs/results.md, "Video". Every step is resumable (train --resume) or cheap to redo.
# Environment: UNMASK (the command, default .venv/bin/unmask), RUNS (default runs), N (samples per
# evaluation, default 500), THREADS (torch threads, default 2), STEPS (training steps, default the
# presets'; a run already there is resumed to STEPS: the cosine schedule is recomputed for the new
# length, so the learning rate rises again to its value at the step reached, a warm restart).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
unmask="${UNMASK:-.venv/bin/unmask}"
runs="${RUNS:-runs}"
n="${N:-500}"
export OMP_NUM_THREADS="${THREADS:-2}"

for kind in itm etm; do
  preset=video
  [ "$kind" = etm ] && preset=video-etm
  run="$runs/video-$kind"
  if [ -f "$run/config.json" ]; then
    "$unmask" train --resume --out "$run" "train.threads=$OMP_NUM_THREADS" ${STEPS:+"train.steps=$STEPS"}
  else
    "$unmask" train "$preset" "train.threads=$OMP_NUM_THREADS" ${STEPS:+"train.steps=$STEPS"} --out "$run"
  fi
  # whole clips: n clips balanced over the 5 classes, 64 Euler steps, CFG 2
  "$unmask" sample --ckpt "$run" --out "$run/eval/clips.npz" --n "$n" --steps 64 --cfg 2 --seed 0
  "$unmask" eval "$run/eval/clips.npz" --ref bouncing-shapes --levels 8 --out "$run/eval/clips.json"
  # continuation: the first n test clips from their first 4 frames (kept exactly), their own labels
  "$unmask" sample --ckpt "$run" --out "$run/eval/continued.npz" --n "$n" --steps 64 --cfg 2 --seed 0 \
    --prefix-frames 4 --prefix-from test
  "$unmask" eval "$run/eval/continued.npz" --ref bouncing-shapes --levels 8 --out "$run/eval/continued.json"
  # 20 clips of each for the docs (GIF + PNG frame strips beside each .npz)
  "$unmask" sample --ckpt "$run" --out "$run/eval/show.npz" --n 20 --steps 64 --cfg 2 --seed 1
  "$unmask" sample --ckpt "$run" --out "$run/eval/show-continued.npz" --n 20 --steps 64 --cfg 2 --seed 1 \
    --prefix-frames 4
done

# The data's own floor: frame FD and temporal consistency of 500 real train clips against the test split.
.venv/bin/python - "$runs" "$n" <<'PY'
import json, sys
import numpy as np
from unmask.data import get_dataset
from unmask.eval.video import evaluate_videos
runs, n = sys.argv[1], int(sys.argv[2])
train = get_dataset("bouncing-shapes", "train", levels=8)
real = np.asarray(train.tokenizer.decode(train.tokens[:n]))
report = evaluate_videos(real, "bouncing-shapes", levels=8)
with open(f"{runs}/video-real-floor.json", "w") as fh:
    json.dump(report, fh, indent=2)
print(json.dumps(report))
PY
