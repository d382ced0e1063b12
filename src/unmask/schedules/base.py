"""The masking-schedule interface.

A schedule is the scalar function κ: [0, 1] → [0, 1] of the paper's Eq. 1, giving
the probability that a token is revealed (equal to the data) at time t. unmask's
time convention: t = 0 is all [MASK] (κ(0) = 0), t = 1 is data (κ(1) = 1), and κ
is non-decreasing in between.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Schedule", "ScheduleValue", "check_unit_interval"]


def check_unit_interval(x: Tensor, name: str = "t") -> None:
    """Raise ``ValueError`` naming the offending value if any entry of ``x`` lies outside [0, 1].

    NaN entries are rejected too.
    """
    if x.numel() == 0:
        return
    bad = ~((x >= 0) & (x <= 1))
    if bool(bad.any()):
        value = x[bad].flatten()[0].item()
        raise ValueError(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class ScheduleValue:
    """κ_t and its time derivative κ̇_t, evaluated together (same shape as t)."""

    kappa: Tensor
    kappa_dot: Tensor


class Schedule(ABC):
    """A masking schedule κ_t with derivative and inverse.

    Subclasses implement ``_kappa``, ``_kappa_dot`` and ``_kappa_inv`` on
    already-validated tensors; the public methods validate their argument to
    [0, 1] and keep the input's dtype and shape.
    """

    #: Registry name of the family (set by subclasses).
    name: str = ""

    # --- to implement -----------------------------------------------------------------
    @abstractmethod
    def _kappa(self, t: Tensor) -> Tensor: ...

    @abstractmethod
    def _kappa_dot(self, t: Tensor) -> Tensor: ...

    def _kappa_inv(self, k: Tensor) -> Tensor:
        """Inverse by bisection; exact subclasses override it with a closed form."""
        lo = torch.zeros_like(k, dtype=torch.float64)
        hi = torch.ones_like(k, dtype=torch.float64)
        target = k.to(torch.float64)
        for _ in range(60):  # 2^-60 < float64 resolution on [0, 1]
            mid = (lo + hi) / 2
            below = self._kappa(mid) < target
            lo = torch.where(below, mid, lo)
            hi = torch.where(below, hi, mid)
        return ((lo + hi) / 2).to(k.dtype)

    # --- public API -------------------------------------------------------------------
    def kappa(self, t: Tensor | float) -> Tensor:
        """κ_t for times ``t`` in [0, 1] (any shape). Returns a tensor of t's shape."""
        return self._kappa(_unit_tensor(t, "t"))

    def kappa_dot(self, t: Tensor | float) -> Tensor:
        """dκ/dt at ``t`` in [0, 1]; may be +inf at an end point (root at 0, arccos at 1)."""
        return self._kappa_dot(_unit_tensor(t, "t"))

    def kappa_inv(self, k: Tensor | float) -> Tensor:
        """The time t with κ_t = k, for ``k`` in [0, 1]."""
        return self._kappa_inv(_unit_tensor(k, "kappa"))

    def __call__(self, t: Tensor | float) -> ScheduleValue:
        """κ_t and κ̇_t together."""
        t = _unit_tensor(t, "t")
        return ScheduleValue(self._kappa(t), self._kappa_dot(t))

    def rate(self, t: Tensor | float) -> Tensor:
        """The unmasking rate κ̇_t / (1 − κ_t) of the paper's velocity u_t (and the ELBO weight).

        Infinite at t = 1 (and wherever κ̇ is infinite); callers keep t ≤ 1 − ε.
        """
        v = self(t)
        return v.kappa_dot / (1 - v.kappa)

    def config(self) -> dict[str, float | str]:
        """The schedule's name and parameters, enough to rebuild it with ``get_schedule``."""
        return {"name": self.name}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({params})"


def _as_tensor(t: Tensor | float) -> Tensor:
    if isinstance(t, Tensor):
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        return t
    return torch.tensor(float(t), dtype=torch.float64)


def _unit_tensor(x: Tensor | float, name: str) -> Tensor:
    """``x`` as a floating tensor (a Python number as float64), checked to lie in [0, 1]
    (``check_unit_interval``, naming ``name``): the argument of every public ``Schedule`` method."""
    x = _as_tensor(x)
    check_unit_interval(x, name)
    return x
