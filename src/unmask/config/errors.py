"""``ConfigError``, the one error of the config package: a bad preset, key or value."""

from __future__ import annotations

from ..errors import UserError

__all__ = ["ConfigError"]


class ConfigError(UserError):
    """A bad preset, key or value."""
