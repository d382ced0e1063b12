"""Tests of the U-ViT backbone: shapes, zero-initialised head, time / label conditioning, patchify, batch
independence, config validation and the named presets."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from unmask.models import MODEL_PRESETS, Transformer, TransformerConfig, build_model, model_preset

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = 7  # 6 data tokens + [MASK]
MASK = VOCAB - 1
GRID_PATCH = [((16,), 1), ((16,), 2), ((16,), 4), ((8, 8), 1), ((8, 8), 2), ((8, 8), 4), ((4, 4, 4), 1), ((4, 4, 4), 2)]
GP_IDS = [f"{'x'.join(map(str, g))}-p{p}" for g, p in GRID_PATCH]
# every (grid, patch) with every (timestep, num_classes, skip)
FULL = [(g, p, ts, nc, sk) for (g, p) in GRID_PATCH for ts in (True, False) for nc in (0, 10) for sk in (True, False)]
FULL_IDS = [
    f"{gid}-{'etm' if ts else 'itm'}-c{nc}-{'skip' if sk else 'noskip'}"
    for gid, (_, _, ts, nc, sk) in zip([i for i in GP_IDS for _ in range(8)], FULL, strict=True)
]


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def make(grid, patch=1, timestep=True, num_classes=0, skip=True, seed=0, **kw) -> Transformer:
    torch.manual_seed(seed)
    cfg = TransformerConfig(
        vocab_size=VOCAB,
        grid=grid,
        patch=patch,
        dim=16,
        depth=3,
        heads=2,
        mlp_ratio=2.0,
        num_classes=num_classes,
        timestep=timestep,
        skip=skip,
        **kw,
    )
    return Transformer(cfg).eval()


def perturb_head(model: Transformer, seed: int = 1) -> Transformer:
    """Give the zero-initialised head random weights so that the logits carry the trunk's output."""
    with torch.no_grad():
        model.head.weight.copy_(torch.randn(model.head.weight.shape, generator=gen(seed)))
        model.head.bias.copy_(torch.randn(model.head.bias.shape, generator=gen(seed + 1)))
    return model


def inputs(model: Transformer, batch: int = 3, seed: int = 2):
    c = model.config
    x = torch.randint(0, VOCAB, (batch, *c.grid), generator=gen(seed))  # [MASK] included
    t = torch.rand(batch, generator=gen(seed + 1))
    labels = torch.randint(0, c.num_classes + 1, (batch,), generator=gen(seed + 2)) if c.num_classes else None
    return x, t, labels


# --- shapes and initialisation -------------------------------------------------------------
@pytest.mark.parametrize("grid,patch,timestep,num_classes,skip", FULL, ids=FULL_IDS)
def test_shape_zero_init_and_batch_independence(grid, patch, timestep, num_classes, skip):
    model = make(grid, patch, timestep, num_classes, skip)
    x, t, labels = inputs(model, batch=3)
    with torch.no_grad():
        out = model(x, t, labels)
    assert out.shape == (3, *grid, VOCAB - 1)
    assert out.dtype == torch.float32
    # zero-initialised head: all logits 0, the prediction is uniform over data tokens
    assert torch.equal(out, torch.zeros_like(out))
    torch.testing.assert_close(out.softmax(-1), torch.full_like(out, 1 / (VOCAB - 1)))

    perturb_head(model)
    with torch.no_grad():
        full = model(x, t, labels)
        assert torch.isfinite(full).all() and full.abs().max() > 1e-3
        for i in range(3):
            sl = slice(i, i + 1)
            alone = model(x[sl], t[sl], None if labels is None else labels[sl])
            torch.testing.assert_close(alone, full[sl], rtol=1e-5, atol=1e-5)
        # changing the other samples leaves sample 0 unchanged
        x2 = x.clone()
        x2[1:] = torch.randint(0, VOCAB, x2[1:].shape, generator=gen(9))
        t2 = t.clone()
        t2[1:] = 1 - t2[1:]
        other = model(x2, t2, labels)
        torch.testing.assert_close(other[0], full[0], rtol=1e-5, atol=1e-5)
        # and the output does depend on the sample's own tokens
        x3 = x.clone()
        x3[0] = (x3[0] + 1) % VOCAB
        assert not torch.allclose(model(x3, t, labels)[0], full[0], atol=1e-5)


