"""How ``unmask`` reports failures: bad input (a usage error or one of the library's user-facing errors) is one
line and exit status 2; anything else is a bug in unmask: exit status 1, an internal-error line asking for a
report, and the traceback. Also the one routing of sampler flags (``unmask.cli._common.sampler_from_flags``)."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

import pytest
from cli_helpers import run

import unmask.cli.presets
from unmask._checks import check_positive
from unmask.cli import UsageError
from unmask.cli._common import SAMPLER_FLAGS, sampler_from_flags
from unmask.config import ConfigError
from unmask.errors import UserError
from unmask.samplers import SAMPLERS, sampler_options


def _raises(exc: BaseException) -> Any:
    def command(args: argparse.Namespace) -> int:
        raise exc

    return command


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyError("missing"), ValueError("deep"), TypeError("x")])
def test_an_internal_bug_is_exit_1_with_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: Exception
) -> None:
    monkeypatch.setattr(unmask.cli.presets, "cmd_presets", _raises(exc))
    code, out, err = run(["presets"], capsys)
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"unmask: internal error: {type(exc).__name__}: ")  # a bare ValueError too: not exit 2
    assert "This is a bug in unmask" in err and "please report it" in err
    assert "Traceback (most recent call last):" in err and "in command" in err  # where it was raised


@pytest.mark.parametrize(
    "exc,line",
    [
        (UsageError("--n must be >= 1, got 0"), "unmask: error: --n must be >= 1, got 0\n"),
        (ConfigError("unknown key 'x'"), "unmask: error: unknown key 'x'\n"),
        (UserError("labels outside the classes"), "unmask: error: labels outside the classes\n"),
        (FileNotFoundError("no such file: a.npz"), "unmask: error: no such file: a.npz\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: Exception, line: str
) -> None:
    monkeypatch.setattr(unmask.cli.presets, "cmd_presets", _raises(exc))
    code, _, err = run(["presets"], capsys)
    assert code == 2 and err == line


def test_an_unknown_preset_is_still_a_usage_error(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["train", "no-such-preset", "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and err.startswith("unmask: error: ") and len(err.splitlines()) == 1


def test_checked_values_are_user_errors_and_still_value_errors() -> None:
    with pytest.raises(UserError, match="temperature must be a finite number > 0"):
        check_positive(0.0, "temperature")
    assert issubclass(UserError, ValueError) and issubclass(UsageError, UserError)
    assert issubclass(ConfigError, UserError)


def _flags(**given: Any) -> argparse.Namespace:
    return argparse.Namespace(**{dest: None for dest in SAMPLER_FLAGS} | given)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_a_flag_its_sampler_lacks_is_refused_naming_the_flag(sampler: str) -> None:
    """Every sampler flag whose option ``sampler_options`` does not list is a usage error naming the flag."""
    model = SimpleNamespace(num_classes=10)
    takes = sampler_options(sampler)
    values = {"argmax": "on", "adaptive": True, "update": "exact", "gumbel": "linear", "cfg_schedule": "linear"}
    for dest, option in SAMPLER_FLAGS.items():
        if option in takes:
            continue
        flag = "--" + dest.replace("_", "-")
        with pytest.raises(UsageError, match=f"^{flag} does not apply to the {sampler} sampler$"):
            sampler_from_flags(_flags(**{dest: values.get(dest, 1)}), model, None, sampler)


def test_cfg_needs_a_class_conditional_model() -> None:
    with pytest.raises(UsageError, match="--cfg 2.0 needs a class-conditional model"):
        sampler_from_flags(_flags(cfg=2.0), SimpleNamespace(num_classes=0), None, "euler")
