#!/usr/bin/env bash
# Every run and measurement behind the Fashion-MNIST part of docs/results.md, in order.
# Total: about 4 hours of one core (sweeps ~1.5 h, the four ablation runs ~1 h). Runs go to $RUNS (default: runs/).
set -euo pipefail
RUNS=${RUNS:-runs}
U=.venv/bin/unmask
cd "$(dirname "$0")/../.."

# 1. The two main models: same preset, ITM and ETM (2,400 steps each, ~1 hour each).
$U train fmnist --out "$RUNS/fmnist-itm"
$U train fmnist-etm --out "$RUNS/fmnist-etm"

# 2. Sweeps (sampler x NFE, temperature, CFG), 250 samples per cell. The first evaluation trains
#    the 16-level Fashion-MNIST classifier once (cached in ~/.cache/unmask/classifiers).
$U sweep --ckpt "$RUNS/fmnist-itm" --grid experiments/fmnist/itm_grid.yaml --out "$RUNS/sweep-itm"
$U sweep --ckpt "$RUNS/fmnist-etm" --grid experiments/fmnist/etm_grid.yaml --out "$RUNS/sweep-etm"

# 3. Training-schedule and loss ablation (ETM, 200 steps each, equal budget): the paper's
#    Table S8 questions, linear vs cosine vs cubic, and masked vs unmasked cross-entropy.
short=(train.steps=200 train.ckpt_every=200 optim.warmup_steps=50)
$U train fmnist-etm "${short[@]}" --out "$RUNS/abl-linear"
$U train fmnist-etm "${short[@]}" path.schedule=cosine --out "$RUNS/abl-cosine"
$U train fmnist-etm "${short[@]}" path.schedule=cubic --out "$RUNS/abl-cubic"
$U train fmnist-etm "${short[@]}" loss.masked=false --out "$RUNS/abl-unmasked"
for r in linear cosine cubic unmasked; do
  $U sweep --ckpt "$RUNS/abl-$r" --grid experiments/fmnist/ablation_grid.yaml --out "$RUNS/sweep-abl-$r"
done

# 4. Reference points measured the same way (250 samples, same reference half).
.venv/bin/python experiments/fmnist/baselines.py --n 250 --out "$RUNS/fmnist-baselines.json"
