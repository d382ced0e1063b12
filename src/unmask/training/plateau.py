"""When a run has reached its plateau: the criterion of ``train.until_plateau``.

The project reads results from models at their plateau: **the held-out loss improved by less
than ``tol`` (1%) over the last ``window`` (a quarter) of the steps**. With
``train.until_plateau=true`` the trainer checks this at every checkpoint, from the held-out losses
it has logged, and stops with that checkpoint as the final one once it holds — early stopping as
Lightning's / Keras's ``EarlyStopping`` does it, with the criterion stated in steps rather than
in a count of evaluations, so that it reads the same whatever ``train.ckpt_every`` is.

At step s the reference is the latest evaluation at or before (1 − window) · s; when the
evaluations are sparse that makes the window longer than asked, never shorter (a stricter test).
Nothing is decided before ``min_steps`` steps, nor before an evaluation at or before
(1 − window) · s exists.

With ``smooth`` = k > 1 the loss at each end of the window is the mean of the k evaluations ending
there (at the reference and at s), so one lucky evaluation cannot make a still-falling curve look
flat: a run of Fashion-MNIST's joint model was stopped by the single-point rule at step 22,000 of a
30,000-step cosine (+0.55% against a low reading at step 16,500), and its held-out loss then fell
another 3.2% by the end of the cosine (docs/results.md). With fewer than k evaluations at or before the
reference nothing is decided yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .._checks import is_int

__all__ = ["PlateauCheck", "check_plateau", "eval_history", "metrics_records", "plateau_stop_rule"]


@dataclass(frozen=True)
class PlateauCheck:
    """One check of the criterion at ``step``.

    Attributes:
        step: the step checked, and its held-out ``loss``.
        ref_step, ref_loss: the reference evaluation (None when there is none yet).
        improvement: (ref_loss − loss) / |ref_loss| (None without a reference).
        reached: whether the run is at its plateau.
        reason: why not (or why), in words.
    """

    step: int
    loss: float
    ref_step: int | None
    ref_loss: float | None
    improvement: float | None
    reached: bool
    reason: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_plateau(
    history: Iterable[tuple[int, float]],
    step: int,
    *,
    tol: float = 0.01,
    window: float = 0.25,
    min_steps: int = 0,
    smooth: int = 1,
) -> PlateauCheck:
    """Whether the held-out losses ``history`` ((step, loss) pairs, any order) are at their plateau at ``step``.

    ``smooth`` (an integer >= 1): the loss at each end of the window is the mean of that many evaluations
    ending there (``loss`` and ``ref_loss`` of the result are those means). ``step`` must be one of the
    history's steps. Raises ``ValueError`` when it is not, when ``tol`` < 0, ``window`` is not in (0, 1),
    or ``smooth`` is not an integer >= 1.
    """
    if tol < 0:
        raise ValueError(f"plateau tolerance must be >= 0, got {tol}")
    if not 0 < window < 1:
        raise ValueError(f"plateau window must be in (0, 1), got {window}")
    if not is_int(smooth) or smooth < 1:
        raise ValueError(f"plateau smoothing must be an integer >= 1 (evaluations averaged), got {smooth!r}")
    losses = dict(history)
    if step not in losses:
        raise ValueError(f"no held-out loss logged at step {step}")
    steps = sorted(losses)

    def mean_to(end: int) -> float:
        """The mean loss of the ``smooth`` evaluations ending at ``end``."""
        i = steps.index(end)
        return sum(losses[s] for s in steps[i + 1 - smooth : i + 1]) / smooth

    cut = (1 - window) * step
    earlier = [s for s in steps if s <= cut]
    if step < min_steps:
        return PlateauCheck(step, losses[step], None, None, None, False, f"before the minimum of {min_steps} steps")
    if len(earlier) < smooth:
        want = "held-out loss" if smooth == 1 else f"{smooth} held-out losses"
        return PlateauCheck(step, losses[step], None, None, None, False, f"no {want} at or before step {cut:g} yet")
    ref = max(earlier)
    loss, ref_loss = mean_to(step), mean_to(ref)
    improvement = (ref_loss - loss) / abs(ref_loss) if ref_loss != 0 else 0.0
    reached = improvement < tol
    verb = "improved" if improvement >= 0 else "changed"
    means = "" if smooth == 1 else f" (means of {smooth} evaluations)"
    reason = (
        f"held-out loss {verb} {improvement:+.2%} from step {ref} ({ref_loss:.5g}) to step {step} ({loss:.5g})"
        f"{means}; {'below' if reached else 'not below'} the {tol:.2%} of a plateau"
    )
    return PlateauCheck(step, loss, ref, ref_loss, improvement, reached, reason)


def metrics_records(metrics_path: str | Path) -> list[dict[str, Any]]:
    """The JSON records of a run's ``metrics.jsonl`` in the order written; ``[]`` when the file does
    not exist. Blank lines and a line cut by a crash are skipped: the records before it stand."""
    path = Path(metrics_path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def eval_history(metrics_path: str | Path, key: str = "eval_loss", up_to: int | None = None) -> list[tuple[int, float]]:
    """The (step, ``key``) of every checkpoint record in a run's ``metrics.jsonl``, the last record
    of each step winning (a resumed run may re-log a step), steps after ``up_to`` left out."""
    found: dict[int, float] = {}
    for record in metrics_records(metrics_path):
        if record.get("event") == "checkpoint" and key in record:
            step = int(record["step"])
            if up_to is None or step <= up_to:
                found[step] = float(record[key])
    return sorted(found.items())


def plateau_stop_rule(
    min_steps: int = 0, *, tol: float = 0.01, window: float = 0.25, smooth: int = 1
) -> Callable[[list[tuple[int, float]], int], tuple[bool, str]]:
    """The criterion as a stopping rule for loops outside the trainer (e.g. the U-Net segmenter's
    ``stop``): ``rule(history, step)`` → (at the plateau, why), on (step, held-out loss) pairs."""

    def rule(history: list[tuple[int, float]], step: int) -> tuple[bool, str]:
        check = check_plateau(history, step, tol=tol, window=window, min_steps=min_steps, smooth=smooth)
        return check.reached, check.reason

    return rule
