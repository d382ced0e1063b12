# The training overrides of issue 19's shapes runs at their plateau (source it: `. experiments/joint/shapes_recipe.sh`),
# shared by seg_plateau.sh and joint3_plateau.sh: the classification study's regularisation (±1 mask-cell shifts,
# AdamW weight decay 0.05, dropout 0.1), both threads, the plateau rule on shapes' val split (15 batches of 64 of
# its 1,000 canvases at every 500-step checkpoint) from step MIN_STEPS (default CAP / 2) on, a cosine over CAP
# steps (default 12,000), and RECIPE (the segmentation recipe study's choice) on top. Sets SHAPES_REG.
CAP=${CAP:-12000}
MIN_STEPS=${MIN_STEPS:-$((CAP / 2))}
read -r -a _recipe <<< "${RECIPE:-}"
SHAPES_REG=(data.shift=1 optim.weight_decay=0.05 model.dropout=0.1 train.threads=2 train.until_plateau=true
  train.keep_checkpoints=100 "train.steps=$CAP" "train.plateau_min_steps=$MIN_STEPS" train.ckpt_every=500
  train.eval_split=val train.eval_batches=15 "${_recipe[@]}")
