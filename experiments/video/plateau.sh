#!/usr/bin/env bash
# Issue 20, video: the `video` preset (bouncing-shapes, class-conditional ITM) to its plateau, and the ETM
# (`video-etm`) at the same budget and learning-rate schedule; then every measure of the issue on the test
# split, one job at a time on both threads. Every step is skipped when its output exists and an interrupted run
# is resumed, so re-running continues across sessions.
#
# 1. ITM: cosine over CAP steps, stopped by the plateau rule on the `val` split's held-out loss (not before
#    CAP / 2; a cosine that ends unlevelled goes on at its final rate up to TAIL steps, default 2 x CAP, and
#    further when TAIL is raised). Then its measures (below), so its result is in before the ETM trains.
# 2. ETM: the same steps as the ITM's last, on the ITM's schedule (optim.decay_steps=CAP); extended to match
#    when the ITM was trained further. Then its measures.
# Measures, per model and step (OUT/M/eval-STEP): N clips (N / 5 per class, 64 Euler steps, CFG 2, seed 0)
# scored by `unmask eval --ref bouncing-shapes`: frame FD, frame-to-frame change against the real clips', the
# motion measure; N clips continued from the first 4 frames of the first N test clips, with the position error of
# the continued object against the real clips' frames 4 … 7 (plateau_eval.py); 8 clips per class as a GIF.
# The ITM's sampler settings are then swept (experiments/video/sampling_grid.yaml, 200 clips a cell) into
# OUT/itm/sweep-STEP: frame FD, change and motion against the 1,000 test clips per setting; then MaskGIT's
# settings around that grid's best cell (experiments/video/maskgit_grid.yaml) into OUT/itm/sweep2-STEP; SWEEPS=0
# skips both (e.g. for a model trained further, measured with the setting an earlier sweep chose).
# SAMPLE / TAG: other sampler settings for the measures (every `unmask sample` of them; they come after the
# defaults --cfg 2 --seed 0 / 1, so they override them), measured into OUT/M/eval-STEP-TAG (and plateau_eval.py
# --tag TAG), e.g. a setting chosen on the sweeps, measured on another seed than theirs:
#    SAMPLE="--sampler maskgit --steps 128 --cfg 1.5 --seed 2" TAG=maskgit128-cfg1.5 experiments/video/plateau.sh
#
#    experiments/video/plateau.sh   # CAP=20000 TAIL=2*CAP N=1000 RECIPE="" OUT=runs/video-plateau
#                                   # DATASET=bouncing-shapes SWEEPS=1
#
# DATASET=moving-fashion-mnist trains the same presets on that data (data.name; 10 classes) and scores it with
# its own motion measure (the rigid-sprites one); OUT then defaults to runs/video-fashion-plateau.
#
# RECIPE: overrides on top of the preset, the winner of the recipe study
#    .venv/bin/python benchmarks/learning_speed.py --study video-recipe --out runs/video-recipe --minutes 10 \
#        --every 100 --figure docs/video_recipe.png
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/lib.sh
DATASET=${DATASET:-bouncing-shapes}
case "$DATASET" in
  bouncing-shapes) default_out=runs/video-plateau; classes=5 ;;
  moving-fashion-mnist) default_out=runs/video-fashion-plateau; classes=10 ;;
  *) echo "DATASET must be bouncing-shapes or moving-fashion-mnist, got '$DATASET'" >&2; exit 2 ;;
esac
plateau_setup "$default_out"  # U, py, both threads, OUT, CAP, EXTRA
N=${N:-1000}
RECIPE=${RECIPE:-}
SAMPLE=${SAMPLE:-}  # extra `unmask sample` options of the measures (default: the checkpoint's sampler)
TAG=${TAG:-}
SWEEPS=${SWEEPS:-1}
[ -n "$SAMPLE" ] && [ -z "$TAG" ] && { echo "SAMPLE needs a TAG naming its eval folder" >&2; exit 2; }
common="data.name=$DATASET train.plateau_smooth=3 train.threads=2 train.eval_split=val train.eval_batches=16 train.keep_checkpoints=50
  train.ckpt_every=$(( CAP >= 40 ? CAP / 40 : 1 ))"
