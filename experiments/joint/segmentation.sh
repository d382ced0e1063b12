#!/usr/bin/env bash
# Segmentation by unmasking against its discriminative baseline over training budgets (issue 5's segmentation goal;
# docs/results.md, "Segmentation against training budget"). One thread per job; each 1,200-step shapes run takes
# ~20-40 min on a shared core.
#
# * shapes-seg-disc (the baseline), shapes-joint-seg (the joint recipe for segmentation) and shapes-joint-seg with
#   the mask's loss x 4, trained for the presets' 1,200 steps, then resumed to 2,400 (a warm restart of the cosine
#   schedule, the same for all);
# * the baseline with the joint recipe's init (sigma 1, positions x 0.1), 1,200 steps: which init suits it;
# * the baseline and the mask-loss-x4 run resumed once more, to 4,800 steps;
# * the tilt: the mask-loss-x4 recipe with the clean stream chosen with odds image:3 and image:8
#   (path.clean_stream_weights; the image whole in 67.5 % and 80 % of draws, 45 % untilted), 1,200 then 2,400 steps;
# * ABLATE=1 also trains the steps between shapes-joint and shapes-joint-seg (1,200 steps each);
# * every checkpoint scored by one call + arg-max (curve.py: table and docs/joint_seg_curve.png), and the final
#   joint checkpoints by Euler sampling with CFG.
#   experiments/joint/segmentation.sh
set -euo pipefail
RUNS=${RUNS:-runs}
U=${U:-.venv/bin/unmask}
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/../.."
E="$RUNS/joint-eval"
K=(train.keep_checkpoints=20 train.threads=1)

# train OUT STEPS PRESET [overrides...]: a new run, or the run in OUT resumed to STEPS
train() {
  local out=$1 steps=$2
  shift 2
  if [[ -f "$out/config.json" ]]; then
    $U train --resume --out "$out" "train.steps=$steps" "${K[@]}"
  else
    $U train "$@" "train.steps=$steps" "${K[@]}" --out "$out"
  fi
}

for steps in 1200 2400; do
  train "$RUNS/shapes-seg-disc-long" $steps shapes-seg-disc
  train "$RUNS/shapes-joint-seg" $steps shapes-joint-seg
  train "$RUNS/shapes-joint-seg-w4" $steps shapes-joint-seg 'loss.stream_weights="mask:4"'
done
train "$RUNS/shapes-seg-disc-e1" 1200 shapes-seg-disc model.embed_std=1 model.pos_scale=0.1
train "$RUNS/shapes-seg-disc-long" 4800 shapes-seg-disc
train "$RUNS/shapes-joint-seg-w4" 4800 shapes-joint-seg 'loss.stream_weights="mask:4"'
for w in 3 8; do
  for steps in 1200 2400; do
    train "$RUNS/shapes-joint-seg-w4-i$w" $steps shapes-joint-seg 'loss.stream_weights="mask:4"' \
      "path.clean_stream_weights=\"image:$w\""
  done
done
curve=("$RUNS/shapes-seg-disc-long" "$RUNS/shapes-seg-disc-e1" "$RUNS/shapes-joint")
if [[ "${ABLATE:-0}" == 1 ]]; then
  # shapes-joint, then: the mask's time drawn as u^3; nine draws in ten with a clean stream (the sigma-1 init on
  # top of these two is shapes-joint-seg)
  train "$RUNS/shapes-joint-m3" 1200 shapes-joint 'path.time_powers="mask:3"'
  train "$RUNS/shapes-joint-c9m3" 1200 shapes-joint-seg model.embed_std=0.02 model.pos_scale=1
  curve+=("$RUNS/shapes-joint-m3" "$RUNS/shapes-joint-c9m3")
fi
curve+=("$RUNS/shapes-joint-seg-w4" "$RUNS/shapes-joint-seg" "$RUNS/shapes-joint-seg-w4-i3" "$RUNS/shapes-joint-seg-w4-i8")
$PY experiments/joint/curve.py "${curve[@]}" --out "$E/curve" --png docs/joint_seg_curve.png
for c in 1 2 3; do
  $U joint --ckpt "$RUNS/shapes-joint-seg" --mode 'image->mask' --n 500 --steps 32 --cfg $c --out "$E/seg-jointseg-2400-cfg$c"
done
for s in 1200 2400; do
  $U joint --ckpt "$RUNS/shapes-joint-seg-w4/checkpoints/step_0000$s" --mode 'image->mask' --n 500 --steps 32 --cfg 3 \
    --out "$E/seg-jointseg-w4-$s-cfg3"
done
# what the tilt costs the other direction: mask -> image FD (shapes-joint: 112.8 at CFG 2)
$U joint --ckpt "$RUNS/shapes-joint-seg" --mode 'mask->image' --n 500 --steps 32 --cfg 2 --out "$E/m2i-jointseg-2400-cfg2"
for w in 3 8; do
  $U joint --ckpt "$RUNS/shapes-joint-seg-w4-i$w" --mode 'mask->image' --n 500 --steps 32 --cfg 2 \
    --out "$E/m2i-jointseg-w4-i$w-2400-cfg2"
done
