"""Keep what a result needs to be rebuilt, in the repository: a run's config, commit and learning curve.

`runs/` is not in git and does not always survive from one session to the next (it was lost between
sessions 38 and 39 with every checkpoint in it). A result in docs/results.md is only as good as what
lets a reader rebuild it, so each headline run gets a record, a small directory under docs/records:

* ``config.yaml``: the run's whole config, seed included, headed by the commit(s) it was trained at
  and the command that retrains it (``unmask train docs/records/NAME/config.yaml --out runs/NAME``).
  A run extended by a resume with overrides (a plateau tail) records its final config; the
  ``resume`` events of the curve say where each segment started.
* ``metrics.jsonl``: the run's ``start``/``resume``/``end`` events and every checkpoint's held-out
  evaluation (paths to files outside the record left out), and the training loss of every log (step,
  loss, lr, seconds). ``unmask.training.curves.read_learning_curve`` reads the record as it reads a run,
  so the plateau status and the figures can be rebuilt without the run.
* ``config.json``: the same config, which the curve reader takes the plateau criterion from.

    .venv/bin/python experiments/record.py runs/shapes-seg-disc-plateau runs/shapes-joint-seg-plateau

The commit is read from RUN/commits.txt (the plateau scripts append one per launch) or, failing
that, from ``--commit`` (default: the working copy's HEAD, marked as the commit at recording time).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from unmask._io import atomic_write_text
from unmask.training.curves import read_learning_curve
from unmask.training.plateau import metrics_records

ROOT = Path(__file__).resolve().parents[1]
TRAIN_KEYS = ("step", "loss", "lr", "elapsed_s")
DROP_KEYS = ("path", "samples")


def _commits(run: Path, fallback: str | None) -> tuple[list[str], str]:
    """The commits RUN was trained at and where that came from."""
    # the run's own, or the one its script keeps for all its runs (e.g. runs/video-plateau/{itm,etm})
    for listed, where in ((run / "commits.txt", "of the run"), (run.parent / "commits.txt", "of its script's folder")):
        if listed.is_file():
            found = list(dict.fromkeys(line.strip() for line in listed.read_text().splitlines() if line.strip()))
            if found:
                return found, f"{listed.name} {where}"
    if fallback:
        return [fallback], "given with --commit"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [head.stdout.strip()], "HEAD when the record was written (the run kept no commits.txt)"


def record_events(run: Path) -> list[dict[str, Any]]:
    """The events of RUN's metrics.jsonl a record keeps, in the order written."""
    kept: list[dict[str, Any]] = []
    for rec in metrics_records(run / "metrics.jsonl"):
        event = rec.get("event")
        if event == "train":
            kept.append({"event": "train", **{k: rec[k] for k in TRAIN_KEYS if k in rec}})
        elif event in ("start", "resume", "checkpoint", "end"):
            kept.append({k: v for k, v in rec.items() if k not in DROP_KEYS})
    return kept


def write_record(run: Path, out_root: Path, name: str | None = None, commit: str | None = None) -> Path:
    """Write RUN's record to OUT_ROOT/NAME (NAME defaults to the run directory's name); return it.

    ``FileNotFoundError`` names a run without config.json or metrics.jsonl; ``ValueError`` a run that
    logged no held-out evaluation (nothing a result could rest on)."""
    for needed in ("config.json", "metrics.jsonl"):
        if not (run / needed).is_file():
            raise FileNotFoundError(f"{str(run / needed)!r} does not exist: is {str(run)!r} a training run?")
    events = record_events(run)
    if not any(e["event"] == "checkpoint" and "eval_loss" in e for e in events):
        raise ValueError(f"run {str(run)!r} has no held-out evaluation to record")
    config = json.loads((run / "config.json").read_text())
    commits, source = _commits(run, commit)
    dest = out_root / (name or run.name)
    dest.mkdir(parents=True, exist_ok=True)
    header = [
        f"# The config of {run}, recorded by experiments/record.py.",
        f"# Trained at commit(s) {', '.join(commits)} ({source}).",
        f"# Retrain: unmask train {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}/config.yaml "
        f"--out runs/{dest.name}",
        "",
    ]
    atomic_write_text(dest / "config.yaml", "\n".join(header) + yaml.safe_dump(config, sort_keys=True))
    atomic_write_text(dest / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
    atomic_write_text(dest / "metrics.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    return dest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run directories")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "records", help="where the records go")
    ap.add_argument("--commit", default=None, help="the commit of runs that kept no commits.txt")
    ap.add_argument("--name", default=None, help="the record's name (one run only; default: the run's folder name)")
    args = ap.parse_args(argv)
    if args.name is not None and len(args.runs) != 1:
        ap.error(f"--name names one record, got {len(args.runs)} runs")
    for run in args.runs:
        dest = write_record(run, args.out, name=args.name, commit=args.commit)
        status = read_learning_curve(dest).status()
        print(f"{dest}: {status.reason}")


if __name__ == "__main__":
    main()
