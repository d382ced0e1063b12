"""The shared initialisation (unmask.models.initialization) on every backbone: input sizes, positions,
heads, knobs, errors, and checkpoints that predate the scheme."""

from __future__ import annotations

import math

import pytest
import torch

from unmask.models import (
    MultiStreamConfig,
    MultiStreamTransformer,
    StreamConfig,
    TextTransformer,
    TextTransformerConfig,
    Transformer,
    TransformerConfig,
    VideoTransformer,
    VideoTransformerConfig,
)
from unmask.models.embeddings import sincos_positions
from unmask.models.initialization import INITS, check_init, grid_positions, with_legacy_init

pytestmark = pytest.mark.usefixtures("one_thread")

KINDS = ["grid-1d", "grid-2d", "grid-3d", "prime", "multistream", "video", "text"]


def build(kind: str, init: str = "balanced", seed: int = 0, **knobs) -> torch.nn.Module:
    """A small backbone of each family, with widths like the presets' (the sizes scale with √D)."""
    torch.manual_seed(seed)
    common = {"dim": 64, "depth": 2, "heads": 2, "init": init, **knobs}
    if kind == "grid-1d":
        return Transformer(TransformerConfig(vocab_size=257, grid=(32,), patch=4, **common))
    if kind == "grid-2d":
        return Transformer(TransformerConfig(vocab_size=17, grid=(8, 8), patch=2, num_classes=10, **common))
    if kind == "grid-3d":
        return Transformer(TransformerConfig(vocab_size=9, grid=(4, 8, 8), patch=2, **common))
    if kind == "prime":
        return Transformer(
            TransformerConfig(vocab_size=257, grid=(8, 8), patch=2, subtokens=2, subtoken_vocab=17, **common)
        )
    if kind == "multistream":
        streams = (
            StreamConfig("image", 17, (16, 16), 4),
            StreamConfig("mask", 6, (8, 8), 2),
            StreamConfig("label", 11, (1,)),
        )
        return MultiStreamTransformer(MultiStreamConfig(streams=streams, **common))
    if kind == "video":
        return VideoTransformer(
            VideoTransformerConfig(vocab_size=9, grid=(8, 16, 16), patch=4, num_classes=5, **common)
        )
    if kind == "text":
        backbone = TransformerConfig(vocab_size=9, grid=(16, 16), patch=4, **common)
        return TextTransformer(TextTransformerConfig(backbone=backbone, text_len=8, text_dim=32, scratch_vocab=100))
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_balanced_init_makes_content_and_position_comparable(kind: str) -> None:
    """The issue this scheme fixes: under U-ViT's init a token's content is ~1% of its position; under
    the balanced one what tells tokens apart and what tells positions apart are of one size."""
    for stream, n in build(kind).input_norms().items():  # type: ignore[operator]
        if n["position_varying"] == 0:  # a one-token stream has no position to tell apart
            assert stream == "label" and n["content_varying"] > 1
            continue
        ratio = n["content_varying"] / n["position_varying"]
        assert 0.5 < ratio < 3, (kind, stream, n)
        assert n["position"] == pytest.approx(n["position_varying"], rel=1e-4)  # centred: no constant part
    for stream, n in build(kind, "uvit").input_norms().items():  # type: ignore[operator]
        assert n["content"] < 0.05 * n["position"], (kind, stream, n)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("init", INITS)
def test_generative_heads_start_at_zero_and_readouts_do_not(kind: str, init: str) -> None:
    model = build(kind, init)
    heads = {name: p for name, p in model.named_parameters() if name.endswith("head.weight")}
    assert heads
    for name, weight in heads.items():
        readout = name == "io.label.head.weight"
        if readout and init == "balanced":
            assert float(weight.detach().std()) == pytest.approx(0.02, rel=0.2), name
        else:
            assert torch.count_nonzero(weight) == 0, name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("init", INITS)
def test_same_seed_same_model_and_it_runs(kind: str, init: str) -> None:
    a, b = build(kind, init, seed=3), build(kind, init, seed=3)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    for buf_a, buf_b in zip(a.buffers(), b.buffers(), strict=True):
        assert torch.equal(buf_a, buf_b)
    assert all(torch.isfinite(p).all() for p in a.parameters())


