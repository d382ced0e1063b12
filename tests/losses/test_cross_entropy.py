"""Tests of the masked, weighted cross-entropy (Eq. 3 / Eq. 10): selection, weights, reductions, validation."""

from __future__ import annotations

import math

import pytest
import torch

from unmask.interpolants import MaskingInterpolant, PathSample
from unmask.losses import REDUCTIONS, WEIGHTINGS, LossOutput, MaskedCrossEntropy, loss_weight
from unmask.schedules import get_schedule, schedule_names

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = 5  # 4 data tokens + [MASK]
MASK = VOCAB - 1
C = VOCAB - 1
SCHEDULE = get_schedule("cosine")

COMBOS = [(w, m, r) for w in ("constant", "elbo") for m in (True, False) for r in ("masked_mean", "sum")]
COMBO_IDS = [f"{w}-{'masked' if m else 'all'}-{r}" for w, m, r in COMBOS]


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def make_path(shape=(3, 6), seed=0) -> PathSample:
    """A hand-made path: random data, a fixed mix of masked and revealed positions, interior times."""
    x_1 = torch.randint(0, C, shape, generator=gen(seed))
    mask = torch.rand(shape, generator=gen(seed + 1)) < 0.5
    flat = mask.view(shape[0], -1)
    flat[:, 0] = True  # every sample has a masked and a revealed position
    flat[:, -1] = False
    x_t = torch.where(mask, torch.full_like(x_1, MASK), x_1)
    t = torch.linspace(0.2, 0.8, shape[0])
    zeros = torch.zeros_like(mask)
    return PathSample(x_t=x_t, x_1=x_1, t=t, mask=mask, noised=zeros, coupled=zeros.clone())


def random_logits(shape, seed=2, scale=2.0) -> torch.Tensor:
    return scale * torch.randn(*shape, C, generator=gen(seed))


def manual_loss(logits, path, weighting, masked, reduction):
    """Eq. 3 / Eq. 10 written out position by position in float64."""
    b = path.x_1.shape[0]
    lg = logits.double().reshape(b, -1, logits.shape[-1])
    x1 = path.x_1.reshape(b, -1)
    m = path.mask.reshape(b, -1)
    total, count, correct = 0.0, 0, 0
    ce = torch.zeros(b, x1.shape[1], dtype=torch.float64)
    weights = []
    for i in range(b):
        t = float(path.t[i])
        if weighting == "constant":
            w = 1.0
        else:
            w = SCHEDULE.kappa_dot(t).item() / (1 - SCHEDULE.kappa(t).item())
        weights.append(w)
        for j in range(x1.shape[1]):
            row = lg[i, j]
            ce[i, j] = math.log(sum(math.exp(v) for v in row.tolist())) - row[x1[i, j]].item()
            if masked and not m[i, j]:
                continue
            total += w * ce[i, j].item()
            count += 1
            correct += int(row.argmax().item() == x1[i, j].item())
    if reduction == "masked_mean":
        value = total / max(count, 1)
    else:
        value = total / (b * x1.shape[1])
    return value, ce, torch.tensor(weights, dtype=torch.float64), correct / count


# --- selection of positions ----------------------------------------------------------------
@pytest.mark.parametrize("weighting,masked,reduction", COMBOS, ids=COMBO_IDS)
def test_revealed_positions_enter_only_when_unmasked_loss(weighting, masked, reduction):
    path = make_path()
    loss_fn = MaskedCrossEntropy(weighting=weighting, masked=masked, reduction=reduction)
    logits = random_logits(path.x_1.shape).requires_grad_(True)
    out = loss_fn(logits, path, SCHEDULE)
    (grad,) = torch.autograd.grad(out.loss, logits)

    changed = logits.detach().clone()
    changed[~path.mask] = 30 * torch.randn(int((~path.mask).sum()), C, generator=gen(3))
    changed.requires_grad_(True)
    out2 = loss_fn(changed, path, SCHEDULE)
    (grad2,) = torch.autograd.grad(out2.loss, changed)

    revealed = ~path.mask
    assert (grad[path.mask] != 0).any(dim=-1).all()  # every masked position gets a gradient
    if masked:
        assert torch.equal(out.loss, out2.loss)
        assert (grad[revealed] == 0).all() and (grad2[revealed] == 0).all()
        torch.testing.assert_close(grad[path.mask], grad2[path.mask], rtol=0, atol=0)
        assert torch.equal(out.selected, path.mask)
    else:
        assert not torch.isclose(out.loss, out2.loss)
        assert (grad[revealed] != 0).any(dim=-1).all()
        assert out.selected.all()


