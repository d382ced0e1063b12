"""Video edits: chosen frames (whole, or a 2-D region within them) regenerated with any sampler, the other
tokens kept; frames K … T − 1 whole is continuation, drawn exactly as ``generate`` draws it from K given frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.editing import edit, parse_frames, plan_video_edit, read_clip, region_mask
from unmask.inference import generate
from unmask.models import VideoTransformer, VideoTransformerConfig
from unmask.samplers import EulerSampler, MaskGITSampler
from unmask.tokenizers import PixelQuantizer

pytestmark = pytest.mark.usefixtures("one_thread")

GRID = (6, 8, 8)
LEVELS = 4
TOK = PixelQuantizer(LEVELS, 255.0)


def video_model(timestep: bool = False, num_classes: int = 3) -> VideoTransformer:
    torch.manual_seed(0)
    cfg = VideoTransformerConfig(
        vocab_size=LEVELS + 1, grid=GRID, patch=2, dim=32, depth=2, heads=2, num_classes=num_classes, timestep=timestep
    )
    model = VideoTransformer(cfg).eval()
    with torch.no_grad():  # a non-uniform prediction (the head starts at zero)
        model.head.weight.normal_(0, 1)
    return model


def clips(n: int = 2, seed: int = 0) -> np.ndarray:
    """uint8 clips whose values are exact grey levels (so tokens round-trip)."""
    levels = np.random.default_rng(seed).integers(0, LEVELS, (n, *GRID))
    return np.asarray(TOK.decode(torch.from_numpy(levels)))


def test_frames_are_parsed_with_their_ranges() -> None:
    assert parse_frames("4:", 6) == (4, 5)
    assert parse_frames(":2", 6) == (0, 1)
    assert parse_frames("2,5", 6) == (2, 5)
    assert parse_frames("1:3, 5", 6) == (1, 2, 5)
    assert parse_frames("all", 6) == tuple(range(6))
    assert parse_frames("0:", 6) == tuple(range(6))


@pytest.mark.parametrize(
    "spec,message",
    [
        ("6", "frame 6 is out of range; the model's clips have frames 0 … 5"),
        ("6:", "range '6:' is out of range"),
        ("3:3", "range '3:3' is out of range"),
        ("-1", "frame -1 is out of range"),
        ("x", "'x' is neither a frame nor a range"),
        (",", "selects no frame"),
    ],
)
def test_bad_frames_are_named(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_frames(spec, 6)


SAMPLERS = {
    "euler": lambda cfg: EulerSampler(steps=4, cfg=cfg),
    "euler-corrector": lambda cfg: EulerSampler(steps=4, cfg=cfg, corrector=0.3),
    "maskgit": lambda cfg: MaskGITSampler(steps=4, cfg=cfg),
}


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("timestep", [False, True], ids=["itm", "etm"])
@pytest.mark.parametrize("frames,region", [("4:", None), ("1,3", None), ("2:5", "centre")])
def test_given_frames_and_pixels_never_change(sampler: str, timestep: bool, frames: str, region: str | None) -> None:
    model = video_model(timestep)
    chosen = parse_frames(frames, GRID[0])
    pixels = None if region is None else region_mask(region, GRID[1:])
    plan = plan_video_edit(model, TOK, clips(), chosen, pixels)
    expected = torch.zeros(GRID, dtype=torch.bool)
    for f in chosen:
        expected[f] = True if pixels is None else torch.as_tensor(pixels)
    assert torch.equal(plan.region[0], expected) and torch.equal(plan.region[1], expected)
    out = edit(model, TOK, SAMPLERS[sampler](2.0), plan, samples=2, labels=[0, 2], seed=1)
    assert out.tokens.shape == (4, *GRID) and out.images.shape == (4, *GRID) and out.images.dtype == np.uint8
    given = plan.tokens.repeat_interleave(2, dim=0)
    assert torch.equal(out.tokens[~out.region], given[~out.region])  # every given token, exactly
    assert not (out.tokens == LEVELS).any()


def test_the_chosen_frames_are_redrawn() -> None:
    model = video_model()
    plan = plan_video_edit(model, TOK, clips(1), [2, 3])
    changed = [
        not torch.equal(
            edit(model, TOK, EulerSampler(steps=4), plan, labels=[1], seed=s).tokens[plan.region],
            plan.tokens[plan.region],
        )
        for s in range(4)
    ]
    assert any(changed)


@pytest.mark.parametrize("sampler", ["euler", "maskgit"])
@pytest.mark.parametrize("k", [1, 4])
def test_continuation_is_the_edit_of_the_last_frames(sampler: str, k: int) -> None:
    model = video_model(timestep=True)
    given = clips(3, seed=2)
    plan = plan_video_edit(model, TOK, given, parse_frames(f"{k}:", GRID[0]))
    assert f"continuation of the first {k}" in plan.note
    made = SAMPLERS[sampler](1.5)
    edited = edit(model, TOK, made, plan, labels=[0, 1, 2], seed=7)
    prefix = TOK.encode(given[:, :k])
    continued = generate(model, TOK, made, n=3, labels=[0, 1, 2], seed=7, prefix=prefix)
    assert np.array_equal(edited.tokens.numpy(), continued.tokens)  # same starting state, same draws
    other = edit(model, TOK, made, plan, labels=[0, 1, 2], seed=8)
    assert not torch.equal(other.tokens, edited.tokens)  # and the draws depend on the seed


def test_clips_are_read_and_resized_and_bad_ones_named(tmp_path: Path) -> None:
    clip = clips(1)[0]
    np.save(tmp_path / "c.npy", clip)
    assert np.array_equal(read_clip(str(tmp_path / "c.npy")), clip)
    split = {"test": clips(3)}
    assert np.array_equal(read_clip("test:2", dataset=split.__getitem__), split["test"][2])
    with pytest.raises(ValueError, match="the test split has items 0 … 2"):
        read_clip("test:3", dataset=split.__getitem__)
    np.save(tmp_path / "img.npy", clip[0])
    with pytest.raises(ValueError, match=r"must be uint8 \(T, H, W\) grey, got uint8 \(8, 8\)"):
        read_clip(str(tmp_path / "img.npy"))
    with pytest.raises(ValueError, match="clip 'gone.npy' does not exist"):
        read_clip("gone.npy")
    (tmp_path / "c.png").write_bytes(b"")
    with pytest.raises(ValueError, match="give a .npy of uint8"):
        read_clip(str(tmp_path / "c.png"))
    big = np.repeat(np.repeat(clip, 2, axis=1), 2, axis=2)  # 16×16 frames → the model's 8×8
    model = video_model()
    plan = plan_video_edit(model, TOK, big, [5])
    assert plan.tokens.shape == (1, *GRID)


def test_bad_video_edits_are_named() -> None:
    model = video_model()
    with pytest.raises(ValueError, match="the clip has 5 frames; the model's clips have 6"):
        plan_video_edit(model, TOK, clips(1)[:, :5], [1])
    with pytest.raises(ValueError, match="frame 6 is out of range"):
        plan_video_edit(model, TOK, clips(1), [6])
    dot = np.zeros((64, 64), bool)
    dot[1, 1] = True  # one pixel of 64×64: nothing left at 8×8
    with pytest.raises(ValueError, match="the region marks no token to regenerate"):
        plan_video_edit(model, TOK, clips(1), [1], dot)

    class VQ:
        def config(self) -> dict[str, object]:
            return {"name": "vq"}

    with pytest.raises(ValueError, match="video edits take pixel tokens; this model's tokenizer is 'vq'"):
        plan_video_edit(model, VQ(), clips(1), [1])
