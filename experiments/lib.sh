# Shell helpers the experiment scripts share (source it: `. experiments/lib.sh`).

# last_end RUN: RUN's last "end" event (one JSON line), or nothing when it has none.
last_end() {
  [ -f "$1/metrics.jsonl" ] || return 0
  grep '"event": "end"' "$1/metrics.jsonl" | tail -1 || true
}

# run_finished RUN: true when RUN's last "end" event says it finished — its step count ("steps") or the
# plateau rule ("plateau"). An interrupted run, one cut by train.max_minutes ("time_limit") or by a
# stop_after, and a run that never started are not finished: the scripts resume them.
run_finished() {
  last_end "$1" | grep -Eq '"reason": "(steps|plateau)"'
}

# train_run RUN PRESET [KEY=VALUE ...]: train RUN from PRESET with the overrides; when RUN already has
# checkpoints and has not finished, resume it instead (the saved config is kept), and when it has
# finished, leave it. A script built from these continues where the last session stopped.
train_run() {
  local run=$1 preset=$2
  shift 2
  if [ ! -d "$run/checkpoints" ]; then
    "${U:-.venv/bin/unmask}" train "$preset" "$@" --out "$run" --no-progress
  elif ! run_finished "$run"; then
    "${U:-.venv/bin/unmask}" train --out "$run" --resume --no-progress
  fi
}
