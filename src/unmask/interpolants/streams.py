"""Several named token streams, each masked by its own interpolant (paper §3.4, Eq. 4).

A joint model of paired modalities (an image and its segmentation mask, an image and
its class label) sees every stream partially masked. Each stream has its own
vocabulary with its own [MASK] (the last id), its own grid and its own schedule, and
is masked by Eq. 1 independently of the others given its time. The times are:

* ``"separate"`` (default; appendix C.1 finds separate timesteps with separate
  vocabularies best): an independent t per stream per sample;
* ``"shared"``: one t per sample for every stream (Eq. 4 as written).

Two options change the draw of the times, both off by default:

* ``clean_stream_prob`` p: with probability p per sample one stream, chosen uniformly,
  is fully revealed (t = 1) — the conditional directions p(B | A) that the sampler's
  "A->B" modes use are then trained directly, not only through t_A close to 1. The
  paper leaves this choice open (it says only that separate timesteps worked best).
  ``clean_stream_weights`` {stream: w} chooses the clean stream with probability
  proportional to w (unlisted streams weigh 1) instead of uniformly: {"image": 8} with
  two streams and p = 0.9 holds the image whole in 80 % of draws, the mask in 10 %;
* ``null_stream_prob`` q: with probability q per sample one stream, chosen uniformly,
  is fully masked (t = 0): the all-[MASK] stream is the null condition of CFG (§3.5),
  and this trains it as the label-dropout of single-stream models does (p_uncond).

At most one of the two applies to a sample. ``fixed_times`` pins streams to a constant
time: {"image": 1, "mask": 0} always shows the whole image and masks the whole mask,
which makes the masked cross-entropy the plain discriminative cross-entropy from image
to mask — the baseline objective, on the same backbone and code path.

``time_powers`` {stream: p} (off by default) draws that stream's time as u^p instead of
u: p > 1 spends more of training on the stream mostly masked, p < 1 on it mostly
revealed. The target p(z_1 | z_t) is the same at every t, so this only moves training
effort between masking levels: an implicit-timestep model learns the same function and
samples with the same schedule. With a linear κ and p = 3 the stream is at most 10 %
revealed in 46 % of draws (10 % with p = 1) — where a segmentation model must read every
class from the image, instead of copying it from revealed neighbours of the mask.
Powers apply first; the clean / null draws and ``fixed_times`` then override them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .._checks import check_nonnegative, check_positive, check_probability
from ..schedules import Schedule, get_schedule
from .path import MaskingInterpolant, PathSample
from .times import DEFAULT_EPS, sample_times

__all__ = [
    "StreamSpec",
    "MultiPathSample",
    "MultiStreamInterpolant",
    "TIMESTEPS",
    "parse_stream_values",
    "check_stream_values",
]

TIMESTEPS = ("separate", "shared")


@dataclass(frozen=True)
class StreamSpec:
    """One token stream.

    Attributes:
        name: the stream's name (a Python identifier), e.g. "image", "mask", "label".
        vocab_size: V, its token ids including its [MASK] (the last id).
        grid: its token grid, e.g. (32, 32) for an image or (1,) for a class label.
        schedule: its masking schedule κ (a registry name, a spec dict or a ``Schedule``).
    """

    name: str
    vocab_size: int
    grid: tuple[int, ...]
    schedule: Schedule | str | dict[str, object] = "linear"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"stream name must be a Python identifier, got {self.name!r}")
        if isinstance(self.vocab_size, bool) or not isinstance(self.vocab_size, int) or self.vocab_size < 2:
            raise ValueError(
                f"stream {self.name!r}: vocab_size must be an integer >= 2 (data tokens + [MASK]), "
                f"got {self.vocab_size!r}"
            )
        grid = tuple(int(g) for g in self.grid)
        if not grid or any(g < 1 for g in grid):
            raise ValueError(f"stream {self.name!r}: grid must have positive axes, got {self.grid}")
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "schedule", get_schedule(self.schedule))

    @property
    def mask_id(self) -> int:
        return self.vocab_size - 1


@dataclass
class MultiPathSample:
    """One draw of every stream: a ``PathSample`` per stream name, in stream order.

    ``norms`` holds, per stream, the number of masked positions of the *whole* batch the
    draw was made for (0-d, at least 1): a loss over a slice of the batch (data-parallel
    or accumulated micro-batches) divides by it, so the parts add up to the whole.
    """

    paths: dict[str, PathSample]
    norms: dict[str, Tensor] = field(default_factory=dict)

    @property
    def x_t(self) -> dict[str, Tensor]:
        return {k: p.x_t for k, p in self.paths.items()}

    @property
    def x_1(self) -> dict[str, Tensor]:
        return {k: p.x_1 for k, p in self.paths.items()}

    @property
    def t(self) -> dict[str, Tensor]:
        return {k: p.t for k, p in self.paths.items()}

    @property
    def batch_size(self) -> int:
        return int(next(iter(self.paths.values())).x_1.shape[0])


def check_stream_values(
    values: Mapping[str, float], names: Sequence[str], what: str, check: Callable[[float, str], float]
) -> dict[str, float]:
    """``values`` {stream: number} as floats, each passed through ``check(value, label)``.

    ``ValueError`` naming an entry whose stream is not in ``names`` ("time power for unknown
    stream 'depth'; the streams are …") or whose value ``check`` refuses ("time power of
    stream 'mask' must be a finite number > 0, got 0.0"). ``check`` is one of the
    ``unmask._checks`` helpers (``check_positive``, ``check_nonnegative``, ``check_probability``).
    """
    out = {}
    for name, value in values.items():
        if name not in names:
            raise ValueError(f"{what} for unknown stream {name!r}; the streams are {', '.join(names)}")
        out[name] = check(value, f"{what} of stream {name!r}")
    return out


def parse_stream_values(text: str, what: str = "value") -> dict[str, float]:
    """Parse ``"image:1,mask:0"`` into {"image": 1.0, "mask": 0.0}; ``ValueError`` naming a bad item."""
    out: dict[str, float] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"{what} entries must look like name:number, got {item!r} in {text!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{what} for stream {name.strip()!r} must be a number, got {value!r}") from None
    return out


class MultiStreamInterpolant:
    """Masks several named streams, each by Eq. 1 with its own schedule and time.

    Args:
        streams: the streams (names unique).
        timesteps: ``"separate"`` (a t per stream per sample) or ``"shared"``.
        clean_stream_prob: probability per sample that one stream (chosen uniformly, or by
            ``clean_stream_weights``) is fully revealed, t = 1.
        clean_stream_weights: {stream: w >= 0} relative odds that the clean stream is this
            one (unlisted streams weigh 1; the weights must not all be 0). Needs
            ``clean_stream_prob`` > 0.
        null_stream_prob: probability per sample that one stream is fully masked, t = 0.
            ``clean_stream_prob + null_stream_prob`` must be <= 1.
        fixed_times: {stream: t in [0, 1]} streams always at this time (overrides the draws).
        time_powers: {stream: p > 0} that stream's drawn time t becomes t^p (before the
            clean / null / fixed times apply).
        eps: further streams' times (``"separate"``) are drawn in [ε, 1 − ε] like the first.
    """

    def __init__(
        self,
        streams: Sequence[StreamSpec],
        *,
        timesteps: str = "separate",
        clean_stream_prob: float = 0.0,
        clean_stream_weights: Mapping[str, float] | None = None,
        null_stream_prob: float = 0.0,
        fixed_times: Mapping[str, float] | None = None,
        time_powers: Mapping[str, float] | None = None,
        eps: float = DEFAULT_EPS,
    ) -> None:
        self.streams = tuple(streams)
        if not self.streams:
            raise ValueError("a multi-stream interpolant needs at least one stream, got none")
        names = [s.name for s in self.streams]
        if len(set(names)) != len(names):
            raise ValueError(f"stream names must be unique, got {names}")
        if timesteps not in TIMESTEPS:
            raise ValueError(f"timesteps must be one of {', '.join(TIMESTEPS)}, got {timesteps!r}")
        self.timesteps = timesteps
        self.clean_stream_prob = check_probability(clean_stream_prob, "clean_stream_prob")
        self.null_stream_prob = check_probability(null_stream_prob, "null_stream_prob")
        if self.clean_stream_prob + self.null_stream_prob > 1:
            raise ValueError(
                f"clean_stream_prob + null_stream_prob must be <= 1, got {self.clean_stream_prob} + "
                f"{self.null_stream_prob}"
            )
        self.clean_stream_weights = check_stream_values(
            clean_stream_weights or {}, names, "clean weight", check_nonnegative
        )
        # the odds of each stream (stream order) being the clean one; None: uniform
        self.clean_odds: tuple[float, ...] | None = None
        if self.clean_stream_weights:
            if self.clean_stream_prob == 0:
                raise ValueError(
                    f"clean_stream_weights {self.clean_stream_weights} choose the clean stream, but clean_stream_prob "
                    "is 0: no stream is ever held clean"
                )
            self.clean_odds = tuple(self.clean_stream_weights.get(n, 1.0) for n in names)
            if not any(self.clean_odds):
                raise ValueError(f"clean_stream_weights {self.clean_stream_weights} weigh every stream 0")
        self.fixed_times = check_stream_values(fixed_times or {}, names, "fixed time", check_probability)
        self.time_powers = check_stream_values(time_powers or {}, names, "time power", check_positive)
        if not 0 <= eps < 0.5:
            raise ValueError(f"eps must be in [0, 0.5), got {eps}")
        self.eps = eps
        self.paths = {s.name: MaskingInterpolant(get_schedule(s.schedule), s.vocab_size) for s in self.streams}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.streams)

    def clean_share(self, name: str) -> float:
        """The probability per sample that stream ``name`` is drawn clean (t = 1), before ``fixed_times``."""
        self.stream(name)  # ValueError for an unknown stream
        odds = self.clean_odds or (1.0,) * len(self.streams)
        return self.clean_stream_prob * odds[self.names.index(name)] / sum(odds)

    def stream(self, name: str) -> StreamSpec:
        for s in self.streams:
            if s.name == name:
                return s
        raise ValueError(f"unknown stream {name!r}; the streams are {', '.join(self.names)}")

    def draw_times(self, t: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Every stream's times (B,) from the first stream's ``t`` (B,) in [0, 1].

        ``"shared"``: every stream takes ``t``; ``"separate"``: the first takes ``t``, each
        further one an independent draw in [ε, 1 − ε] from ``generator``. Then
        ``time_powers``, the clean / null stream of a sample (see the class docstring) and
        ``fixed_times``.
        Draws happen in a fixed order, so the result is a function of the generator.
        """
        if t.ndim != 1:
            raise ValueError(f"t must have shape (B,), got {tuple(t.shape)}")
        b, device = t.shape[0], t.device
        times: dict[str, Tensor] = {}
        for i, s in enumerate(self.streams):
            if i == 0 or self.timesteps == "shared":
                times[s.name] = t
            else:
                times[s.name] = sample_times(b, eps=self.eps, generator=generator, device=device).to(t.dtype)
        for name, p in self.time_powers.items():
            times[name] = times[name] ** p
        if self.clean_stream_prob > 0 or self.null_stream_prob > 0:
            u = torch.rand(b, generator=generator, device=device)
            which = torch.randint(0, len(self.streams), (b,), generator=generator, device=device)
            which_clean = which
            if self.clean_odds is not None:
                odds = torch.tensor(self.clean_odds, dtype=torch.float64, device=device)
                which_clean = torch.multinomial(odds, b, replacement=True, generator=generator)
            clean = u < self.clean_stream_prob
            null = (u >= self.clean_stream_prob) & (u < self.clean_stream_prob + self.null_stream_prob)
            for i, s in enumerate(self.streams):
                tt = torch.where(clean & (which_clean == i), torch.ones_like(times[s.name]), times[s.name])
                times[s.name] = torch.where(null & (which == i), torch.zeros_like(tt), tt)
        for name, value in self.fixed_times.items():
            times[name] = torch.full_like(times[name], float(value))
        return times

    def sample(
        self, x_1: Mapping[str, Tensor], t: Mapping[str, Tensor], generator: torch.Generator | None = None
    ) -> MultiPathSample:
        """Mask every stream of ``x_1`` ({name: (B, *grid)}) at its times ``t`` ({name: (B,)}).

        Raises ``ValueError`` naming the stream when the names, a grid, the batch or an id
        (including [MASK]) does not match.
        """
        self.check_streams(x_1, allow_mask=False)
        if set(t) != set(self.names):
            raise ValueError(f"times for streams {sorted(t)} do not match the streams {sorted(self.names)}")
        paths = {}
        for s in self.streams:
            paths[s.name] = self.paths[s.name].sample(x_1[s.name], t[s.name], generator)
        norms = {k: p.mask.sum().clamp_min(1).float() for k, p in paths.items()}
        return MultiPathSample(paths=paths, norms=norms)

    def check_streams(self, x: Mapping[str, Tensor], *, allow_mask: bool) -> int:
        """Raise ``ValueError`` unless ``x`` holds exactly these streams with matching grids, one batch size
        and ids in each vocabulary ([MASK] only with ``allow_mask``); returns the batch size."""
        from .._checks import check_stream_batch, check_tokens

        if set(x) != set(self.names):
            raise ValueError(f"streams {sorted(x)} do not match the streams {sorted(self.names)}")
        b = check_stream_batch({s.name: x[s.name] for s in self.streams}, {s.name: s.grid for s in self.streams})
        for s in self.streams:
            check_tokens(x[s.name], s.vocab_size, allow_mask=allow_mask, name=f"stream {s.name!r} tokens")
        return b
