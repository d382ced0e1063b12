"""Sampling token clips (B, T, H, W) with the existing samplers, and continuation from given frames:
the given frames are exactly preserved (never masked, never re-drawn, seen by the network at every call),
no [MASK] is left, and the result is a function of the seed."""

from __future__ import annotations

import pytest
import torch

from unmask.models import VideoTransformer, VideoTransformerConfig
from unmask.samplers import EulerSampler, MaskGITSampler, continuation_init, edit_init, frame_region

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = 5  # 4 grey levels + [MASK]
MASK = VOCAB - 1
GRID = (4, 4, 4)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class Recording(torch.nn.Module):
    """Wraps a model and keeps every input it is called with."""

    def __init__(self, model: VideoTransformer) -> None:
        super().__init__()
        self.model = model
        self.inputs: list[torch.Tensor] = []

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.model, name)

    def forward(self, x, t, labels):
        self.inputs.append(x.clone())
        return self.model(x, t, labels)


def video_model(timestep: bool = False, num_classes: int = 3, seed: int = 0) -> VideoTransformer:
    torch.manual_seed(seed)
    cfg = VideoTransformerConfig(
        vocab_size=VOCAB, grid=GRID, patch=2, dim=16, depth=2, heads=2, num_classes=num_classes, timestep=timestep
    )
    model = VideoTransformer(cfg).eval()
    with torch.no_grad():  # a non-uniform prediction (the head starts at zero)
        model.head.weight.normal_(0, 1, generator=gen(seed + 1))
    return model


SAMPLERS = {
    "euler": lambda cfg: EulerSampler(steps=6, cfg=cfg),
    "euler-skip-off": lambda cfg: EulerSampler(steps=6, cfg=cfg, skip_idle=False),
    "euler-corrector": lambda cfg: EulerSampler(steps=6, cfg=cfg, corrector=0.5),
    "maskgit": lambda cfg: MaskGITSampler(steps=5, cfg=cfg),
}
CASES = [(name, ts, cfg) for name in SAMPLERS for ts in (False, True) for cfg in (1.0, 2.0)]
IDS = [f"{n}-{'etm' if ts else 'itm'}-cfg{c}" for n, ts, c in CASES]


@pytest.mark.parametrize("name,timestep,cfg", CASES, ids=IDS)
def test_whole_clips_have_no_mask_and_follow_the_seed(name, timestep, cfg):
    model = video_model(timestep)
    sampler = SAMPLERS[name](cfg)
    labels = torch.tensor([0, 1, 2])
    a = sampler.sample(model, labels=labels, generator=gen(7))
    b = sampler.sample(model, labels=labels, generator=gen(7))
    assert a.tokens.shape == (3, *GRID)
    assert not (a.tokens == MASK).any() and int(a.tokens.min()) >= 0
    assert torch.equal(a.tokens, b.tokens)
    assert not torch.equal(a.tokens, sampler.sample(model, labels=labels, generator=gen(8)).tokens)
    if name == "euler":
        assert a.nfe <= min(6, a.tokens[0].numel())


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("name,timestep,cfg", CASES, ids=IDS)
def test_continuation_preserves_the_given_frames_exactly(name, timestep, cfg, k):
    model = Recording(video_model(timestep))
    prefix = torch.randint(0, VOCAB - 1, (3, k, 4, 4), generator=gen(3))
    x_init = continuation_init(prefix, GRID, VOCAB)
    assert torch.equal(x_init[:, :k], prefix) and (x_init[:, k:] == MASK).all()
    out = SAMPLERS[name](cfg).sample(model, labels=torch.tensor([0, 1, 2]), x_init=x_init, generator=gen(9))
    assert torch.equal(out.tokens[:, :k], prefix)  # given frames, exactly
    assert not (out.tokens == MASK).any()  # and the rest filled
    assert (out.reveal_step[:, :k] == -1).all() and (out.reveal_step[:, k:] >= 0).all()
    assert model.inputs, "the network was called"
    for x in model.inputs:  # the network saw the given frames, unchanged, at every call (CFG: both halves)
        assert torch.equal(x[:, :k], prefix.repeat(x.shape[0] // 3, 1, 1, 1))


def test_zero_frames_is_a_whole_clip():
    x = continuation_init(torch.zeros(2, 0, 4, 4, dtype=torch.long), GRID, VOCAB)
    assert x.shape == (2, *GRID) and (x == MASK).all()


@pytest.mark.parametrize(
    "prefix,needle",
    [
        (torch.zeros(1, 4, 4, 4, dtype=torch.long), "prefix of 4 frames leaves nothing to draw in clips of 4"),
        (torch.zeros(1, 6, 4, 4, dtype=torch.long), "prefix of 6 frames"),
        (torch.zeros(1, 2, 4, 3, dtype=torch.long), "4×3 tokens but the model's frames are 4×4"),
        (torch.full((1, 2, 4, 4), MASK, dtype=torch.long), "outside the data vocabulary"),
        (torch.zeros(2, 4, 4, dtype=torch.long), "\\(B, K, H, W\\)"),
    ],
)
def test_bad_prefixes_are_named(prefix, needle):
    with pytest.raises(ValueError, match=needle):
        continuation_init(prefix, GRID, VOCAB)


def test_continuation_is_the_edit_of_the_last_frames():
    prefix = torch.randint(0, VOCAB - 1, (2, 2, 4, 4), generator=gen(4))
    clips = torch.cat([prefix, torch.randint(0, VOCAB - 1, (2, 2, 4, 4), generator=gen(5))], dim=1)
    region = frame_region(GRID, [2, 3])
    assert region[2:].all() and not region[:2].any()
    assert torch.equal(continuation_init(prefix, GRID, VOCAB), edit_init(clips, region, VOCAB))


def test_frame_regions_of_chosen_frames_and_pixels():
    pixels = torch.zeros(4, 4, dtype=torch.bool)
    pixels[1:3, 1:3] = True
    region = frame_region(GRID, [3, 1], pixels)
    assert region.sum() == 8 and torch.equal(region[1], pixels) and torch.equal(region[3], pixels)
    assert not region[0].any() and not region[2].any()
    clips = torch.randint(0, VOCAB - 1, (3, *GRID), generator=gen(6))
    x = edit_init(clips, region, VOCAB)
    assert torch.equal(x == MASK, region.expand_as(x)) and torch.equal(x[~(x == MASK)], clips[~(x == MASK)])


@pytest.mark.parametrize(
    "call,needle",
    [
        (lambda: frame_region(GRID, [4]), "frame 4 is out of range: the model's clips have frames 0 … 3"),
        (lambda: frame_region(GRID, [-1]), "frame -1 is out of range"),
        (lambda: frame_region((4, 4), [0]), "clip grid"),
        (lambda: frame_region(GRID, [0], torch.ones(3, 4, dtype=torch.bool)), "shape \\(3, 4\\)"),
        (
            lambda: edit_init(torch.zeros(2, *GRID, dtype=torch.long), torch.ones(2, 4, 4, dtype=torch.bool), VOCAB),
            "region has shape \\(2, 4, 4\\)",
        ),
        (lambda: edit_init(torch.zeros(1, *GRID, dtype=torch.long), torch.ones(*GRID), VOCAB), "bool"),
        (
            lambda: edit_init(torch.full((1, *GRID), MASK), torch.ones(*GRID, dtype=torch.bool), VOCAB),
            "given tokens contain id",
        ),
    ],
)
def test_bad_edit_regions_are_named(call, needle):
    with pytest.raises(ValueError, match=needle):
        call()
