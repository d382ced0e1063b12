# Shell helpers the experiment scripts share (source it: `. experiments/lib.sh`).

# last_end RUN: RUN's last "end" event (one JSON line), or nothing when it has none.
last_end() {
  [ -f "$1/metrics.jsonl" ] || return 0
  grep '"event": "end"' "$1/metrics.jsonl" | tail -1 || true
}

# last_step RUN: the step of RUN's last "end" event (nothing when it has none).
last_step() {
  last_end "$1" | sed -E 's/.*"step": ([0-9]+).*/\1/'
}

# run_finished RUN: true when RUN's last "end" event says it finished — its step count ("steps") or the
# plateau rule ("plateau"). An interrupted run, one cut by train.max_minutes ("time_limit") or by a
# stop_after, and a run that never started are not finished: the scripts resume them.
run_finished() {
  last_end "$1" | grep -Eq '"reason": "(steps|plateau)"'
}

# train_run RUN PRESET [KEY=VALUE ...]: train RUN from PRESET with the overrides; when RUN already has
# checkpoints and has not finished, resume it instead (the saved config is kept), and when it has
# finished, leave it. A script built from these continues where the last session stopped. An interrupted
# `unmask train` exits 130, so a script under `set -e` stops there and never scores a half-trained run.
train_run() {
  local run=$1 preset=$2
  shift 2
  if [ ! -d "$run/checkpoints" ]; then
    "${U:-.venv/bin/unmask}" train "$preset" "$@" --out "$run" --no-progress
  elif ! run_finished "$run"; then
    "${U:-.venv/bin/unmask}" train --out "$run" --resume --no-progress
  fi
}

# extend_run RUN CAP KEY=VALUE...: when RUN's last segment ended on its step count at CAP (not the plateau
# rule), resume it with the overrides of the next segment (e.g. a larger train.steps with optim.decay_steps
# pinned at CAP: a tail at the cosine's final rate). A run that is already past CAP, stopped by the rule, or
# interrupted is left to train_run / the next segment.
extend_run() {
  local run=$1 cap=$2
  shift 2
  if last_end "$run" | grep -q "\"step\": $cap, .*\"reason\": \"steps\""; then
    "${U:-.venv/bin/unmask}" train --out "$run" --resume "$@" --no-progress
  fi
}


# The plateau scripts of issues 19, 20 and 22 started after 2026-12-07 pass train.plateau_smooth=3: the rule compares
# means of 3 evaluations at each end of its window (one lucky evaluation stopped a falling joint run: docs/results.md).
# fmnist_plateau.sh keeps the single-point rule its baseline was stopped by.

# plateau_setup DEFAULT_OUT: the common head of the plateau scripts (after `. experiments/lib.sh`): U and py (the
# project's unmask and python unless set), both threads, OUT (default DEFAULT_OUT) created and the commit appended to
# OUT/commits.txt, CAP (default 20,000: the cosine's cap) and EXTRA (more overrides for every run, e.g. a smoke
# test's train.ckpt_every).
plateau_setup() {
  U=${U:-.venv/bin/unmask}
  py=${PY:-.venv/bin/python}
  export OMP_NUM_THREADS=2
  OUT=${OUT:-$1}
  CAP=${CAP:-20000}
  EXTRA=${EXTRA:-}
  mkdir -p "$OUT"
  git rev-parse HEAD >> "$OUT/commits.txt"
}

# plateau_tail RUN: when RUN's cosine ended at CAP without levelling off, go on at its final rate (the decay
# pinned at CAP: no warm restart) until the plateau rule holds, at most to TAIL steps (default 2 x CAP). A tail
# that itself ended on its step count (reason "steps", at or past CAP) goes on the same way when TAIL is raised,
# e.g. TAIL=32000 for a run of CAP=8000 that ran its first tail to 16,000 unlevelled.
plateau_tail() {
  local run=$1 tail=${TAIL:-$((2 * CAP))} step
  last_end "$run" | grep -q '"reason": "steps"' || return 0
  step=$(last_step "$run")
  if [ "$step" -ge "$CAP" ] && [ "$step" -lt "$tail" ]; then
    "${U:-.venv/bin/unmask}" train --out "$run" --resume "train.steps=$tail" "optim.decay_steps=$CAP" \
      "train.plateau_min_steps=$CAP" --no-progress
  fi
}
