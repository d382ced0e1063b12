"""Typed merging of mappings and ``section.key=value`` strings into dataclass configs.

Generic over any config made of dataclass sections (``Config``, ``TokenizerRunConfig``): a value
is checked against its field's annotation (``bool``, ``int``, ``float``, ``str``, ``Literal[...]``
and ``X | None`` of these), so a wrong type, an unknown key or a choice outside a ``Literal`` is a
``ConfigError`` naming the key. ``JsonConfig`` gives such a config its JSON form.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, TypeVar

import yaml

from .errors import ConfigError

__all__ = ["JsonConfig", "coerce", "merge", "apply_overrides"]

C = TypeVar("C")


J = TypeVar("J", bound="JsonConfig")


class JsonConfig:
    """Mixin of a dataclass config whose fields all have defaults: its plain-dict and JSON forms
    (what runs save as ``config.json``) and the strict rebuild of a saved one (``from_dict``)."""

    @classmethod
    def from_dict(cls: type[J], data: dict[str, Any]) -> J:
        """Strictly rebuild a saved config: ``data`` (after ``upgrade``) merged onto the defaults;
        unknown keys and wrong types are errors."""
        return merge(cls(), cls.upgrade(data))

    @classmethod
    def upgrade(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A saved config written by an earlier version, in today's form (``from_dict`` calls it);
        here unchanged."""
        return data

    def to_dict(self) -> dict[str, Any]:
        """Every field, nested sections as dicts."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        """``to_dict`` as indented JSON with sorted keys."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def coerce(key: str, value: Any, annotation: Any) -> Any:
    """``value`` checked against a field annotation (int, float, bool, str, Literal, Optional[...]);
    ints are accepted for floats and returned as float. ``ConfigError`` naming ``key`` otherwise."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(key, value, arg)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0])
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if isinstance(value, str) and value in choices:
            return value
        raise ConfigError(f"{key}={value!r} is not one of {', '.join(map(str, choices))}")
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "3e-4" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key} must be a string, got {value!r}")
    raise ConfigError(f"{key}: unsupported field type {annotation}")  # pragma: no cover


def merge(obj: C, data: Any, where: str = "config") -> C:
    """Set the fields of dataclass ``obj`` from mapping ``data`` (nested mappings into nested
    sections), each value coerced to its field's type; returns ``obj``. ``where`` is the dotted
    prefix of the keys in error messages ("config" for the top level)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}  # type: ignore[arg-type]
    for key, value in data.items():
        full = key if where == "config" else f"{where}.{key}"
        if key not in names:
            raise ConfigError(f"unknown config key {full!r}; valid keys here: {', '.join(sorted(names))}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            merge(current, value, full)
        else:
            setattr(obj, key, coerce(full, value, hints[key]))
    return obj


def apply_overrides(cfg: C, overrides: list[str]) -> C:
    """Apply ``section.key=value`` strings (values parsed as YAML scalars) in order to a
    ``Config`` or a ``TokenizerRunConfig``; returns it."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form section.key=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            value = yaml.safe_load(raw) if raw.strip() != "" else ""
        except yaml.YAMLError:
            value = raw
        parts = key.split(".")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"override key {key!r} must be section.key, e.g. train.steps")
        merge(cfg, {parts[0]: {parts[1]: value}})
    return cfg
