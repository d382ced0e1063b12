#!/usr/bin/env bash
# Classification by unmasking on the 8x8 digits over training seeds (issue 5's classification goal):
# digits-joint (one joint ITM of image and label) against digits-cls-disc (the same backbone, data, batch and
# steps trained only image -> label), each trained with SEEDS (default "0 1 2"), both scored on the whole
# digits test split by one arg-max call. About 10 min per run on one shared core.
#   experiments/joint/digits.sh && .venv/bin/python experiments/joint/report.py --runs runs
set -euo pipefail
RUNS=${RUNS:-runs}
U=${U:-.venv/bin/unmask}
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/../.."
E="$RUNS/joint-eval"
for s in ${SEEDS:-0 1 2}; do
  $U train digits-joint "train.seed=$s" --out "$RUNS/digits-joint-s$s"
  $U train digits-cls-disc "train.seed=$s" --out "$RUNS/digits-cls-disc-s$s"
  $U joint --ckpt "$RUNS/digits-joint-s$s" --mode 'image->label' --n 10000 --cfg 1 --out "$E/digits-cls-joint-s$s"
  $U joint --ckpt "$RUNS/digits-cls-disc-s$s" --mode 'image->label' --n 10000 --out "$E/digits-cls-disc-s$s"
done