# --- value ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 6), (2, 3, 4)], ids=["BL", "BHW"])
@pytest.mark.parametrize("weighting,masked,reduction", COMBOS, ids=COMBO_IDS)
def test_hand_computed_value(weighting, masked, reduction, shape):
    path = make_path(shape, seed=4)
    logits = random_logits(shape, seed=5)
    out = MaskedCrossEntropy(weighting=weighting, masked=masked, reduction=reduction)(logits, path, SCHEDULE)
    value, ce, weights, acc = manual_loss(logits, path, weighting, masked, reduction)
    assert isinstance(out, LossOutput)
    assert out.loss.ndim == 0
    assert out.loss.item() == pytest.approx(value, rel=1e-5)
    b = shape[0]
    assert out.per_token.shape == (b, math.prod(shape[1:]))
    torch.testing.assert_close(out.per_token.double(), ce, rtol=1e-5, atol=1e-6)
    assert out.weight.shape == (b,)
    torch.testing.assert_close(out.weight.double(), weights, rtol=1e-6, atol=0)
    expected_sel = path.mask.reshape(b, -1) if masked else torch.ones(b, ce.shape[1], dtype=torch.bool)
    assert torch.equal(out.selected, expected_sel)
    assert out.accuracy.item() == pytest.approx(acc)


def test_tiny_example_by_hand():
    """One sample, two positions, two data classes: the numbers written out."""
    x_1 = torch.tensor([[0, 1]])  # vocabulary {0, 1, [MASK]=2}
    mask = torch.tensor([[True, False]])
    path = PathSample(
        x_t=torch.tensor([[2, 1]]),
        x_1=x_1,
        t=torch.tensor([0.5]),
        mask=mask,
        noised=torch.zeros_like(mask),
        coupled=torch.zeros_like(mask),
    )
    logits = torch.tensor([[[math.log(3.0), 0.0], [0.0, 0.0]]])  # p(0) = 3/4 at position 0; uniform at 1
    sched = get_schedule("linear")  # rate at t = 0.5 is 1 / 0.5 = 2
    ce0, ce1 = -math.log(0.75), math.log(2.0)
    cases = {
        ("constant", True, "masked_mean"): ce0,
        ("constant", True, "sum"): ce0 / 2,
        ("constant", False, "masked_mean"): (ce0 + ce1) / 2,
        ("constant", False, "sum"): (ce0 + ce1) / 2,
        ("elbo", True, "masked_mean"): 2 * ce0,
        ("elbo", True, "sum"): 2 * ce0 / 2,
        ("elbo", False, "masked_mean"): 2 * (ce0 + ce1) / 2,
        ("elbo", False, "sum"): 2 * (ce0 + ce1) / 2,
    }
    for (w, m, r), expected in cases.items():
        out = MaskedCrossEntropy(weighting=w, masked=m, reduction=r)(logits, path, sched)
        assert out.loss.item() == pytest.approx(expected, rel=1e-6), (w, m, r)


def test_sum_reduction_is_mean_over_samples_of_per_position_sums():
    """'sum' divides by B·L, not by the number of masked positions: doubling L with revealed tokens halves it."""
    path = make_path((2, 4), seed=6)
    logits = random_logits((2, 4), seed=7)
    loss_fn = MaskedCrossEntropy(reduction="sum")
    base = loss_fn(logits, path, SCHEDULE).loss
    pad = PathSample(
        x_t=torch.cat([path.x_t, path.x_1], 1),
        x_1=torch.cat([path.x_1, path.x_1], 1),
        t=path.t,
        mask=torch.cat([path.mask, torch.zeros_like(path.mask)], 1),
        noised=torch.zeros(2, 8, dtype=torch.bool),
        coupled=torch.zeros(2, 8, dtype=torch.bool),
    )
    padded = loss_fn(torch.cat([logits, logits], 1), pad, SCHEDULE).loss
    assert padded.item() == pytest.approx(base.item() / 2, rel=1e-6)
    mean_fn = MaskedCrossEntropy(reduction="masked_mean")
    assert mean_fn(torch.cat([logits, logits], 1), pad, SCHEDULE).loss.item() == pytest.approx(
        mean_fn(logits, path, SCHEDULE).loss.item(), rel=1e-6
    )


