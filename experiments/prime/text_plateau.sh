#!/usr/bin/env bash
# Issue 22, item 1-2: the four KJV text models at one equal training-FLOPs budget, each stopped earlier if its
# held-out loss levels off (train.until_plateau), one job at a time on both threads; then bits per byte over
# the whole validation split, idle steps, and the samples' quality under the AR judge. Every step is skipped
# when its output exists and an interrupted run is resumed, so re-running continues across sessions.
#
# The budget: STEPS masked steps (patch 4: 9.11 GFLOP per step, batch 32 × 128 bytes) against as many
# training FLOPs of the causal model (patch 1: 38.25 GFLOP per step), both counted here by
# unmask.training.training_step_flops (matmuls and attention, forward and backward). Default 20,000 masked
# steps ≈ 182 TFLOP per model, about an hour each here; the cosine decays over the whole cap, and the plateau
# rule may stop a run from half the cap on (not at a noisy point while the learning rate is high).
#
#    STEPS=20000 experiments/prime/text_plateau.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
u=.venv/bin/unmask
py=.venv/bin/python
export OMP_NUM_THREADS=2
STEPS=${STEPS:-20000}
AR_STEPS=$($py -c "
from unmask.config import load_config
from unmask.training import training_step_flops
masked, ar = (training_step_flops(load_config(p)) for p in ('kjv', 'kjv-ar'))
print(round($STEPS * masked / ar))")
echo "[text_plateau] $STEPS masked steps, $AR_STEPS causal steps"
OUT=${OUT:-runs/text-plateau}
mkdir -p "$OUT"
. experiments/lib.sh
for p in kjv kjv-prime2 kjv-prime4 kjv-ar; do
  steps=$STEPS
  [ "$p" = kjv-ar ] && steps=$AR_STEPS
  run=$OUT/$p
  common="train.steps=$steps train.until_plateau=true train.plateau_min_steps=$(( steps / 2 )) train.plateau_smooth=3
    train.threads=2 train.ckpt_every=$(( steps / 20 )) train.keep_checkpoints=40 train.eval_batches=16"
  # shellcheck disable=SC2086
  U=$u train_run "$run" $p $common
  [ -f "$OUT/nll-$p.json" ] || $u nll --ckpt "$run" --repeats 4 --out "$OUT/nll-$p.json"
done
[ -f "$OUT/prime-idle.json" ] || $py experiments/prime/idle_steps.py --ckpt "$OUT/kjv" "$OUT/kjv-prime2" \
  "$OUT/kjv-prime4" --steps 128 1024 --n 64 --out "$OUT/prime-idle.json"
[ -f "$OUT/text-quality.json" ] || $py experiments/prime/text_quality.py --judge "$OUT/kjv-ar" \
  --ckpt "$OUT/kjv" "$OUT/kjv-prime2" "$OUT/kjv-prime4" --steps 128 1024 --n 256 --out "$OUT/text-quality.json"
$py experiments/prime/text_quality.py --out "$OUT/text-quality.json" --report
# the four learning curves against training FLOPs on one plot (held-out objective per run: the negative
# ELBO of the masked models, the NLL of the causal one)
OUT=$OUT $py - <<'PY'
import json, os
from pathlib import Path
from unmask.config import Config
from unmask.training import training_step_flops
from unmask.training.curves import plot_learning_curves, read_learning_curve
out = Path(os.environ["OUT"])
runs = {p: out / p for p in ("kjv", "kjv-prime2", "kjv-prime4", "kjv-ar")}
curves = {p: read_learning_curve(r) for p, r in runs.items()}
flops = {p: training_step_flops(Config.from_dict(json.loads((r / "config.json").read_text()))) for p, r in runs.items()}
print(plot_learning_curves(curves, out / "text_flops_curve.png", x="flops", flops_per_step=flops))
PY
