#!/usr/bin/env bash
# The text-to-image experiment of issue 8 (paper §4.3, Tables 2 and 4, at CPU scale): caption adherence
# (class, count, size, position accuracy of the scene detector) and FD of
#   scenes-t2i         ITM conditioned on captions through the text encoder trained from scratch
#   scenes-t2i-minilm  the same trunk on frozen all-MiniLM-L6-v2 token embeddings
#   scenes-cls         the class-conditional model of the same size on the same data (class = caption id)
# all sampled for the same test captions with the same sampler, seed and CFG; plus real scenes (of the
# train split, outside the FD reference) as the ceiling of the metric, and sample grids for the docs.
#
#   experiments/t2i/run_all.sh            # runs/scenes-*, their samples and evaluations
#
# Numbers: docs/results.md, "Text-to-image". Every step is resumable (train --resume) or cheap to redo
# (a run already there is resumed to STEPS: a warm restart of the cosine schedule). Environment: UNMASK (default .venv/bin/unmask), PY (default .venv/bin/python),
# RUNS (default runs), N (test captions, default 500), THREADS (torch threads, default 2), CFG (default 2),
# STEPS (training steps, default the presets'), PRESETS (default "scenes-t2i scenes-cls scenes-t2i-minilm").
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
unmask="${UNMASK:-.venv/bin/unmask}"
py="${PY:-.venv/bin/python}"
runs="${RUNS:-runs}"
n="${N:-500}"
cfg="${CFG:-2}"
export OMP_NUM_THREADS="${THREADS:-2}"
mkdir -p "$runs/t2i"

# The first N captions of the scenes test split (unseen images; the caption grammar is shared).
"$py" - "$n" "$runs/t2i/test_captions.txt" <<'PY'
import sys
from unmask.data import get_dataset
n, out = int(sys.argv[1]), sys.argv[2]
caps = get_dataset("scenes", "test").item_captions()[:n]
open(out, "w").write("\n".join(caps) + "\n")
PY

# Ceiling: real scenes against their own captions (and the detector's score on the test split).
"$py" - "$n" "$runs/t2i/real.json" <<'PY'
import json, sys
from unmask.data import get_dataset
from unmask.eval.adherence import evaluate_adherence
n, out = int(sys.argv[1]), sys.argv[2]
test = get_dataset("scenes", "train")  # real scenes outside the FD reference (the test split)
report = evaluate_adherence(test.images()[:n], test.item_captions()[:n], ref="scenes", levels=8)
open(out, "w").write(json.dumps(report, indent=2))
print(json.dumps(report["adherence"]))
PY

for preset in ${PRESETS:-scenes-t2i scenes-cls scenes-t2i-minilm}; do
  run="$runs/$preset"
  if [ -f "$run/config.json" ]; then
    "$unmask" train --resume --out "$run" "train.threads=$OMP_NUM_THREADS" ${STEPS:+"train.steps=$STEPS"}
  else
    "$unmask" train "$preset" "train.threads=$OMP_NUM_THREADS" ${STEPS:+"train.steps=$STEPS"} --out "$run"
  fi
  # one sample per test caption, 32 Euler steps, CFG over captions (the null caption / null label)
  "$unmask" sample --ckpt "$run" --out "$run/eval/test.npz" --captions-file "$runs/t2i/test_captions.txt" \
    --n "$n" --steps 32 --cfg "$cfg" --seed 0
  "$unmask" adherence "$run/eval/test.npz" --ref scenes --levels 8 --out "$run/eval/test.json"
  # the effect of guidance on adherence: CFG 1 (plain conditional)
  "$unmask" sample --ckpt "$run" --out "$run/eval/test-cfg1.npz" --captions-file "$runs/t2i/test_captions.txt" \
    --n "$n" --steps 32 --cfg 1 --seed 0
  "$unmask" adherence "$run/eval/test-cfg1.npz" --ref scenes --levels 8 --out "$run/eval/test-cfg1.json"
  # a grid for the docs: 8 samples of each of 6 compositional captions (one row each)
  "$unmask" sample --ckpt "$run" --out "$run/eval/show.npz" --steps 32 --cfg "$cfg" --seed 1 --captions \
    "two small squares left of a big circle" "a big triangle above a small plus" "three small circles" \
    "two big pluses" "a small square right of a small triangle" "two small triangles below a big square"
done

"$py" - "$runs" <<'PY'
import json, sys
runs = sys.argv[1]
rows = [("real scenes (train split)", f"{runs}/t2i/real.json")]
rows += [(p, f"{runs}/{p}/eval/test.json") for p in ("scenes-t2i", "scenes-t2i-minilm", "scenes-cls")]
print("| model | class | count | size | position | all | FD |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, path in rows:
    try:
        r = json.load(open(path))
    except FileNotFoundError:
        continue
    a, fd = r["adherence"], r.get("distribution", {}).get("fd")
    print(f"| {name} | {a['class']:.3f} | {a['count']:.3f} | {a['size']:.3f} | {a['position']:.3f} | {a['all']:.3f} | "
          f"{fd:.2f} |")
PY
