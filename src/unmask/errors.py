"""The base of the library's user-facing errors (no imports: any module may raise it).

``UserError`` marks a problem with what the caller gave (a value out of range, a config, a file, a
dataset or checkpoint that is missing or malformed), as opposed to a bug in the library. It
subclasses ``ValueError`` so ``except ValueError`` in library callers keeps working. The ``unmask``
command reports a ``UserError`` as one line ``unmask: error: …`` with exit status 2; any other
exception is an internal error (exit status 1, with its traceback).
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(ValueError):
    """Invalid input: a value, config, file or dataset the caller gave (see the module docstring)."""
