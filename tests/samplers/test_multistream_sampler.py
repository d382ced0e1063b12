"""Multi-stream modes on the Euler sampler: conditions held fixed, no mass across streams, CFG nulls, errors."""

from __future__ import annotations

import pytest
import torch

from unmask.models import MultiStreamConfig, MultiStreamTransformer, StreamConfig
from unmask.samplers import EulerSampler, FlatStreams, MaskGITSampler, MultiStreamSampler, parse_mode

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = {"image": 9, "mask": 5, "label": 4}
GRIDS = {"image": (4, 4), "mask": (2, 2), "label": (1,)}


class Dummy:
    """A multi-stream model that puts all mass on token ``favourite[s]`` of every stream and records its calls."""

    def __init__(self, uses_time: bool = False, favourite: dict[str, int] | None = None) -> None:
        self.uses_time = uses_time
        self.stream_names = tuple(VOCAB)
        self.vocab_sizes = dict(VOCAB)
        self.grids = dict(GRIDS)
        self.favourite = favourite or {"image": 2, "mask": 3, "label": 1}
        self.calls: list[tuple[dict[str, torch.Tensor], object]] = []

        class _Config:
            separate_times = True

        self.config = _Config()

    def parameters(self):  # noqa: ANN201 - parameterless
        return iter(())

    def __call__(self, x: dict[str, torch.Tensor], t: object, labels: object) -> dict[str, torch.Tensor]:
        self.calls.append(({k: v.clone() for k, v in x.items()}, t))
        out = {}
        for s, v in x.items():
            logits = torch.full((*v.shape, VOCAB[s] - 1), -5.0)
            logits[..., self.favourite[s]] = 5.0
            out[s] = logits
        return out


