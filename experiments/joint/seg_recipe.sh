#!/usr/bin/env bash
# The segmentation recipe study for the same-backbone transformer (issue 19), before its long run:
# held-out mIoU against wall-clock for a few recipes of `shapes-seg-disc`, each trained for the same
# MIN minutes on THREADS threads (train.max_minutes; constant learning rate after a 100-step warm-up,
# so no arm is helped by a decay the others lack), checkpoints every CKPT steps, each checkpoint scored
# image -> mask on the first N images of the shapes `val` split (never trained on, not the test split,
# which the chosen recipe's final models are scored on once) by one call and arg-max (experiments/joint/curve.py). The
# winner's recipe is then used for both the baseline and the joint model (shapes-joint-seg).
#
#   MIN=10 experiments/joint/seg_recipe.sh                 # all arms, one after the other
#   ARMS="base p2" MIN=10 experiments/joint/seg_recipe.sh  # some of them
#
# Arms (every one on top of the preset, with the classification study's regularisation:
# ±1 mask-cell shifts, weight decay 0.05, dropout 0.1, unless the arm says otherwise):
#   base   the preset's backbone (`joint` size: dim 128, depth 6, 4 heads; image 4×4, mask 2×2 patches: 64 positions)
#   noreg  no shifts, no weight decay, no dropout
#   lr2    learning rate 2e-3 instead of 1e-3
#   wide   dim 192, 6 heads
#   p2     image 2×2, mask 1×1 patches (256 positions: finer read-out, about 4× the cost per step)
# An arm whose run already ended on its time limit is not trained again; one that was stopped earlier is
# resumed for another MIN minutes (max_minutes counts per call), so read the arms at equal minutes on the curve.
set -euo pipefail
cd "$(dirname "$0")/../.."
MIN=${MIN:-10}
THREADS=${THREADS:-2}
CKPT=${CKPT:-200}
N=${N:-1000}
OUT=${OUT:-runs/seg-recipe}
ARMS=${ARMS:-"base noreg lr2 wide p2"}
PY=${PY:-.venv/bin/python}
UNMASK=${UNMASK:-.venv/bin/unmask}
COMMON=(train.threads="$THREADS" train.max_minutes="$MIN" train.steps=100000 train.ckpt_every="$CKPT"
  train.keep_checkpoints=1000 train.until_plateau=false train.eval_batches=8 train.eval_split=val optim.lr_schedule=constant
  optim.warmup_steps=100)
REG=(data.shift=1 optim.weight_decay=0.05 model.dropout=0.1)

arm_overrides() {
  case "$1" in
    base) echo "${REG[@]}" ;;
    noreg) echo "data.shift=0 optim.weight_decay=0 model.dropout=0" ;;
    lr2) echo "${REG[@]} optim.lr=0.002" ;;
    wide) echo "${REG[@]} model.dim=192 model.heads=6" ;;
    p2) echo "${REG[@]} model.patches=image:2,mask:1" ;;
    *) echo "unknown arm $1 (base noreg lr2 wide p2)" >&2; exit 2 ;;
  esac
}

mkdir -p "$OUT"
runs=()
for arm in $ARMS; do
  read -r -a extra <<< "$(arm_overrides "$arm")"
  run="$OUT/$arm"
  if [ -f "$run/metrics.jsonl" ] && grep -q '"reason": "time_limit"' "$run/metrics.jsonl"; then
    echo "[seg_recipe] $arm already ran its $MIN minutes"
  elif [ -f "$run/config.json" ]; then
    "$UNMASK" train --out "$run" --resume train.max_minutes="$MIN" >> "$OUT/$arm.log" 2>&1
  else
    "$UNMASK" train shapes-seg-disc "${COMMON[@]}" "${extra[@]}" --out "$run" > "$OUT/$arm.log" 2>&1
  fi
  echo "[seg_recipe] $arm done $(date)"
  runs+=("$run")
done
"$PY" experiments/joint/curve.py "${runs[@]}" --target mask --n "$N" --split val --out "$OUT/curve" --x2 seconds \
  --png "$OUT/seg_recipe.png" --ref "U-Net at its plateau (test, 2,000)=0.8711"
