#!/usr/bin/env bash
# The four training runs behind "Joint models" in docs/results.md, one after another, one thread each.
# Joint and discriminative runs of a pair share backbone, data, batch (64) and steps; measured on a
# shared 2-core CPU: ~25–40 min per shapes run (1,200 steps), ~10–15 min per Fashion-MNIST run (600 steps).
# JOINT3=1 also trains shapes-joint3 (one model of image, mask and label; about as long as shapes-joint);
# eval.sh evaluates it whenever $RUNS/shapes-joint3 exists.
set -euo pipefail
RUNS=${RUNS:-runs}
U=${U:-.venv/bin/unmask}
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/../.."

$U train shapes-joint --out "$RUNS/shapes-joint"
$U train shapes-seg-disc --out "$RUNS/shapes-seg-disc"
$U train fmnist-joint --out "$RUNS/fmnist-joint"
$U train fmnist-cls-disc --out "$RUNS/fmnist-cls-disc"
if [[ "${JOINT3:-0}" == 1 ]]; then
  $U train shapes-joint3 --out "$RUNS/shapes-joint3"
fi
