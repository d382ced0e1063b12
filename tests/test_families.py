"""Model families: the registry answers for every built-in family, and a new family is one class and
one ``register_family`` line.

The toy family below is defined here, outside the library: a token-grid backbone of its own class
whose checkpoints carry ``kind: "toy"``. Registered with one line, it is trained, reloaded, sampled
and described through the public API (``train``, ``load_any_model``, ``default_sampler``,
``generate``, ``unmask info``) without a change anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from torch import nn

from unmask.config import Config, load_config
from unmask.inference import generate, load_any_model
from unmask.models import Transformer, TransformerConfig
from unmask.tokenizers import build_tokenizer
from unmask.training import default_sampler, train
from unmask.training.batches import AnyDataset
from unmask.training.families import (
    FAMILIES,
    MultiStreamFamily,
    TextToImageFamily,
    TokenGridFamily,
    VideoFamily,
    family_for,
    family_of_backbone,
    register_family,
    unregister_family,
)

# --------------------------------------------------------------------------- the toy family


@dataclass
class ToyConfig(TransformerConfig):
    """A token-grid backbone config that names its family in checkpoints."""

    kind: str = "toy"


class ToyModel(Transformer):
    """The toy family's backbone: a ``Transformer`` of its own class."""


class ToyFamily(TokenGridFamily):
    """Runs whose preset is "toy": the token grid's objective and sampler, its own model and record."""

    name = "toy"
    kind = "toy"
    fallback = False

    def matches(self, config: Config) -> bool:
        return config.preset == "toy"

    def build_model(self, config: Config, dataset: AnyDataset) -> nn.Module:
        base = config.model.backbone(dataset.vocab_size, dataset.grid, dataset.num_classes)
        return ToyModel(ToyConfig(**asdict(base)))

    def model_from_backbone(self, backbone: dict[str, Any]) -> nn.Module:
        return ToyModel(ToyConfig(**{**backbone, "grid": tuple(backbone["grid"])}))

    def describe(self, backbone: dict[str, Any]) -> list[str]:
        return [f"model: toy, grid {backbone['grid']}, dim {backbone['dim']}"]


@pytest.fixture()
def toy_family() -> Iterator[ToyFamily]:
    family = register_family(ToyFamily())  # the one line that adds a family
    try:
        yield family
    finally:
        unregister_family(family.name)


def _toy_config() -> Config:
    config = load_config(
        "tiny", ["train.steps=4", "train.ckpt_every=4", "train.log_every=2", "sample.steps=4", "sample.per_class=1"]
    )
    config.preset = "toy"
    return config


def test_a_registered_family_is_trained_reloaded_sampled_and_described(
    toy_family: ToyFamily, tmp_path: Path, run_cli: Any
) -> None:
    config = _toy_config()
    assert family_for(config) is toy_family
    result = train(config, tmp_path / "run", progress=False)
    assert result.step == 4 and np.isfinite(result.loss)
    model, ckpt = load_any_model(tmp_path / "run")
    assert type(model) is ToyModel and ckpt.backbone["kind"] == "toy"
    assert family_of_backbone(dict(ckpt.backbone)) is toy_family
    out = generate(model, build_tokenizer(ckpt.tokenizer), default_sampler(model, ckpt.config), n=3, labels=[0, 1, 2])
    assert out.tokens.shape == (3, *model.config.grid) and out.images is not None
    code, printed, _ = run_cli(["info", str(tmp_path / "run")])
    assert code == 0 and "model: toy, grid" in printed
    # the command line needs no edit either: sample and inpaint take the new family's checkpoint
    drawn = tmp_path / "drawn.npz"
    code, printed, err = run_cli(
        ["sample", "--ckpt", str(tmp_path / "run"), "--out", str(drawn), "--n", "2", "--steps", "4", "--no-progress"]
    )
    assert code == 0, err
    with np.load(drawn) as data:
        assert data["tokens"].shape == (2, *model.config.grid)
    edited = tmp_path / "edited.npz"
    code, printed, err = run_cli(
        ["inpaint", "--ckpt", str(tmp_path / "run"), "--image", "test:0", "--mask", "centre", "--out", str(edited)]
    )
    assert code == 0, err
    assert json.loads(printed)["regenerated_tokens"] > 0


def test_unregistering_a_family_hands_its_configs_back() -> None:
    config = _toy_config()
    family = register_family(ToyFamily())
    try:
        assert family_for(config) is family
        with pytest.raises(ValueError, match="already registered"):
            register_family(ToyFamily())
    finally:
        unregister_family("toy")
    assert "toy" not in FAMILIES and isinstance(family_for(config), TokenGridFamily)
    with pytest.raises(ValueError, match="kind 'toy'"):
        family_of_backbone({"kind": "toy"})


# --------------------------------------------------------------------------- the built-in families


@pytest.mark.parametrize(
    ("preset", "family"),
    [
        ("tiny", TokenGridFamily),
        ("kjv-ar", TokenGridFamily),
        ("kjv-prime2", TokenGridFamily),
        ("tiny-joint", MultiStreamFamily),
        ("tiny-video", VideoFamily),
        ("tiny-t2i", TextToImageFamily),
    ],
)
def test_every_preset_has_its_family(preset: str, family: type) -> None:
    assert type(family_for(load_config(preset))) is family


@pytest.mark.parametrize(
    ("backbone", "family"),
    [
        ({"grid": [8, 8]}, TokenGridFamily),
        ({"kind": "multistream"}, MultiStreamFamily),
        ({"kind": "video"}, VideoFamily),
        ({"kind": "text"}, TextToImageFamily),
    ],
)
def test_every_backbone_record_has_its_family(backbone: dict[str, Any], family: type) -> None:
    assert type(family_of_backbone(backbone)) is family


def test_the_fallback_is_asked_last_and_there_is_one() -> None:
    assert [f.name for f in FAMILIES.values() if f.fallback] == ["token-grid"]
    with pytest.raises(ValueError, match="second fallback"):
        register_family(type("Other", (TokenGridFamily,), {"name": "other"})())
