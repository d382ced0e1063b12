"""unmask train: a model from a preset and overrides (``--resume`` continues a run)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ._common import EXIT_INTERRUPTED, UsageError, add_progress_flag, run_config, train_report


def register(sub: Any) -> None:
    t = sub.add_parser("train", help="train a model (default preset: class-conditional ITM on digits)")
    t.add_argument(
        "items", nargs="*", metavar="[PRESET] [section.key=value]", help="a preset name or YAML file, then overrides"
    )
    t.add_argument("--out", required=True, help="run directory")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    t.add_argument(
        "--stop-after",
        dest="stop_after",
        type=int,
        default=None,
        metavar="STEP",
        help="stop with a checkpoint at step STEP (reason stop_after), as an interruption would; --resume goes on "
        "to train.steps with the same learning-rate schedule (e.g. a check between the first steps and the rest)",
    )
    add_progress_flag(t, help="progress bar (default: on a terminal)")
    t.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from ..config import Config, load_config
    from ..training import train

    if args.stop_after is not None and args.stop_after < 1:
        raise UsageError(f"--stop-after must be a step >= 1, got {args.stop_after}")
    config = run_config(args, Config, load_config)
    result = train(config, args.out, resume=args.resume, progress=args.progress, stop_after=args.stop_after)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 reports for the job
        return 0
    checkpoint = str(result.checkpoint) if result.checkpoint else None
    plateau = {"plateau": result.plateau["reason"]} if result.plateau else {}
    # the loss is null when no step ran (--resume of a finished run)
    print(train_report(result, checkpoint=checkpoint, reason=result.reason, **plateau))
    # an interrupted run is not a finished one: `unmask train … && unmask sample …` must not go on to sample it
    return EXIT_INTERRUPTED if result.reason == "interrupted" else 0
