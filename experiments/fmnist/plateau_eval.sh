#!/usr/bin/env bash
# Evaluate the plateaued Fashion-MNIST pixel model (runs/fmnist-plateau, from plateau.sh), one job at
# a time on both threads; every step is skipped when its output exists, so re-running continues.
#
# 0. sweeps of an earlier checkpoint are moved aside (runs/sweep-NAME-sK-atSTEP);
# 1. its learning curve (docs/fmnist_plateau_curve.png) and plateau status;
# 2. the sampling sweep at 1,000 samples (plateau_grid.yaml, seed 0; --best fd writes sampling.json);
# 3. the best cell again under sampling seed 1 (grid written from step 2's CSV);
# 4. the references at n = 1,000: held-out real images (floor) and per-class independent pixels;
# 5. inpainting (issue 21) of 500 held-out test images: centre and random half, Euler and MaskGIT,
#    label / no label, vs naive fills.
#
# RUN and NAME choose another run (NAME names its sweep folders and curve figure), LEVELS the grey
# levels its samples are scored at (16; 256 for a model on VQ codes), PIXEL_FLOOR=0 skips step 4 (the
# 16-level pixel references) and INPAINT=0 step 5, EXTRA_GRID adds a grid's cells to step 2's
# sweep before step 3 picks its best; the latent route of issue 18
# (experiments/fmnist/latent14.sh, whose floors come from `unmask tokenizer eval`) runs
#    RUN=runs/fmnist-latent14 NAME=fmnist-latent14 LEVELS=256 PIXEL_FLOOR=0 INPAINT=0 \
#      EXTRA_GRID=experiments/fmnist/latent14_extra_grid.yaml experiments/fmnist/plateau_eval.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
u=.venv/bin/unmask
py=.venv/bin/python
export OMP_NUM_THREADS=2
run=${RUN:-runs/fmnist-plateau}
name=${NAME:-fmnist-plateau}
$u info $run --curve docs/${name//-/_}_curve.png --x step | grep -E "plateau|ended|curve"
# unmask's Fashion-MNIST classifier (the sweep's accuracy, inpainting's label agreement), trained once
# and cached, here with both threads: inside the evaluation it would train on one (> 17 minutes)
$py -c "import torch; torch.set_num_threads(2)
from unmask.eval import load_or_train_classifier
print('classifier test accuracy', load_or_train_classifier('fashion-mnist', levels=${LEVELS:-16}).test_accuracy)"
# sweeps of an earlier checkpoint (the run trained on since) are moved aside to runs/sweep-NAME-sK-atSTEP
latest=$($py -c "from unmask.training import list_checkpoints; print(int(list_checkpoints('$run')[-1].name.split('_')[-1]))")
for k in s0 s1; do
  f=runs/sweep-$name-$k/sweep.json
  [ -f "$f" ] || continue
  step=$($py -c "import json; print(json.load(open('$f'))['step'])")
  [ "$step" = "$latest" ] || mv -T runs/sweep-$name-$k runs/sweep-$name-$k-at$step
done
[ -f runs/sweep-$name-s0/sweep.csv ] ||
  $u sweep --ckpt $run --grid experiments/fmnist/plateau_grid.yaml --out runs/sweep-$name-s0 --best fd
# EXTRA_GRID: more cells into the same folder (done cells are skipped; --best picks over all of them)
[ -z "${EXTRA_GRID:-}" ] ||
  $u sweep --ckpt $run --grid "$EXTRA_GRID" --out runs/sweep-$name-s0 --best fd
if [ ! -f runs/sweep-$name-s1/sweep.csv ]; then
  # the lowest-FD cell of seed 0, as a grid for seed 1
  SWEEP_NAME=$name $py - <<'PY'
import csv, os, yaml
from unmask.sweep.grid import SETTINGS
name = os.environ["SWEEP_NAME"]
rows = sorted(csv.DictReader(open(f"runs/sweep-{name}-s0/sweep.csv")), key=lambda r: float(r["fd"]))[:1]
def value(v):
    try:
        f = float(v)
        return int(f) if f.is_integer() and "." not in v else f
    except ValueError:
        return {"True": True, "False": False}.get(v, v)
grids = [{k: value(r[k]) for k in SETTINGS if r.get(k, "") != ""} for r in rows]
spec = {"n": 1000, "seed": 1, "batch_size": 500, "ref_n": 5000, "grids": grids}
open(f"runs/{name}-repeat-grid.yaml", "w").write(
    "# written by experiments/fmnist/plateau_eval.sh: the lowest-FD cell of seed 0\n" + yaml.safe_dump(spec)
)
print(yaml.safe_dump(spec))
PY
  $u sweep --ckpt $run --grid runs/$name-repeat-grid.yaml --out runs/sweep-$name-s1 --seed 1
fi
[ "${PIXEL_FLOOR:-1}" = 0 ] || [ -f runs/fmnist-baselines-n1000.json ] ||
  $py experiments/fmnist/baselines.py --n 1000 --ref-n 5000 --out runs/fmnist-baselines-n1000.json
[ "${INPAINT:-1}" = 1 ] || exit 0
[ -f runs/fmnist-inpaint/results.json ] ||
  $py experiments/fmnist/inpainting.py --ckpt $run --n 500 --out runs/fmnist-inpaint --figure docs/fmnist_inpainting.png
$py experiments/fmnist/inpainting.py --out runs/fmnist-inpaint --report
