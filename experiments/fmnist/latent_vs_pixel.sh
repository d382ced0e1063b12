#!/usr/bin/env bash
# Latent (VQ-token) vs pixel-token models on Fashion-MNIST, the same training budget:
# every command behind "Latent vs pixel tokens on Fashion-MNIST" in docs/results.md, in order.
# One thread per job (the reference machine is a shared 2-core VM). Runs go to $RUNS (default runs/).
set -euo pipefail
export OMP_NUM_THREADS=1   # sampling and evaluation on one thread too
RUNS=${RUNS:-runs}
U=.venv/bin/unmask
STEPS=${STEPS:-360}
cd "$(dirname "$0")/../.."

# 1. The tokenizer: 28x28 -> 7x7 codes of 512 (about 16 minutes uncontended), then its floor:
#    PSNR, codebook use and FD of reconstructions of 500 held-out test images.
$U tokenizer train fmnist-vq train.threads=1 --out "$RUNS/vq-fmnist"
$U tokenizer eval --tokenizer "$RUNS/vq-fmnist" --dataset fashion-mnist --n 500 --ref-n 5000 --out "$RUNS/vq-fmnist/eval.json"
$U tokenizer eval --tokenizer pixel:16 --dataset fashion-mnist --n 500 --ref-n 5000 --out "$RUNS/pixel16-eval.json"

# 2. Pre-tokenise the 70,000 images once.
$U tokenize --tokenizer "$RUNS/vq-fmnist" --dataset fashion-mnist --out "$RUNS/fmnist-vq-tokens" --workers 1

# 3. The two models: the same backbone (fmnist size, 49 positions), the same steps; their step
#    times were measured within 5% of each other (about 3.1 s per batch of 128 at one thread).
same=(train.steps=$STEPS train.ckpt_every=$STEPS optim.warmup_steps=50 train.threads=1)
$U train fmnist-latent "${same[@]}" data.shards="$RUNS/fmnist-vq-tokens" data.tokenizer="$RUNS/vq-fmnist" \
  --out "$RUNS/fmnist-latent"
$U train fmnist "${same[@]}" --out "$RUNS/fmnist-pixel"

# 4. 500 samples each (50 per class), Euler, 64 steps, CFG 2; FD against the same reference:
#    a fixed 5,000-image half of the test split at full 256 grey levels.
for m in latent pixel; do
  $U sample --ckpt "$RUNS/fmnist-$m" --out "$RUNS/fmnist-$m/samples.npz" --n 500 --steps 64 --cfg 2 --seed 0
  $U eval "$RUNS/fmnist-$m/samples.npz" --ref fashion-mnist --levels 256 --ref-n 5000 --out "$RUNS/fmnist-$m/eval.json"
done
# the grids in docs/ (10 per class, same settings)
for m in latent pixel; do
  $U sample --ckpt "$RUNS/fmnist-$m" --out "$RUNS/fmnist-$m/grid100.npz" --n 100 --steps 64 --cfg 2 --seed 0
done
