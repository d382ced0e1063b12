"""What every sampler shares: the output dataclass and input validation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._checks import check_tokens
from .guidance import TokenModel

__all__ = ["SampleOutput", "prepare_inputs", "model_device"]


def model_device(model: object) -> torch.device:
    """The device of a model's first parameter (CPU for parameterless callables)."""
    params = getattr(model, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


@dataclass
class SampleOutput:
    """What a sampler returns.

    Attributes:
        tokens: final tokens (B, *grid), no [MASK] left.
        nfe: network forward calls made (a CFG call over the doubled batch counts once).
        nfe_per_sample: (B,) evaluations each sample took part in.
        steps: S, the number of sampler steps.
        reveal_step: (B, *grid) step at which each position was revealed, −1 for
            positions given in ``x_init``.
        x_init: (B, *grid) the starting tokens.
        mask_id: the [MASK] id.
        remasking: True when a corrector re-masked tokens; then ``reveal_step`` is the
            last reveal of each position and intermediate states cannot be rebuilt.
    """

    tokens: Tensor
    nfe: int
    nfe_per_sample: Tensor
    steps: int
    reveal_step: Tensor
    x_init: Tensor
    mask_id: int
    remasking: bool = False

    @property
    def idle_steps(self) -> Tensor:
        """(B,) steps at which a sample changed no token (the paper's "idle" steps)."""
        b = self.reveal_step.shape[0]
        flat = self.reveal_step.reshape(b, -1)
        active = torch.zeros(b, self.steps + 1, dtype=torch.bool, device=flat.device)
        active.scatter_(1, flat + 1, True)  # column 0 collects the −1 (given) entries
        return self.steps - active[:, 1:].sum(1)

    def state(self, i: int) -> Tensor:
        """x after ``i`` steps (i = 0 is ``x_init``, i = steps is ``tokens``), (B, *grid)."""
        if self.remasking:
            raise ValueError("intermediate states are not recorded when a corrector re-masks tokens")
        if not 0 <= i <= self.steps:
            raise ValueError(f"step index must be in [0, {self.steps}], got {i}")
        shown = (self.reveal_step >= 0) & (self.reveal_step < i)
        return torch.where(shown, self.tokens, self.x_init)

    def chain(self) -> Tensor:
        """All states, (S + 1, B, *grid): reconstructed, not stored during sampling."""
        return torch.stack([self.state(i) for i in range(self.steps + 1)])


def prepare_inputs(
    model: TokenModel,
    n: int | None,
    grid: tuple[int, ...] | None,
    labels: Tensor | None,
    x_init: Tensor | None,
    device: torch.device | str,
) -> tuple[Tensor, Tensor | None]:
    """Validate and build the starting tokens (B, *grid) and labels (B,) or None, for every sampler."""
    k = model.vocab_size
    if x_init is not None:
        check_tokens(x_init, k, allow_mask=True, name="x_init")
        x = x_init.to(device=device, dtype=torch.long).clone()
        if n is not None and n != x.shape[0]:
            raise ValueError(f"n={n} does not match x_init batch {x.shape[0]}")
    else:
        if grid is None:
            grid = tuple(model.config.grid)  # type: ignore[attr-defined]
        if n is None:
            if labels is None:
                raise ValueError("give the number of samples n, labels, or x_init")
            n = int(torch.as_tensor(labels).reshape(-1).shape[0])
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be an integer >= 1, got {n!r}")
        x = torch.full((n, *grid), k - 1, dtype=torch.long, device=device)
    if labels is not None:
        if model.num_classes == 0:
            raise ValueError("labels given to an unconditional model (num_classes=0)")
        labels = torch.as_tensor(labels, device=device).long().reshape(-1)
        if labels.shape[0] != x.shape[0]:
            raise ValueError(f"{labels.shape[0]} labels for {x.shape[0]} samples")
        bad = (labels < 0) | (labels > model.num_classes)
        if bool(bad.any()):
            raise ValueError(
                f"label {labels[bad][0].item()} outside the classes [0, {model.num_classes - 1}] "
                f"(or {model.num_classes} for the null label)"
            )
    return x, labels
