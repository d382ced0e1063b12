import pytest
import torch

from unmask.eval import IndependentPixelSampler


def test_independent_pixel_sampler_matches_per_class_marginals() -> None:
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(400) % 2
    tokens = torch.zeros(400, 3, dtype=torch.long)
    tokens[labels == 0, 0] = 2  # class 0: position 0 always token 2
    tokens[labels == 1, 1] = torch.randint(0, 4, ((labels == 1).sum().item(),), generator=g)
    s = IndependentPixelSampler(alpha=1e-6).fit(tokens, labels, num_classes=2, vocab=4)
    out = s.sample(torch.tensor([0] * 2000 + [1] * 2000), generator=g)
    assert out.shape == (4000, 3) and out.dtype == torch.long
    assert (out[:2000, 0] == 2).all()
    freq = torch.bincount(out[2000:, 1], minlength=4).double() / 2000
    train_freq = torch.bincount(tokens[labels == 1, 1], minlength=4).double() / 200
    assert (freq - train_freq).abs().max() < 0.035


def test_errors() -> None:
    with pytest.raises(RuntimeError, match="fit"):
        IndependentPixelSampler().sample(torch.tensor([0]))
    s = IndependentPixelSampler().fit(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 1]), 2, 4)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 1\]"):
        s.sample(torch.tensor([2]))
