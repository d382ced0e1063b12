"""The multi-stream U-ViT: shapes per stream, zero-init heads, cross-stream attention, times, errors."""

from __future__ import annotations

import pytest
import torch

from unmask.models import MultiStreamConfig, MultiStreamTransformer, StreamConfig
from unmask.models.transformer import patchify, unpatchify

pytestmark = pytest.mark.usefixtures("one_thread")


def make(timestep: bool = False, separate: bool = True, num_classes: int = 0, mask_patch: int = 2, **init):
    cfg = MultiStreamConfig(
        streams=(
            StreamConfig("image", 17, (8, 8), 4),
            StreamConfig("mask", 7, (4, 4), mask_patch),
            StreamConfig("label", 11, (1,)),
        ),
        dim=32,
        depth=3,
        heads=2,
        timestep=timestep,
        separate_times=separate,
        num_classes=num_classes,
        **init,
    )
    torch.manual_seed(0)
    return MultiStreamTransformer(cfg).eval()


def inputs(b: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "image": torch.randint(0, 17, (b, 8, 8), generator=g),
        "mask": torch.randint(0, 7, (b, 4, 4), generator=g),
        "label": torch.randint(0, 11, (b, 1), generator=g),
    }


def times(b: int = 3) -> dict[str, torch.Tensor]:
    return {"image": torch.full((b,), 0.2), "mask": torch.full((b,), 0.7), "label": torch.full((b,), 1.0)}


