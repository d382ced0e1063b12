"""Clean-prefix coupling of token clips: whole leading frames held clean (never masked, never noised,
marked coupled), k uniform in 1 … T − 1, the other frames on the plain path; off means unchanged draws."""

from __future__ import annotations

import pytest
import torch

from unmask.interpolants import MaskingInterpolant

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = 5


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def clips(b: int = 2000, t: int = 5) -> torch.Tensor:
    return torch.randint(0, VOCAB - 1, (b, t, 2, 3), generator=gen(0))


def test_off_leaves_the_path_unchanged_draw_for_draw() -> None:
    x1, t = clips(50), torch.rand(50, generator=gen(1))
    a = MaskingInterpolant("cosine", VOCAB, smoothing=0.2).sample(x1, t, gen(2))
    b = MaskingInterpolant("cosine", VOCAB, smoothing=0.2, prefix_prob=0.0).sample(x1, t, gen(2))
    assert torch.equal(a.x_t, b.x_t) and torch.equal(a.mask, b.mask) and torch.equal(a.noised, b.noised)


def test_prefixes_are_whole_leading_frames_held_clean() -> None:
    x1 = clips()
    t = torch.full((len(x1),), 0.3)
    p = MaskingInterpolant("linear", VOCAB, smoothing=0.5, prefix_prob=1.0).sample(x1, t, gen(3))
    per_frame = p.coupled.flatten(2).all(-1)  # (B, T): frame held clean
    assert torch.equal(p.coupled.flatten(2).any(-1), per_frame)  # whole frames only
    k = per_frame.sum(1)
    # a prefix: frames 0 … k − 1, never the whole clip, k uniform over 1 … 4
    assert torch.equal(per_frame, torch.arange(5)[None] < k[:, None])
    counts = torch.bincount(k, minlength=5)
    assert counts[0] == 0 and (counts[1:] > 400).all()
    # held frames are the data exactly: not masked, not noised
    assert torch.equal(p.x_t[p.coupled], x1[p.coupled]) and not (p.mask & p.coupled).any()
    assert not (p.noised & p.coupled).any()
    # the other frames follow the path: mask rate 1 − κ(0.3) = 0.7
    rest = ~p.coupled
    assert abs(p.mask[rest].float().mean().item() - 0.7) < 0.02


def test_probability_of_a_prefix() -> None:
    x1 = clips()
    p = MaskingInterpolant("linear", VOCAB, prefix_prob=0.25).sample(x1, torch.full((len(x1),), 0.5), gen(4))
    held = p.coupled.flatten(1).any(1).float().mean().item()
    assert abs(held - 0.25) < 0.04


@pytest.mark.parametrize("shape", [(4,), (4, 1, 3)])
def test_needs_clips_of_two_frames_or_more(shape: tuple[int, ...]) -> None:
    path = MaskingInterpolant("linear", VOCAB, prefix_prob=0.5)
    with pytest.raises(ValueError, match="T >= 2 frames"):
        path.sample(torch.zeros(shape, dtype=torch.long), torch.full((shape[0],), 0.5), gen(0))


def test_probability_out_of_range_is_named() -> None:
    with pytest.raises(ValueError, match="prefix_prob must be in \\[0, 1\\], got 1.5"):
        MaskingInterpolant("linear", VOCAB, prefix_prob=1.5)
