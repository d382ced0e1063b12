#!/usr/bin/env bash
# The default digits run before and after the balanced initialisation, and its sampling settings
# measured by a sweep (issue 18). One job at a time on both threads. Tables:
#   .venv/bin/python experiments/digits/report.py --runs runs
# Re-runs skip finished runs and sweep cells.
set -euo pipefail
cd "$(dirname "$0")/../.."
u=.venv/bin/unmask
export OMP_NUM_THREADS=2
[ -d runs/digits-uvit/checkpoints ] || $u train digits model.init=uvit --out runs/digits-uvit
[ -d runs/digits/checkpoints ] || $u train --out runs/digits
for run in digits-uvit digits; do
  best=""
  [ "$run" = digits ] && best="--best fd"   # the default run records its best settings (sampling.json)
  $u sweep --ckpt runs/$run --grid experiments/digits/sampling_grid.yaml --out runs/sweep-$run-s0 $best
  $u sweep --ckpt runs/$run --grid experiments/digits/sampling_grid_repeat.yaml --out runs/sweep-$run-s1 --seed 1
done