def randomize_heads(model: MultiStreamTransformer) -> None:
    with torch.no_grad():
        for io in model.io.values():
            io.head.weight.normal_(0, 0.5)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("timestep", "separate", "num_classes", "mask_patch"),
    [(False, True, 0, 2), (False, True, 0, 1), (True, True, 0, 4), (True, False, 0, 2), (False, True, 5, 2)],
)
def test_logit_shapes_prefix_tokens_and_zero_init(
    timestep: bool, separate: bool, num_classes: int, mask_patch: int
) -> None:
    model = make(timestep, separate, num_classes, mask_patch)
    c = model.config
    assert model.num_prefix == (3 if timestep and separate else int(timestep)) + int(num_classes > 0)
    # the image (8×8, patch 4) and a mask (4×4) with patch 2 have the same 2×2 patched grid: fused
    assert c.num_positions == 4 + (0 if mask_patch == 2 else (4 // mask_patch) ** 2) + 1
    assert c.groups() == ([(0, 1), (2,)] if mask_patch == 2 else [(0,), (1,), (2,)])
    t = (times() if separate else torch.full((3,), 0.5)) if timestep else None
    labels = torch.tensor([0, 1, num_classes]) if num_classes else None
    out = model(inputs(), t, labels)
    assert list(out) == ["image", "mask", "label"]
    assert out["image"].shape == (3, 8, 8, 16)
    assert out["mask"].shape == (3, 4, 4, 6)
    assert out["label"].shape == (3, 1, 10)
    # generative per-position heads start at zero (the uniform prediction); the one-token label
    # stream is a single-token readout with the normal init (unmask.models.initialization)
    assert (out["image"] == 0).all() and (out["mask"] == 0).all()
    assert not (out["label"] == 0).all()


def test_streams_see_each_other() -> None:
    """Changing the image changes the mask's and the label's logits (one attention over all streams)."""
    model = make()
    randomize_heads(model)
    x = inputs()
    base = model(x)
    other = dict(x, image=(x["image"] + 1) % 16)
    moved = model(other)
    assert not torch.allclose(base["mask"], moved["mask"])
    assert not torch.allclose(base["label"], moved["label"])


@pytest.mark.parametrize("separate", [True, False])
def test_explicit_times_enter_per_stream_or_shared(separate: bool) -> None:
    model = make(timestep=True, separate=separate)
    randomize_heads(model)
    x = inputs()
    if separate:
        a = model(x, times())
        b = model(x, dict(times(), mask=torch.full((3,), 0.1)))  # only the mask's time differs
        assert not torch.allclose(a["image"], b["image"])
        shared = model(x, torch.full((3,), 0.4))  # one tensor = the same time for every stream
        assert torch.allclose(shared["mask"], model(x, {k: torch.full((3,), 0.4) for k in x})["mask"])
    else:
        a = model(x, torch.full((3,), 0.2))
        b = model(x, torch.full((3,), 0.8))
        assert not torch.allclose(a["mask"], b["mask"])
        with pytest.raises(ValueError, match="one shared time .* but the streams' times differ"):
            model(x, times())


def test_stream_type_embedding_tells_coinciding_positions_apart() -> None:
    """Two streams with equal grids, patches and vocabularies: swapping their contents swaps nothing trivially."""
    cfg = MultiStreamConfig(streams=(StreamConfig("a", 5, (4,)), StreamConfig("b", 5, (4,))), dim=16, depth=2, heads=2)
    torch.manual_seed(0)
    model = MultiStreamTransformer(cfg).eval()
    with torch.no_grad():
        model.io["b"].embed.weight.copy_(model.io["a"].embed.weight)  # type: ignore[union-attr]
        model.io["b"].patch_in.load_state_dict(model.io["a"].patch_in.state_dict())  # type: ignore[union-attr]
        model.io["b"].head.load_state_dict(model.io["a"].head.state_dict())  # type: ignore[union-attr]
        model.io["a"].head.weight.normal_(0, 0.5)  # type: ignore[union-attr]
        model.io["b"].head.weight.copy_(model.io["a"].head.weight)  # type: ignore[union-attr]
    x = {"a": torch.tensor([[0, 1, 2, 3]]), "b": torch.tensor([[0, 1, 2, 3]])}
    out = model(x)
    assert not torch.allclose(out["a"], out["b"])  # only the learned stream-type embedding differs


def test_patchify_helpers_are_inverse() -> None:
    h = torch.randn(2, 8, 4, 3)
    y = patchify(h, (8, 4), 2)
    assert y.shape == (2, 8, 12)
    assert torch.equal(unpatchify(y, (8, 4), 2, 3), h)


def test_config_round_trips_through_a_dict() -> None:
    cfg = make(timestep=True).config
    again = MultiStreamConfig(**cfg.to_dict())  # type: ignore[arg-type]
    assert again == cfg
    assert again.stream("mask").grid == (4, 4)


def test_bad_inputs_name_what_is_wrong() -> None:
    model = make(timestep=True)
    x = inputs()
    with pytest.raises(ValueError, match=r"streams \['image', 'mask'\] do not match the model's streams"):
        model({k: x[k] for k in ("image", "mask")}, times())
    with pytest.raises(ValueError, match=r"stream 'mask' has shape \(3, 8, 8\), expected"):
        model(dict(x, mask=torch.zeros(3, 8, 8, dtype=torch.long)), times())
    with pytest.raises(ValueError, match="stream 'label' has 2 rows, the others 3"):
        model(dict(x, label=torch.zeros(2, 1, dtype=torch.long)), times())
    with pytest.raises(ValueError, match="explicit-timestep model needs t; got None"):
        model(x, None)
    with pytest.raises(ValueError, match=r"times for streams \['image'\] do not match"):
        model(x, {"image": torch.zeros(3)})
    with pytest.raises(ValueError, match="unconditional .* but labels were given"):
        model(x, times(), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="stream name must be a Python identifier, got 'a.b'"):
        StreamConfig("a.b", 5, (4,))
    with pytest.raises(ValueError, match=r"stream 'mask': patch 3 must be >= 1 and divide every axis \(4, 4\)"):
        StreamConfig("mask", 7, (4, 4), 3)
    with pytest.raises(ValueError, match=r"stream names must be unique, got \['a', 'a'\]"):
        MultiStreamConfig(streams=(StreamConfig("a", 5, (4,)), StreamConfig("a", 5, (4,))))
    with pytest.raises(ValueError, match="unknown stream 'depth'; this model has image, mask, label"):
        model.config.stream("depth")


@pytest.mark.parametrize("fuse", [True, False])
def test_fused_and_separate_layouts_cover_every_stream(fuse: bool) -> None:
    cfg = MultiStreamConfig(
        streams=(
            StreamConfig("image", 17, (8, 8), 4),
            StreamConfig("mask", 7, (4, 4), 2),
            StreamConfig("label", 5, (1,)),
        ),
        dim=16,
        depth=2,
        heads=2,
        fuse=fuse,
    )
    torch.manual_seed(0)
    model = MultiStreamTransformer(cfg).eval()
    assert cfg.num_positions == (4 + 1 if fuse else 4 + 4 + 1)
    randomize_heads(model)
    x = {k: v for k, v in inputs().items()}
    x["label"] = x["label"] % 4
    out = model(x)
    assert out["mask"].shape == (3, 4, 4, 6) and out["image"].shape == (3, 8, 8, 16)
    # either layout: changing one image patch changes the mask logits at that place
    other = dict(x, image=x["image"].clone())
    other["image"][:, :4, :4] = (other["image"][:, :4, :4] + 3) % 16
    moved = model(other)
    assert not torch.allclose(out["mask"][:, :2, :2], moved["mask"][:, :2, :2])


def test_positions_of_a_coarser_stream_sit_in_the_common_frame() -> None:
    """A 4×4-patched mask over an 8×8-patched image: mask cell k is centred at image coordinate 2k + 0.5."""
    from unmask.models.embeddings import _sincos_1d, sincos_positions

    streams = (StreamConfig("image", 17, (8, 8), 1), StreamConfig("mask", 7, (4, 4), 1))
    cfg = MultiStreamConfig(streams=streams, dim=16, depth=1, heads=2, init="uvit")
    assert cfg.position_frames() == {2: (8, 8)}
    model = MultiStreamTransformer(cfg)
    pos = model.io["mask"].pos.reshape(4, 4, 16)  # type: ignore[union-attr]
    want = torch.cat([_sincos_1d(torch.tensor([2.5]), 8), _sincos_1d(torch.tensor([4.5]), 8)], dim=1)[0]
    assert torch.allclose(pos[1, 2], want, atol=1e-6)
    assert torch.equal(model.io["image"].pos, sincos_positions((8, 8), 16))  # type: ignore[union-attr]
    # the balanced scheme maps both streams' raw positions by one affine map (centred on the common frame)
    bal = MultiStreamTransformer(MultiStreamConfig(streams=streams, dim=16, depth=1, heads=2))
    raw_img, raw_mask = model.io["image"].pos, model.io["mask"].pos
    mean = raw_img.mean(0)
    scale = bal.io["image"].pos.norm(dim=1).mean() / (raw_img - mean).norm(dim=1).mean()
    torch.testing.assert_close(bal.io["image"].pos, (raw_img - mean) * scale)
    torch.testing.assert_close(bal.io["mask"].pos, (raw_mask - mean) * scale)
    with pytest.raises(ValueError, match="must have one entry per grid axis"):
        sincos_positions((4, 4), 16, (8,))


def test_default_init_options_draw_the_same_weights() -> None:
    """The defaults (balanced, no σ override, positions × 1) named or not give bit-identical weights."""
    a, b = make(), make(init="balanced", embed_std=None, pos_scale=1.0)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    for name in ("image", "mask", "label"):
        assert torch.equal(a.io[name].pos, b.io[name].pos)


@pytest.mark.parametrize("init", ["balanced", "uvit"])
@pytest.mark.parametrize("embed_std", [0.02, 1.0])
@pytest.mark.parametrize("pos_scale", [1.0, 0.1])
def test_init_options_set_every_streams_embedding_scale_and_position_amplitude(
    init: str, embed_std: float, pos_scale: float
) -> None:
    ref, model = make(init=init), make(init=init, embed_std=embed_std, pos_scale=pos_scale)
    for name in ("image", "mask", "label"):
        std = model.io[name].embed.weight.std().item()
        assert abs(std - embed_std) < 0.35 * embed_std, name  # 7 × 32 to 17 × 32 draws
        torch.testing.assert_close(model.io[name].pos, ref.io[name].pos * pos_scale)
    out = model(inputs())
    assert out["image"].shape == (3, 8, 8, 16)


@pytest.mark.parametrize("field,value", [("embed_std", 0.0), ("pos_scale", -1.0)])
def test_bad_init_options_are_named(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{field} must be > 0, got {value}"):
        make(**{field: value})


def test_to_dict_round_trips_every_field() -> None:
    """A checkpoint stores ``to_dict()`` and rebuilds the model from it: every field must survive
    (the init options once did not, and a model trained with positions × 0.1 reloaded with × 1)."""
    import dataclasses

    cfg = make(timestep=True, num_classes=3, embed_std=0.7, pos_scale=0.25).config
    again = MultiStreamConfig(**cfg.to_dict())  # type: ignore[arg-type]
    for f in dataclasses.fields(cfg):
        assert getattr(again, f.name) == getattr(cfg, f.name), f.name
