"""The cached classifier judge: trained once, read from the cache after, trained again when the cache is
unreadable (it used to raise SafetensorError on a truncated file)."""

from __future__ import annotations

import pytest

from unmask.eval.classifier import load_or_train_classifier


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("UNMASK_CACHE", str(tmp_path))


def test_trained_once_then_read_and_retrained_when_truncated() -> None:
    first = load_or_train_classifier("digits")
    data = first.path.read_bytes()
    assert first.test_accuracy > 0.9
    written = first.path.stat().st_mtime_ns
    assert load_or_train_classifier("digits").test_accuracy == first.test_accuracy
    assert first.path.stat().st_mtime_ns == written  # read from the cache, not written again
    first.path.write_bytes(data[: len(data) // 2])
    again = load_or_train_classifier("digits")
    assert again.path == first.path and again.path.stat().st_size == len(data)  # trained and written whole again
    assert again.test_accuracy > 0.9
    assert not list(first.path.parent.glob(".tmp-*"))
