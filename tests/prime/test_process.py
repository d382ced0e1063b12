"""The sub-token process and the Prime objective: mask rates, boundaries, ℓ = 1 equals MDM."""

from __future__ import annotations

import math

import pytest
import torch

from unmask.interpolants import MaskingInterpolant
from unmask.losses import MaskedCrossEntropy, SubTokenCrossEntropy
from unmask.models import Transformer, TransformerConfig
from unmask.prime import SubTokenCodec, SubTokenInterpolant
from unmask.schedules import get_schedule, schedule_names

pytestmark = pytest.mark.usefixtures("one_thread")


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("schedule", [s for s in schedule_names() if s != "power"])
@pytest.mark.parametrize("length", [1, 2, 4])
def test_every_subtoken_masked_at_rate_one_minus_kappa(schedule: str, length: int) -> None:
    codec = SubTokenCodec(256, length)
    path = SubTokenInterpolant(schedule, codec)
    x1 = torch.randint(0, 256, (4000, 8), generator=gen(0))
    t = torch.full((4000,), 0.37)
    p = path.sample(x1, t, gen(1))
    assert p.y_t.shape == (4000, 8, length)
    kappa = float(get_schedule(schedule).kappa(torch.tensor(0.37)))
    rate = p.mask.float().mean().item()
    assert abs(rate - (1 - kappa)) < 4 * math.sqrt(kappa * (1 - kappa) / p.mask.numel()) + 1e-9
    # revealed digits are the data's, masked ones are b; every sub-token independently
    assert torch.equal(p.y_t[~p.mask], p.y_1[~p.mask])
    assert bool((p.y_t[p.mask] == codec.mask_id).all())
    if length > 1:  # independence across the digits of a token: P(both masked) = (1 - κ)^2
        both = (p.mask[..., 0] & p.mask[..., 1]).float().mean().item()
        assert abs(both - (1 - kappa) ** 2) < 0.02


def test_boundaries_all_masked_and_all_revealed() -> None:
    codec = SubTokenCodec(100, 2)
    path = SubTokenInterpolant("cosine", codec)
    x1 = torch.randint(0, 100, (5, 6), generator=gen(0))
    p0 = path.sample(x1, torch.zeros(5), gen(1))
    assert bool((p0.y_t == codec.mask_id).all())
    p1 = path.sample(x1, torch.ones(5), gen(1))
    assert torch.equal(p1.y_t, codec.encode(x1))


def test_partial_encoding_of_masked_tokens() -> None:
    codec = SubTokenCodec(16, 2)
    path = SubTokenInterpolant("linear", codec)
    y = path.encode_partial(torch.tensor([[3, 16, 15]]))
    assert y.tolist() == [[[0, 3], [4, 4], [3, 3]]]


def test_prime_loss_with_one_subtoken_is_the_mdm_loss() -> None:
    """ℓ = 1: the sub-token process and its loss are the token process and Eq. 3, draw for draw."""
    v = 11
    codec = SubTokenCodec(v, 1)
    x1 = torch.randint(0, v, (16, 9), generator=gen(0))
    t = torch.rand(16, generator=gen(1)) * 0.98 + 0.01
    prime = SubTokenInterpolant("linear", codec).sample(x1, t, gen(2))
    plain = MaskingInterpolant("linear", v + 1).sample(x1, t, gen(2))
    assert torch.equal(prime.y_t[..., 0], plain.x_t)
    logits = torch.randn(16, 9, v, generator=gen(3))
    for weighting in ("constant", "elbo"):
        for reduction in ("masked_mean", "sum"):
            a = SubTokenCrossEntropy(codec, weighting, reduction)(logits, prime, get_schedule("linear"))  # type: ignore[arg-type]
            b = MaskedCrossEntropy(weighting, True, reduction)(logits, plain, get_schedule("linear"))  # type: ignore[arg-type]
            assert torch.allclose(a.loss, b.loss, atol=1e-5), (weighting, reduction)


