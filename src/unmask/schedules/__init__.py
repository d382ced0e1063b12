"""Masking schedules κ_t (paper Table 1): value, derivative and inverse, by name.

Example::

    from unmask.schedules import get_schedule
    s = get_schedule("cosine")
    v = s(torch.tensor([0.0, 0.5, 1.0]))   # v.kappa, v.kappa_dot
"""

from .arccos import ArccosSchedule
from .base import Schedule, ScheduleValue, check_unit_interval
from .cosine import CosineSchedule
from .cubic import CubicSchedule
from .power import LinearSchedule, PowerSchedule, QuadraticSchedule, RootSchedule
from .registry import SCHEDULES, get_schedule, schedule_names

__all__ = [
    "Schedule",
    "ScheduleValue",
    "check_unit_interval",
    "SCHEDULES",
    "get_schedule",
    "schedule_names",
    "RootSchedule",
    "LinearSchedule",
    "QuadraticSchedule",
    "PowerSchedule",
    "CosineSchedule",
    "ArccosSchedule",
    "CubicSchedule",
]
