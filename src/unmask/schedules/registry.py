"""Schedules by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .arccos import ArccosSchedule
from .base import Schedule
from .cosine import CosineSchedule
from .cubic import CubicSchedule
from .power import LinearSchedule, PowerSchedule, QuadraticSchedule, RootSchedule

__all__ = ["SCHEDULES", "get_schedule", "schedule_names"]

#: The paper's Table 1 families (plus the general power family), by registry name.
SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "root": RootSchedule,
    "linear": LinearSchedule,
    "cosine": CosineSchedule,
    "arccos": ArccosSchedule,
    "quadratic": QuadraticSchedule,
    "cubic": CubicSchedule,
    "power": PowerSchedule,
}


#: Other names in use for the same families (MaskGIT calls the quadratic schedule "square").
ALIASES = {"square": "quadratic"}


def schedule_names() -> list[str]:
    """Registered schedule names, sorted."""
    return sorted(SCHEDULES)


def get_schedule(name: str | Schedule | dict[str, Any], **params: Any) -> Schedule:
    """Build a schedule from its name and parameters.

    ``name`` may also be a ``Schedule`` (returned as is) or a dict as produced by
    ``Schedule.config()``. Unknown names and unknown parameters raise ``ValueError``.

    Example: ``get_schedule("cubic", a=1.0, b=0.5).kappa(torch.tensor(0.5))``
    """
    if isinstance(name, Schedule):
        if params:
            raise ValueError(f"parameters {sorted(params)} given with a built schedule {name!r}")
        return name
    if isinstance(name, dict):
        spec = dict(name)
        if "name" not in spec:
            raise ValueError(f"schedule spec needs a 'name' key, got {spec}")
        return get_schedule(spec.pop("name"), **spec, **params)
    name = ALIASES.get(name, name)
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(schedule_names())}")
    try:
        return SCHEDULES[name](**params)
    except TypeError as err:
        raise ValueError(f"bad parameters {params} for schedule {name!r}: {err}") from None
