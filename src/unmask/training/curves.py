"""A run's learning curve, read from its ``metrics.jsonl``: training loss per log, held-out loss per
checkpoint, where the run stands against the plateau criterion, and a figure of it.

A result is read from a model at its plateau (``unmask.training.plateau``: the held-out loss
improved < 1% over the last quarter of the steps). The figure shows the evidence: the held-out
curve, the window of the last quarter shaded, and the improvement over it written in the legend.

    curve = read_learning_curve("runs/fmnist-plateau")
    curve.status().reason          # "held-out loss improved +0.64% from step 2000 … below the 1.00% …"
    plot_learning_curves({"fmnist": curve}, "docs/fmnist_curve.png", x="seconds")
    # runs of different cost per step, at equal compute (``unmask.training.flops``)
    flops = {name: training_step_flops(configs[name]) for name in curves}
    plot_learning_curves(curves, "curves.png", x="flops", flops_per_step=flops)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .plateau import PlateauCheck, check_plateau, metrics_records

__all__ = [
    "LearningCurve",
    "RunSummary",
    "plot_learning_curves",
    "read_learning_curve",
    "read_run_events",
    "read_run_summary",
]

XAxis = Literal["step", "seconds", "flops"]


@dataclass(frozen=True)
class LearningCurve:
    """What a run logged.

    Attributes:
        run: the run directory.
        train: (step, training loss, training seconds) of every ``train`` record, ascending in step.
        held_out: (step, held-out loss, training seconds) of every checkpoint evaluation, ascending;
            a step logged twice (a resumed run) keeps its last record.
        end_reason: why the run ended (``"steps"``, ``"plateau"``, …), None while it is running
            or after an interruption.
        tol, window, smooth: the plateau criterion of the run's config (1% over the last quarter,
            single evaluations, unless the run set ``train.plateau_tol`` / ``plateau_window`` /
            ``plateau_smooth``).
    """

    run: Path
    train: list[tuple[int, float, float]]
    held_out: list[tuple[int, float, float]]
    end_reason: str | None
    tol: float = 0.01
    window: float = 0.25
    smooth: int = 1

    def status(self) -> PlateauCheck:
        """The plateau criterion at the last held-out evaluation. ``ValueError`` when there is none."""
        if not self.held_out:
            raise ValueError(f"run {str(self.run)!r} has no held-out evaluation (train.eval_batches = 0?)")
        history = [(s, loss) for s, loss, _ in self.held_out]
        return check_plateau(history, history[-1][0], tol=self.tol, window=self.window, smooth=self.smooth)


def read_run_events(run: str | Path, event: str) -> list[dict[str, Any]]:
    """Every record of one ``event`` (``"start"``, ``"resume"``, ``"train"``, ``"checkpoint"``,
    ``"end"``) in ``run``'s ``metrics.jsonl``, in the order written; ``[]`` when the run has no
    metrics file yet (a report over runs that may not have started)."""
    return [r for r in metrics_records(Path(run) / "metrics.jsonl") if r.get("event") == event]


@dataclass(frozen=True)
class RunSummary:
    """How far a run got, over all its segments (a resumed run logs one ``end`` per segment).

    Attributes:
        run: the run directory.
        step: the step of the last ``end`` event; None when no segment has ended.
        reason: why the last segment ended (``"steps"``, ``"plateau"``, ``"interrupted"``, …).
        seconds: wall seconds of training, summed over the ended segments (each ``end`` event
            carries its own segment's seconds).
        segments: how many segments ended.
        parameters: the model's parameter count from the first ``start`` event, if logged.
    """

    run: Path
    step: int | None
    reason: str | None
    seconds: float
    segments: int
    parameters: int | None

    @property
    def hours(self) -> float:
        return self.seconds / 3600

    def describe(self) -> str:
        """``"step 14,454 (interrupted), 1.23 h of training"``, or ``"not trained"``."""
        if self.step is None:
            return "not trained"
        return f"step {self.step:,} ({self.reason or '?'}), {self.hours:.2f} h of training"


def read_run_summary(run: str | Path) -> RunSummary:
    """The :class:`RunSummary` of ``run``; a run without a metrics file is "not trained"."""
    records = metrics_records(Path(run) / "metrics.jsonl")  # read once
    ends = [r for r in records if r.get("event") == "end"]
    starts = [r for r in records if r.get("event") == "start"]
    params = starts[0].get("parameters") if starts else None
    return RunSummary(
        run=Path(run),
        step=int(ends[-1]["step"]) if ends else None,
        reason=str(ends[-1]["reason"]) if ends and ends[-1].get("reason") is not None else None,
        seconds=sum(float(r.get("seconds", 0.0)) for r in ends),
        segments=len(ends),
        parameters=int(params) if params is not None else None,
    )


def read_learning_curve(run: str | Path) -> LearningCurve:
    """The learning curve of ``run`` (a run directory holding ``metrics.jsonl``).

    ``FileNotFoundError`` names the missing file. Lines cut by a crash are skipped; the records
    before them stand.
    """
    root = Path(run)
    path = root / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist: is {str(root)!r} a training run?")
    train: dict[int, tuple[float, float]] = {}
    held: dict[int, tuple[float, float]] = {}
    end: str | None = None
    for rec in metrics_records(path):
        event = rec.get("event")
        if event == "train" and "loss" in rec:
            train[int(rec["step"])] = (float(rec["loss"]), float(rec.get("elapsed_s", math.nan)))
        elif event == "checkpoint" and "eval_loss" in rec:
            held[int(rec["step"])] = (float(rec["eval_loss"]), float(rec.get("train_s", math.nan)))
        elif event == "end":
            end = str(rec.get("reason"))
        elif event in ("start", "resume"):
            end = None
    tol, window, smooth = 0.01, 0.25, 1
    cfg_path = root / "config.json"
    if cfg_path.is_file():
        cfg = json.loads(cfg_path.read_text()).get("train", {})
        tol = float(cfg.get("plateau_tol", tol))
        window = float(cfg.get("plateau_window", window))
        smooth = int(cfg.get("plateau_smooth", smooth))
    return LearningCurve(
        run=root,
        train=[(s, *train[s]) for s in sorted(train)],
        held_out=[(s, *held[s]) for s in sorted(held)],
        end_reason=end,
        tol=tol,
        window=window,
        smooth=smooth,
    )


def _smooth(values: list[float], span: int) -> list[float]:
    """Exponential moving average with the bias correction of Adam (no lag at the start)."""
    beta = 1 - 2 / (span + 1)
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta**i))
    return out


def plot_learning_curves(
    curves: Mapping[str, LearningCurve],
    path: str | Path,
    *,
    x: XAxis = "step",
    title: str | None = None,
    train: bool = True,
    flops_per_step: Mapping[str, float] | None = None,
) -> Path:
    """Draw held-out loss (markers) and smoothed training loss (thin line) of each curve against
    steps, training seconds or training FLOPs into a PNG, with each run's last-quarter window shaded
    and its plateau status in the legend. Returns the path written (atomically).

    ``x="flops"`` needs ``flops_per_step``: each curve's FLOPs per training step
    (``unmask.training.flops.training_step_flops``), keyed like ``curves``.

    ``ValueError`` for an unknown ``x``, no curves, a curve with no held-out evaluation, or
    ``x="flops"`` without a positive FLOP count for every curve.
    """
    if x not in ("step", "seconds", "flops"):
        raise ValueError(f"x must be 'step', 'seconds' or 'flops', got {x!r}")
    if not curves:
        raise ValueError("no learning curves to plot")
    scale = {name: 1.0 for name in curves}  # x = the step or seconds column × scale (FLOPs per step)
    if x == "flops":
        missing = [n for n in curves if not (flops_per_step and flops_per_step.get(n, 0) > 0)]
        if missing:
            raise ValueError(
                f"x='flops' needs a positive flops_per_step for every curve; missing: {', '.join(missing)}"
            )
        assert flops_per_step is not None
        scale = {name: float(flops_per_step[name]) for name in curves}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .._io import atomic_write_bytes

    col = 2 if x == "seconds" else 0  # flops: the step column, scaled per curve
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    smoothed_tail: list[float] = []  # the smoothed training loss after its first quarter sets the y range too
    for i, (name, curve) in enumerate(curves.items()):
        color = f"C{i}"
        check = curve.status()
        if train and curve.train:
            xs = [r[col] * scale[name] for r in curve.train]
            smooth = _smooth([r[1] for r in curve.train], 10)
            smoothed_tail += smooth[len(smooth) // 4 :]
            ax.plot(xs, smooth, color=color, lw=0.8, alpha=0.45)
        xs = [r[col] * scale[name] for r in curve.held_out]
        ys = [r[1] for r in curve.held_out]
        if check.improvement is None:
            status = check.reason
        else:
            verdict = "plateau" if check.reached else "not at plateau"
            status = f"{verdict}: {check.improvement:+.2%} over the last {curve.window:.0%}"
        ax.plot(xs, ys, "o-", color=color, ms=3.5, lw=1.4, label=f"{name} — {status}")
        if check.ref_step is not None:
            ref = next(xv for xv, r in zip(xs, curve.held_out, strict=True) if r[0] == check.ref_step)
            ax.axvspan(ref, xs[-1], color=color, alpha=0.08)
    ax.set_xlabel(
        {
            "step": "training step",
            "seconds": "training seconds (checkpoints and evaluations excluded)",
            "flops": "training FLOPs (matmuls and attention, forward and backward)",
        }[x]
    )
    ax.set_ylabel("loss (nats per masked token)")
    ax.set_title(title or "held-out loss (markers), training loss smoothed (thin)")
    ax.grid(alpha=0.3)
    held = [r[1] for c in curves.values() for r in c.held_out]
    lo, hi = min(held + smoothed_tail), max(held)
    ax.set_ylim(lo - 0.05 * (hi - lo + 1e-9), hi + 0.6 * (hi - lo + 1e-9))
    ax.legend(fontsize=7.5, loc="upper right")
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, buf.getvalue())
    return out
