#!/usr/bin/env bash
# One three-stream model (image, mask, label of shapes-labelled) at its plateau, and every direction measured
# from it (issue 19): one job at a time on both threads; re-running continues where it stopped.
#
# Trained as the segmentation runs of seg_plateau.sh are (shapes_recipe.sh: the U-Net baseline's shifts and weight
# decay, a cosine over 8,000 steps, held-out loss and plateau rule on shapes' val split). The test split is
# read once, by the final model, in every direction (no setting is chosen on it: both CFG weights are reported):
# * image -> mask: mIoU by one call + arg-max and by Euler sampling (32 steps) on all 2,000 test images;
#   8 samples of each of the first 500 for the majority vote and the uncertainty analysis;
# * image -> label: accuracy by one call + arg-max on all 2,000;
# * mask -> image, CFG 1 and 2, on the first 1,000: FD against the test images, and the cycle mIoU (the U-Net
#   judge's mask of each generated image against the mask given; the judge on the real images beside it);
# * label -> image, CFG 1 and 2, on the first 1,000: FD, and the classifier judge's accuracy on the label given;
# * joint, 1,000 samples: FD, the mask/image agreement (the judge's mask against the mask sampled with the
#   image) and the label/image agreement;
# * the FD floor: 1,000 real train images against the test images (real_fd.py).
# The first mask -> image call trains the U-Net judge (the baseline's recipe at its plateau, ~30 min, cached).
#
#   experiments/joint/joint3_plateau.sh      # CAP=N, RECIPE="KEY=VALUE ..." to change the recipe of shapes_recipe.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/lib.sh
U=.venv/bin/unmask
export OMP_NUM_THREADS=2
. experiments/joint/shapes_recipe.sh
R=runs/shapes-joint3-plateau
E=runs/joint-eval/j3-plateau
train_run $R shapes-joint3 "${SHAPES_REG[@]}"
plateau_tail $R  # a cosine that ended at CAP unlevelled: the tail at its final rate
$U info $R | grep -E "plateau|ended"
# measure NAME ARGS...: one `unmask joint` call into $E/NAME, skipped when it already wrote its metrics
measure() {
  local name=$1
  shift
  [ -f "$E/$name/metrics.json" ] || $U joint --ckpt $R "$@" --out "$E/$name" --no-progress
}
measure seg-s1 --mode 'image->mask' --n 2000 --steps 1 --cfg 1
measure seg-s32 --mode 'image->mask' --n 2000 --steps 32 --cfg 1
measure seg-k8 --mode 'image->mask' --n 500 --steps 32 --cfg 1 --samples 8
measure cls-s1 --mode 'image->label' --n 2000 --steps 1 --cfg 1
for w in 1 2; do
  measure m2i-cfg$w --mode 'mask->image' --n 1000 --steps 32 --cfg $w
  measure l2i-cfg$w --mode 'label->image' --n 1000 --steps 32 --cfg $w
done
measure joint --mode joint --n 1000 --steps 32
[ -f "$E/real-fd.json" ] || .venv/bin/python experiments/joint/real_fd.py --n 1000 --out "$E/real-fd.json"
