"""The arithmetic of one training step, which ``loop`` repeats: the corrupted global batch, and
the gradient of its loss from this rank's micro-batches, through DDP and ``torch.compile``.

Every rank corrupts the whole global batch with the run's one generator and keeps its slices
(``DistContext.batch_slices``); each micro-batch's loss terms are divided by the global batch's
normaliser, so the summed gradient is the whole batch's whatever the world size and
``train.grad_accum`` (see ``unmask.training.distributed``).
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from typing import Any, cast

import torch
from torch import Tensor

from ..config import Config
from ..interpolants import sample_times
from ..losses import Objective, slice_batch
from ..models import Transformer
from .evaluate import stream_stats

__all__ = ["training_forward", "corrupt_batch", "backward"]


def corrupt_batch(
    objective: Objective,
    x1: Any,
    labels: Tensor | None,
    model: Any,
    config: Config,
    gen: torch.Generator,
    device: torch.device,
) -> tuple[Any, Tensor | None]:
    """The global batch ``x1`` (B, …) corrupted at times t ~ U[eps, 1] (stratified with
    ``loss.stratified``, through ``loss.time_power``), and its labels (B,) with each replaced by
    the null label with probability ``train.p_uncond`` (None for an unconditional model). Draws
    from ``gen`` in that order."""
    tc = config.train
    t = sample_times(
        tc.batch_size,
        eps=config.loss.eps,
        stratified=config.loss.stratified,
        power=config.loss.time_power,
        generator=gen,
        device=device,
    )
    corrupted = objective.corrupt(x1, t, gen)
    y = None
    if model.num_classes > 0:
        assert labels is not None
        y = labels
        drop = torch.rand(tc.batch_size, generator=gen, device=device) < tc.p_uncond
        y = torch.where(drop, torch.full_like(y, model.null_label), y)
    return corrupted, y


def backward(
    objective: Objective,
    forward: Any,
    ddp: Any,
    corrupted: Any,
    y: Tensor | None,
    parts: list[slice],
    norm: Tensor,
    world: int,
    amp: torch.dtype | None,
    stream_names: list[str],
) -> tuple[Tensor, Tensor]:
    """Accumulate the gradient of this rank's ``parts`` of the ``corrupted`` global batch.

    Each micro-batch's loss terms are divided by ``norm`` (the global batch's ``objective.count``)
    and multiplied by ``world`` (DDP averages over ranks), so the gradients sum to the global
    batch's; DDP all-reduces at the last micro-batch only. Returns this rank's sums: (3,) of
    weighted loss terms, correct and scored positions, and (S, 3) the same per stream.
    """
    device = norm.device
    stats = torch.zeros(3, device=device)  # Σ weighted loss terms, Σ correct, Σ scored
    per_stream = torch.zeros(len(stream_names), 3, device=device)  # the same per stream
    for j, part in enumerate(parts):
        last = j == len(parts) - 1
        sync = ddp.no_sync() if (ddp is not None and not last) else nullcontext()
        with sync:
            piece = slice_batch(corrupted, part)
            with torch.autocast(device.type, dtype=amp) if amp is not None else nullcontext():
                logits = objective.predict(forward, piece, None if y is None else y[part])
            out = objective.loss(logits, piece)
            assert out.total is not None and out.correct is not None
            # DDP averages gradients over ranks: × world makes it the global sum / norm
            (out.total / norm * world).backward()
        stats += torch.stack([out.total.detach().float(), out.correct.float(), out.selected.sum().float()])
        if stream_names:
            per_stream += stream_stats(out, stream_names)
    return stats, per_stream


def training_forward(model: Any, device: torch.device, distributed: bool, compile: bool) -> tuple[Any, Any]:
    """(ddp, forward) for the loop: ``ddp`` the model's ``DistributedDataParallel`` wrapper in a
    data-parallel run (None otherwise: the loop uses its ``no_sync``), ``forward`` the model's
    attributes with calls going through DDP and, with ``compile``, ``torch.compile``."""
    ddp: Any = None
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return ddp, _Forward(model, _compiled(ddp if ddp is not None else model, compile))


class _Forward:
    """The model's attributes, called through its DDP wrapper (gradient all-reduce) when there is one."""

    def __init__(self, model: Transformer, wrapped: Any) -> None:
        self._model, self._wrapped = model, wrapped

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __call__(self, *args: Any) -> Tensor:
        return cast(Tensor, self._wrapped(*args))


def _compiled(module: torch.nn.Module, enabled: bool) -> Any:
    """``torch.compile(module)`` when asked and available, falling back to eager on failure.

    The first call compiles; if compilation fails (no C++ toolchain, an unsupported op or
    platform) a warning names the error and that call and all later ones run eagerly.
    """
    if not enabled:
        return module
    try:
        compiled = torch.compile(module)
    except Exception as err:  # noqa: BLE001 - any failure means: run eagerly
        warnings.warn(f"train.compile=true but torch.compile is unavailable ({err}); training eagerly", stacklevel=2)
        return module
    state = {"ok": True}

    def call(*args: Any) -> Any:
        if state["ok"]:
            try:
                return compiled(*args)
            except Exception as err:  # noqa: BLE001
                state["ok"] = False
                warnings.warn(f"torch.compile failed ({type(err).__name__}: {err}); training eagerly", stacklevel=2)
        return module(*args)

    return call