def test_loss_by_brute_force_marginals() -> None:
    codec = SubTokenCodec(7, 3)
    x1 = torch.tensor([[5, 2]])
    y_t = torch.tensor([[[1, 2, 2], [2, 1, 2]]])  # token 5 = 101: first digit shown; token 2 = 010: middle shown
    from unmask.prime import SubTokenPathSample

    path = SubTokenPathSample(y_t=y_t, y_1=codec.encode(x1), x_1=x1, t=torch.tensor([0.5]), mask=y_t == 2)
    logits = torch.randn(1, 2, 7, generator=gen(0))
    out = SubTokenCrossEntropy(codec, "constant", "sum")(logits, path, get_schedule("linear"))
    total = 0.0
    for pos in range(2):
        ok = codec.consistent(y_t[0, pos])
        p = torch.softmax(logits[0, pos].masked_fill(~ok, -math.inf), -1)
        for j in range(3):
            if y_t[0, pos, j] == 2:
                d = codec.digits[x1[0, pos], j]
                total -= math.log(float(p[codec.digits[:, j] == d].sum()))
    assert math.isclose(out.loss.item(), total / 2, rel_tol=1e-5)  # nats per token: / (B L)
    assert int(out.selected.sum()) == 4


def test_revealed_subtokens_carry_no_loss_and_no_gradient() -> None:
    codec = SubTokenCodec(16, 2)
    path = SubTokenInterpolant("linear", codec).sample(
        torch.randint(0, 16, (8, 5), generator=gen(0)), torch.ones(8), gen(1)
    )
    logits = torch.randn(8, 5, 16, requires_grad=True)
    out = SubTokenCrossEntropy(codec)(logits, path, get_schedule("linear"))
    assert out.loss.item() == 0.0
    out.loss.backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) == 0.0


def test_prime_transformer_takes_subtokens_and_trains() -> None:
    codec = SubTokenCodec(256, 2)
    cfg = TransformerConfig(
        vocab_size=257,
        grid=(4, 4),
        patch=2,
        dim=32,
        depth=2,
        heads=2,
        subtokens=2,
        subtoken_vocab=codec.subtoken_vocab,
        num_classes=3,
        timestep=False,
    )
    model = Transformer(cfg)
    path = SubTokenInterpolant("linear", codec)
    x1 = torch.randint(0, 256, (6, 4, 4), generator=gen(0))
    p = path.sample(x1, torch.full((6,), 0.5), gen(1))
    logits = model(p.y_t, None, torch.tensor([0, 1, 2, 3, 0, 1]))
    assert logits.shape == (6, 4, 4, 256)
    with pytest.raises(ValueError, match="sub-tokens of shape .* ℓ=2"):
        model(x1, None, None)
    loss = SubTokenCrossEntropy(codec)(logits, p, get_schedule("linear")).loss
    loss.backward()
    assert model.token_embed.weight.grad is not None


def test_subtoken_config_must_spell_the_vocabulary() -> None:
    with pytest.raises(ValueError, match="cannot spell 256 tokens with ℓ=2"):
        TransformerConfig(vocab_size=257, grid=(4,), subtokens=2, subtoken_vocab=16)


def test_causal_transformer_does_not_look_ahead() -> None:
    cfg = TransformerConfig(
        vocab_size=20, grid=(10,), dim=32, depth=3, heads=2, causal=True, num_classes=2, timestep=False
    )
    model = Transformer(cfg).eval()
    torch.nn.init.normal_(model.head.weight, std=0.1)  # the zero-initialised head would hide everything
    x = torch.randint(0, 19, (2, 10), generator=gen(0))
    x2 = x.clone()
    x2[:, 6:] = torch.randint(0, 19, (2, 4), generator=gen(1))
    y = torch.tensor([0, 1])
    a, b = model(x, None, y), model(x2, None, y)
    assert torch.allclose(a[:, :6], b[:, :6], atol=1e-6)
    assert not torch.allclose(a[:, 6:], b[:, 6:])
    with pytest.raises(ValueError, match="causal model needs a 1-D grid and patch 1"):
        TransformerConfig(vocab_size=20, grid=(10,), patch=2, causal=True)
