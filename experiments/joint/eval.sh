#!/usr/bin/env bash
# Every measurement behind "Joint models" in docs/results.md, one after another, one thread each,
# on the runs of experiments/joint/train.sh (and of shapes-joint3 if trained: see joint3 below).
# Writes $RUNS/joint-eval/<name>/{metrics.json,grid.png,...}; experiments/joint/report.py turns them into the tables.
set -euo pipefail
RUNS=${RUNS:-runs}
U=${U:-.venv/bin/unmask}
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/../.."
E="$RUNS/joint-eval"
J=(--n 500 --steps 32)

# The three-stream model (image, mask, label of shapes-labelled; JOINT3=1 in train.sh): every direction of one
# checkpoint, on the same 500 test images (all 2,000 for classification). Run at the end when
# $RUNS/shapes-joint3 exists, or alone with JOINT3_ONLY=1. label -> image trains the judge of its conditional
# accuracy (a CNN on the labels of the 20,000 train canvases) on first use and caches it; its FD reference is
# the shapes test set, shared with the two-stream runs.
joint3() {
  local C=(--ckpt "$RUNS/shapes-joint3")
  $U joint "${C[@]}" --mode 'image->mask' "${J[@]}" --cfg 1 --out "$E/j3-seg-cfg1"
  $U joint "${C[@]}" --mode 'image->mask' "${J[@]}" --cfg 2 --out "$E/j3-seg-cfg2"
  $U joint "${C[@]}" --mode 'image->label' --n 2000 --cfg 1 --out "$E/j3-cls-cfg1"
  $U joint "${C[@]}" --mode 'image->label' --n 2000 --cfg 2 --out "$E/j3-cls-cfg2"
  $U joint "${C[@]}" --mode 'mask->image' "${J[@]}" --cfg 1 --out "$E/j3-m2i-cfg1"
  $U joint "${C[@]}" --mode 'mask->image' "${J[@]}" --cfg 2 --out "$E/j3-m2i-cfg2"
  $U joint "${C[@]}" --mode 'label->image' "${J[@]}" --cfg 2 --out "$E/j3-l2i-cfg2"
  $U joint "${C[@]}" --mode joint "${J[@]}" --out "$E/j3-joint-samples"
  # both from the image at once: the mask and the label of one sample
  $U joint "${C[@]}" --mode 'image->mask,label' "${J[@]}" --cfg 1 --out "$E/j3-seg-cls-cfg1"
}
if [[ "${JOINT3_ONLY:-0}" == 1 ]]; then
  joint3
  exit 0
fi

# Shapes, 500 test images. Segmentation (image -> mask) by the joint model: Euler sampling at T = 1 and
# greedy (top-k 1), with and without CFG, and its one-call arg-max; the discriminative baseline's arg-max.
$U joint --ckpt "$RUNS/shapes-joint" --mode 'image->mask' "${J[@]}" --cfg 1 --out "$E/seg-joint-s32-cfg1"
$U joint --ckpt "$RUNS/shapes-joint" --mode 'image->mask' "${J[@]}" --cfg 2 --out "$E/seg-joint-s32-cfg2"
$U joint --ckpt "$RUNS/shapes-joint" --mode 'image->mask' "${J[@]}" --cfg 1 --top-k 1 --out "$E/seg-joint-s32-cfg1-greedy"
$U joint --ckpt "$RUNS/shapes-joint" --mode 'image->mask' --n 500 --steps 1 --out "$E/seg-joint-s1"
$U joint --ckpt "$RUNS/shapes-seg-disc" --mode 'image->mask' --n 500 --steps 1 --out "$E/seg-disc"
# Uncertainty: 16 samples of each of 8 test images.
$U joint --ckpt "$RUNS/shapes-joint" --mode 'image->mask' --n 8 --steps 32 --samples 16 --out "$E/seg-joint-uncertainty"
# Generation: mask -> image (FD against the 2,000 real test images), and joint samples.
$U joint --ckpt "$RUNS/shapes-joint" --mode 'mask->image' "${J[@]}" --cfg 1 --out "$E/m2i-cfg1"
$U joint --ckpt "$RUNS/shapes-joint" --mode 'mask->image' "${J[@]}" --cfg 2 --out "$E/m2i-cfg2"
$U joint --ckpt "$RUNS/shapes-joint" --mode joint "${J[@]}" --out "$E/shapes-joint-samples"

# Fashion-MNIST, all 10,000 test images: classification by unmasking vs the discriminative classifier,
# and label -> image samples (a grid only: the FD and classifier at 16 grey levels are not cached on this
# machine, and computing them, ~15 min, did not fit the budget).
$U joint --ckpt "$RUNS/fmnist-joint" --mode 'image->label' --n 10000 --cfg 1 --out "$E/cls-joint-cfg1"
$U joint --ckpt "$RUNS/fmnist-joint" --mode 'image->label' --n 10000 --cfg 2 --out "$E/cls-joint-cfg2"
$U joint --ckpt "$RUNS/fmnist-cls-disc" --mode 'image->label' --n 10000 --out "$E/cls-disc"
$U joint --ckpt "$RUNS/fmnist-joint" --mode 'label->image' --n 80 --steps 32 --cfg 2 --no-fd --out "$E/l2i-cfg2"

$U joint --ckpt "$RUNS/shapes-joint" --mode 'image->mask' "${J[@]}" --cfg 2 --top-k 1 --out "$E/seg-joint-s32-cfg2-greedy"

# Reference point for the shapes FD: 500 real train images against the same test reference.
.venv/bin/python experiments/joint/real_fd.py --n 500 --out "$E/shapes-real-train-fd.json"

if [[ -d "$RUNS/shapes-joint3" ]]; then
  joint3
fi
