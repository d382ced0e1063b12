"""Tests of classifier-free guidance: guided_logits, check_cfg, and CFG inside the Euler sampler."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from unmask.samplers import EulerSampler, check_cfg, guided_logits

pytestmark = pytest.mark.usefixtures("one_thread")

from sampler_dummies import MASK, VOCAB, C, DummyModel, event_rounds, gen  # noqa: E402

NUM_CLASSES = 3
NULL = NUM_CLASSES


class CondModel(DummyModel):
    """Conditional and unconditional logits differ: base(x, t) + per-(label, position) offset.

    The null label has its own offset, so l_cond − l_uncond is nonzero. Each row's logits
    depend on that row only, and every call is recorded.
    """

    def __init__(self, grid=(2, 3), uses_time: bool = False, seed: int = 0):
        super().__init__(grid=grid, uses_time=uses_time, num_classes=NUM_CLASSES)
        g = gen(seed)
        self.base = torch.randn(*grid, C, generator=g)
        self.offset = 1.5 * torch.randn(NUM_CLASSES + 1, *grid, C, generator=g)
        self.count_w = 0.3 * torch.randn(C, generator=g)
        self.time_w = torch.randn(C, generator=g)

    def logits(self, x, t, labels):
        b = x.shape[0]
        view = (b,) + (1,) * (x.ndim - 1) + (-1,)
        n_masked = (x == MASK).reshape(b, -1).sum(1).float()
        out = self.base + (n_masked[:, None] * self.count_w).view(view)
        if self.uses_time:
            out = out + (t[:, None] * self.time_w).view(view)
        lab = torch.full((b,), NULL) if labels is None else labels
        return out + self.offset[lab]


def manual_guided(model, x, t, labels, w):
    """l_u + w (l_c − l_u) from two separate forwards, in float64."""
    cond = model(x, t, labels).double()
    uncond = model(x, t, torch.full_like(labels, NULL)).double()
    return uncond + w * (cond - uncond)


# ---------------------------------------------------------------------------------------
# guided_logits
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("uses_time", [True, False])
@pytest.mark.parametrize("w", [0.0, 0.5, 1.0, 2.0, 3.0, 7.5])
def test_guided_logits_numerically(w, uses_time):
    model = CondModel(uses_time=uses_time)
    g = gen(1)
    x = torch.randint(0, VOCAB, (4, 2, 3), generator=g)
    t = torch.rand(4, generator=g) if uses_time else None
    labels = torch.tensor([0, 2, 1, NULL])
    out = guided_logits(model, x, t, labels, w)
    assert out.shape == (4, 2, 3, C)
    expected = manual_guided(model, x, t, labels, w)
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=1e-5)
    if w not in (0.0, 1.0):  # guidance really changes the logits for a non-null label
        plain = model(x, t, labels).double()
        assert not torch.allclose(out[:3].double(), plain[:3], atol=1e-3)


@pytest.mark.parametrize("uses_time", [True, False])
def test_guided_logits_forward_calls(uses_time):
    model = CondModel(uses_time=uses_time)
    g = gen(2)
    b = 3
    x = torch.randint(0, VOCAB, (b, 2, 3), generator=g)
    t = torch.rand(b, generator=g) if uses_time else None
    labels = torch.tensor([2, 0, 1])

    model.calls.clear()
    guided_logits(model, x, t, labels, 1.0)  # plain conditional forward
    (call,) = model.calls
    assert call.x.shape[0] == b and torch.equal(call.labels, labels) and torch.equal(call.x, x)

    model.calls.clear()
    guided_logits(model, x, t, labels, 0.0)  # plain unconditional forward
    (call,) = model.calls
    assert call.x.shape[0] == b and (call.labels == NULL).all()

    model.calls.clear()
    guided_logits(model, x, t, labels, 3.0)  # one forward over the doubled batch [cond; null]
    (call,) = model.calls
    assert call.x.shape[0] == 2 * b
    assert torch.equal(call.x, torch.cat([x, x]))
    assert torch.equal(call.labels, torch.cat([labels, torch.full((b,), NULL)]))
    if uses_time:
        assert torch.equal(call.t, torch.cat([t, t]))
    else:
        assert call.t is None

    model.calls.clear()
    guided_logits(model, x, t, None, 3.0)  # no labels: a plain forward, whatever the scale
    (call,) = model.calls
    assert call.x.shape[0] == b and call.labels is None


def test_check_cfg():
    assert check_cfg(0) == 0.0 and isinstance(check_cfg(0), float)
    assert check_cfg(1) == 1.0
    assert check_cfg(4.5) == 4.5
    for bad, text in [(-0.5, "-0.5"), (-1, "-1"), (float("nan"), "nan"), (float("inf"), "inf")]:
        with pytest.raises(ValueError) as err:
            check_cfg(bad)
        assert text in str(err.value) and "cfg" in str(err.value)


# ---------------------------------------------------------------------------------------
# CFG inside the sampler
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("uses_time", [True, False])
@pytest.mark.parametrize("skip_idle", [True, False])
@pytest.mark.parametrize("cfg", [0.0, 1.0, 3.0])
def test_sampler_forward_batches(cfg, skip_idle, uses_time):
    steps, b = 5, 4
    model = CondModel(uses_time=uses_time)
    labels = torch.tensor([0, 1, 2, 1])
    out = EulerSampler(steps=steps, cfg=cfg, skip_idle=skip_idle, schedule="cosine").sample(
        model, labels=labels, generator=gen(3)
    )
    assert out.nfe == len(model.calls)  # a doubled-batch call counts once
    if not skip_idle:
        assert out.nfe == steps
    if skip_idle:
        rounds = event_rounds(out)
    else:
        rounds = [(torch.arange(b), torch.full((b,), i)) for i in range(steps)]
    assert len(rounds) == len(model.calls)
    for (rows, row_steps), call in zip(rounds, model.calls, strict=True):
        r = len(rows)
        state = torch.stack([out.state(int(st))[i] for i, st in zip(rows, row_steps, strict=True)])
        if cfg == 1.0:
            assert call.x.shape[0] == r
            assert torch.equal(call.labels, labels[rows])
            assert torch.equal(call.x, state)
        elif cfg == 0.0:
            assert call.x.shape[0] == r
            assert (call.labels == NULL).all()
            assert torch.equal(call.x, state)
        else:
            assert call.x.shape[0] == 2 * r
            assert torch.equal(call.labels[:r], labels[rows])
            assert (call.labels[r:] == NULL).all()
            assert torch.equal(call.x, torch.cat([state, state]))
        if uses_time:
            expected_t = (row_steps.float() / steps).repeat(call.x.shape[0] // r)
            torch.testing.assert_close(call.t, expected_t, atol=1e-7, rtol=0)
        else:
            assert call.t is None


@pytest.mark.parametrize("skip_idle", [True, False])
def test_cfg_zero_equals_sampling_the_null_label(skip_idle):
    labels = torch.tensor([0, 1, 2, 0])
    kw = dict(steps=6, schedule="linear", skip_idle=skip_idle, final_argmax=False)
    a = EulerSampler(cfg=0.0, **kw).sample(CondModel(), labels=labels, generator=gen(4))
    b = EulerSampler(cfg=1.0, **kw).sample(CondModel(), labels=torch.full((4,), NULL), generator=gen(4))
    c = EulerSampler(cfg=1.0, **kw).sample(CondModel(), labels=labels, generator=gen(4))
    assert torch.equal(a.tokens, b.tokens)
    assert not torch.equal(a.tokens, c.tokens)  # the labels matter for this model


@pytest.mark.parametrize("uses_time", [True, False])
@pytest.mark.parametrize(("temperature", "top_k", "top_p"), [(1.0, 0, 1.0), (0.5, 3, 1.0), (2.0, 0, 0.5)])
@pytest.mark.parametrize("cfg", [0.0, 1.0, 3.0])
def test_one_step_final_argmax_is_argmax_of_guided_logits(cfg, temperature, top_k, top_p, uses_time):
    model = CondModel(grid=(3, 4), uses_time=uses_time)
    labels = torch.tensor([0, 1, 2, 2, 0])
    sampler = EulerSampler(steps=1, cfg=cfg, final_argmax=True, temperature=temperature, top_k=top_k, top_p=top_p)
    out = sampler.sample(model, labels=labels, generator=gen(6))
    x0 = torch.full((5, 3, 4), MASK)
    t0 = torch.zeros(5) if uses_time else None
    expected = manual_guided(model, x0, t0, labels, cfg).argmax(-1)
    assert torch.equal(out.tokens, expected)
    assert out.nfe == 1


def test_guidance_scale_changes_the_argmax():
    """Makes the arg-max test meaningful: cfg = 0, 1, 3 give different tokens for this model."""
    model = CondModel(grid=(3, 4))
    labels = torch.tensor([0, 1, 2, 2, 0])
    x0 = torch.full((5, 3, 4), MASK)
    am = {w: manual_guided(model, x0, None, labels, w).argmax(-1) for w in (0.0, 1.0, 3.0)}
    assert not torch.equal(am[0.0], am[1.0])
    assert not torch.equal(am[1.0], am[3.0])


def test_strong_guidance_sharpens_toward_the_class():
    """With l_c favouring one token over l_u, larger w puts more of the draws on it."""

    class Favour:
        vocab_size = VOCAB
        uses_time = False
        num_classes = 2
        null_label = 2
        config = SimpleNamespace(grid=(1,))

        def __call__(self, x, t, labels):
            out = torch.zeros(*x.shape, C)
            out[..., 0] += (labels != 2).float().view(-1, 1) * 0.5  # conditional: token 0 slightly favoured
            return out

    b = 20000
    labels = torch.zeros(b, dtype=torch.long)
    freqs = []
    for w in (0.0, 1.0, 4.0):
        out = EulerSampler(steps=1, cfg=w, final_argmax=False).sample(Favour(), labels=labels, generator=gen(7))
        freqs.append((out.tokens == 0).double().mean().item())
    for w, f in zip((0.0, 1.0, 4.0), freqs, strict=True):
        p = math.exp(0.5 * w) / (math.exp(0.5 * w) + C - 1)
        assert abs(f - p) < 5 * math.sqrt(0.25 / b), (w, f, p)
    assert freqs[0] < freqs[1] < freqs[2]
