"""Sampling a multi-stream model in any direction: joint, or some streams given the others (§3.4, §3.5).

Modes:

* ``"joint"``: every stream from all-[MASK] (one clock for all streams);
* ``"A->B"``: streams B generated from streams A held fixed (e.g. ``"image->mask"`` is
  segmentation, ``"mask->image"`` and ``"label->image"`` generation from a condition,
  ``"image->label"`` classification). A and B may be comma-separated lists; streams
  named on neither side are left out (all [MASK], t = 0: marginalised).

A condition stream must be given in full (no [MASK]) and is never re-drawn. A target stream
may also be given in part (``partial``: its ids where given, its [MASK] where to draw): the
given tokens are kept exactly, as any sampler keeps the given positions of ``x_init``. This is
how ``unmask.editing`` regenerates a region of one stream with the others given.

No second copy of Algorithm 1: the streams in play are flattened into one token
sequence over a *union vocabulary* (stream s's data ids shifted by the sizes of the
streams before it, one shared [MASK] id) and handed to ``EulerSampler`` through a thin
adapter model (or to ``MaskGITSampler``, for an ITM or without conditions). The condition
tokens are given positions of ``x_init``, which the sampler never re-draws; the adapter
maps the union ids back to each stream's ids, calls the model, and places each stream's
logits in its block of the union vocabulary (−1e30 elsewhere, so no mass ever crosses
streams). Step hazards, up-front float64 reveal and token draws, temperature / top-k /
top-p, the last-step arg-max, idle-step skipping and honest NFE counts are therefore
exactly the single-stream sampler's.

CFG (§3.5, Eq. 5) in one batched forward: the adapter is "class-conditional" with one
class (0 = conditioned) and the null label 1, for which it replaces every condition
stream by all-[MASK] (its null) and, for an explicit-timestep model, its time by 0.
For an ETM the generated streams get the sampler's t and the conditions t = 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .._checks import check_stream_batch, check_tokens
from .base import SampleOutput, model_device
from .euler import EulerSampler
from .maskgit import MaskGITSampler

__all__ = ["MultiStreamSampler", "MultiStreamOutput", "parse_mode", "FlatStreams"]

_NEG = -1e30  # logits of ids outside a position's stream: zero probability, and finite so CFG stays finite


def parse_mode(mode: str, names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(conditions, targets) of ``mode`` for a model with streams ``names``; ``ValueError`` naming a bad mode."""
    names = tuple(names)
    if not isinstance(mode, str):
        raise ValueError(f"mode must be a string like 'joint' or 'image->mask', got {mode!r}")
    if mode == "joint":
        return (), names
    if mode.count("->") != 1:
        choices = ", ".join(["joint"] + [f"{a}->{b}" for a in names for b in names if a != b])
        hint = " (quote the mode on a command line: the shell reads '>' as a redirection)" if mode.endswith("-") else ""
        raise ValueError(f"unknown mode {mode!r}; choose one of {choices} (or lists: a,b->c){hint}")
    left, right = mode.split("->")
    conds = tuple(s.strip() for s in left.split(",") if s.strip())
    targets = tuple(s.strip() for s in right.split(",") if s.strip())
    for s in conds + targets:
        if s not in names:
            raise ValueError(f"mode {mode!r} names stream {s!r}, which this model does not have ({', '.join(names)})")
    if not conds or not targets:
        raise ValueError(f"mode {mode!r} needs condition and target streams on both sides of '->'")
    if set(conds) & set(targets) or len(set(conds)) != len(conds) or len(set(targets)) != len(targets):
        raise ValueError(f"mode {mode!r} names a stream twice")
    return conds, targets