labels=$(seq -s, 0 $(( classes - 1 )))

# measure M: N clips and N continuations of model M's final checkpoint, their scores and a GIF of 8 clips per
# class, into OUT/M/eval-STEP[-TAG] (STEP: the run's last step, so a model trained further is measured anew)
# shellcheck disable=SC2086
measure() {
  local m=$1 e
  e="$OUT/$m/eval-$(last_step "$OUT/$m")${TAG:+-$TAG}"
  mkdir -p "$e"
  [ -f "$e/clips.npz" ] || $U sample --ckpt "$OUT/$m" --out "$e/clips.npz" --labels "$labels" --n "$N" \
    --cfg 2 --seed 0 $SAMPLE --no-progress > /dev/null
  [ -f "$e/clips.json" ] || $U eval "$e/clips.npz" --ref "$DATASET" --levels 8 --out "$e/clips.json" > /dev/null
  [ -f "$e/continued.npz" ] || $U sample --ckpt "$OUT/$m" --out "$e/continued.npz" --prefix-frames 4 \
    --prefix-from test --n "$N" --cfg 2 --seed 0 $SAMPLE --no-progress > /dev/null
  [ -f "$e/continued.json" ] || $U eval "$e/continued.npz" --ref "$DATASET" --levels 8 \
    --out "$e/continued.json" > /dev/null
  eight=$(for c in $(seq 0 $(( classes - 1 ))); do printf "$c,%.0s" 1 2 3 4 5 6 7 8; done)  # one row per class
  [ -f "$e/gif.npz" ] || $U sample --ckpt "$OUT/$m" --out "$e/gif.npz" --labels "${eight%,}" --cfg 2 \
    --seed 1 $SAMPLE --no-progress > /dev/null
}

# 1. the ITM to its plateau (TAIL=N: a tail that reached its cap unlevelled goes on to N), and its measures
# shellcheck disable=SC2086
train_run "$OUT/itm" video $common train.steps=$CAP train.until_plateau=true \
  train.plateau_min_steps=$(( CAP / 2 )) $RECIPE $EXTRA
plateau_tail "$OUT/itm"  # a cosine that ended at CAP unlevelled: the tail
run_finished "$OUT/itm" || { echo "[video] the ITM has not finished; run this again" >&2; exit 1; }
budget=$(last_step "$OUT/itm")  # the ITM's last step: its sweep's folder and the ETM's budget
measure itm
$py experiments/video/plateau_eval.py "$OUT" --n "$N" --docs "${DOCS:-docs}" --dataset "$DATASET" \
  ${TAG:+--tag "$TAG"}  # DOCS: where the GIFs go
if [ "$SWEEPS" = 1 ]; then
  $U sweep --ckpt "$OUT/itm" --grid experiments/video/sampling_grid.yaml --out "$OUT/itm/sweep-$budget" \
    --no-progress > /dev/null  # resumable: cells already in its CSV are skipped
  $U sweep --ckpt "$OUT/itm" --grid experiments/video/maskgit_grid.yaml --out "$OUT/itm/sweep2-$budget" \
    --no-progress > /dev/null  # MaskGIT around the first grid's best cell
fi

# 2. the ETM for as many steps on the same schedule (and further if the ITM was), and its measures
echo "[video] ITM stopped at step $budget; the ETM trains as many steps"
# shellcheck disable=SC2086
train_run "$OUT/etm" video-etm $common train.steps=$budget optim.decay_steps=$CAP $RECIPE $EXTRA
if run_finished "$OUT/etm" && [ "$(last_step "$OUT/etm")" -lt "$budget" ]; then
  $U train --out "$OUT/etm" --resume "train.steps=$budget" --no-progress
fi
run_finished "$OUT/etm" || { echo "[video] the ETM has not finished; run this again" >&2; exit 1; }
measure etm
$py experiments/video/plateau_eval.py "$OUT" --n "$N" --docs "${DOCS:-docs}" --dataset "$DATASET" \
  ${TAG:+--tag "$TAG"}
