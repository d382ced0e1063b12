"""What the CLI tests share: run ``unmask`` in-process and capture its exit status and output."""

from __future__ import annotations

import pytest

from unmask.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``unmask ARGS``; a ``SystemExit`` (argparse) counts as its code."""
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
