"""unmask.paths: the cache directory sits below every layer and keeps its old import path."""

from __future__ import annotations

from pathlib import Path

import pytest

from unmask.paths import cache_dir


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UNMASK_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("UNMASK_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "unmask"


def test_old_import_paths_still_work() -> None:
    from unmask.eval import cache_dir as from_eval
    from unmask.eval.classifier import cache_dir as from_classifier

    assert from_eval is cache_dir and from_classifier is cache_dir
