#!/usr/bin/env bash
# Issue 20, text-to-image on held-out compositions (scenes-compose: a quarter of the relation captions never
# in training; every word, (size, class) pair and relation still is). One job at a time on both threads;
# every step is skipped when its output exists and an interrupted run is resumed, so re-running continues
# across sessions.
#
# 1. The debugging ladder: a short scenes-t2i run (LADDER steps, its own cosine) and what the caption is worth
#    at t = 0 on the single-group test captions, beside the per-pixel histogram floor and the caption-
#    conditioned bound (ladder.py --bound: the best any model can do at t = 0). The long runs start only when
#    the model's CE at t = 0 with the caption lies GOAL_FRACTION of the way from the histogram to the bound
#    (the issue's "the caption lowers the CE by >= 0.06 nats/pixel" lies beyond the bound of these captions,
#    0.056: docs/results.md), and its caption also beats its own null caption by that much.
# 2. The three models to their plateau (held-out loss on the seen val captions; cosine over CAP, the rule
#    from CAP / 2; a cosine that ends unlevelled goes on at its final rate, at most CAP more steps): scenes-t2i
#    (text encoder from scratch), scenes-t2i-minilm (frozen MiniLM), scenes-cls (the caption's id as a class
#    label; it cannot take a held-out caption at all).
# 3. The sampler, chosen on validation captions: each of SAMPLERS (the preset's Euler 32 and MaskGIT 32, whose
#    confidence order halved the video model's frame FD) draws N_VAL samples over val-heldout (scenes-cls: over
#    val), seed 1; the detector's "all" decides (compose_report.py), so the test captions are read only by the
#    final models.
# 4. N samples over the held-out captions (test-heldout) and N over the seen ones (test) with every sampler, CFG,
#    seed 0; the scene detector's adherence and FD against the real scenes of the same captions; the table,
#    whose goals are read with each model's validated sampler.
#
# LADDER_PASSED=1 skips step 1 for a recipe whose ladder passed its gate and is recorded in docs/results.md (the
# runs/ holding its ladder.json may be lost; the decision is not re-derived).
#
#    experiments/t2i/compose_plateau.sh   # CAP=20000 LADDER=3000 N=1000 N_VAL=500 CFG=2 BOUND=10000 EXTRA=
#                                        LADDER_ONLY=0 LADDER_PASSED=0 OUT=runs/t2i-compose
#                                        SAMPLERS="euler32|--steps 32;maskgit32|--sampler maskgit --steps 32"
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/lib.sh
plateau_setup runs/t2i-compose  # U, py, both threads, OUT, CAP, EXTRA
LADDER=${LADDER:-3000}
N=${N:-1000}
CFG=${CFG:-2}
GOAL_FRACTION=${GOAL_FRACTION:-0.9}
BOUND=${BOUND:-10000}  # scenes rendered per caption for the bound
N_VAL=${N_VAL:-500}
SAMPLERS=${SAMPLERS:-"euler32|--steps 32;maskgit32|--sampler maskgit --steps 32"}
IFS=';' read -ra SAMPLER_SPECS <<< "$SAMPLERS"

# 1. the ladder
if [ "${LADDER_PASSED:-0}" = 1 ]; then
  echo "[compose] the ladder of this recipe passed its gate (docs/results.md); not run again"
else
# shellcheck disable=SC2086
train_run "$OUT/ladder" scenes-t2i data.name=scenes-compose train.steps=$LADDER train.threads=2 \
  train.ckpt_every=$(( LADDER >= 6 ? LADDER / 6 : 1 )) train.eval_batches=16 $EXTRA
[ -f "$OUT/ladder.json" ] || $py experiments/t2i/ladder.py --dataset scenes-compose --subset single --n 1000 \
  --bound "$BOUND" "$OUT/ladder" --out "$OUT/ladder.json"
if ! $py - "$OUT/ladder.json" "$GOAL_FRACTION" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))
need = float(sys.argv[2]) * r["bound"]["bound_gain"]
(run, ce), = r["runs"].items()
print(f"[compose] ladder, single-group captions at t = 0: CE with the caption {ce['gain_vs_histogram']:.4f} "
      f"nats/pixel below the per-pixel histogram and {ce['gain']:.4f} below the null caption; the bound is "
      f"{r['bound']['bound_gain']:.4f} below the histogram, the gate {need:.4f} for both")