@pytest.mark.parametrize("grid,patch", GRID_PATCH, ids=GP_IDS)
def test_positions_matter(grid, patch):
    """Fixed position embeddings break permutation symmetry: one token everywhere gives position-dependent logits."""
    model = perturb_head(make(grid, patch, timestep=False))
    x = torch.full((1, *grid), MASK)
    with torch.no_grad():
        out = model(x).reshape(-1, VOCAB - 1)
    assert not torch.allclose(out, out[:1].expand_as(out), atol=1e-5)
    assert model.pos.shape == (model.config.num_positions, model.config.dim)
    assert model.config.num_positions == math.prod(g // patch for g in grid)


# --- time conditioning ---------------------------------------------------------------------
@pytest.mark.parametrize("grid,patch", GRID_PATCH, ids=GP_IDS)
@pytest.mark.parametrize("num_classes", [0, 10])
def test_itm_ignores_t_and_etm_uses_it(grid, patch, num_classes):
    itm = perturb_head(make(grid, patch, timestep=False, num_classes=num_classes))
    assert not itm.uses_time and itm.time_embed is None
    x, _, labels = inputs(itm, batch=2)
    with torch.no_grad():
        a = itm(x, torch.tensor([0.1, 0.2]), labels)
        b = itm(x, torch.tensor([0.9, 0.7]), labels)
        c = itm(x, None, labels)
    assert torch.equal(a, b) and torch.equal(a, c)

    etm = perturb_head(make(grid, patch, timestep=True, num_classes=num_classes))
    assert etm.uses_time
    with torch.no_grad():
        a = etm(x, torch.tensor([0.1, 0.2]), labels)
        b = etm(x, torch.tensor([0.9, 0.7]), labels)
    for i in range(2):
        assert (a[i] - b[i]).abs().max() > 1e-4
    with pytest.raises(ValueError, match="needs t"):
        etm(x, None, labels)


# --- label conditioning --------------------------------------------------------------------
@pytest.mark.parametrize("timestep", [True, False])
def test_labels(timestep):
    num_classes = 10
    model = perturb_head(make((8, 8), 2, timestep=timestep, num_classes=num_classes))
    assert model.num_classes == num_classes and model.null_label == num_classes
    x, t, _ = inputs(model, batch=2)
    null = torch.full((2,), num_classes)
    with torch.no_grad():
        with_null = model(x, t, null)
        with_none = model(x, t, None)
        with_cls = model(x, t, torch.tensor([3, 7]))
        with_cls2 = model(x, t, torch.tensor([4, 7]))
    assert torch.equal(with_null, with_none)  # None means the null label [C]
    assert torch.isfinite(with_null).all()
    assert (with_cls - with_null).abs().amax(dim=(1, 2, 3)).min() > 1e-4
    assert (with_cls[0] - with_cls2[0]).abs().max() > 1e-4
    torch.testing.assert_close(with_cls[1], with_cls2[1])


@pytest.mark.parametrize("timestep", [True, False])
def test_unconditional_model_rejects_labels(timestep):
    model = make((16,), 2, timestep=timestep, num_classes=0)
    assert model.label_embed is None
    x, t, _ = inputs(model, batch=2)
    with pytest.raises(ValueError, match="unconditional"):
        model(x, t, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="unconditional"):
        model(x, t, torch.tensor([0, 0]))


def test_wrong_grid_raises():
    model = make((8, 8), 2)
    with pytest.raises(ValueError, match="grid"):
        model(torch.zeros(2, 8, 4, dtype=torch.long), torch.rand(2))
    with pytest.raises(ValueError, match="grid"):
        model(torch.zeros(2, 64, dtype=torch.long), torch.rand(2))


def test_properties():
    model = make((8, 8), 2, num_classes=3)
    assert model.vocab_size == VOCAB
    assert model.mask_id == MASK
    assert model.head.out_features == 4 * (VOCAB - 1)


# --- patchify ------------------------------------------------------------------------------
@pytest.mark.parametrize("grid,patch", GRID_PATCH, ids=GP_IDS)
def test_patchify_unpatchify_are_inverse(grid, patch):
    model = make(grid, patch)
    n = len(grid)
    e = 5
    h = torch.randn(2, *grid, e, generator=gen(3))
    y = model._patchify(h)
    assert y.shape == (2, model.config.num_positions, patch**n * e)
    assert torch.equal(model._unpatchify(y, e), h)
    z = torch.randn(2, model.config.num_positions, patch**n * e, generator=gen(4))
    assert torch.equal(model._patchify(model._unpatchify(z, e)), z)


@pytest.mark.parametrize("grid,patch", GRID_PATCH, ids=GP_IDS)
def test_patches_are_contiguous_blocks_in_row_major_order(grid, patch):
    """Position k of the patched sequence holds exactly the p^n cells of block k (row-major over blocks),
    the order the fixed position embeddings assume."""
    model = make(grid, patch)
    n = len(grid)
    coords = torch.stack(torch.meshgrid(*[torch.arange(g) for g in grid], indexing="ij"), dim=-1)  # (*grid, n)
    y = model._patchify(coords[None].float()).reshape(model.config.num_positions, patch**n, n).long()
    blocks = list(itertools.product(*[range(g // patch) for g in grid]))
    assert len(blocks) == y.shape[0]
    for k, block in enumerate(blocks):
        cells = {tuple(c) for c in y[k].tolist()}
        expected = set(itertools.product(*[range(b * patch, (b + 1) * patch) for b in block]))
        assert cells == expected


# --- config validation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw,match",
    [
        ({"grid": (8, 8), "patch": 3}, "patch 3"),
        ({"grid": (16,), "patch": 32}, "patch 32"),
        ({"grid": (4, 4, 6), "patch": 4}, "patch 4"),
        ({"grid": (8,), "patch": 0}, "patch 0"),
        ({"grid": (8,), "dim": 16, "heads": 3}, r"heads \(3\)"),
        ({"grid": (8,), "dim": 10, "heads": 4}, r"dim \(10\)"),
        ({"grid": (8,), "vocab_size": 1}, "vocab_size"),
        ({"grid": (8,), "vocab_size": 0}, "vocab_size"),
        ({"grid": ()}, "grid"),
        ({"grid": (2, 2, 2, 2)}, "grid"),
        ({"grid": (8, 0)}, "grid"),
        ({"grid": (8,), "depth": 0}, "depth"),
        ({"grid": (8,), "num_classes": -1}, "num_classes"),
        ({"grid": (8,), "dropout": 1.0}, "dropout"),
        ({"grid": (8,), "embed_std": 0.0}, "embed_std must be > 0, got 0.0"),
        ({"grid": (8,), "pos_scale": -1.0}, "pos_scale must be > 0, got -1.0"),
    ],
)
def test_invalid_config_raises(kw, match):
    base = {"vocab_size": VOCAB, "dim": 16, "heads": 2, "depth": 2}
    with pytest.raises(ValueError, match=match):
        TransformerConfig(**{**base, **kw})


def test_config_round_trip():
    cfg = TransformerConfig(vocab_size=VOCAB, grid=[4, 4, 4], patch=2, dim=16, heads=2, depth=3, num_classes=5)
    assert cfg.grid == (4, 4, 4)
    d = cfg.to_dict()
    assert d["grid"] == [4, 4, 4]
    assert TransformerConfig(**d) == cfg


def test_default_init_is_unchanged_by_the_init_options():
    """The defaults (balanced, no σ override, positions × 1) named or not give bit-identical weights
    and positions: the same seed means the same model."""
    a = make((16,), patch=2)
    b = make((16,), patch=2, init="balanced", embed_std=None, pos_scale=1.0)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)
    assert torch.equal(a.pos, b.pos)


@pytest.mark.parametrize("init", ["balanced", "uvit"])
@pytest.mark.parametrize("embed_std", [0.02, 0.5, 1.0])
@pytest.mark.parametrize("pos_scale", [1.0, 0.1])
def test_init_options_set_embedding_scale_and_position_amplitude(init, embed_std, pos_scale):
    ref = make((64,), patch=1, init=init)
    model = make((64,), patch=1, init=init, embed_std=embed_std, pos_scale=pos_scale)
    std = float(model.token_embed.weight.detach().std())
    assert abs(std - embed_std) < 0.15 * embed_std  # 7 × 32 draws
    torch.testing.assert_close(model.pos, ref.pos * pos_scale)
    # the model still runs and its config round-trips with the options
    assert TransformerConfig(**model.config.to_dict()) == model.config
    x, t, _ = inputs(model)
    assert torch.isfinite(perturb_head(model)(x, t)).all()


def test_presets_keep_the_default_init():
    """No preset overrides the initialisation: the balanced scheme was measured to train every preset
    family at least as fast as the per-preset σ / position-scale workarounds it replaced
    (docs/benchmarks.md, "Learning speed")."""
    from unmask.config import load_config, preset_names

    for name in preset_names():
        m = load_config(name).model
        assert (m.init, m.embed_std, m.pos_scale) == ("balanced", None, 1.0), name


# --- parameter count and presets -----------------------------------------------------------
def expected_parameters(c: TransformerConfig) -> int:
    """The parameter count of the U-ViT, written out layer by layer."""
    d, n = c.dim, len(c.grid)
    pn = c.patch**n
    e = c.resolved_token_dim
    hidden = int(d * c.mlp_ratio)
    block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * hidden + hidden) + (hidden * d + d)
    n_skip = c.depth // 2 if c.skip else 0
    total = c.vocab_size * e + (pn * e * d + d)  # token embedding, patch merge
    if c.timestep:
        total += (256 * d + d) + (d * d + d)  # sinusoidal features → MLP
    if c.num_classes:
        total += (c.num_classes + 1) * d  # labels + null label
    total += c.depth * block + n_skip * (2 * d * d + d)  # blocks, skip projections of the out blocks
    total += 2 * d + (d * pn * (c.vocab_size - 1) + pn * (c.vocab_size - 1))  # final norm, head
    return total


@pytest.mark.parametrize("grid,patch", [((16,), 2), ((8, 8), 1), ((4, 4, 4), 2)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("timestep,num_classes,skip", [(True, 0, True), (False, 10, False), (True, 10, True)])
def test_num_parameters_formula(grid, patch, timestep, num_classes, skip):
    model = make(grid, patch, timestep, num_classes, skip, token_dim=0)
    assert model.num_parameters() == expected_parameters(model.config)
    even = make(grid, patch, timestep, num_classes, skip, token_dim=8)
    assert even.config.resolved_token_dim == 8
    assert even.num_parameters() == expected_parameters(even.config)


def test_model_preset_returns_a_copy_and_rejects_unknown_names():
    assert {"tiny", "digits", "small", "base", "large"} <= set(MODEL_PRESETS)
    p = model_preset("tiny")
    assert p == MODEL_PRESETS["tiny"]
    p["dim"] = 999
    assert MODEL_PRESETS["tiny"]["dim"] != 999
    with pytest.raises(ValueError, match="gigantic"):
        model_preset("gigantic")


@pytest.mark.parametrize("name", sorted(MODEL_PRESETS))
def test_every_preset_builds(name):
    """Every preset builds (on the meta device: no memory, no init cost) with the expected size and output."""
    cfg = TransformerConfig(vocab_size=17, grid=(8, 8), num_classes=10, **model_preset(name))
    with torch.device("meta"):
        model = build_model(cfg)
        out = model(torch.zeros(2, 8, 8, dtype=torch.long), torch.rand(2), torch.tensor([0, 10]))
    assert isinstance(model, Transformer) and model.config is cfg
    assert out.shape == (2, 8, 8, 16)
    assert model.num_parameters() == expected_parameters(cfg)
    if name in ("tiny", "digits"):  # the small ones for real
        torch.manual_seed(0)
        real = build_model(cfg).eval()
        assert real.num_parameters() == expected_parameters(cfg)
        with torch.no_grad():
            y = real(torch.randint(0, 17, (1, 8, 8), generator=gen(5)), torch.rand(1, generator=gen(6)))
        assert y.shape == (1, 8, 8, 16)
        assert torch.equal(y, torch.zeros_like(y))
        depth = cfg.depth
        assert len(real.in_blocks) == len(real.out_blocks) == depth // 2
        assert len(real.mid_blocks) == depth - 2 * (depth // 2)
        assert all(blk.skip_proj is not None for blk in real.out_blocks)
