# The training overrides of issue 19's shapes runs at their plateau (source it: `. experiments/joint/shapes_recipe.sh`),
# shared by seg_plateau.sh and joint3_plateau.sh. The recipe is the one the segmentation recipe study chose on the
# val split (seg_recipe.sh, docs/results.md: its `noreg` arm, no shifts, no weight decay, no dropout, learnt fastest
# per step and per minute); both threads; the plateau rule on shapes' val split (15 batches of 64 of its 1,000
# canvases at every 500-step checkpoint; means of 3 evaluations at each end of its window, train.plateau_smooth) from
# step MIN_STEPS (default CAP / 2) on; a cosine over CAP steps (default
# 12,000); RECIPE (overrides) on top, to try another. Sets SHAPES_REG and CAP (for lib.sh's plateau_tail: a run whose
# cosine ended at CAP unlevelled goes on at the final rate until the rule holds, as fmnist_plateau.sh's runs do).
CAP=${CAP:-12000}
MIN_STEPS=${MIN_STEPS:-$((CAP / 2))}
read -r -a _recipe <<< "${RECIPE:-}"
SHAPES_REG=(data.shift=0 optim.weight_decay=0 model.dropout=0 train.threads=2 train.until_plateau=true
  train.keep_checkpoints=100 "train.steps=$CAP" "train.plateau_min_steps=$MIN_STEPS" train.ckpt_every=500
  train.eval_split=val train.eval_batches=15 train.plateau_smooth=3 "${_recipe[@]}")
