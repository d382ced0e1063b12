"""Editing joint multi-stream models: ``plan_joint_edit`` plans to regenerate a region of one stream
with the other streams given whole (or some of them generated along), as a ``JointEditPlan``;
``edit_streams`` draws it with ``MultiStreamSampler`` and returns a ``JointEditResult``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._checks import check_stream_batch, check_tokens
from ..errors import UserError
from ..samplers.continuation import edit_init
from ..samplers.multistream import MultiStreamSampler
from .plan import _refuse_kind


@dataclass
class JointEditPlan:
    """A region of one stream of a joint model to regenerate, with the other streams given or generated.

    Attributes:
        tokens: {name: (N, *grid_s)} int64 ids (no [MASK]) of every stream given whole, and of the
            edited stream (its region is regenerated, the rest given); streams to generate are absent.
        stream: the edited stream.
        region: (N, *grid_stream) bool, True where the edited stream is regenerated.
        generate: streams generated whole (from [MASK]).
        mode: the ``MultiStreamSampler`` mode: given streams -> the edited stream and the generated
            ones (``"joint"`` when no stream is given whole).
        note: what is given and what is drawn (said to the user).
    """

    tokens: dict[str, Tensor]
    stream: str
    region: Tensor
    generate: tuple[str, ...]
    mode: str
    note: str

    @property
    def given(self) -> tuple[str, ...]:
        """The streams given whole (the mode's conditions)."""
        return tuple(s for s in self.tokens if s != self.stream)


def plan_joint_edit(
    model: Any,
    streams: Mapping[str, Tensor | np.ndarray],
    stream: str,
    region: Tensor | np.ndarray,
    *,
    generate: Sequence[str] = (),
) -> JointEditPlan:
    """Plan to regenerate ``region`` of ``stream`` of a joint model, every other stream given whole
    unless listed in ``generate`` (then drawn along).

    Args:
        model: a multi-stream model (``stream_names``, ``vocab_sizes``, ``grids``).
        streams: {name: (N, *grid_s) ids in [0, V_s − 2]} for the edited stream and every stream not
            generated (extra streams, e.g. the true values of generated ones, are ignored).
        stream: the stream to edit.
        region: bool (N, *grid_stream) or one (*grid_stream) for every item: True = regenerate.
        generate: other streams to generate whole.

    Raises:
        ValueError: a model that is not multi-stream, an unknown stream (listing the model's), a
            generated stream that is the edited one or named twice, a stream missing from
            ``streams``, shapes or ids that do not fit the model, or a region that marks no token
            of some item — naming the value.
    """
    _refuse_kind(model, "joint")
    names = tuple(model.stream_names)
    vocab, grids = model.vocab_sizes, model.grids
    for s in (stream, *generate):
        if s not in names:
            raise UserError(f"unknown stream {s!r}; this model's streams are {', '.join(names)}")
    generate = tuple(generate)
    if stream in generate:
        raise UserError(f"stream {stream!r} is the one edited; it cannot also be generated whole")
    if len(set(generate)) != len(generate):
        raise UserError(f"a stream is named twice among the generated ones {list(generate)}")
    needed = [s for s in names if s not in generate]
    missing = [s for s in needed if s not in streams]
    if missing:
        raise UserError(
            f"stream(s) {', '.join(missing)} not given; give their tokens or generate them (generate={missing})"
        )
    tokens: dict[str, Tensor] = {}
    raw = {s: torch.as_tensor(streams[s]) for s in needed}
    n = check_stream_batch(raw, grids)
    for s, v in raw.items():
        check_tokens(v, vocab[s], allow_mask=False, name=f"the ids of stream {s!r}")
        tokens[s] = v.long().cpu()
    r = torch.as_tensor(region)
    if r.dtype != torch.bool:
        raise UserError(f"the region must be bool, got dtype {r.dtype}")
    grid = tuple(grids[stream])
    if tuple(r.shape) == grid:
        r = r.expand(n, *grid)
    if tuple(r.shape) != (n, *grid):
        raise UserError(
            f"the region has shape {tuple(r.shape)}; stream {stream!r} is (N={n}, {', '.join(map(str, grid))})"
        )
    r = r.clone().cpu()
    empty = (~r.reshape(n, -1).any(1)).nonzero()
    if len(empty):
        raise UserError(f"the region marks no token of stream {stream!r} in item {int(empty[0])}")
    conds = [s for s in needed if s != stream]
    targets = [s for s in names if s == stream or s in generate]
    mode = f"{','.join(conds)}->{','.join(targets)}" if conds else "joint"
    tokens = {s: tokens[s] for s in (*conds, stream)}
    note = (
        f"stream {stream!r}: {int(r.sum())} of {r.numel()} tokens regenerated"
        + (f"; given whole: {', '.join(conds)}" if conds else "")
        + (f"; generated whole: {', '.join(generate)}" if generate else "")
        + f" (mode {mode})"
    )
    return JointEditPlan(tokens=tokens, stream=stream, region=r, generate=generate, mode=mode, note=note)


@dataclass
class JointEditResult:
    """K completions of each joint edit.

    Attributes:
        tokens: {name: (N·K, *grid_s)} every stream in play: given streams as given, the edited
            stream with its region drawn (the rest as given), generated streams drawn.
        source: (N·K,) the item each completion comes from.
        region: (N·K, *grid_stream) where the edited stream was drawn.
        mode: the ``MultiStreamSampler`` mode that ran.
        nfe: network calls made.
    """

    tokens: dict[str, Tensor]
    source: Tensor
    region: Tensor
    mode: str
    nfe: int


@torch.no_grad()
def edit_streams(
    model: Any,
    sampler: Any,
    plan: JointEditPlan,
    *,
    samples: int = 1,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> JointEditResult:
    """Regenerate ``plan.region`` of ``plan.stream`` ``samples`` times per item, the given streams held
    fixed and ``plan.generate`` drawn along, with ``MultiStreamSampler(plan.mode, …)``.

    ``sampler``: an ``EulerSampler`` or ``MaskGITSampler`` (its settings: steps, CFG over the given
    streams, temperature, …), or a ``MultiStreamSampler`` whose inner sampler is used (its mode is
    the plan's). Given tokens, in every stream, come back unchanged.
    """
    if not isinstance(plan, JointEditPlan):
        raise UserError("edit_streams draws joint edit plans (plan_joint_edit); image and clip plans go to edit")
    if samples < 1:
        raise UserError(f"samples must be >= 1, got {samples}")
    inner = sampler.euler if isinstance(sampler, MultiStreamSampler) else sampler
    runner = MultiStreamSampler(plan.mode, inner)
    n = plan.tokens[plan.stream].shape[0]
    vocab = model.vocab_sizes[plan.stream]
    start = edit_init(plan.tokens[plan.stream], plan.region, vocab)
    conditions = {s: plan.tokens[s].repeat_interleave(samples, dim=0).to(device) for s in plan.given}
    partial = {plan.stream: start.repeat_interleave(samples, dim=0).to(device)}
    gen = torch.Generator(device=device).manual_seed(seed)
    out = runner.sample(model, conditions or None, partial=partial, generator=gen, device=device)
    return JointEditResult(
        tokens={s: v.cpu() for s, v in out.tokens.items()},
        source=torch.arange(n).repeat_interleave(samples),
        region=plan.region.repeat_interleave(samples, dim=0),
        mode=plan.mode,
        nfe=out.nfe,
    )
