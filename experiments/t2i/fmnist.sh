#!/usr/bin/env bash
# Text-to-image vs class-conditional on Fashion-MNIST (issue 8): the fmnist-t2i preset (class-name captions,
# "a photo of a sneaker", through the from-scratch text encoder) against the fmnist preset (the
# class-conditional ITM), both with the same trunk, data, batch, steps and sampler, so only the condition
# differs: captions (40 distinct: 4 templates × 10 class names) or the class id (10).
#
# At the presets' own size (fmnist: 3.5 M parameters, 2,400 steps × 128) a step takes ~3 s on one core of
# this CPU, two hours per run; the default here is the `joint` size (the trunk of scenes-t2i: 4 × 4 patches,
# width 128, depth 6), 1,500 steps × 64. Each model draws 1,000 samples (100 per class: the t2i model gets
# each of the 40 captions 25 times), 32 Euler steps, seed 0, at CFG 1 and 2; the cached Fashion-MNIST
# classifier judges whether each sample shows the class its caption or label names (`unmask adherence
# --ref fashion-mnist` for captions, `unmask eval` for labels: the same number), and FD is against 5,000
# test images (the reference the sampling sweeps use).
#
#   experiments/t2i/fmnist.sh        # runs/t2i-fmnist/{t2i,cls}, runs/t2i-fmnist/*.json
#
# Environment: UNMASK, PY, RUNS (default runs), THREADS (default 1), SIZE (default joint), BATCH (default 64),
# STEPS (default 1500), CFGS (default "1 2"), N (default 1000).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
unmask="${UNMASK:-.venv/bin/unmask}"
py="${PY:-.venv/bin/python}"
out="${RUNS:-runs}/t2i-fmnist"
n="${N:-1000}"
export OMP_NUM_THREADS="${THREADS:-1}"
mkdir -p "$out"
opts=("model.size=${SIZE:-joint}" "train.batch_size=${BATCH:-64}" "train.steps=${STEPS:-1500}" "train.threads=$OMP_NUM_THREADS")

for pair in "t2i fmnist-t2i" "cls fmnist"; do
  set -- $pair
  if [ -f "$out/$1/config.json" ]; then
    "$unmask" train --resume --out "$out/$1" "${opts[@]}"
  else
    "$unmask" train "$2" "${opts[@]}" --out "$out/$1"
  fi
done

# the 40 distinct captions (4 templates × 10 class names)
"$py" -c "
from unmask.data import get_dataset
print('\n'.join(get_dataset('fashion-mnist-captions', 'test').captions))" > "$out/captions.txt"

for cfg in ${CFGS:-1 2}; do
  "$unmask" sample --ckpt "$out/t2i" --out "$out/t2i/eval/cfg$cfg.npz" \
    --captions-file "$out/captions.txt" --n "$n" --steps 32 --cfg "$cfg" --seed 0
  "$unmask" adherence "$out/t2i/eval/cfg$cfg.npz" --ref fashion-mnist --levels 16 --ref-n 5000 \
    --out "$out/t2i-cfg$cfg.json"
  "$unmask" sample --ckpt "$out/cls" --out "$out/cls/eval/cfg$cfg.npz" \
    --labels 0,1,2,3,4,5,6,7,8,9 --n "$n" --steps 32 --cfg "$cfg" --seed 0
  "$unmask" eval "$out/cls/eval/cfg$cfg.npz" --ref fashion-mnist --levels 16 --ref-n 5000 \
    --out "$out/cls-cfg$cfg.json"
done
