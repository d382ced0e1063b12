#!/usr/bin/env bash
# Fashion-MNIST to its plateau (issue 18), one job at a time on both threads. Re-running resumes.
#
# 1. The recipe study: the class-conditional pixel ITM (fmnist preset) under recipes that differ
#    from the preset in one thing, each trained 12 minutes at a constant learning rate, held-out
#    loss against training seconds (table + figure: docs/benchmarks.md, "Fashion-MNIST recipes").
# 2. The chosen recipe (RECIPE, overrides) trained until its held-out loss improved < 1% over the
#    last quarter of its steps (train.until_plateau), capped at CAP steps with cosine decay over
#    the cap; interrupted runs continue with --resume.
#
# The run behind docs/results.md ("Fashion-MNIST at its plateau"), started 2026-12-05 at commit
# 7b1aaa5 with the preset's seed (0):
#    RECIPE="train.batch_size=64" CAP=9000 experiments/fmnist/plateau.sh
# then experiments/fmnist/plateau_eval.sh for its curve, sweep, references and inpainting.
set -euo pipefail
cd "$(dirname "$0")/../.."
u=.venv/bin/unmask
export OMP_NUM_THREADS=2
.venv/bin/python benchmarks/learning_speed.py --study fmnist-recipe --out runs/fmnist-recipe --minutes 12 \
  --figure docs/fmnist_recipe.png
RECIPE=${RECIPE:-}
CAP=${CAP:-30000}
common="train.until_plateau=true train.steps=$CAP train.ckpt_every=500 train.eval_batches=8 train.keep_checkpoints=3"
if [ -d runs/fmnist-plateau/checkpoints ]; then
  $u train --out runs/fmnist-plateau --resume
else
  # shellcheck disable=SC2086
  $u train fmnist $RECIPE $common --out runs/fmnist-plateau
fi
