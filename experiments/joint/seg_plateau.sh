#!/usr/bin/env bash
# Segmentation by unmasking at the plateau (issue 19): the same-backbone discriminative baseline
# (`shapes-seg-disc`) and the joint model (`shapes-joint-seg`), with the recipe of shapes_recipe.sh (the U-Net
# baseline's regularisation: ±1 mask-cell shifts, weight decay 0.05, no dropout; the recipe study's `noreg`
# over-fitted at the plateau, docs/results.md), one job at a time on both threads; re-running continues where it
# stopped (interrupted runs resume, finished ones are kept).
#
# Both runs read their held-out loss, and so the plateau rule, on shapes' `val` split (1,000 canvases,
# never trained on); the test split (2,000) is read once, by each final model:
# * one call + arg-max for both (the baseline's own read-out), on all 2,000 test images;
# * the joint model also by Euler sampling (32 steps, CFG 1) on all 2,000, and 8 samples of each of the
#   first 500 test images: the majority vote's mIoU, and whether the pixels the samples disagree on are
#   the ones the vote gets wrong (error in the 10% most uncertain pixels against the rest, AUROC);
# * the learning curves on the val split (experiments/joint/curve.py) of the runs of this NAME that exist,
#   with the U-Net's test mIoU at its plateau (0.8711) as the reference, and the runs of CURVE_ALSO beside them.
#
#   experiments/joint/seg_plateau.sh     # CAP=N (default 8,000), RECIPE="KEY=VALUE ..." on top of shapes_recipe.sh
#   ORDER="joint-seg seg-disc"           # the runs to train and score, in this order (default: both, baseline first)
#   NAME=plateau RECIPE="data.shift=0 optim.weight_decay=0" CAP=8000 experiments/joint/seg_plateau.sh
#       # the unregularised pair of 2026-12-07. The runs go to runs/shapes-{seg-disc,joint-seg}-NAME (default NAME
#       # plateau-reg), their evaluations and curve likewise, the figure to docs/joint_seg_NAME_curve.png
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/lib.sh
U=.venv/bin/unmask
export OMP_NUM_THREADS=2
. experiments/joint/shapes_recipe.sh
E=runs/joint-eval
NAME=${NAME:-plateau-reg}
ORDER=${ORDER:-seg-disc joint-seg}
for m in $ORDER; do
  train_run runs/shapes-$m-$NAME shapes-$m "${SHAPES_REG[@]}"
  plateau_tail runs/shapes-$m-$NAME  # a cosine that ended at CAP unlevelled: the tail
done
for m in $ORDER; do
  $U info runs/shapes-$m-$NAME | grep -E "plateau|ended"
  [ -f $E/shapes-$m-$NAME/metrics.json ] ||
    $U joint --ckpt runs/shapes-$m-$NAME --mode 'image->mask' --n 2000 --steps 1 --cfg 1 \
      --out $E/shapes-$m-$NAME --no-progress
done
J=runs/shapes-joint-seg-$NAME
if [[ " $ORDER " == *" joint-seg "* ]]; then
  [ -f $E/shapes-joint-seg-$NAME-s32/metrics.json ] ||
    $U joint --ckpt $J --mode 'image->mask' --n 2000 --steps 32 --cfg 1 --out $E/shapes-joint-seg-$NAME-s32 --no-progress
  [ -f $E/shapes-joint-seg-$NAME-k8/metrics.json ] ||
    $U joint --ckpt $J --mode 'image->mask' --n 500 --steps 32 --cfg 1 --samples 8 \
      --out $E/shapes-joint-seg-$NAME-k8 --no-progress
fi
runs=()
for m in seg-disc joint-seg; do [ -d runs/shapes-$m-$NAME/checkpoints ] && runs+=(runs/shapes-$m-$NAME); done
also=()
for r in ${CURVE_ALSO:-}; do [ -d "$r/checkpoints" ] && also+=("$r"); done  # those that exist
.venv/bin/python experiments/joint/curve.py "${also[@]}" "${runs[@]}" --target mask --n 1000 --split val \
  --out $E/seg-curve-val-$NAME --png "docs/joint_seg_${NAME//-/_}_curve.png" --ref "U-Net at its plateau (test, 2,000)=0.8711"
