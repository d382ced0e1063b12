#!/usr/bin/env bash
# Classification by unmasking on the 8x8 digits over training seeds (issue 5's classification goal):
# digits-joint (one joint ITM of image and label) against digits-cls-disc (the same backbone, data, batch and
# steps trained only image -> label), each trained with SEEDS (default "0 1 2"), both scored on the whole
# digits test split (359 images) by one arg-max call. About 10 min per run on one shared core. Each preset
# keeps the init that trains it best; BOTH_INITS=1 also trains each with the other one (digits-joint-e1-s*,
# digits-cls-disc-u-s*), the measurement behind that choice.
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
  $U joint --ckpt "$RUNS/digits-joint-s$s" --mode 'image->label' --n 359 --cfg 1 --out "$E/digits-cls-joint-s$s"
  $U joint --ckpt "$RUNS/digits-cls-disc-s$s" --mode 'image->label' --n 359 --out "$E/digits-cls-disc-s$s"
  if [[ "${BOTH_INITS:-0}" == 1 ]]; then
    $U train digits-joint "train.seed=$s" model.embed_std=1 model.pos_scale=0.1 --out "$RUNS/digits-joint-e1-s$s"
    $U train digits-cls-disc "train.seed=$s" model.embed_std=0.02 model.pos_scale=1 --out "$RUNS/digits-cls-disc-u-s$s"
    $U joint --ckpt "$RUNS/digits-joint-e1-s$s" --mode 'image->label' --n 359 --cfg 1 --out "$E/digits-cls-joint-e1-s$s"
    $U joint --ckpt "$RUNS/digits-cls-disc-u-s$s" --mode 'image->label' --n 359 --out "$E/digits-cls-disc-u-s$s"
  fi
done