def test_balanced_positions_are_centred_sincos_of_the_raw_norm() -> None:
    for grid, dim in [((7, 7), 192), ((128,), 128), ((8,), 64), ((2, 4, 4), 96)]:
        raw = sincos_positions(grid, dim)
        pos = grid_positions(grid, dim, "balanced")
        assert pos.mean(0).abs().max() < 1e-5
        assert pos.norm(dim=1).mean() == pytest.approx(math.sqrt(dim / 2), rel=1e-5)
        # an affine image of the raw positions: the same geometry, the constant part removed
        scale = pos.norm(dim=1).mean() / (raw - raw.mean(0)).norm(dim=1).mean()
        torch.testing.assert_close(pos, (raw - raw.mean(0)) * scale)
        torch.testing.assert_close(grid_positions(grid, dim, "balanced", 0.25), pos * 0.25)
        torch.testing.assert_close(grid_positions(grid, dim, "uvit", 0.5), raw * 0.5)
    assert torch.equal(grid_positions((1,), 16, "balanced"), torch.zeros(1, 16))


def test_balanced_embeddings_have_unit_content_per_channel() -> None:
    """σ = 1 embeddings through a 1/√fan_in projection: content of about unit size per channel;
    MDM-Prime's ℓ summed sub-token embeddings have σ/√ℓ each, so their sum has σ."""
    plain = build("grid-2d")
    prime = build("prime")
    assert float(plain.token_embed.weight.detach().std()) == pytest.approx(1.0, rel=0.1)  # type: ignore[union-attr]
    assert float(prime.token_embed.weight.detach().std()) == pytest.approx(1 / math.sqrt(2), rel=0.1)  # type: ignore[union-attr]
    for model in (plain, prime):
        n = model.input_norms()["tokens"]  # type: ignore[operator]
        per_channel = n["content"] / math.sqrt(64)
        assert 0.6 < per_channel < 1.4, n


@pytest.mark.parametrize("init", INITS)
def test_embed_std_overrides_the_schemes_sigma(init: str) -> None:
    model = build("grid-1d", init, embed_std=0.3)
    assert float(model.token_embed.weight.detach().std()) == pytest.approx(0.3, rel=0.1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "init,embed_std,pos_scale,message",
    [
        ("xavier", None, 1.0, "init must be one of balanced, uvit, got 'xavier'"),
        ("balanced", 0.0, 1.0, "embed_std must be > 0, got 0.0"),
        ("balanced", -1.0, 1.0, "embed_std must be > 0, got -1.0"),
        ("uvit", None, 0.0, "pos_scale must be > 0, got 0.0"),
    ],
)
def test_bad_init_options_name_the_value(init: str, embed_std: float | None, pos_scale: float, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        check_init(init, embed_std, pos_scale)
    with pytest.raises(ValueError, match="got"):
        build("grid-2d", init, embed_std=embed_std, pos_scale=pos_scale)


def test_configs_saved_before_the_scheme_rebuild_the_uvit_model() -> None:
    """A stored backbone or run config without ``init`` was U-ViT-initialised: its non-persistent
    positions must come back raw, or its weights would meet positions they were never trained with."""
    from unmask.config import Config, load_config

    old = build("grid-2d", "uvit").config.to_dict()  # type: ignore[union-attr,operator]
    del old["init"]
    cfg = with_legacy_init(old)
    assert cfg["init"] == "uvit"
    assert with_legacy_init({**old, "init": "balanced"})["init"] == "balanced"
    cfg["grid"] = tuple(cfg["grid"])  # type: ignore[arg-type]
    model = Transformer(TransformerConfig(**cfg))  # type: ignore[arg-type]
    assert torch.equal(model.pos, sincos_positions((4, 4), 64))

    saved = load_config("tiny").to_dict()
    del saved["model"]["init"]
    assert Config.from_dict(saved).model.init == "uvit"
    assert Config.from_dict(load_config("tiny").to_dict()).model.init == "balanced"


def test_text_model_config_without_init_is_legacy() -> None:
    model = build("text", "uvit")
    d = model.config.to_dict()  # type: ignore[union-attr,operator]
    del d["backbone"]["init"]
    again = TextTransformerConfig.from_dict(d)
    assert again.backbone.init == "uvit"


def test_unknown_init_in_a_run_config_is_a_config_error() -> None:
    from unmask.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="model.init"):
        load_config("tiny", ["model.init=xavier"])
    with pytest.raises(ConfigError, match="embed_std must be > 0, got -0.5"):
        load_config("tiny", ["model.embed_std=-0.5"])
