"""The experiment and benchmark scripts are not run by the suite (they train for hours), so a renamed or moved
library name would only break them the next time someone runs them. Each is imported here (its ``main`` guarded by
``__name__``), which resolves every name it imports from the library, and each shell script is parsed by bash."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PY_SCRIPTS = sorted([*ROOT.glob("experiments/**/*.py"), *ROOT.glob("benchmarks/**/*.py")])
SH_SCRIPTS = sorted([*ROOT.glob("experiments/**/*.sh"), *ROOT.glob("benchmarks/**/*.sh"), *ROOT.glob("scripts/*.sh")])


def test_there_are_scripts_to_check() -> None:
    assert len(PY_SCRIPTS) >= 20 and len(SH_SCRIPTS) >= 10, (len(PY_SCRIPTS), len(SH_SCRIPTS))


@pytest.mark.parametrize("path", PY_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_script_imports(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(path.parent))  # as `python path` would see its own folder
    name = "script_" + "_".join(path.relative_to(ROOT).with_suffix("").parts)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)


@pytest.mark.parametrize("path", SH_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_shell_script_parses(path: Path) -> None:
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
