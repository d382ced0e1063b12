"""The edit run of image and video plans: ``edit`` draws K completions of each planned image or clip
from its starting state (the given tokens, [MASK] in the region) with any sampler, and returns them as
an ``EditResult`` with the region, so callers can check that no given token changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import UserError
from ..samplers.continuation import edit_init
from .joint import JointEditPlan
from .plan import EditPlan


@dataclass
class EditResult:
    """K completions of each edited image: tokens (N·K, *grid), decoded images, which image each comes
    from, and the region (N·K, *grid) that was regenerated (everything else was given)."""

    tokens: Tensor
    images: np.ndarray
    source: Tensor
    region: Tensor
    nfe: int


@torch.no_grad()
def edit(
    model: Any,
    tokenizer: Any,
    sampler: Any,
    plan: EditPlan,
    *,
    samples: int = 1,
    labels: list[int] | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> EditResult:
    """Regenerate ``plan.region`` of every image (or clip) ``samples`` times with ``sampler`` (labels: one per
    image, for a class-conditional model; CFG as the sampler says). Given tokens come back unchanged.

    The result depends only on (model, sampler, starting state, labels, seed): a continuation plan
    (``plan_video_edit`` of frames K … T − 1) draws what ``unmask.inference.generate`` draws from
    the same clips' first K frames with the same seed. A ``JointEditPlan`` is refused: use ``edit_streams``.
    """
    if isinstance(plan, JointEditPlan):
        raise UserError("a joint edit plan is drawn with edit_streams, not edit")
    if samples < 1:
        raise UserError(f"samples must be >= 1, got {samples}")
    n = plan.tokens.shape[0]
    x = edit_init(plan.tokens, plan.region, model.vocab_size).repeat_interleave(samples, dim=0).to(device)
    lab = None
    if labels is not None:
        if len(labels) != n:
            raise UserError(f"{len(labels)} labels for {n} images")
        if model.num_classes == 0:
            raise UserError("labels given but the model is unconditional")
        for y in labels:
            if not 0 <= y < model.num_classes:
                raise UserError(f"label {y} outside the classes [0, {model.num_classes - 1}]")
        lab = torch.tensor(labels, dtype=torch.long).repeat_interleave(samples).to(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    out = sampler.sample(model, x.shape[0], labels=lab, x_init=x, generator=gen, device=device)
    tokens = out.tokens.cpu()
    images = np.asarray(tokenizer.decode(tokens))
    region = plan.region.repeat_interleave(samples, dim=0)
    return EditResult(
        tokens=tokens,
        images=images,
        source=torch.arange(n).repeat_interleave(samples),
        region=region,
        nfe=out.nfe,
    )
