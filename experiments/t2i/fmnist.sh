#!/usr/bin/env bash
# Text-to-image vs class-conditional on Fashion-MNIST (issue 8): fmnist-t2i (class-name captions through
# the from-scratch text encoder) against fmnist (the class-conditional ITM of the same size, 16 levels),
# 2,400 steps × batch 128 each. Both sampled 1,000 times (100 per class: the t2i model gets each of the 40
# captions, 4 templates × 10 classes, 25 times) with the same sampler, seed and CFG; the cached
# Fashion-MNIST classifier judges whether each sample shows the class its caption / label names
# (`unmask adherence --ref fashion-mnist` for captions, `unmask eval` for labels: the same number), and FD
# is against 5,000 test images (the reference the sampling sweeps use, cached).
#
#   experiments/t2i/fmnist.sh        # runs/fmnist-t2i, runs/fmnist-itm, runs/t2i/fmnist-*.json
#
# Environment: UNMASK, RUNS (default runs), THREADS (default 1), CFGS (default "1 2"), N (default 1000).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
unmask="${UNMASK:-.venv/bin/unmask}"
runs="${RUNS:-runs}"
n="${N:-1000}"
export OMP_NUM_THREADS="${THREADS:-1}"
mkdir -p "$runs/t2i"

for pair in "fmnist-itm fmnist" "fmnist-t2i fmnist-t2i"; do
  set -- $pair
  if [ -f "$runs/$1/config.json" ]; then
    "$unmask" train --resume --out "$runs/$1" "train.threads=$OMP_NUM_THREADS"
  else
    "$unmask" train "$2" "train.threads=$OMP_NUM_THREADS" --out "$runs/$1"
  fi
done

# the 40 distinct captions (4 templates × 10 class names)
.venv/bin/python -c "
from unmask.data import get_dataset
print('\n'.join(get_dataset('fashion-mnist-captions', 'test').captions))" > "$runs/t2i/fmnist_captions.txt"

for cfg in ${CFGS:-1 2}; do
  "$unmask" sample --ckpt "$runs/fmnist-t2i" --out "$runs/fmnist-t2i/eval/cfg$cfg.npz" \
    --captions-file "$runs/t2i/fmnist_captions.txt" --n "$n" --steps 32 --cfg "$cfg" --seed 0
  "$unmask" adherence "$runs/fmnist-t2i/eval/cfg$cfg.npz" --ref fashion-mnist --levels 16 --ref-n 5000 \
    --out "$runs/t2i/fmnist-t2i-cfg$cfg.json"
  "$unmask" sample --ckpt "$runs/fmnist-itm" --out "$runs/fmnist-itm/eval/cfg$cfg.npz" \
    --labels 0,1,2,3,4,5,6,7,8,9 --n "$n" --steps 32 --cfg "$cfg" --seed 0
  "$unmask" eval "$runs/fmnist-itm/eval/cfg$cfg.npz" --ref fashion-mnist --levels 16 --ref-n 5000 \
    --out "$runs/t2i/fmnist-itm-cfg$cfg.json"
done