sys.exit(0 if min(ce["gain_vs_histogram"], ce["gain"]) >= need else 1)
PY
  echo "[compose] the ladder fails: the long runs wait until the short one learns the all-masked end" >&2
  exit 1
fi
fi
[ "${LADDER_ONLY:-0}" = 1 ] && exit 0  # LADDER_ONLY=1: the ladder alone (e.g. while other long runs wait)

# 2. the three models to their plateau
for p in scenes-t2i scenes-t2i-minilm scenes-cls; do
  # shellcheck disable=SC2086
  train_run "$OUT/$p" $p data.name=scenes-compose train.steps=$CAP train.until_plateau=true train.plateau_smooth=3 \
    train.plateau_min_steps=$(( CAP / 2 )) train.threads=2 train.ckpt_every=$(( CAP >= 40 ? CAP / 40 : 1 )) \
    train.keep_checkpoints=50 train.eval_batches=16 train.eval_split=val $EXTRA
  plateau_tail "$OUT/$p"  # a cosine that ended at CAP unlevelled: the tail
done

# 3 and 4. samples over the validation and the test captions with every sampler, and their scores
$py - "$OUT" "$N" "$N_VAL" <<'PY'
import sys
from unmask.data import get_dataset
out, n, n_val = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for split, name, k in (("test-heldout", "heldout", n), ("test", "seen", n), ("val-heldout", "val-heldout", n_val),
                       ("val", "val-seen", n_val)):
    caps = get_dataset("scenes-compose", split).item_captions()[:k]
    open(f"{out}/captions-{name}.txt", "w").write("\n".join(caps) + "\n")
PY
# score MODEL NAME REF_SPLIT K SEED TAG OPTIONS...: K samples of MODEL over captions-NAME.txt into
# MODEL/eval/NAME-cfgCFG-TAG.{npz,json}, scored against REF_SPLIT's scenes (each file skipped when it exists)
score() {
  local p=$1 name=$2 ref_split=$3 k=$4 seed=$5 tag=$6
  shift 6
  local s="$OUT/$p/eval/$name-cfg$CFG-$tag"
  [ -f "$s.npz" ] || $U sample --ckpt "$OUT/$p" --out "$s.npz" --captions-file "$OUT/captions-$name.txt" \
    --n "$k" --cfg "$CFG" --seed "$seed" "$@" --no-progress
  [ -f "$s.json" ] || $U adherence "$s.npz" --ref scenes-compose --ref-split "$ref_split" --levels 8 \
    --out "$s.json" > /dev/null
}
for spec in "${SAMPLER_SPECS[@]}"; do
  tag=${spec%%|*}
  read -ra opts <<< "${spec#*|}"
  for p in scenes-t2i scenes-t2i-minilm scenes-cls; do
    if [ "$p" = scenes-cls ]; then  # a class label cannot name an unseen caption: its sampler is chosen on seen ones
      score $p val-seen val "$N_VAL" 1 "$tag" "${opts[@]}"
    else
      score $p val-heldout val-heldout "$N_VAL" 1 "$tag" "${opts[@]}"
      score $p heldout test-heldout "$N" 0 "$tag" "${opts[@]}"
    fi
    score $p seen test "$N" 0 "$tag" "${opts[@]}"
  done
done
# the ceiling: real scenes scored against their own captions (the train split: outside the FD references)
[ -f "$OUT/real.json" ] || $py - "$OUT/real.json" "$N" <<'PY'
import json, sys
from unmask.data import get_dataset
from unmask.eval.adherence import evaluate_adherence
train = get_dataset("scenes-compose", "train")
n = int(sys.argv[2])
report = evaluate_adherence(train.images()[:n], train.item_captions()[:n], ref="scenes-compose", levels=8)
open(sys.argv[1], "w").write(json.dumps(report, indent=2))
PY
$py experiments/t2i/compose_report.py "$OUT" --cfg "$CFG" --samplers "$(for spec in "${SAMPLER_SPECS[@]}"; do
  printf '%s ' "${spec%%|*}"; done)"
