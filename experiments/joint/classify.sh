#!/usr/bin/env bash
# Classification by unmasking against honest baselines (issue 19), one job at a time on both threads.
#
# Every model gets the regularisation a practitioner would give a small classifier on a small
# image set: ±1-pixel random shifts (data.shift=1), AdamW weight decay 0.05 and dropout 0.1;
# the joint model (image + label, one ITM) gets the same, so the comparison is recipe for recipe.
# Each run follows a full cosine schedule to its step cap (train.plateau_min_steps = the cap:
# the plateau criterion is read at the end, not used to cut the decay short) and keeps every
# checkpoint for the learning curves.
#
#   experiments/joint/classify.sh                       # digits (about 45 min), then Fashion-MNIST
#   DATASETS=digits experiments/joint/classify.sh       # digits only
#
# Then the scikit-learn references (logistic regression, RBF SVC; C by cross-validation):
#   OMP_NUM_THREADS=2 .venv/bin/python experiments/joint/baselines.py --out runs/joint-eval/baselines-digits \
#       --datasets digits --no-seg
#   OMP_NUM_THREADS=2 .venv/bin/python experiments/joint/baselines.py --out runs/joint-eval/baselines-fmnist \
#       --datasets fashion-mnist --train-n 20000 --folds 3 --no-seg
# and the curves:
#   .venv/bin/python experiments/joint/curve.py runs/digits-cls-disc-reg2 runs/digits-joint-reg --target label \
#       --n 359 --out runs/joint-eval/cls-curve-digits --png docs/joint_digits_cls_curve.png
set -euo pipefail
RUNS=${RUNS:-runs}
U=${U:-.venv/bin/unmask}
cd "$(dirname "$0")/../.."
E="$RUNS/joint-eval"
REG=(data.shift=1 optim.weight_decay=0.05 model.dropout=0.1 train.threads=2 train.until_plateau=true train.keep_checkpoints=100)

for ds in ${DATASETS:-digits fmnist}; do
  if [[ "$ds" == digits ]]; then
    # the baseline: 4,000 steps, then on to 8,000 (a resumed run; raising train.steps restarts the
    # cosine from the resumed step), the joint model 6,000 steps; 6 eval batches = the whole test split
    $U train digits-cls-disc "${REG[@]}" train.steps=4000 train.plateau_min_steps=4000 train.ckpt_every=250 \
      train.eval_batches=6 --out "$RUNS/digits-cls-disc-reg2"
    $U train --out "$RUNS/digits-cls-disc-reg2" --resume train.steps=8000 train.plateau_min_steps=8000
    $U train digits-joint "${REG[@]}" train.steps=6000 train.plateau_min_steps=6000 train.ckpt_every=250 \
      train.eval_batches=6 --out "$RUNS/digits-joint-reg"
    n=359 disc="$RUNS/digits-cls-disc-reg2" joint="$RUNS/digits-joint-reg"
  else
    $U train fmnist-cls-disc "${REG[@]}" train.steps=9000 train.plateau_min_steps=9000 train.ckpt_every=500 \
      train.eval_batches=16 --out "$RUNS/fmnist-cls-disc-reg"
    $U train fmnist-joint "${REG[@]}" train.steps=9000 train.plateau_min_steps=9000 train.ckpt_every=500 \
      train.eval_batches=16 --out "$RUNS/fmnist-joint-reg"
    n=10000 disc="$RUNS/fmnist-cls-disc-reg" joint="$RUNS/fmnist-joint-reg"
  fi
  # the joint model's label by one call and arg-max (the baseline's own read-out), and by Euler steps
  $U joint --ckpt "$disc" --mode 'image->label' --n $n --steps 1 --out "$E/$ds-cls-disc" --no-progress
  $U joint --ckpt "$joint" --mode 'image->label' --n $n --steps 1 --cfg 1 --out "$E/$ds-cls-joint" --no-progress
done
