"""The text-conditioned backbone: null caption, conditioning, CFG as one batched forward, checkpoints."""

from __future__ import annotations

import pytest
import torch

from unmask.models import CaptionConditioned, TextTransformer, TextTransformerConfig, TransformerConfig
from unmask.samplers import EulerSampler
from unmask.samplers.guidance import guided_logits
from unmask.schedules import get_schedule

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(scratch: bool = True, seed: int = 0) -> TextTransformer:
    torch.manual_seed(seed)
    bb = TransformerConfig(vocab_size=5, grid=(8, 8), patch=2, dim=32, depth=2, heads=2, timestep=False)
    cfg = TextTransformerConfig(
        backbone=bb,
        text_len=6,
        text_dim=16,
        encoder={"name": "test"},
        scratch_vocab=50 if scratch else 0,
        scratch_depth=1,
        scratch_heads=2,
    )
    m = TextTransformer(cfg)
    with torch.no_grad():  # the head starts at zero (uniform logits): give it weights so outputs differ
        m.backbone.head.weight.normal_(0, 0.5)
    return m.eval()


def _captions(scratch: bool) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    if scratch:
        ids = torch.randint(1, 50, (3, 6), generator=g) * mask
        return ids, mask
    return torch.randn(3, 6, 16, generator=g), mask


@pytest.mark.parametrize("scratch", [True, False])
def test_null_caption_equals_dropped_condition(scratch: bool) -> None:
    model = _model(scratch)
    text, mask = _captions(scratch)
    x = torch.randint(0, 5, (3, 8, 8))
    bound = CaptionConditioned(model, text, mask)
    dropped = bound(x, None, torch.full((3,), bound.null_label))
    empty = model(x, None, text, torch.zeros_like(mask))  # an empty caption: no tokens
    other = model(x, None, text.flip(0), torch.zeros_like(mask))  # whatever the padded content
    assert torch.equal(dropped, empty)
    assert torch.equal(empty, other)
    assert torch.equal(bound(x, None, None), dropped)


@pytest.mark.parametrize("scratch", [True, False])
def test_caption_changes_logits_and_padding_does_not(scratch: bool) -> None:
    model = _model(scratch)
    text, mask = _captions(scratch)
    x = torch.randint(0, 5, (3, 8, 8))
    a = model(x, None, text, mask)
    b = model(x, None, text.roll(1, 0), mask.roll(1, 0))
    assert not torch.allclose(a, b)
    padded = text.clone()
    padded[~mask] = 7 if scratch else 3.0  # content at masked positions is never attended to
    assert torch.allclose(model(x, None, padded, mask), a, atol=1e-6)


def test_cfg_batched_forward_equals_two_forwards() -> None:
    model = _model()
    bound = CaptionConditioned(model, *_captions(True))
    x = torch.randint(0, 5, (3, 8, 8))
    labels = torch.tensor([0, 2, 1])
    guided = guided_logits(bound, x, None, labels, 2.5)
    cond = bound(x, None, labels)
    uncond = bound(x, None, torch.full_like(labels, bound.null_label))
    assert torch.allclose(guided, uncond + 2.5 * (cond - uncond), atol=1e-5)


def test_sampling_is_deterministic_and_caption_dependent() -> None:
    bound = CaptionConditioned(_model(), *_captions(True))
    sampler = EulerSampler(steps=8, schedule=get_schedule("linear"), cfg=2.0)
    labels = torch.tensor([0, 1, 2, 0])
    a = sampler.sample(bound, labels=labels, generator=torch.Generator().manual_seed(3))
    b = sampler.sample(bound, labels=labels, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.tokens, b.tokens)
    assert int((a.tokens == bound.mask_id).sum()) == 0


def test_state_dict_excludes_the_caption_table_and_round_trips() -> None:
    model = _model()
    bound = CaptionConditioned(model, *_captions(True))
    assert all(k.startswith("model.") for k in bound.state_dict())
    clone = TextTransformer(TextTransformerConfig.from_dict(model.config.to_dict())).eval()
    clone.load_state_dict({k.removeprefix("model."): v for k, v in bound.state_dict().items()})
    x = torch.randint(0, 5, (3, 8, 8))
    text, mask = _captions(True)
    assert torch.equal(clone(x, None, text, mask), model(x, None, text, mask))


def test_bad_inputs_are_named() -> None:
    model = _model()
    bound = CaptionConditioned(model, *_captions(True))
    x = torch.randint(0, 5, (2, 8, 8))
    with pytest.raises(ValueError, match=r"caption index 9 outside \[0, 3\] \(3 = the null caption\)"):
        bound(x, None, torch.tensor([0, 9]))
    with pytest.raises(ValueError, match="1 caption indices for 2 samples"):
        bound(x, None, torch.tensor([0]))
    with pytest.raises(ValueError, match="int64 ids"):
        model(x, None, torch.randn(2, 6, 16), torch.ones(2, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="does not fit"):
        model(x, None, torch.ones(2, 9, dtype=torch.long), torch.ones(2, 9, dtype=torch.bool))
    frozen = _model(scratch=False)
    with pytest.raises(ValueError, match="embeddings"):
        frozen(x, None, torch.randn(2, 6, 8), torch.ones(2, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="num_classes"):
        TextTransformerConfig(TransformerConfig(vocab_size=5, grid=(4,), num_classes=3), text_len=4, text_dim=8)
