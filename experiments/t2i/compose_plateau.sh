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
# 2. The three models to their plateau (held-out loss on the seen test captions; cosine over CAP, the rule
#    from CAP / 2; a cosine that ends unlevelled goes on at its final rate, at most CAP more steps): scenes-t2i (text encoder from scratch), scenes-t2i-minilm (frozen MiniLM), scenes-cls (the
#    caption's id as a class label; it cannot take a held-out caption at all).
# 3. N samples over the held-out captions (test-heldout) and N over the seen ones (test), 32 Euler steps, CFG,
#    seed 0; the scene detector's adherence and FD against the real scenes of the same captions; the table.
#
#    experiments/t2i/compose_plateau.sh   # CAP=20000 LADDER=3000 N=1000 CFG=2 BOUND=10000 EXTRA= LADDER_ONLY=0
#                                        OUT=runs/t2i-compose
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/lib.sh
plateau_setup runs/t2i-compose  # U, py, both threads, OUT, CAP, EXTRA
LADDER=${LADDER:-3000}
N=${N:-1000}
CFG=${CFG:-2}
GOAL_FRACTION=${GOAL_FRACTION:-0.9}
BOUND=${BOUND:-10000}  # scenes rendered per caption for the bound

# 1. the ladder
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
[ "${LADDER_ONLY:-0}" = 1 ] && exit 0  # LADDER_ONLY=1: the ladder alone (e.g. while other long runs wait)

# 2. the three models to their plateau
for p in scenes-t2i scenes-t2i-minilm scenes-cls; do
  # shellcheck disable=SC2086
  train_run "$OUT/$p" $p data.name=scenes-compose train.steps=$CAP train.until_plateau=true train.plateau_smooth=3 \
    train.plateau_min_steps=$(( CAP / 2 )) train.threads=2 train.ckpt_every=$(( CAP >= 40 ? CAP / 40 : 1 )) \
    train.keep_checkpoints=50 train.eval_batches=16 $EXTRA
  plateau_tail "$OUT/$p"  # a cosine that ended at CAP unlevelled: the tail
done

# 3. samples over the held-out and the seen test captions, and their scores
$py - "$OUT" "$N" <<'PY'
import sys
from unmask.data import get_dataset
out, n = sys.argv[1], int(sys.argv[2])
for split, name in (("test-heldout", "heldout"), ("test", "seen")):
    caps = get_dataset("scenes-compose", split).item_captions()[:n]
    open(f"{out}/captions-{name}.txt", "w").write("\n".join(caps) + "\n")
PY
for p in scenes-t2i scenes-t2i-minilm scenes-cls; do
  for split in heldout seen; do
    [ "$p" = scenes-cls ] && [ "$split" = heldout ] && continue  # a class label cannot name an unseen caption
    ref_split=test
    [ "$split" = heldout ] && ref_split=test-heldout
    s="$OUT/$p/eval/$split-cfg$CFG"
    [ -f "$s.npz" ] || $U sample --ckpt "$OUT/$p" --out "$s.npz" --captions-file "$OUT/captions-$split.txt" \
      --n "$N" --steps 32 --cfg "$CFG" --seed 0 --no-progress
    [ -f "$s.json" ] || $U adherence "$s.npz" --ref scenes-compose --ref-split $ref_split --levels 8 \
      --out "$s.json" > /dev/null
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
$py experiments/t2i/compose_report.py "$OUT" --cfg "$CFG"
