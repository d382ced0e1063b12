"""The README's two commands and the generated tables in docs/ stay true."""

from __future__ import annotations

import re
import runpy
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _first_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README.md must open with a bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_run_and_test_commands() -> None:
    cmds = _first_commands()
    assert len(cmds) == 2
    run, test = cmds
    assert run.startswith("scripts/install.sh && .venv/bin/unmask train --out ")
    assert "unmask sample" in run
    assert test.startswith("scripts/install.sh test && ")
    assert "pytest" in test
    # .ci/run runs exactly this line
    ci = (ROOT / ".ci" / "run").read_text()
    pattern = re.search(r"grep -m1 -E '(.*?)' README.md", ci)
    assert pattern and re.match(pattern.group(1), test)


def test_install_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "install.sh")], check=True)
    subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=True)


def test_presets_table_matches_the_models() -> None:
    table = runpy.run_path(str(ROOT / "scripts" / "preset_table.py"))["table"]()
    assert table in (ROOT / "docs" / "presets.md").read_text()


def test_video_presets_table_matches_the_models() -> None:
    table = runpy.run_path(str(ROOT / "scripts" / "preset_table.py"))["video_table"]()
    assert table in (ROOT / "docs" / "presets.md").read_text()


def test_readme_python_example_runs() -> None:
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    out = namespace["out"]
    assert out.tokens.shape == (10, 8, 8) and not (out.tokens == 17).any()  # type: ignore[attr-defined]
    assert out.nfe <= 64  # type: ignore[attr-defined]  # at most min(steps, tokens) calls
