"""Tests of the Latte-style video backbone: shapes, no [MASK] mass, zero-initialised head, factorised
attention really separating space and time, conditioning (ETM / ITM, labels with a null slot), batch
independence, config validation, presets, and save → load giving identical logits."""

from __future__ import annotations

import itertools

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from unmask.models import VIDEO_PRESETS, VideoTransformer, VideoTransformerConfig, video_preset

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = 6  # 5 data tokens + [MASK]
MASK = VOCAB - 1
GRID = (4, 4, 4)  # T, H, W


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def make(patch=1, timestep=False, num_classes=0, skip=True, depth=4, grid=GRID, seed=0, **init) -> VideoTransformer:
    torch.manual_seed(seed)
    cfg = VideoTransformerConfig(
        vocab_size=VOCAB,
        grid=grid,
        patch=patch,
        dim=16,
        depth=depth,
        heads=2,
        mlp_ratio=2.0,
        num_classes=num_classes,
        timestep=timestep,
        skip=skip,
        **init,
    )
    return VideoTransformer(cfg).eval()


def perturb_head(model: VideoTransformer, seed: int = 1) -> VideoTransformer:
    """Random head weights, so the logits carry the trunk's output (the head starts at zero)."""
    with torch.no_grad():
        model.head.weight.copy_(torch.randn(model.head.weight.shape, generator=gen(seed)))
        model.head.bias.copy_(torch.randn(model.head.bias.shape, generator=gen(seed + 1)))
    return model


def inputs(model: VideoTransformer, batch: int = 2, seed: int = 2):
    c = model.config
    x = torch.randint(0, VOCAB, (batch, *c.grid), generator=gen(seed))  # [MASK] included
    t = torch.rand(batch, generator=gen(seed + 1)) if c.timestep else None
    labels = torch.randint(0, c.num_classes + 1, (batch,), generator=gen(seed + 2)) if c.num_classes else None
    return x, t, labels


class PassThrough(nn.Module):
    """Stands in for a block: returns its input (drops a long-skip input)."""

    def forward(self, x, skip=None, attn_mask=None):
        return x


def without_temporal(model: VideoTransformer) -> VideoTransformer:
    model.temporal = nn.ModuleList(PassThrough() for _ in model.temporal)
    return model


def without_spatial(model: VideoTransformer) -> VideoTransformer:
    for name in ("in_spatial", "mid_spatial", "out_spatial"):
        setattr(model, name, nn.ModuleList(PassThrough() for _ in getattr(model, name)))
    return model


COMBOS = list(itertools.product((1, 2), (False, True), (0, 3), (False, True)))
IDS = [f"p{p}-{'etm' if ts else 'itm'}-c{nc}-{'skip' if sk else 'noskip'}" for p, ts, nc, sk in COMBOS]


@pytest.mark.parametrize("patch,timestep,num_classes,skip", COMBOS, ids=IDS)
def test_shape_zero_init_no_mask_mass_and_batch_independence(patch, timestep, num_classes, skip):
    model = make(patch, timestep, num_classes, skip)
    x, t, labels = inputs(model, batch=3)
    with torch.no_grad():
        out = model(x, t, labels)
    # logits over the K − 1 data tokens only: [MASK] cannot get probability
    assert out.shape == (3, *GRID, VOCAB - 1) and out.dtype == torch.float32
    assert torch.equal(out, torch.zeros_like(out))  # zero-initialised head: uniform prediction
    perturb_head(model)
    with torch.no_grad():
        full = model(x, t, labels)
        for i in range(3):
            ti = None if t is None else t[i : i + 1]
            one = model(x[i : i + 1], ti, None if labels is None else labels[i : i + 1])
            torch.testing.assert_close(one[0], full[i], rtol=1e-5, atol=1e-5)
    assert torch.isfinite(full).all() and full.std() > 0


