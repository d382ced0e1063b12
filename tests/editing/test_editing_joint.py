"""Joint edits: a region of one stream of a multi-stream model regenerated with the other streams given
(or some generated too), through MultiStreamSampler — every given token, in every stream, unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unmask.editing import JointEditPlan, edit, edit_streams, plan_edit, plan_joint_edit, plan_video_edit
from unmask.models import MultiStreamConfig, MultiStreamTransformer, StreamConfig, Transformer, TransformerConfig
from unmask.samplers import EulerSampler, MaskGITSampler, MultiStreamSampler
from unmask.tokenizers import PixelQuantizer

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = {"image": 9, "mask": 5, "label": 4}
GRIDS = {"image": (8, 8), "mask": (4, 4), "label": (1,)}
PATCH = {"image": 2, "mask": 1, "label": 1}


def joint_model(timestep: bool = False) -> MultiStreamTransformer:
    torch.manual_seed(0)
    cfg = MultiStreamConfig(
        streams=tuple(StreamConfig(s, VOCAB[s], GRIDS[s], PATCH[s]) for s in VOCAB),
        dim=32,
        depth=1,
        heads=2,
        timestep=timestep,
    )
    model = MultiStreamTransformer(cfg).eval()
    with torch.no_grad():  # not the uniform prediction of a zero head: draws depend on the input
        for s in VOCAB:
            model.stream_io(s).head.weight.normal_(0, 0.5)
    return model


def items(n: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {s: torch.randint(0, VOCAB[s] - 1, (n, *GRIDS[s]), generator=g) for s in VOCAB}


def centre(grid: tuple[int, ...]) -> torch.Tensor:
    h, w = grid
    r = torch.zeros(grid, dtype=torch.bool)
    r[h // 4 : h - h // 4, w // 4 : w - w // 4] = True
    return r


SAMPLERS = {
    "euler": lambda cfg: EulerSampler(steps=4, cfg=cfg),
    "euler-adaptive": lambda cfg: EulerSampler(steps=4, cfg=cfg, adaptive=True),
    "maskgit": lambda cfg: MaskGITSampler(steps=4, cfg=cfg),
}
EDITS = [  # (edited stream, generated streams, expected mode)
    ("image", (), "mask,label->image"),
    ("mask", (), "image,label->mask"),
    ("image", ("label",), "mask->image,label"),
    ("mask", ("label",), "image->mask,label"),
    ("image", ("mask", "label"), "joint"),
]


@pytest.mark.parametrize("stream,generate,mode", EDITS, ids=[e[2] for e in EDITS])
@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("timestep", [False, True], ids=["itm", "etm"])
def test_given_tokens_never_change_in_any_stream(
    stream: str, generate: tuple[str, ...], mode: str, sampler: str, timestep: bool
) -> None:
    model = joint_model(timestep)
    truth = items()
    plan = plan_joint_edit(model, truth, stream, centre(GRIDS[stream]), generate=generate)
    assert plan.mode == mode and plan.region.shape == (2, *GRIDS[stream])
    assert int(plan.region.sum()) == 2 * GRIDS[stream][0] * GRIDS[stream][1] // 4
    cfg = 2.0 if mode != "joint" else 1.0  # CFG over the given streams where there are some
    if sampler == "maskgit" and timestep and mode != "joint":
        with pytest.raises(ValueError, match="MaskGIT sampler tells an explicit-timestep model one time"):
            edit_streams(model, SAMPLERS[sampler](cfg), plan, samples=2)
        return
    out = edit_streams(model, SAMPLERS[sampler](cfg), plan, samples=2, seed=3)
    assert out.mode == mode and out.source.tolist() == [0, 0, 1, 1]
    assert set(out.tokens) == set(VOCAB)
    for s, v in out.tokens.items():
        assert v.shape == (4, *GRIDS[s]) and not (v == VOCAB[s] - 1).any()  # every stream filled
    for s in plan.given:  # given whole: exactly
        assert torch.equal(out.tokens[s], truth[s].repeat_interleave(2, dim=0))
    edited, given = out.tokens[stream], truth[stream].repeat_interleave(2, dim=0)
    assert torch.equal(edited[~out.region], given[~out.region])  # the edited stream outside its region


@pytest.mark.parametrize("stream", ["image", "mask"])
def test_the_region_is_redrawn(stream: str) -> None:
    model = joint_model()
    truth = items()
    plan = plan_joint_edit(model, truth, stream, centre(GRIDS[stream]))
    changed = []
    for seed in range(4):
        out = edit_streams(model, EulerSampler(steps=4), plan, seed=seed)
        changed.append(not torch.equal(out.tokens[stream][out.region], truth[stream][plan.region]))
    assert any(changed)
    a = edit_streams(model, EulerSampler(steps=4), plan, seed=1)
    b = edit_streams(model, MultiStreamSampler("joint", EulerSampler(steps=4)), plan, seed=1)  # its mode is the plan's
    assert all(torch.equal(a.tokens[s], b.tokens[s]) for s in VOCAB)


def test_streams_to_generate_need_no_tokens_and_extra_streams_are_ignored() -> None:
    model = joint_model()
    truth = items(1)
    plan = plan_joint_edit(model, {"image": truth["image"]}, "image", centre((8, 8)), generate=("mask", "label"))
    assert plan.mode == "joint" and set(plan.tokens) == {"image"} and plan.given == ()
    plan = plan_joint_edit(model, truth, "mask", np.ones((4, 4), bool), generate=["label"])
    assert set(plan.tokens) == {"image", "mask"} and plan.given == ("image",)
    assert "given whole: image" in plan.note and "generated whole: label" in plan.note


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"stream": "depth"}, "unknown stream 'depth'; this model's streams are image, mask, label"),
        ({"generate": ("depth",)}, "unknown stream 'depth'; this model's streams are image, mask, label"),
        ({"generate": ("image",)}, "stream 'image' is the one edited; it cannot also be generated whole"),
        ({"generate": ("mask", "mask")}, "named twice"),
        ({"streams": "image-only"}, r"stream\(s\) mask, label not given; give their tokens or generate them"),
        ({"region": torch.zeros(8, 8, dtype=torch.bool)}, "the region marks no token of stream 'image' in item 0"),
        ({"region": torch.ones(4, 4, dtype=torch.bool)}, r"the region has shape \(4, 4\); stream 'image' is \(N=2"),
        ({"region": torch.ones(8, 8)}, "the region must be bool"),
        ({"streams": "masked"}, r"the ids of stream 'mask' contain id 4 outside the data vocabulary"),
        ({"streams": "short"}, r"stream 'label' has 1 rows, the others 2"),
    ],
)
def test_bad_joint_edits_are_named(kwargs: dict[str, object], message: str) -> None:
    model = joint_model()
    streams = items()
    choice = kwargs.pop("streams", None)
    if choice == "image-only":
        streams = {"image": streams["image"]}
    elif choice == "masked":
        streams["mask"][0, 0, 0] = VOCAB["mask"] - 1
    elif choice == "short":
        streams["label"] = streams["label"][:1]
    args = {"stream": "image", "region": centre((8, 8)), "generate": (), **kwargs}
    with pytest.raises(ValueError, match=message):
        plan_joint_edit(model, streams, args["stream"], args["region"], generate=args["generate"])  # type: ignore[arg-type]


def test_each_plan_refuses_the_other_kinds_of_model() -> None:
    joint = joint_model()
    image = Transformer(TransformerConfig(vocab_size=9, grid=(8, 8), patch=2, dim=32, depth=1, heads=2))
    text = Transformer(TransformerConfig(vocab_size=9, grid=(16,), patch=1, dim=32, depth=1, heads=2))
    tok = PixelQuantizer(8, 255.0)
    pixels = np.ones((8, 8), bool)
    with pytest.raises(
        ValueError, match="plan_edit edits an image model .* this is a joint multi-stream model: use plan_joint_edit"
    ):
        plan_edit(joint, tok, np.zeros((8, 8), np.uint8), pixels)
    with pytest.raises(ValueError, match="plan_joint_edit edits a joint multi-stream model; this is an image model"):
        plan_joint_edit(image, items(), "image", pixels)
    with pytest.raises(
        ValueError, match="plan_video_edit edits a video model .* this is an image model .*use plan_edit"
    ):
        plan_video_edit(image, tok, np.zeros((4, 8, 8), np.uint8), [1])
    for call in (
        lambda: plan_edit(text, tok, np.zeros((8, 8), np.uint8), pixels),
        lambda: plan_joint_edit(text, items(), "image", pixels),
        lambda: plan_video_edit(text, tok, np.zeros((4, 8, 8), np.uint8), [1]),
    ):
        with pytest.raises(ValueError, match=r"this model is none of them \(grid \(16,\)\)"):
            call()
    plan = plan_joint_edit(joint, items(), "image", centre((8, 8)))
    assert isinstance(plan, JointEditPlan)
    with pytest.raises(ValueError, match="drawn with edit_streams, not edit"):
        edit(joint, tok, EulerSampler(steps=2), plan)  # type: ignore[arg-type]
