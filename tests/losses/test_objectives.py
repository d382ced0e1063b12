"""Objectives: the three corrupt/predict/loss pipelines and their held-out likelihoods."""

from __future__ import annotations

import math

import pytest
import torch

from unmask.interpolants import MaskingInterpolant
from unmask.losses import (
    AutoregressiveObjective,
    MaskedCrossEntropy,
    MaskedObjective,
    SubTokenCrossEntropy,
    SubTokenObjective,
)
from unmask.models import Transformer, TransformerConfig
from unmask.prime import SubTokenCodec, SubTokenInterpolant

pytestmark = pytest.mark.usefixtures("one_thread")


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class Uniform:
    """A model that predicts the uniform distribution over V tokens at every position."""

    def __init__(self, vocab: int, subtokens: int = 0) -> None:
        self.vocab_size, self.subtokens, self.uses_time, self.num_classes, self.null_label = (
            vocab + 1,
            subtokens,
            0,
            0,
            0,
        )

    def __call__(self, x, t, labels):
        shape = x.shape[:-1] if self.subtokens else x.shape
        return torch.zeros(*shape, self.vocab_size - 1)


def test_uniform_model_bound_is_log_v_for_masked_and_prime() -> None:
    """Under a uniform model every masked token costs log V nats on average; the ELBO integrates
    w(t)·(expected masked fraction) = ∫ κ̇ dt = 1 per token: bound = log V exactly in expectation."""
    v = 16
    x1 = torch.randint(0, v, (512, 12), generator=gen(0))
    masked = MaskedObjective(MaskingInterpolant("linear", v + 1), MaskedCrossEntropy())
    est = masked.nll_bound(Uniform(v), x1, None, gen(1))
    assert est.shape == (512,)
    assert abs(float(est.mean()) - math.log(v)) < 0.05 * math.log(v)
    for ell in (2, 4):
        codec = SubTokenCodec(v, ell)
        prime = SubTokenObjective(SubTokenInterpolant("cosine", codec), SubTokenCrossEntropy(codec))
        est = prime.nll_bound(Uniform(v, ell), x1, None, gen(1))
        assert abs(float(est.mean()) - math.log(v)) < 0.05 * math.log(v), ell


def test_autoregressive_objective_feeds_bos_then_shifted_tokens() -> None:
    seen = []

    class Spy(Uniform):
        def __call__(self, x, t, labels):
            seen.append(x.clone())
            return super().__call__(x, t, labels)

    obj = AutoregressiveObjective(bos=10)
    x1 = torch.tensor([[3, 1, 4, 1, 5]])
    target = obj.corrupt(x1, torch.zeros(1), None)
    logits = obj.predict(Spy(10), target, None)
    assert seen[0].tolist() == [[10, 3, 1, 4, 1]]
    out = obj.loss(logits, target)
    assert math.isclose(out.loss.item(), math.log(10), rel_tol=1e-6)
    assert math.isclose(float(obj.nll_bound(Spy(10), x1, None, None)[0]), math.log(10), rel_tol=1e-6)
    with pytest.raises(ValueError, match=r"takes sequences \(B, L\)"):
        obj.corrupt(torch.zeros(2, 3, 3, dtype=torch.long), torch.zeros(2), None)


def test_autoregressive_nll_is_exact_chain_rule() -> None:
    """The per-token NLL of a causal transformer equals −Σ log p(x_i | x_<i) computed one prefix at a time."""
    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=8, grid=(6,), dim=32, depth=2, heads=2, causal=True, timestep=False)
    model = Transformer(cfg).eval()
    torch.nn.init.normal_(model.head.weight, std=0.3)
    x1 = torch.randint(0, 7, (3, 6), generator=gen(0))
    obj = AutoregressiveObjective(bos=7)
    nll = obj.nll_bound(model, x1, None, None)
    manual = torch.zeros(3)
    for i in range(6):
        prefix = torch.cat([torch.full((3, 1), 7), x1[:, :i], torch.full((3, 5 - i), 7)], 1)  # pad after i
        logp = torch.log_softmax(model(prefix, None, None)[:, i], -1)
        manual -= logp.gather(1, x1[:, i : i + 1]).squeeze(1)
    assert torch.allclose(nll, manual / 6, atol=1e-5)


def test_masked_bound_ignores_training_smoothing() -> None:
    v = 8
    x1 = torch.randint(0, v, (64, 10), generator=gen(0))
    plain = MaskedObjective(MaskingInterpolant("linear", v + 1), MaskedCrossEntropy())
    smooth = MaskedObjective(MaskingInterpolant("linear", v + 1, smoothing=0.5), MaskedCrossEntropy())
    a = plain.nll_bound(Uniform(v), x1, None, gen(3))
    b = smooth.nll_bound(Uniform(v), x1, None, gen(3))
    assert torch.equal(a, b)