@pytest.mark.parametrize("patch", [1, 2])
@pytest.mark.parametrize("num_classes,timestep", [(0, False), (3, True)])
def test_without_temporal_blocks_frames_do_not_influence_each_other(patch, num_classes, timestep):
    """Spatial blocks attend within a frame only: change frame 1 and only frame 1's logits move."""
    model = perturb_head(without_temporal(make(patch, timestep, num_classes)))
    x, t, labels = inputs(model)
    y = x.clone()
    y[:, 1] = (y[:, 1] + 1) % VOCAB
    with torch.no_grad():
        a, b = model(x, t, labels), model(y, t, labels)
    changed = (a - b).abs().amax(dim=(0, 2, 3, 4))  # per frame
    assert changed[1] > 1e-3
    assert torch.equal(a[:, [0, 2, 3]], b[:, [0, 2, 3]])


@pytest.mark.parametrize("patch", [1, 2])
def test_with_temporal_blocks_frames_do_influence_each_other(patch):
    model = perturb_head(make(patch, num_classes=3))
    x, t, labels = inputs(model)
    y = x.clone()
    y[:, 1] = (y[:, 1] + 1) % VOCAB
    with torch.no_grad():
        a, b = model(x, t, labels), model(y, t, labels)
    changed = (a - b).abs().amax(dim=(0, 2, 3, 4))
    assert (changed > 1e-4).all()  # every frame sees frame 1, before and after it (no causal mask)


@pytest.mark.parametrize("timestep,num_classes", [(False, 0), (True, 3)])
def test_temporal_blocks_only_mix_one_spatial_place(timestep, num_classes):
    """Without spatial blocks, a token at (frame 2, row 1, col 3) reaches every frame at (1, 3) and nothing else."""
    model = perturb_head(without_spatial(make(1, timestep, num_classes)))
    x, t, labels = inputs(model)
    y = x.clone()
    y[:, 2, 1, 3] = (y[:, 2, 1, 3] + 1) % VOCAB
    with torch.no_grad():
        a, b = model(x, t, labels), model(y, t, labels)
    moved = (a - b).abs().amax(dim=(0, 4))  # (T, H, W)
    assert (moved[:, 1, 3] > 1e-6).all()
    moved[:, 1, 3] = 0
    assert torch.equal(moved, torch.zeros_like(moved))


def test_itm_ignores_t_and_etm_needs_it():
    itm = perturb_head(make(timestep=False, num_classes=3))
    x, _, labels = inputs(itm)
    with torch.no_grad():
        assert torch.equal(itm(x, None, labels), itm(x, torch.rand(2), labels))
    etm = perturb_head(make(timestep=True, num_classes=3))
    with pytest.raises(ValueError, match="needs t"):
        etm(x, None, labels)
    with torch.no_grad():
        assert not torch.allclose(etm(x, torch.zeros(2), labels), etm(x, torch.ones(2), labels))


def test_labels_none_is_the_null_label_and_unconditional_refuses_labels():
    model = perturb_head(make(num_classes=3))
    x, _, _ = inputs(model)
    with torch.no_grad():
        assert torch.equal(model(x, None, None), model(x, None, torch.full((2,), 3)))
        assert not torch.allclose(model(x, None, torch.zeros(2, dtype=torch.long)), model(x, None, None))
    with pytest.raises(ValueError, match="unconditional"):
        make()(x, None, torch.zeros(2, dtype=torch.long))


def test_frame_positions_tell_frames_apart():
    """A clip of four identical frames gets different logits per frame (temporal positions)."""
    model = perturb_head(make(num_classes=3))
    frame = torch.randint(0, VOCAB, (1, 1, 4, 4), generator=gen(3))
    with torch.no_grad():
        out = model(frame.expand(1, 4, 4, 4).contiguous(), None, None)
    assert (out[0, 0] - out[0, 1]).abs().max() > 1e-4


