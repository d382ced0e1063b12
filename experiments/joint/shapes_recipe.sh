# The training overrides of issue 19's shapes runs at their plateau (source it: `. experiments/joint/shapes_recipe.sh`),
# shared by seg_plateau.sh and joint3_plateau.sh: the U-Net baseline's regularisation (±1 mask-cell shifts, weight
# decay 0.05) without dropout (1.58x the time per step, docs/benchmarks.md). The segmentation recipe study chose
# `noreg` (no shifts, weight decay or dropout: fastest per step and per minute over 10 minutes, seg_recipe.sh), but
# trained to its plateau the unregularised baseline over-fitted (held-out loss rising from step 4,500, docs/results.md,
# "Segmentation at the plateau"), so the plateau runs from 2026-12-07 on take this recipe. Both threads; the plateau
# rule on shapes' val split (15 batches of 64 of its 1,000 canvases at every 500-step checkpoint; means of 3
# evaluations at each end of its window, train.plateau_smooth) from step MIN_STEPS (default CAP / 2) on; a cosine over
# CAP steps (default 8,000: a run and its evaluations fit one session); RECIPE (overrides) on top, to try another.
# Sets SHAPES_REG and CAP (for lib.sh's plateau_tail: a run whose cosine ended at CAP unlevelled goes on at the final
# rate until the rule holds, as fmnist_plateau.sh's runs do).
CAP=${CAP:-8000}
MIN_STEPS=${MIN_STEPS:-$((CAP / 2))}
read -r -a _recipe <<< "${RECIPE:-}"
SHAPES_REG=(data.shift=1 optim.weight_decay=0.05 model.dropout=0 train.threads=2 train.until_plateau=true
  train.keep_checkpoints=100 "train.steps=$CAP" "train.plateau_min_steps=$MIN_STEPS" train.ckpt_every=500
  train.eval_split=val train.eval_batches=15 train.plateau_smooth=3 "${_recipe[@]}")
