"""Training FLOPs of a run: what one optimiser step costs, counted rather than estimated.

Comparisons "at equal training compute" (MDM vs MDM-Prime vs an autoregressive model, pixels vs
VQ codes) need the cost of a step of each. ``training_step_flops`` builds the run's model, data and
objective as ``unmask train`` does, draws its first global batch, corrupts it with the run's
objective and counts the FLOPs of the forward pass, the loss and the backward pass with
``torch.utils.flop_counter.FlopCounterMode``: matrix multiplications and attention, the usual
convention of FLOP budgets (elementwise work, the optimiser and the EMA are not counted). The
count depends on the config only (shapes, not values), so it is the cost of every step of the run.

On the CPU, ``scaled_dot_product_attention`` runs as ``_scaled_dot_product_flash_attention_for_cpu``,
an op torch's counter has no formula for (torch 2.13): counted as is, attention would be missing
from every CPU count. ``flop_counter`` gives it (and its backward) the formulas torch uses for the
GPU attention kernels: 2·s_q·s_k·d for the scores and as much for the values, the whole matrix even
when the attention is causal (the usual convention; a causal kernel may skip half).

    flops = training_step_flops(load_config("kjv"))          # 9.11e9 (patch 4, batch 32 × 128 bytes)
    curve_x = [step * flops for step, *_ in curve.held_out]  # held-out loss against training FLOPs
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from ..config import Config
from .batches import load_training_data, training_batches
from .factories import build_model, objective_for
from .step import corrupt_batch

__all__ = ["flop_counter_mode", "training_step_flops"]


def _attention(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, **kwargs: Any) -> int:
    """Forward attention FLOPs from the shapes of (query, key, value), each (B, heads, S, D)."""
    return int(flop_counter.sdpa_flop_count(query_shape, key_shape, value_shape))


def _attention_backward(
    grad_out_shape: Any, query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, **kwargs: Any
) -> int:
    """Backward attention FLOPs (scores recomputed, gradients of scores, values, queries and keys)."""
    return int(flop_counter.sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape))


def _cpu_attention_formulas() -> dict[Any, Any]:
    """The CPU flash-attention ops (forward, backward) → torch's own SDPA formulas, for the ops this
    torch has and its counter does not already know. The counter passes tensor shapes (its
    ``shape_wrapper``), in the ops' argument order: (query, key, value, …) and (grad_out, query, key,
    value, …)."""
    aten = torch.ops.aten
    pairs = (
        ("_scaled_dot_product_flash_attention_for_cpu", _attention),
        ("_scaled_dot_product_flash_attention_for_cpu_backward", _attention_backward),
    )
    known = flop_counter.flop_registry
    out = {}
    for name, formula in pairs:
        op = getattr(aten, name, None)
        if op is not None and op not in known and op.default not in known:
            out[op] = formula
    return out


def flop_counter_mode() -> FlopCounterMode:
    """A ``FlopCounterMode`` (display off) that also counts attention on the CPU (see the module doc)."""
    return FlopCounterMode(display=False, custom_mapping=_cpu_attention_formulas())


def training_step_flops(config: Config) -> int:
    """FLOPs of one training step of ``config`` (forward, loss and backward of the global batch).

    Args:
        config: a run config (``load_config`` or a run's ``config.json``); its data must be available,
            as for training (shards for models on VQ codes).

    Returns:
        The count (an int ≥ 1): matmuls and attention, forward and backward, the whole global batch
        of ``train.batch_size`` samples (gradient accumulation and data parallelism split the same work).

    Raises:
        ConfigError, TokenizerError: an invalid config or missing data (shards, tokenizer), as
            ``unmask train`` reports them.
    """
    config.resolve().validate()
    device = torch.device("cpu")
    dataset, _ = load_training_data(config)
    torch.manual_seed(config.train.seed)
    model = build_model(config, dataset).train()
    objective = objective_for(config, dataset)
    gen = torch.Generator().manual_seed(config.train.seed)
    x1, labels = next(iter(training_batches(dataset, config, 0, 1, device)))
    corrupted, y = corrupt_batch(objective, x1, labels, model, config, gen, device)
    with flop_counter_mode() as counter:
        out = objective.loss(objective.predict(model, corrupted, y), corrupted)
        out.loss.backward()
    return max(int(counter.get_total_flops()), 1)
