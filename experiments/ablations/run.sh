#!/usr/bin/env bash
# The paper's §4.2.2 conclusions (ETM vs ITM, Euler vs MaskGIT saturation, last-step argmax,
# temperature, CFG) re-measured on plateaued models (issue 18), one job at a time on both threads;
# every step is skipped when its output exists, so re-running continues.
#
# Digits: the ITM is the plateau run of experiments/digits/plateau.sh (runs/digits-plateau); the ETM
# (digits-etm: the same preset with a timestep input, seed 0) is trained here the same way, until its
# held-out loss improved < 1% over the last quarter of its steps. The ITM is swept over grid.yaml
# (22 cells, 1,000 samples each, seed 0) and repeat_grid.yaml (9 cells, seed 1); the ETM over the
# NFE cells of those grids (etm_grid.yaml, etm_repeat_grid.yaml), where ETM vs ITM is read.
# Tables: .venv/bin/python experiments/fmnist/report.py --sweep ITM=runs/ablate-digits-itm-s0 ...
# (the command that produced docs/results.md's tables is written there).
set -euo pipefail
cd "$(dirname "$0")/../.."
u=.venv/bin/unmask
export OMP_NUM_THREADS=2
etm=runs/digits-etm-plateau
[ -d runs/digits-plateau/checkpoints ] || experiments/digits/plateau.sh
if [ -d $etm/checkpoints ]; then
  tail -1 $etm/metrics.jsonl | grep -Eq '"reason": "(plateau|steps)"' || $u train --out $etm --resume
else
  $u train digits-etm train.until_plateau=true train.steps=12000 train.ckpt_every=500 train.eval_batches=8 \
    train.keep_checkpoints=3 --out $etm
fi
g=experiments/ablations
for m in itm etm; do
  run=$([ $m = itm ] && echo runs/digits-plateau || echo $etm)
  prefix=$([ $m = itm ] && echo "" || echo etm_)
  [ -f runs/ablate-digits-$m-s0/done ] ||
    { $u sweep --ckpt $run --grid $g/${prefix}grid.yaml --out runs/ablate-digits-$m-s0 && touch runs/ablate-digits-$m-s0/done; }
  [ -f runs/ablate-digits-$m-s1/done ] ||
    { $u sweep --ckpt $run --grid $g/${prefix}repeat_grid.yaml --out runs/ablate-digits-$m-s1 --seed 1 &&
      touch runs/ablate-digits-$m-s1/done; }
done
