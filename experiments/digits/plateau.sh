#!/usr/bin/env bash
# The digits model behind the README's headline and zoo/digits (issue 18): the default preset
# (seed 0) trained until its held-out loss improved < 1% over the last quarter of its steps
# (train.until_plateau, cap 12,000 steps, a checkpoint and held-out loss every 500), then its
# sampling sweep under two sampling seeds; the best FD cell becomes the run's sampling.json.
# One job at a time on both threads; re-running resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
u=.venv/bin/unmask
export OMP_NUM_THREADS=2
run=runs/digits-plateau
if [ -d $run/checkpoints ]; then
  $u train --out $run --resume
else
  $u train digits train.until_plateau=true train.steps=12000 train.ckpt_every=500 train.eval_batches=8 \
    train.keep_checkpoints=3 --out $run
fi
[ -f runs/sweep-digits-plateau-s0/sweep.csv ] ||
  $u sweep --ckpt $run --grid experiments/digits/plateau_grid.yaml --out runs/sweep-digits-plateau-s0 --best fd
[ -f runs/sweep-digits-plateau-s1/sweep.csv ] ||
  $u sweep --ckpt $run --grid experiments/digits/plateau_grid_repeat.yaml --out runs/sweep-digits-plateau-s1 --seed 1