class FlatStreams:
    """The adapter: streams in play as one sequence over a union vocabulary (see the module docstring).

    Args:
        model: a multi-stream model (``stream_names``, ``vocab_sizes``, ``grids``, ``uses_time``).
        conditions: names of the given streams; targets: names of the generated ones.
    """

    def __init__(self, model: Any, conditions: Sequence[str], targets: Sequence[str]) -> None:
        self.model = model
        self.conditions = tuple(conditions)
        self.targets = tuple(targets)
        self.flat = self.conditions + self.targets  # order in the flat sequence
        self.others = tuple(s for s in model.stream_names if s not in self.flat)
        vocab = model.vocab_sizes
        grids = model.grids
        self.offsets: dict[str, int] = {}
        self.lengths: dict[str, int] = {}
        off = 0
        for s in self.flat:
            self.offsets[s] = off
            off += vocab[s] - 1
            n = 1
            for g in grids[s]:
                n *= g
            self.lengths[s] = n
        self.data_ids = off  # D: union data ids; the union [MASK] is D
        self.uses_time = bool(model.uses_time)

    # the TokenModel protocol -----------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.data_ids + 1

    @property
    def num_classes(self) -> int:
        return 1 if self.conditions else 0

    @property
    def null_label(self) -> int:
        return 1

    def parameters(self) -> Any:
        return self.model.parameters()

    # flat <-> streams ------------------------------------------------------------------
    def flatten(self, streams: Mapping[str, Tensor]) -> Tensor:
        """{name: (B, *grid_s)} stream ids ([MASK] = that stream's) → (B, L) union ids."""
        parts = []
        for s in self.flat:
            v = streams[s]
            b = v.shape[0]
            v = v.reshape(b, -1).long()
            mask = self.model.vocab_sizes[s] - 1
            parts.append(torch.where(v == mask, torch.full_like(v, self.data_ids), v + self.offsets[s]))
        return torch.cat(parts, dim=1)

    def unflatten(self, x: Tensor) -> dict[str, Tensor]:
        """(B, L) union ids → {name: (B, *grid_s)} stream ids, each stream's [MASK] where x is [MASK]."""
        out: dict[str, Tensor] = {}
        start = 0
        for s in self.flat:
            n = self.lengths[s]
            v = x[:, start : start + n]
            mask = self.model.vocab_sizes[s] - 1
            v = torch.where(v == self.data_ids, torch.full_like(v, mask), v - self.offsets[s])
            out[s] = v.reshape(x.shape[0], *self.model.grids[s])
            start += n
        return out

    def __call__(self, x: Tensor, t: Tensor | None, labels: Tensor | None) -> Tensor:
        """Union logits (R, L, D) for flat tokens ``x`` (R, L) at times ``t`` (R,); label 1 drops the conditions."""
        streams = self.unflatten(x)
        r = x.shape[0]
        device = x.device
        null = torch.zeros(r, dtype=torch.bool, device=device) if labels is None else labels == 1
        vocab, grids = self.model.vocab_sizes, self.model.grids
        for s in self.conditions:
            streams[s] = torch.where(
                null.view(-1, *[1] * len(grids[s])), torch.full_like(streams[s], vocab[s] - 1), streams[s]
            )
        for s in self.others:
            streams[s] = torch.full((r, *grids[s]), vocab[s] - 1, dtype=torch.long, device=device)
        times: dict[str, Tensor] | Tensor | None = None
        if self.uses_time:
            assert t is not None
            tt = t.reshape(r).float()
            if getattr(self.model.config, "separate_times", True):
                one, zero = torch.ones_like(tt), torch.zeros_like(tt)
                times = {s: tt for s in self.targets}
                times.update({s: torch.where(null, zero, one) for s in self.conditions})
                times.update({s: zero for s in self.others})
            else:
                times = tt
        logits = self.model(streams, times, None)
        out = torch.full((r, x.shape[1], self.data_ids), _NEG, dtype=torch.float32, device=device)
        start = 0
        for s in self.flat:
            n, off, c = self.lengths[s], self.offsets[s], vocab[s] - 1
            out[:, start : start + n, off : off + c] = logits[s].reshape(r, n, c).float()
            start += n
        return out


@dataclass
class MultiStreamOutput:
    """What ``MultiStreamSampler.sample`` returns.

    Attributes:
        tokens: {name: (B, *grid_s)} every stream in play: the conditions as given, the
            targets generated (no [MASK]; a target given in part keeps its given tokens).
        mode: the mode sampled.
        conditions, targets: the streams held fixed / generated.
        nfe: network calls made (a CFG call over the doubled batch counts once).
        nfe_per_sample: (B,) evaluations each sample took part in.
        flat: the underlying single-sequence ``SampleOutput`` (union ids).
    """

    tokens: dict[str, Tensor]
    mode: str
    conditions: tuple[str, ...]
    targets: tuple[str, ...]
    nfe: int
    nfe_per_sample: Tensor
    flat: SampleOutput
    adapter: FlatStreams = field(repr=False)

    @property
    def steps(self) -> int:
        return self.flat.steps

    def state(self, i: int) -> dict[str, Tensor]:
        """Every stream after ``i`` steps ([MASK] = each stream's own id)."""
        return self.adapter.unflatten(self.flat.state(i))


