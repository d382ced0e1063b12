#!/usr/bin/env bash
# Issue 22, item 3: MDM (fmnist256) against MDM-Prime (fmnist256-prime, ℓ = 2; with ELL4=1 also ℓ = 4) on
# 256-level Fashion-MNIST pixels, each trained to its plateau with the same recipe (cosine over CAP steps, the
# plateau rule from CAP / 2; a cosine that ends unlevelled goes on at its final rate, at most CAP more steps),
# one job at a time on both threads; then FD / precision / recall of 1,000 samples
# at NFE 8 … 64 under two sampling seeds, the references (real images, the naive per-pixel sampler) and the
# table. Every step is skipped when its output exists and an interrupted run is resumed, so re-running
# continues across sessions.
#
#    experiments/prime/fmnist256_plateau.sh     # CAP=20000 ELL4=0 OUT=runs/prime-images EXTRA= GRID= PRIME_GRID= BASE_N=1000
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/lib.sh
plateau_setup runs/prime-images  # U, py, both threads, OUT, CAP, EXTRA
ELL4=${ELL4:-0}
GRID=${GRID:-experiments/prime/fmnist256_plateau_grid.yaml}  # the MDM sweep (a smoke test gives a small one)
PRIME_GRID=${PRIME_GRID:-experiments/prime/fmnist256_prime_plateau_grid.yaml}
BASE_N=${BASE_N:-1000}  # samples of the references (real images, the naive sampler)
common="train.steps=$CAP train.until_plateau=true train.plateau_min_steps=$(( CAP / 2 )) train.plateau_smooth=3 train.threads=2
  train.ckpt_every=$(( CAP >= 40 ? CAP / 40 : 1 )) train.keep_checkpoints=50 train.eval_batches=16
  train.log_every=100"
models="fmnist256 fmnist256-prime"
[ "$ELL4" = 1 ] && models="$models fmnist256-prime4"
for m in $models; do
  preset=$m
  extra=""
  [ "$m" = fmnist256-prime4 ] && preset=fmnist256-prime && extra="model.subtokens=4"
  # shellcheck disable=SC2086
  train_run "$OUT/$m" $preset $common $extra $EXTRA
  plateau_tail "$OUT/$m"  # a cosine that ended at CAP unlevelled: the tail
  run_finished "$OUT/$m" || { echo "[prime-images] $m has not finished; run this again" >&2; exit 1; }
  grid=$PRIME_GRID
  [ "$m" = fmnist256 ] && grid=$GRID
  for seed in 0 1; do
    s="$OUT/sweep-$m"
    [ "$seed" = 1 ] && s="$s-s1"
    [ -f "$s/sweep.csv" ] || $U sweep --ckpt "$OUT/$m" --grid "$grid" --seed "$seed" --out "$s" > /dev/null
  done
done
[ -f "$OUT/fmnist256-baselines.json" ] || $py experiments/fmnist/baselines.py --n "$BASE_N" --ref-n 5000 --levels 256 \
  --out "$OUT/fmnist256-baselines.json"
$py experiments/prime/report.py --runs "$OUT" --images
