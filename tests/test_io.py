"""unmask._io: the cached-weights loader every trained judge uses (classifier, scene detector, segmenter judge)
returns None — train again — for any unreadable cache, and the module for a whole one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from unmask._io import atomic_write_text, load_cached_weights, save_weights_atomically


def _cache(tmp_path: Path) -> tuple[Path, Path, nn.Linear]:
    torch.manual_seed(0)
    module = nn.Linear(3, 2)
    weights, meta = tmp_path / "m.safetensors", tmp_path / "m.json"
    save_weights_atomically(module, weights)
    atomic_write_text(meta, json.dumps({"inputs": 3, "outputs": 2, "score": 0.5}))
    return weights, meta, module


def _build(info: dict) -> nn.Linear:  # type: ignore[type-arg]
    return nn.Linear(int(info["inputs"]), int(info["outputs"]))


def test_a_whole_cache_loads_the_same_weights(tmp_path: Path) -> None:
    weights, meta, module = _cache(tmp_path)
    cached = load_cached_weights(weights, meta, _build)
    assert cached is not None
    loaded, info = cached
    assert info["score"] == 0.5
    for k, v in module.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)


@pytest.mark.parametrize(
    "damage",
    ["no weights", "no meta", "truncated weights", "garbage weights", "garbage meta", "missing key", "wrong shape"],
)
def test_an_unreadable_cache_is_none(tmp_path: Path, damage: str) -> None:
    weights, meta, _ = _cache(tmp_path)
    data = weights.read_bytes()
    if damage == "no weights":
        weights.unlink()
    elif damage == "no meta":
        meta.unlink()
    elif damage == "truncated weights":
        weights.write_bytes(data[: len(data) // 2])
    elif damage == "garbage weights":
        weights.write_bytes(b"not a safetensors file")
    elif damage == "garbage meta":
        meta.write_text("{not json")
    elif damage == "missing key":
        meta.write_text(json.dumps({"inputs": 3}))
    elif damage == "wrong shape":
        meta.write_text(json.dumps({"inputs": 4, "outputs": 2}))
    assert load_cached_weights(weights, meta, _build) is None
