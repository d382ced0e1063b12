"""Held-out evaluation at a checkpoint: the objective's loss and accuracy, the likelihood bound,
per-stream figures of multi-stream models, and the plateau criterion on the logged losses."""

from __future__ import annotations

import math
from contextlib import nullcontext
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor

from ..config import Config
from ..data import StreamDataset, batch_indices, index_streams
from ..interpolants import sample_times
from ..losses import LossOutput, Objective
from ..models import Transformer
from .batches import AnyDataset
from .families import family_for
from .plateau import PlateauCheck, check_plateau, eval_history

__all__ = ["evaluate", "checkpoint_evaluation", "plateau_check", "stream_stats", "stream_record"]


@torch.no_grad()
def evaluate(
    model: Any,
    dataset: AnyDataset,
    config: Config,
    objective: Objective,
    device: torch.device,
    amp: torch.dtype | None,
) -> dict[str, float]:
    """Held-out loss, accuracy and likelihood bound on fixed batches (same t and masks every time).

    ``eval_loss`` / ``eval_accuracy`` are the training objective's; ``eval_nll`` is the
    negative ELBO (masked and sub-token models) or the exact NLL (causal models) in nats
    per token, with t stratified over [0, 1], and ``eval_bits_per_token`` the same in bits.
    Multi-stream models add ``eval_loss_<stream>`` / ``eval_accuracy_<stream>``.
    """
    batches = config.train.eval_batches
    if batches == 0 or len(dataset) == 0:
        return {}
    model.eval()
    gen = torch.Generator(device=device).manual_seed(12345)
    bound_gen = torch.Generator(device=device).manual_seed(54321)
    bs = min(config.train.batch_size, len(dataset))
    losses, accs, nll = [], [], []
    names = family_for(config).stream_names(dataset)
    per_stream = torch.zeros(len(names), 3, device=device)
    tokens: Any = (
        {k: v.to(device) for k, v in dataset.streams.items()}
        if isinstance(dataset, StreamDataset)
        else dataset.tokens.to(device)
    )
    labels = dataset.labels.to(device) if (dataset.labels is not None and model.num_classes > 0) else None
    ctx = torch.autocast(device.type, dtype=amp) if amp is not None else nullcontext()
    for i in range(batches):
        idx = batch_indices(len(dataset), bs, i, seed=777).to(device)
        x1 = index_streams(tokens, idx) if names else tokens[idx]
        t = sample_times(bs, eps=config.loss.eps, generator=gen, device=device)
        target = objective.corrupt(x1, t, gen)
        y = labels[idx] if labels is not None else None
        with ctx:
            logits = objective.predict(model, target, y)
        out = objective.loss(logits, target)
        losses.append(out.loss.item())
        accs.append(out.accuracy.item())
        if names:
            per_stream += stream_stats(out, names) * torch.tensor([1 / batches, 1, 1], device=device)
        with ctx:
            nll.append(objective.nll_bound(model, x1, y, bound_gen).float().mean().item())
    nats = sum(nll) / len(nll)
    return {
        "eval_loss": sum(losses) / len(losses),
        "eval_accuracy": sum(accs) / len(accs),
        "eval_nll": nats,
        "eval_bits_per_token": nats / math.log(2),
        **stream_record(per_stream, names, prefix="eval_"),
    }


def checkpoint_evaluation(
    model: Any,
    test_set: AnyDataset,
    config: Config,
    objective: Objective,
    device: torch.device,
    amp: torch.dtype | None,
    run_dir: Path,
    step: int,
) -> tuple[dict[str, Any], PlateauCheck | None]:
    """The held-out part of checkpoint ``step``'s record, and the plateau criterion's check.

    ``model`` (the EMA weights) is scored by ``evaluate`` on ``test_set`` as its model family
    scores held-out data (``ModelFamily.scored_model``: a text model bound to the split's
    captions). With ``train.until_plateau`` the record gains ``plateau``
    (the check on the logged losses and this one); the check is None otherwise.
    """
    scored = family_for(config).scored_model(model, test_set, config)
    record: dict[str, Any] = evaluate(cast(Transformer, scored), test_set, config, objective, device, amp)
    check = None
    if config.train.until_plateau and "eval_loss" in record:
        check = plateau_check(config, run_dir, step, record["eval_loss"])
        assert check is not None  # the loss at ``step`` was just given
        record["plateau"] = check.to_dict()
    return record, check


def plateau_check(config: Config, run_dir: Path, step: int, loss: float | None = None) -> PlateauCheck | None:
    """The plateau criterion at ``step`` from the run's logged held-out losses (``loss``: the one just
    measured at ``step``, not logged yet); None when no held-out loss exists at ``step``."""
    tc = config.train
    history = [(s, v) for s, v in eval_history(run_dir / "metrics.jsonl", up_to=step) if loss is None or s < step]
    if loss is not None:
        history.append((step, loss))
    if step not in dict(history):
        return None
    return check_plateau(
        history,
        step,
        tol=tc.plateau_tol,
        window=tc.plateau_window,
        min_steps=tc.plateau_min_steps,
        smooth=tc.plateau_smooth,
    )


def stream_stats(out: LossOutput, names: list[str]) -> Tensor:
    """(S, 3) per stream: its loss term over the whole batch (total / its global count), Σ correct, Σ scored.

    Summed over micro-batches and ranks these give each stream's masked-mean loss and accuracy.
    """
    assert out.streams is not None
    rows = []
    for name in names:
        o = out.streams[name]
        assert o.total is not None and o.count is not None and o.correct is not None
        rows.append(torch.stack([(o.total / o.count).detach().float(), o.correct.float(), o.selected.sum().float()]))
    return torch.stack(rows)


def stream_record(per_stream: Tensor, names: list[str], prefix: str = "") -> dict[str, float]:
    """``loss_<stream>`` and ``accuracy_<stream>`` (on masked positions) from ``stream_stats`` sums."""
    record: dict[str, float] = {}
    for i, name in enumerate(names):
        scored = float(per_stream[i, 2])
        record[f"{prefix}loss_{name}"] = float(per_stream[i, 0])
        record[f"{prefix}accuracy_{name}"] = float(per_stream[i, 1]) / scored if scored > 0 else float("nan")
    return record