def test_wrong_input_shape_is_named():
    model = make()
    with pytest.raises(ValueError, match=r"\(2, 3, 4, 4\)"):
        model(torch.zeros(2, 3, 4, 4, dtype=torch.long))


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"depth": 3}, "even"),
        ({"depth": 0}, "even"),
        ({"patch": 3}, "patch 3"),
        ({"grid": (4, 4)}, "frames, height, width"),
        ({"grid": (0, 4, 4)}, "frames, height, width"),
        ({"heads": 3}, "heads"),
        ({"vocab_size": 1}, "vocab_size"),
        ({"kind": "image"}, "kind"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_config_errors_name_the_value(kwargs, needle):
    base = {"vocab_size": VOCAB, "grid": GRID, "dim": 16, "depth": 2, "heads": 2}
    with pytest.raises(ValueError, match=needle):
        VideoTransformerConfig(**{**base, **kwargs})


def test_config_round_trips_through_its_dict():
    cfg = make(patch=2, timestep=True, num_classes=3).config
    again = VideoTransformerConfig(**{**cfg.to_dict(), "grid": tuple(cfg.to_dict()["grid"])})  # type: ignore[arg-type]
    assert again == cfg and cfg.to_dict()["kind"] == "video"
    assert cfg.num_positions == 4 * 2 * 2 and cfg.frames == 4 and cfg.frame_grid == (4, 4)


def test_save_and_load_give_identical_logits(tmp_path):
    model = perturb_head(make(patch=2, timestep=True, num_classes=3))
    save_file(model.state_dict(), str(tmp_path / "m.safetensors"))
    again = VideoTransformer(VideoTransformerConfig(**model.config.to_dict())).eval()  # type: ignore[arg-type]
    again.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    x, t, labels = inputs(model)
    with torch.no_grad():
        assert torch.equal(model(x, t, labels), again(x, t, labels))


def test_presets_build_and_reject_unknown_names():
    assert {"video-tiny", "video"} <= set(VIDEO_PRESETS)
    p = video_preset("video")
    p["dim"] = 999
    assert VIDEO_PRESETS["video"]["dim"] != 999
    with pytest.raises(ValueError, match="gigantic"):
        video_preset("gigantic")
    for name in VIDEO_PRESETS:
        cfg = VideoTransformerConfig(vocab_size=9, grid=(8, 16, 16), num_classes=5, **video_preset(name))
        with torch.device("meta"):
            out = VideoTransformer(cfg)(torch.zeros(1, 8, 16, 16, dtype=torch.long), None, torch.tensor([5]))
        assert out.shape == (1, 8, 16, 16, 8)


def test_default_init_options_draw_the_same_weights() -> None:
    a, b = make(), make(init="balanced", embed_std=None, pos_scale=1.0)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name


@pytest.mark.parametrize("init", ["balanced", "uvit"])
@pytest.mark.parametrize("embed_std,pos_scale", [(1.0, 0.1), (0.5, 1.0)])
def test_init_options_set_embedding_scale_and_position_amplitude(init: str, embed_std: float, pos_scale: float) -> None:
    ref, model = make(init=init), make(init=init, embed_std=embed_std, pos_scale=pos_scale)
    std = model.token_embed.weight.std().item()
    assert abs(std - embed_std) < 0.35 * embed_std
    torch.testing.assert_close(model.pos_space, ref.pos_space * pos_scale)
    torch.testing.assert_close(model.pos_time, ref.pos_time * pos_scale)


@pytest.mark.parametrize("field,value", [("embed_std", 0.0), ("pos_scale", -1.0)])
def test_bad_init_options_are_named(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{field} must be > 0, got {value}"):
        make(**{field: value})


def test_to_dict_round_trips_every_field() -> None:
    """A checkpoint stores ``to_dict()`` and rebuilds the model from it: every field must survive."""
    import dataclasses

    cfg = make(patch=2, timestep=True, num_classes=3, embed_std=0.7, pos_scale=0.25).config
    d = cfg.to_dict()
    d["grid"] = tuple(d["grid"])  # type: ignore[arg-type]
    again = VideoTransformerConfig(**d)  # type: ignore[arg-type]
    for f in dataclasses.fields(cfg):
        assert getattr(again, f.name) == getattr(cfg, f.name), f.name
