# Shell helpers the experiment scripts share (source it: `. experiments/lib.sh`).

# run_finished RUN: true when RUN's last "end" event says it finished — its step count ("steps") or the
# plateau rule ("plateau"). An interrupted run, one cut by train.max_minutes ("time_limit") or by a
# stop_after, and a run that never started are not finished: the scripts resume them.
run_finished() {
  [ -f "$1/metrics.jsonl" ] &&
    grep '"event": "end"' "$1/metrics.jsonl" | tail -1 | grep -Eq '"reason": "(steps|plateau)"'
}