# --- weights -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", schedule_names())
def test_elbo_weight_is_the_rate(name):
    sched = get_schedule(name)
    t = torch.linspace(0.01, 0.99, 33)
    w = loss_weight(sched, t, "elbo")
    assert w.dtype == torch.float32 and w.shape == t.shape
    td = t.double()
    torch.testing.assert_close(w.double(), sched.kappa_dot(td) / (1 - sched.kappa(td)), rtol=1e-6, atol=0)
    ones = loss_weight(sched, t, "constant")
    assert ones.dtype == torch.float32 and torch.equal(ones, torch.ones_like(t))


def test_elbo_loss_scales_each_sample_by_its_weight():
    path = make_path((3, 6), seed=8)
    logits = random_logits((3, 6), seed=9)
    const = MaskedCrossEntropy(weighting="constant", reduction="sum")(logits, path, SCHEDULE)
    elbo = MaskedCrossEntropy(weighting="elbo", reduction="sum")(logits, path, SCHEDULE)
    per_sample = (const.per_token * const.selected).sum(1) / path.x_1.shape[1]
    assert elbo.loss.item() == pytest.approx((per_sample * elbo.weight).mean().item(), rel=1e-5)
    assert torch.equal(const.per_token, elbo.per_token)


# --- perfect model -------------------------------------------------------------------------
@pytest.mark.parametrize("weighting,masked,reduction", COMBOS, ids=COMBO_IDS)
def test_perfect_model_has_zero_loss(weighting, masked, reduction):
    interp = MaskingInterpolant(SCHEDULE, VOCAB)
    x_1 = torch.randint(0, C, (8, 4, 4), generator=gen(10))
    path = interp.sample(x_1, torch.linspace(0.1, 0.9, 8), gen(11))
    assert path.mask.any()
    logits = 50.0 * torch.nn.functional.one_hot(x_1, C).float() - 10.0
    out = MaskedCrossEntropy(weighting=weighting, masked=masked, reduction=reduction)(logits, path, SCHEDULE)
    assert 0 <= out.loss.item() < 1e-8
    assert out.accuracy.item() == 1.0
    # and the uniform prediction costs log(C) per selected position (constant weight, masked mean)
    uniform = MaskedCrossEntropy(weighting="constant", masked=masked)(torch.zeros_like(logits), path, SCHEDULE)
    assert uniform.loss.item() == pytest.approx(math.log(C), rel=1e-6)


def test_no_masked_position_gives_zero_not_nan():
    path = make_path()
    path.mask = torch.zeros_like(path.mask)
    path.x_t = path.x_1.clone()
    for reduction in REDUCTIONS:
        out = MaskedCrossEntropy(reduction=reduction)(random_logits(path.x_1.shape), path, SCHEDULE)
        assert out.loss.item() == 0.0
        assert math.isnan(out.accuracy.item())


# --- validation ----------------------------------------------------------------------------
def test_registries():
    assert set(WEIGHTINGS) == {"constant", "elbo"}
    assert set(REDUCTIONS) == {"masked_mean", "sum"}


@pytest.mark.parametrize("bad", ["uniform", "ELBO", ""])
def test_unknown_weighting_raises(bad):
    with pytest.raises(ValueError, match="weighting") as err:
        MaskedCrossEntropy(weighting=bad)
    assert repr(bad) in str(err.value)
    with pytest.raises(ValueError) as err:
        loss_weight(SCHEDULE, torch.tensor([0.5]), bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize("bad", ["mean", "none", "masked-mean"])
def test_unknown_reduction_raises(bad):
    with pytest.raises(ValueError, match="reduction") as err:
        MaskedCrossEntropy(reduction=bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize("logit_shape", [(3, 7, C), (3, 6), (2, 6, C), (3, 2, 3, C)])
def test_shape_mismatch_raises(logit_shape):
    path = make_path((3, 6))
    with pytest.raises(ValueError, match="shape"):
        MaskedCrossEntropy()(torch.zeros(logit_shape), path, SCHEDULE)
