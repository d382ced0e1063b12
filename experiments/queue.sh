#!/usr/bin/env bash
# The compute queue of issues 19, 20 and 22 (2026-12-07 on), one job at a time on both threads; every step resumes
# or skips what is done, so the whole queue is re-launched each session:
#    nohup experiments/queue.sh > runs/queue.log 2>&1 &
# Stop it with `pkill -9 -f experiments/queue.sh; pkill -9 -f <the running experiment>.sh`, then SIGTERM the
# `unmask train` process (it writes a checkpoint); never edit a script while it runs (bash reads it as it goes).
# runs/ does not always survive a session (it was lost between sessions 38 and 39), so each step is sized to finish
# in one session (cosines of 8,000 steps, the plateau rule deciding) and a finished result is kept in the
# repository (docs/results.md, docs/records, zoo/). Decisions docs/results.md records are not re-derived.
cd "$(dirname "$0")/.."
git rev-parse HEAD >> runs/queue.commit
py=.venv/bin/python
export OMP_NUM_THREADS=2
# one job at a time: wait for a training or study process left running by an earlier queue
while pgrep -f "unmask train|learning_speed.py --study|segmenter_judge" > /dev/null; do sleep 30; done
# (done 2026-12-07: issue 19's segmentation pair, experiments/joint/seg_plateau.sh; docs/results.md, "Segmentation at
# the plateau", and docs/records)
# issue 20, video: the plateau run on the recipe study's choice, optim.lr=0.002 (docs/results.md, "The video recipe
# study"). The ITM's tail ended unlevelled at 32,000 steps (2026-12-07, its clips measured there: an early
# reading); its continuation and two sampling sweeps measured there (MaskGIT halves frame FD against Euler);
# and with the sweeps' choice (MaskGIT 128 steps, CFG 1.5, seed 2); left: the ETM for 32,000 steps (22,822 done
# by 2026-12-08; about 1 h) and its measures with that setting, then with the default sampler (Euler 64, CFG 2)
CAP=8000 TAIL=32000 RECIPE="optim.lr=0.002" SAMPLE="--sampler maskgit --steps 128 --cfg 1.5 --seed 2" \
  TAG=maskgit128-cfg1.5 SWEEPS=0 experiments/video/plateau.sh >> runs/video-plateau.log 2>&1
CAP=8000 TAIL=32000 RECIPE="optim.lr=0.002" experiments/video/plateau.sh >> runs/video-plateau.log 2>&1
# issue 19, digits: the joint model to its plateau (its 0.997x was read at 10,000 steps, +1.33% over the last
# quarter: an early reading); about 1 h
experiments/joint/digits_plateau.sh >> runs/digits-joint-plateau.log 2>&1
# issue 20, text-to-image: the three long runs on the recipe whose ladder passed (t = u^2 on a 6,000-step cosine,
# 2026-12-07, docs/results.md; its run was lost with runs/, and the decision is not re-derived), the sampler
# chosen on validation captions, the test captions' table
OUT=runs/t2i-compose-tp2-l6000 LADDER=6000 LADDER_PASSED=1 CAP=8000 EXTRA="loss.time_power=2" \
  experiments/t2i/compose_plateau.sh >> runs/t2i-compose-tp2-l6000.log 2>&1
# issue 20, video: the ITM's tail on towards its plateau (at most 64,000 steps; it was -6.1% over its last quarter at
# 32,000), the ETM to the same step, both measured with the sweeps' setting (no new sweeps); about 7 h
CAP=8000 TAIL=64000 RECIPE="optim.lr=0.002" SAMPLE="--sampler maskgit --steps 128 --cfg 1.5 --seed 2" \
  TAG=maskgit128-cfg1.5 SWEEPS=0 experiments/video/plateau.sh >> runs/video-plateau.log 2>&1
# issue 19: the U-Net judge (cached in ~/.cache/unmask once trained; joint3's cycle measures read it), then the
# three-stream model on shapes_recipe.sh
$py -c "import torch; torch.set_num_threads(2)
from unmask.joint import segmenter_judge
j = segmenter_judge('shapes', 16); print('judge test mIoU', j.test_miou, j.path)" >> runs/judge.log 2>&1
experiments/joint/joint3_plateau.sh >> runs/joint3-plateau.log 2>&1
# issue 22: the four text models at one equal budget, then the 256-level image pair
STEPS=20000 experiments/prime/text_plateau.sh >> runs/text-plateau.log 2>&1
experiments/prime/fmnist256_plateau.sh >> runs/prime-images.log 2>&1
# issue 20, moving-fashion-mnist at a stated budget: its recipe study, then the plateau script on its choice
$py benchmarks/learning_speed.py --study video-fashion-recipe --out runs/video-fashion-recipe \
  --minutes 15 --every 50 --figure docs/video_fashion_recipe.png >> runs/video-fashion-recipe.log 2>&1
recipe=$($py benchmarks/learning_speed.py --study video-fashion-recipe --out runs/video-fashion-recipe --best \
  2>> runs/video-fashion-plateau.log) \
  && DATASET=moving-fashion-mnist CAP=8000 RECIPE="$recipe" experiments/video/plateau.sh \
  >> runs/video-fashion-plateau.log 2>&1
# issue 19: the classification-weighted Fashion-MNIST joint model alone (about 4 h; the baseline and the plain joint
# model are in docs/results.md and zoo/fmnist-joint, and it is compared with them there)
JOINT_CLS=1 experiments/joint/fmnist_plateau.sh >> runs/fmnist-plateau.log 2>&1
echo "queue done $(date)"
