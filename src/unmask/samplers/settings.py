"""Sampler settings as plain data: what a sweep grid varies and what a run records as its best.

``SETTINGS`` names every setting a user can give a sampler by name (grid files, ``sampling.json``):
``sampler`` (euler, maskgit for masked models; prime for MDM-Prime models), ``steps``,
``temperature``, ``cfg``, ``schedule``, ``top_p``, ``top_k``, ``argmax`` (Euler's and Prime's
last-step arg-max), ``update`` (Euler, Prime), ``adaptive``, ``corrector`` (Euler), ``gumbel``,
``gumbel_temperature``, ``cfg_schedule`` (MaskGIT).

**Recorded settings** (``sampling.json`` in a run directory or a zoo folder): the settings that
scored best on a measure, written by ``unmask sweep --best METRIC`` with where they come from
(the metric and its value, the sweep, the checkpoint step, n and seed). ``unmask sample`` uses
them unless told otherwise. The file is checked when read: an unknown key, a setting that does
not apply to the recorded sampler, a wrong type or a value the sampler refuses is an error that
names the file and the value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._checks import check_mapping
from .._io import atomic_write_text
from ..schedules import get_schedule
from .registry import Sampler, build_sampler

__all__ = [
    "SETTINGS",
    "SAMPLING_FILE",
    "coerce_setting",
    "check_settings",
    "build_from_settings",
    "write_sampling",
    "read_sampling",
    "sampling_file",
    "sampler_from_settings",
]

#: setting → (samplers it applies to, type). ``argmax`` maps to Euler's and Prime's ``final_argmax``.
SETTINGS: dict[str, tuple[tuple[str, ...], type]] = {
    "sampler": (("euler", "maskgit", "prime"), str),
    "steps": (("euler", "maskgit", "prime"), int),
    "temperature": (("euler", "maskgit", "prime"), float),
    "cfg": (("euler", "maskgit", "prime"), float),
    "schedule": (("euler", "maskgit", "prime"), str),
    "top_p": (("euler", "maskgit", "prime"), float),
    "top_k": (("euler", "maskgit", "prime"), int),
    "argmax": (("euler", "prime"), bool),
    "update": (("euler", "prime"), str),
    "adaptive": (("euler",), bool),
    "corrector": (("euler",), float),
    "gumbel": (("maskgit",), str),
    "gumbel_temperature": (("maskgit",), float),
    "cfg_schedule": (("maskgit",), str),
}

#: The file a run's recorded sampler settings live in.
SAMPLING_FILE = "sampling.json"
_RECORD_KEYS = {"settings", "metric", "value", "higher_is_better", "source"}


def coerce_setting(key: str, value: Any, where: str = "setting") -> Any:
    """``value`` as setting ``key``'s type; ``ValueError`` naming ``where``, the key and the value."""
    if key not in SETTINGS:
        raise ValueError(f"unknown {where} {key!r}; valid settings: {', '.join(SETTINGS)}")
    kind = SETTINGS[key][1]
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where} {key} must be true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} {key} must be an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{where} {key} must be a number, got {value!r}") from None
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{where} {key} must be a string, got {value!r}")
    return value


def build_from_settings(settings: dict[str, Any], train_schedule: Any = None) -> Sampler:
    """The sampler of checked ``settings`` (``schedule`` names resolved; ``train_schedule``, a name or
    spec, fills an unset Euler / Prime schedule and MaskGIT's ``time_schedule``)."""
    opts = dict(settings)
    name = opts.pop("sampler")
    if "argmax" in opts:
        opts["final_argmax"] = opts.pop("argmax")
    if "schedule" in opts:
        opts["schedule"] = get_schedule(opts["schedule"])
    elif train_schedule is not None and name in ("euler", "prime"):
        opts["schedule"] = get_schedule(train_schedule)
    if name == "maskgit" and train_schedule is not None:
        opts["time_schedule"] = get_schedule(train_schedule)
    return build_sampler(name, **opts)


