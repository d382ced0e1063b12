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


def test_fit_counts_exactly_on_2d_grids_and_large_vocabularies() -> None:
    """Counts per (class, position, token) equal a one-hot reference; V = 256 needs no (N, P, V) tensor."""
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 256, (50, 4, 5), generator=g)
    labels = torch.randint(0, 3, (50,), generator=g)
    alpha = 0.5
    s = IndependentPixelSampler(alpha=alpha).fit(tokens, labels, num_classes=3, vocab=256)
    ref = torch.zeros(3, 4, 5, 256, dtype=torch.float64)
    ref.index_add_(0, labels, torch.nn.functional.one_hot(tokens, 256).double())
    ref += alpha
    assert s.probs is not None and s.probs.shape == (3, 4, 5, 256)
    torch.testing.assert_close(s.probs, ref / ref.sum(-1, keepdim=True), rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("tokens", "labels", "needle"),
    [
        (torch.tensor([[0, 4]]), torch.tensor([0]), r"tokens must be in \[0, 3\], got values in \[0, 4\]"),
        (torch.tensor([[-1, 0]]), torch.tensor([0]), r"tokens must be in \[0, 3\], got values in \[-1, 0\]"),
        (torch.tensor([[0, 1]]), torch.tensor([2]), r"labels must be in \[0, 1\], got values in \[2, 2\]"),
    ],
)
def test_fit_rejects_out_of_range_tokens_and_labels(tokens: torch.Tensor, labels: torch.Tensor, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        IndependentPixelSampler().fit(tokens, labels, num_classes=2, vocab=4)
