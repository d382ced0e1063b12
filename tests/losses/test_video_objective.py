"""The masking path and the masked cross-entropy take token clips (B, T, H, W) as they take any shape:
on a clip they give exactly what they give on the same tokens flattened to (B, T·H·W)."""

from __future__ import annotations

import pytest
import torch

from unmask.interpolants import MaskingInterpolant
from unmask.losses import MaskedCrossEntropy, MaskedObjective
from unmask.models import VideoTransformer, VideoTransformerConfig

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = 5


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("weighting,reduction", [("constant", "masked_mean"), ("elbo", "sum")])
def test_clip_path_and_loss_equal_the_flattened_ones(weighting, reduction):
    path = MaskingInterpolant("cosine", VOCAB)
    x1 = torch.randint(0, VOCAB - 1, (3, 4, 2, 2), generator=gen(0))
    t = torch.tensor([0.2, 0.5, 0.9])
    clip = path.sample(x1, t, gen(1))
    flat = path.sample(x1.reshape(3, -1), t, gen(1))
    assert torch.equal(clip.x_t.reshape(3, -1), flat.x_t) and torch.equal(clip.mask.reshape(3, -1), flat.mask)
    logits = torch.randn(3, 4, 2, 2, VOCAB - 1, generator=gen(2))
    loss_fn = MaskedCrossEntropy(weighting, True, reduction)
    a = loss_fn(logits, clip, path.schedule)
    b = loss_fn(logits.reshape(3, 16, VOCAB - 1), flat, path.schedule)
    torch.testing.assert_close(a.loss, b.loss)
    torch.testing.assert_close(a.accuracy, b.accuracy)


def test_video_model_trains_through_the_objective():
    torch.manual_seed(0)
    model = VideoTransformer(VideoTransformerConfig(vocab_size=VOCAB, grid=(4, 4, 4), dim=16, depth=2, heads=2))
    objective = MaskedObjective(MaskingInterpolant("linear", VOCAB), MaskedCrossEntropy("constant", True))
    x1 = torch.randint(0, VOCAB - 1, (4, 4, 4, 4), generator=gen(0))
    target = objective.corrupt(x1, torch.full((4,), 0.5), gen(1))
    out = objective.loss(objective.predict(model, target, None), target)
    torch.testing.assert_close(out.loss, torch.log(torch.tensor(VOCAB - 1.0)))  # zero head: uniform over data
    out.loss.backward()
    assert model.head.weight.grad is not None and model.head.weight.grad.abs().sum() > 0
    bound = objective.nll_bound(model, x1, None, gen(2))
    assert bound.shape == (4,) and torch.isfinite(bound).all()