def check_settings(settings: Any, where: str = "settings") -> dict[str, Any]:
    """``settings`` checked: a mapping with a known ``sampler``, only settings that apply to it, each of
    its type and a value the sampler accepts. Returns the coerced dict; ``ValueError`` naming ``where``."""
    if not isinstance(settings, dict):
        raise ValueError(f"{where} must be a mapping of sampler settings, got {settings!r}")
    name = settings.get("sampler")
    if name not in SETTINGS["sampler"][0]:
        raise ValueError(f"{where}: sampler must be one of {', '.join(SETTINGS['sampler'][0])}, got {name!r}")
    out = {key: coerce_setting(key, value, f"{where} setting") for key, value in settings.items()}
    for key in out:
        if name not in SETTINGS[key][0]:
            raise ValueError(f"{where}: setting {key!r} does not apply to the {name} sampler")
    try:
        build_from_settings(out)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    return out


def write_sampling(
    folder: str | Path, settings: dict[str, Any], *, metric: str, value: float, higher_is_better: bool, source: dict
) -> Path:
    """Record ``settings`` (checked) as the best on ``metric`` in ``folder/sampling.json`` (atomically)."""
    checked = check_settings(settings, "best settings")
    record = {
        "settings": checked,
        "metric": metric,
        "value": value,
        "higher_is_better": higher_is_better,
        "source": source,
    }
    path = Path(folder) / SAMPLING_FILE
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


def sampling_file(ckpt: str | Path) -> Path | None:
    """The ``sampling.json`` that goes with a checkpoint argument: in the folder itself (a run or a zoo
    entry), or in the run two levels up from a checkpoint folder (``RUN/checkpoints/step_N``)."""
    p = Path(ckpt)
    for folder in (p, p.parent.parent):
        if (folder / SAMPLING_FILE).is_file():
            return folder / SAMPLING_FILE
    return None


def read_sampling(path: str | Path) -> dict[str, Any]:
    """A checked ``sampling.json`` record (its ``settings`` coerced); ``ValueError`` naming the file."""
    p = Path(path)
    try:
        record = json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(p)!r} is not valid JSON: {err}") from None
    record = check_mapping(record, _RECORD_KEYS, repr(str(p)), "a JSON object")
    if "settings" not in record:
        raise ValueError(f"{str(p)!r} has no 'settings'")
    record["settings"] = check_settings(record["settings"], repr(str(p)))
    return record


def sampler_from_settings(sample: Any, train_schedule: Any, name: str | None = None, **overrides: Any) -> Sampler:
    """A sampler from a run's ``sample`` settings (``SampleConfig``): ``name`` (default: the settings'
    ``sampler``, else Euler) with their steps, temperature, top-p / top-k, CFG, and the options of
    that sampler; ``overrides`` that are not None win.

    Euler and Prime default to the training schedule (``train_schedule``, a name or spec); MaskGIT
    to its own cosine unmask-count schedule, with the training schedule as its ``time_schedule``
    (for ETMs); the autoregressive sampler has no steps or schedule.
    """
    name = name or getattr(sample, "sampler", None) or "euler"
    train = get_schedule(train_schedule)
    opts: dict[str, Any] = {
        "temperature": sample.temperature,
        "top_p": sample.top_p,
        "top_k": sample.top_k,
        "cfg": sample.cfg,
    }
    if name != "autoregressive":
        opts["steps"] = sample.steps
    if name in ("euler", "prime"):
        opts.update(
            schedule=get_schedule(sample.schedule) if sample.schedule else train,
            update=sample.update,
            final_argmax=sample.final_argmax,
        )
    elif name == "maskgit":
        opts["time_schedule"] = train
        for key in ("gumbel", "gumbel_temperature"):
            if getattr(sample, key, None) is not None:
                opts[key] = getattr(sample, key)
    opts.update({k: v for k, v in overrides.items() if v is not None})
    return build_sampler(name, **opts)
