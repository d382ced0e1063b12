#!/usr/bin/env bash
# Every run and measurement behind the MDM-Prime part of docs/results.md, in order.
# Runs go to $RUNS (default: runs/). Each training run uses one thread; two can share a
# 2-core machine side by side.
set -euo pipefail
RUNS=${RUNS:-runs}
U=.venv/bin/unmask
cd "$(dirname "$0")/../.."

# 1. Text: MDM, MDM-Prime ℓ = 2 and ℓ = 4, and the autoregressive reference, on KJV bytes
#    (same backbone width and depth, data and batch 32 × 128 bytes). The masked presets use 4 bytes
#    per position (patch 4: 9.11 GFLOP per step) and 4,199 steps; the causal model needs one byte per
#    position (38.25 GFLOP per step) and runs 1,000 steps: equal training FLOPs (counted with attention
#    by unmask.training.training_step_flops; the runs of docs/results.md used 3,720 masked steps, from a
#    count that missed attention on the CPU, so there the causal model had 13% more compute).
for p in kjv kjv-prime2 kjv-prime4 kjv-ar; do
  $U train $p train.threads=1 --out "$RUNS/$p"
done

# 2. Validation bits per byte: the negative ELBO (4 passes with fresh t and masks) or the
#    exact NLL (AR), over the whole validation split.
for p in kjv kjv-prime2 kjv-prime4 kjv-ar; do
  $U nll --ckpt "$RUNS/$p" --repeats 4 --out "$RUNS/nll-$p.json"
done

# 3. Idle steps at 128 and 1,024 sampling steps, against Proposition A.1.
.venv/bin/python experiments/prime/idle_steps.py --ckpt "$RUNS/kjv" "$RUNS/kjv-prime2" "$RUNS/kjv-prime4" \
  --steps 128 1024 --n 64 --out "$RUNS/prime-idle.json"

# 4. Text samples (128 steps; the AR model samples left to right).
for p in kjv kjv-prime2 kjv-prime4 kjv-ar; do
  $U sample --ckpt "$RUNS/$p" --out "$RUNS/text-$p.npz" --n 4 --seed 0 > "$RUNS/text-$p.txt"
done

# 5. Images: MDM vs MDM-Prime (ℓ = 2, b = 16) on 256-level Fashion-MNIST pixels, then FD at
#    equal NFE (with 784 pixels no step is idle below ~100 steps: NFE = steps for both).
$U train fmnist256 train.threads=1 --out "$RUNS/fmnist256"
$U train fmnist256-prime train.threads=1 --out "$RUNS/fmnist256-prime"
$U sweep --ckpt "$RUNS/fmnist256" --grid experiments/prime/fmnist256_grid.yaml --out "$RUNS/sweep-fmnist256"
$U sweep --ckpt "$RUNS/fmnist256-prime" --grid experiments/prime/fmnist256_prime_grid.yaml \
  --out "$RUNS/sweep-fmnist256-prime"
# the same sweeps under a second sampling seed, and the references (real images, naive sampler)
$U sweep --ckpt "$RUNS/fmnist256" --grid experiments/prime/fmnist256_grid.yaml --seed 1 --out "$RUNS/sweep-fmnist256-s1"
$U sweep --ckpt "$RUNS/fmnist256-prime" --grid experiments/prime/fmnist256_prime_grid.yaml --seed 1 \
  --out "$RUNS/sweep-fmnist256-prime-s1"
.venv/bin/python experiments/fmnist/baselines.py --n 250 --levels 256 --out "$RUNS/fmnist256-baselines.json"
.venv/bin/python experiments/prime/report.py --runs "$RUNS"