@dataclass
class MultiStreamSampler:
    """Euler sampling of a multi-stream model in a ``mode`` (see the module docstring).

    Args:
        mode: ``"joint"`` or ``"A->B"``.
        euler: the sampler (steps, schedule, CFG scale, temperature, …) it runs over the flat
            sequence: an ``EulerSampler``, or a ``MaskGITSampler`` (which tells an
            explicit-timestep model one time from the revealed fraction of the whole sequence,
            so it is refused for an ETM in a mode with condition streams).
    """

    mode: str = "joint"
    euler: EulerSampler | MaskGITSampler = field(default_factory=EulerSampler)

    @torch.no_grad()
    def sample(
        self,
        model: Any,
        conditions: Mapping[str, Tensor] | None = None,
        n: int | None = None,
        *,
        partial: Mapping[str, Tensor] | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> MultiStreamOutput:
        """Draw the mode's target streams.

        Args:
            model: a ``MultiStreamTransformer`` (or anything with its attributes).
            conditions: {name: (B, *grid_s)} exactly the mode's condition streams, in full.
            n: number of samples for ``"joint"`` (with conditions or ``partial``, their batch is B).
            partial: {name: (B, *grid_s)} target streams given in part: ids in [0, V_s − 2]
                where given (kept exactly), the stream's [MASK] (V_s − 1) where to draw;
                the other targets start all-[MASK].
            generator: the source of all randomness.
            device: where to sample; defaults to the model's device.

        Raises ``ValueError`` for an unknown mode, missing / extra condition streams, a
        ``partial`` stream that is not a target, a shape, batch or vocabulary that does not
        match the model, a condition holding [MASK], a CFG scale other than 1 without a
        condition, or MaskGIT on an explicit-timestep model with conditions.
        """
        conds, targets = parse_mode(self.mode, model.stream_names)
        given = dict(conditions or {})
        if set(given) != set(conds):
            raise ValueError(f"mode {self.mode!r} takes condition streams {sorted(conds)}, got {sorted(given)}")
        part = dict(partial or {})
        for s in part:
            if s not in targets:
                raise ValueError(
                    f"partial stream {s!r} is not a target of mode {self.mode!r}; its targets are {', '.join(targets)}"
                )
        if conds and model.uses_time and isinstance(self.euler, MaskGITSampler):
            raise ValueError(
                f"the MaskGIT sampler tells an explicit-timestep model one time for the whole sequence, counting "
                f"the condition streams of mode {self.mode!r} as revealed; use the Euler sampler"
            )
        if device is None:
            device = model_device(model)
        vocab, grids = model.vocab_sizes, model.grids
        raw = {s: torch.as_tensor(given[s] if s in conds else part[s]) for s in (*conds, *part)}
        names = {s: ("condition" if s in conds else "partial") + f" stream {s!r}" for s in raw}
        b = check_stream_batch(raw, grids, names=names) if raw else None
        for s, v in raw.items():
            try:
                check_tokens(v, vocab[s], allow_mask=True, name=f"the ids of the {names[s]}")
            except ValueError as err:
                raise ValueError(f"{err} (the model's vocabulary for {s!r})") from None
            if s in conds:
                if bool((v == vocab[s] - 1).any()):
                    raise ValueError(
                        f"condition stream {s!r} contains [MASK] (id {vocab[s] - 1}); a condition must be given in full"
                    )
                given[s] = v.to(device=device, dtype=torch.long)
            else:
                part[s] = v.to(device=device, dtype=torch.long)
        if b is not None:
            if n is not None and n != b:
                what = "condition" if conds else "partial"
                raise ValueError(f"n={n} does not match the {b} rows of the {what} streams")
        else:
            if n is None or isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"joint sampling needs the number of samples n >= 1, got {n!r}")
            b = n
        if not conds and self.euler.cfg != 1.0:
            raise ValueError(f"cfg scale {self.euler.cfg} needs a condition stream; mode 'joint' has none")
        assert b is not None
        adapter = FlatStreams(model, conds, targets)
        start = dict(given)
        for s in targets:
            start[s] = part.get(s, torch.full((b, *grids[s]), vocab[s] - 1, dtype=torch.long, device=device))
        x_init = adapter.flatten(start)
        labels = torch.zeros(b, dtype=torch.long, device=device) if conds else None
        out = self.euler.sample(adapter, x_init=x_init, labels=labels, generator=generator, device=device)
        tokens = adapter.unflatten(out.tokens)
        return MultiStreamOutput(
            tokens=tokens,
            mode=self.mode,
            conditions=conds,
            targets=targets,
            nfe=out.nfe,
            nfe_per_sample=out.nfe_per_sample,
            flat=out,
            adapter=adapter,
        )