def conditions(b: int = 6, names: tuple[str, ...] = ("image",), seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {s: torch.randint(0, VOCAB[s] - 1, (b, *GRIDS[s]), generator=g) for s in names}


def sampler(mode: str, **kw: object) -> MultiStreamSampler:
    return MultiStreamSampler(mode, EulerSampler(steps=kw.pop("steps", 6), **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "mode", ["joint", "image->mask", "mask->image", "label->image", "image->label", "image,label->mask", "mask->label"]
)
def test_modes_generate_targets_and_keep_conditions(mode: str) -> None:
    model = Dummy()
    conds, targets = parse_mode(mode, model.stream_names)
    given = conditions(names=conds) if conds else None
    out = sampler(mode).sample(model, given, n=None if conds else 6, generator=torch.Generator().manual_seed(1))
    assert set(out.tokens) == set(conds) | set(targets)
    for s in conds:
        assert torch.equal(out.tokens[s], given[s])  # type: ignore[index]  # never re-drawn
    for s in targets:
        assert out.tokens[s].shape == (6, *GRIDS[s])
        assert (out.tokens[s] == model.favourite[s]).all()  # the model's choice, in the stream's own ids
    assert out.nfe <= 6 and out.nfe_per_sample.max() <= 6
    # streams named on neither side are all [MASK] in every call
    left_out = set(VOCAB) - set(conds) - set(targets)
    for x, _ in model.calls:
        for s in left_out:
            assert (x[s] == VOCAB[s] - 1).all()


def test_no_probability_mass_crosses_streams() -> None:
    """With random logits every drawn id stays inside its own stream's data vocabulary."""

    class Random(Dummy):
        def __call__(self, x, t, labels):  # noqa: ANN001, ANN201
            g = torch.Generator().manual_seed(len(self.calls))
            self.calls.append((x, t))
            return {s: torch.randn(*v.shape, VOCAB[s] - 1, generator=g) for s, v in x.items()}

    out = sampler("joint", steps=16, temperature=2.0).sample(Random(), n=64, generator=torch.Generator().manual_seed(2))
    for s, v in out.tokens.items():
        assert v.min() >= 0 and v.max() <= VOCAB[s] - 2, s
        assert len(v.unique()) > 1


def test_flattening_round_trips_and_uses_one_mask_id() -> None:
    model = Dummy()
    flat = FlatStreams(model, ("image",), ("mask", "label"))
    assert flat.vocab_size == (9 - 1) + (5 - 1) + (4 - 1) + 1
    x = {"image": torch.randint(0, 8, (2, 4, 4)), "mask": torch.full((2, 2, 2), 4), "label": torch.tensor([[2], [3]])}
    z = flat.flatten(x)
    assert z.shape == (2, 16 + 4 + 1)
    assert (z[:, 16:20] == flat.vocab_size - 1).all()  # the mask stream's [MASK] → the union [MASK]
    back = flat.unflatten(z)
    assert all(torch.equal(back[k], x[k]) for k in x)


@pytest.mark.parametrize("uses_time", [False, True])
def test_cfg_null_branch_masks_the_conditions_in_one_batched_call(uses_time: bool) -> None:
    model = Dummy(uses_time=uses_time)
    given = conditions(4, ("image",))
    out = sampler("image->mask", cfg=2.0, steps=3).sample(model, given, generator=torch.Generator().manual_seed(3))
    assert (out.tokens["mask"] == 3).all()
    for x, t in model.calls:
        assert x["image"].shape[0] % 2 == 0
        half = x["image"].shape[0] // 2
        for row in x["image"][:half]:  # the conditioned half sees the given images (of the rows it evaluates)
            assert any(torch.equal(row, g) for g in given["image"])
        assert (x["image"][half:] == 8).all()  # the null: the condition stream all [MASK]
        if uses_time:
            assert isinstance(t, dict)
            assert (t["image"][:half] == 1).all() and (t["image"][half:] == 0).all()  # condition t = 1, null t = 0
            assert torch.equal(t["mask"][:half], t["mask"][half:])  # the generated stream at the sampler's t
            assert (t["label"] == 0).all()  # left-out streams at t = 0
        else:
            assert t is None


def test_same_seed_same_output_and_skipping_is_exact() -> None:
    class Random(Dummy):
        def __call__(self, x, t, labels):  # noqa: ANN001, ANN201
            return {
                s: (v.float().sum(dim=tuple(range(1, v.ndim)), keepdim=True) * 0.01).expand(*v.shape).unsqueeze(-1)
                * torch.arange(VOCAB[s] - 1)
                for s, v in x.items()
            }

    given = conditions(5, ("mask",))
    a = MultiStreamSampler("mask->image", EulerSampler(steps=20)).sample(
        Random(), given, generator=torch.Generator().manual_seed(4)
    )
    b = MultiStreamSampler("mask->image", EulerSampler(steps=20)).sample(
        Random(), given, generator=torch.Generator().manual_seed(4)
    )
    c = MultiStreamSampler("mask->image", EulerSampler(steps=20, skip_idle=False)).sample(
        Random(), given, generator=torch.Generator().manual_seed(4)
    )
    assert torch.equal(a.tokens["image"], b.tokens["image"]) and torch.equal(a.tokens["image"], c.tokens["image"])
    assert c.nfe == 20 and a.nfe <= 16  # at most min(S, generated tokens) calls when idle steps are skipped
    assert (a.state(0)["image"] == 8).all() and torch.equal(a.state(a.steps)["image"], a.tokens["image"])


def test_a_real_model_samples_every_mode() -> None:
    cfg = MultiStreamConfig(
        streams=tuple(StreamConfig(s, VOCAB[s], GRIDS[s]) for s in VOCAB), dim=16, depth=2, heads=2, timestep=True
    )
    torch.manual_seed(0)
    model = MultiStreamTransformer(cfg).eval()
    out = sampler("image->label", steps=1, cfg=1.5).sample(model, conditions(3, ("image",)))
    assert out.tokens["label"].shape == (3, 1) and out.nfe == 1
    out = sampler("joint").sample(model, n=2)
    assert out.tokens["image"].shape == (2, 4, 4)


@pytest.mark.parametrize(
    ("mode", "given", "match"),
    [
        ("segment", {}, r"unknown mode 'segment'; choose one of joint, image->mask"),
        ("image-", {}, "quote the mode on a command line"),
        ("image->depth", {}, "mode 'image->depth' names stream 'depth', which this model does not have"),
        ("image->image", {}, "names a stream twice"),
        ("->mask", {}, "needs condition and target streams on both sides"),
        ("image->mask", {}, r"takes condition streams \['image'\], got \[\]"),
        (
            "image->mask",
            {"image": torch.zeros(2, 4, 5, dtype=torch.long)},
            r"condition stream 'image' has shape \(2, 4, 5\)",
        ),
        ("image->mask", {"image": torch.full((2, 4, 4), 8)}, r"condition stream 'image' contains \[MASK\] \(id 8\)"),
        ("image->mask", {"image": torch.full((2, 4, 4), 9)}, r"contain id 9 outside the vocabulary .* for 'image'"),
        (
            "image,label->mask",
            {"image": torch.zeros(2, 4, 4, dtype=torch.long), "label": torch.zeros(3, 1, dtype=torch.long)},
            "condition stream 'label' has 3 rows, the others 2",
        ),
    ],
)
def test_bad_modes_and_conditions_name_what_is_wrong(mode: str, given: dict[str, torch.Tensor], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sampler(mode).sample(Dummy(), given or None, n=None if given else 2)


def test_joint_needs_n_and_no_cfg() -> None:
    with pytest.raises(ValueError, match="joint sampling needs the number of samples n >= 1, got None"):
        sampler("joint").sample(Dummy())
    with pytest.raises(ValueError, match="cfg scale 2.0 needs a condition stream; mode 'joint' has none"):
        sampler("joint", cfg=2.0).sample(Dummy(), n=2)
    with pytest.raises(ValueError, match="n=3 does not match the 2 rows of the condition streams"):
        sampler("image->mask").sample(Dummy(), conditions(2), n=3)


def partly_given(name: str, b: int = 4, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids of stream ``name`` with [MASK] over a random half of its positions, and that half."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB[name] - 1, (b, *GRIDS[name]), generator=g)
    hole = torch.rand(ids.shape, generator=g) < 0.5
    hole.view(b, -1)[:, 0] = True  # at least one position to draw in every row
    return ids.masked_fill(hole, VOCAB[name] - 1), hole


@pytest.mark.parametrize("kind", ["euler", "maskgit"])
@pytest.mark.parametrize(
    ("mode", "edited"),
    [("mask->image", "image"), ("image->mask", "mask"), ("joint", "image"), ("label->image,mask", "image")],
)
def test_a_target_given_in_part_keeps_its_given_tokens(kind: str, mode: str, edited: str) -> None:
    model = Dummy()
    conds, targets = parse_mode(mode, model.stream_names)
    given = conditions(4, conds, seed=2)
    start, hole = partly_given(edited)
    inner = EulerSampler(steps=6) if kind == "euler" else MaskGITSampler(steps=6)
    out = MultiStreamSampler(mode, inner).sample(
        model, given or None, partial={edited: start}, generator=torch.Generator().manual_seed(0)
    )
    got = out.tokens[edited]
    assert torch.equal(got[~hole], start[~hole])  # given tokens, exactly
    assert (got[hole] == model.favourite[edited]).all()  # the rest drawn (all mass on the favourite)
    for s in conds:
        assert torch.equal(out.tokens[s], given[s])
    for s in targets:
        assert not (out.tokens[s] == VOCAB[s] - 1).any()
    assert model.calls
    for x, _ in model.calls:  # the network saw some row's given tokens, unchanged, in every row of every call
        for seen in x[edited]:
            assert any(torch.equal(seen[~h], row[~h]) for row, h in zip(start, hole, strict=True))


@pytest.mark.parametrize(
    ("mode", "partial", "match"),
    [
        ("image->mask", {"image": torch.zeros(4, 4, 4, dtype=torch.long)}, "partial stream 'image' is not a target"),
        (
            "image->mask",
            {"mask": torch.zeros(4, 2, 3, dtype=torch.long)},
            r"partial stream 'mask' has shape \(4, 2, 3\)",
        ),
        (
            "image->mask",
            {"mask": torch.zeros(3, 2, 2, dtype=torch.long)},
            "partial stream 'mask' has 3 rows, the others 4",
        ),
        ("image->mask", {"mask": torch.full((4, 2, 2), 7)}, r"contain id 7 outside the vocabulary .* for 'mask'"),
    ],
)
def test_bad_partial_streams_are_named(mode: str, partial: dict[str, torch.Tensor], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sampler(mode).sample(Dummy(), conditions(4), partial=partial)


def test_maskgit_is_refused_for_an_etm_with_conditions_and_n_must_match_a_partial_stream() -> None:
    with pytest.raises(ValueError, match="MaskGIT sampler tells an explicit-timestep model one time"):
        MultiStreamSampler("image->mask", MaskGITSampler(steps=2)).sample(Dummy(uses_time=True), conditions(4))
    start, _ = partly_given("image")
    with pytest.raises(ValueError, match="n=3 does not match the 4 rows of the partial streams"):
        sampler("joint").sample(Dummy(), n=3, partial={"image": start})
