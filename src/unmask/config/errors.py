"""``ConfigError``, the one error of the config package (a bad preset, key or value), and
``library_check``, which turns the library's own checks into it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import UserError

__all__ = ["ConfigError", "library_check"]


class ConfigError(UserError):
    """A bad preset, key or value."""


@contextmanager
def library_check(prefix: str = "", *, also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Run a check the library owns (a sampler's, a schedule registry's, a backbone config's) on
    config values: its ``ValueError`` (and any of ``also``) becomes a ``ConfigError`` with the
    message after ``prefix``; a ``ConfigError`` raised in the block passes unchanged."""
    kinds: tuple[type[Exception], ...] = (ValueError, *also)
    try:
        yield
    except ConfigError:
        raise
    except kinds as err:
        raise ConfigError(f"{prefix}{err}") from None
