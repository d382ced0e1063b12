"""Tests of the shared token-drawing helpers: filter_logits, draw_categorical, check_sampling_options."""

from __future__ import annotations

import math

import pytest
import torch

from unmask.samplers import check_sampling_options, draw_categorical, filter_logits

pytestmark = pytest.mark.usefixtures("one_thread")


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------
# draw_categorical
# ---------------------------------------------------------------------------------------
def test_never_draws_minus_inf_entries():
    g = gen(0)
    n, c = 4000, 7
    logits = torch.randn(n, c, generator=g)
    # random holes, including the first and the last column; keep one finite entry per row
    hole = torch.rand(n, c, generator=g) < 0.6
    hole[: n // 4, 0] = True
    hole[n // 4 : n // 2, -1] = True
    keep = torch.randint(0, c, (n,), generator=g)
    hole[torch.arange(n), keep] = False
    logits[hole] = float("-inf")
    idx = draw_categorical(logits, g)
    assert idx.shape == (n,) and idx.dtype == torch.int64
    assert ((idx >= 0) & (idx < c)).all()
    assert not hole[torch.arange(n), idx].any()


def test_single_finite_entry_is_always_drawn():
    c = 6
    for j in range(c):
        logits = torch.full((500, c), float("-inf"))
        logits[:, j] = 3.0
        assert (draw_categorical(logits, gen(j)) == j).all()


@pytest.mark.parametrize("u", [0.0, 1.0 - 2.0**-53])
def test_extreme_uniforms_never_draw_zero_probability(monkeypatch, u):
    """u = 0 and u just below 1 (where u · total can round onto the CDF's flat tail)."""
    g = gen(1)
    n, c = 2000, 8
    logits = 3 * torch.randn(n, c, generator=g, dtype=torch.float64)  # every kept p is resolvable
    zero = torch.rand(n, c, generator=g) < 0.5
    zero[:, -2:] = True  # a zero-probability tail
    zero[:, 0] = True  # and a zero-probability head
    keep = torch.randint(1, c - 2, (n,), generator=g)
    zero[torch.arange(n), keep] = False
    logits[zero] = float("-inf")

    def fake_rand(*size, dtype=None, generator=None, device=None):
        return torch.full(size, u, dtype=dtype)

    monkeypatch.setattr(torch, "rand", fake_rand)
    idx = draw_categorical(logits)
    monkeypatch.undo()
    assert not zero[torch.arange(n), idx].any()
    probs = torch.softmax(logits, -1)
    if u == 0.0:  # the first positive-probability entry
        first = (probs > 0).to(torch.int64).argmax(-1)
        assert torch.equal(idx, first)
    else:  # the last positive-probability entry
        last = c - 1 - (probs > 0).flip(-1).to(torch.int64).argmax(-1)
        assert torch.equal(idx, last)


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_empirical_frequencies_match_softmax(scale):
    c, n = 6, 200_000
    logits = scale * torch.tensor([0.5, -1.0, 2.0, 0.0, 1.0, -0.3])
    probs = torch.softmax(logits.double(), -1)
    idx = draw_categorical(logits.expand(n, c), gen(7))
    counts = torch.bincount(idx, minlength=c).double()
    freq = counts / n
    assert (freq - probs).abs().max().item() < 5 * math.sqrt(0.25 / n)
    # Pearson chi-square with c − 1 = 5 degrees of freedom; 25 is far beyond the 0.9999 quantile (~25.7 is 1e-4)
    expected = n * probs
    chi2 = ((counts - expected) ** 2 / expected).sum().item()
    assert chi2 < 25.0, chi2


def test_rows_are_independent_distributions():
    n = 50_000
    logits = torch.tensor([[5.0, 0.0, 0.0], [0.0, 0.0, 5.0]]).repeat(n, 1)
    idx = draw_categorical(logits, gen(3)).view(n, 2)
    p_major = math.exp(5) / (math.exp(5) + 2)
    assert abs((idx[:, 0] == 0).double().mean().item() - p_major) < 0.01
    assert abs((idx[:, 1] == 2).double().mean().item() - p_major) < 0.01


def test_draws_are_reproducible_from_the_generator():
    logits = torch.randn(100, 5, generator=gen(0))
    a = draw_categorical(logits, gen(42))
    b = draw_categorical(logits, gen(42))
    c = draw_categorical(logits, gen(43))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_draws_resolve_tiny_probabilities_in_float64(monkeypatch):
    """An entry of probability ~1e-12 next to a dominant one, given as float32 logits: a float32
    CDF would round it away. With the uniform at 1 − 2^-53 the inverse CDF must land on it."""
    logits = torch.tensor([[0.0, -27.6]], dtype=torch.float32)  # p1 ≈ 1e-12
    monkeypatch.setattr(
        torch,
        "rand",
        lambda *size, dtype=None, generator=None, device=None: torch.full(size, 1.0 - 2.0**-53, dtype=dtype),
    )
    idx = draw_categorical(logits)
    monkeypatch.undo()
    assert idx.item() == 1


def test_draw_categorical_rejects_non_2d():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        draw_categorical(torch.zeros(3))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        draw_categorical(torch.zeros(2, 3, 4))


# ---------------------------------------------------------------------------------------
# filter_logits
# ---------------------------------------------------------------------------------------
def test_temperature_divides_logits_in_float64():
    logits = torch.randn(4, 7, generator=gen(0))
    for temp in (0.5, 1.0, 2.0, 3.7):
        out = filter_logits(logits, temperature=temp)
        assert out.dtype == torch.float64
        assert torch.equal(out, logits.double() / temp)
    assert torch.equal(filter_logits(logits), logits.double())


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_top_k_keeps_exactly_k_largest(k):
    g = gen(k)
    logits = torch.randn(50, 9, generator=g)  # continuous: no ties
    out = filter_logits(logits, top_k=k, temperature=1.5)
    kept = torch.isfinite(out)
    assert (kept.sum(-1) == k).all()
    top = torch.topk(logits, k, dim=-1).indices
    assert kept.gather(-1, top).all()
    torch.testing.assert_close(out[kept], logits.double()[kept] / 1.5, atol=0, rtol=0)
    assert (out[~kept] == float("-inf")).all()


@pytest.mark.parametrize("k", [0, 9, 20])
def test_top_k_off_or_at_least_vocab_keeps_everything(k):
    logits = torch.randn(5, 9, generator=gen(0))
    assert torch.equal(filter_logits(logits, top_k=k), logits.double())


@pytest.mark.parametrize("p", [1e-6, 0.1, 0.3, 0.5, 0.75, 0.9, 0.99])
@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_top_p_keeps_minimal_set_reaching_p(p, temperature):
    g = gen(int(p * 1000))
    logits = 2 * torch.randn(200, 8, generator=g)
    out = filter_logits(logits, top_p=p, temperature=temperature)
    kept = torch.isfinite(out)
    probs = torch.softmax(logits.double() / temperature, -1)
    sorted_p, order = torch.sort(probs, -1, descending=True)
    cum = torch.cumsum(sorted_p, -1)
    m = kept.sum(-1)  # number kept per row
    for r in range(logits.shape[0]):
        mr = int(m[r])
        # the kept entries are the mr most likely ones
        assert kept[r, order[r, :mr]].all()
        # they reach p, and one fewer would not (minimality); the arg-max is always kept
        assert cum[r, mr - 1] >= p - 1e-12
        if mr > 1:
            assert cum[r, mr - 2] < p
        assert kept[r, probs[r].argmax()]
    torch.testing.assert_close(out[kept], (logits.double() / temperature)[kept], atol=0, rtol=0)


def test_top_p_is_computed_after_temperature():
    logits = torch.tensor([[4.0, 1.0, 0.0, -1.0]])
    cold = torch.isfinite(filter_logits(logits, top_p=0.9)).sum().item()
    hot = torch.isfinite(filter_logits(logits, top_p=0.9, temperature=5.0)).sum().item()
    assert cold == 1
    assert hot > cold


def test_top_p_after_top_k_renormalises_over_survivors():
    # probabilities ~ [0.4, 0.3, 0.2, 0.1]: with top_k=2 the survivors renormalise to [4/7, 3/7],
    # so top_p=0.5 keeps only the first; p=0.6 needs both
    logits = torch.log(torch.tensor([[0.4, 0.3, 0.2, 0.1]]))
    assert torch.isfinite(filter_logits(logits, top_k=2, top_p=0.5)).sum().item() == 1
    assert torch.isfinite(filter_logits(logits, top_k=2, top_p=0.6)).sum().item() == 2
    # without top_k, 0.6 needs the first two (0.4 < 0.6 ≤ 0.7) — not three
    assert torch.isfinite(filter_logits(logits, top_p=0.6)).sum().item() == 2


def test_filter_keeps_argmax_and_preserves_shape():
    logits = torch.randn(2, 3, 4, 10, generator=gen(5))
    out = filter_logits(logits, temperature=0.3, top_k=2, top_p=0.01)
    assert out.shape == logits.shape
    am = logits.argmax(-1, keepdim=True)
    assert torch.isfinite(out.gather(-1, am)).all()
    assert (torch.isfinite(out).sum(-1) == 1).all()  # p tiny: only the arg-max survives


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------
def test_valid_options_pass():
    for temperature, top_p, top_k in [(1.0, 1.0, 0), (0.5, 0.5, 3), (2.0, 1e-9, 1)]:
        check_sampling_options(temperature, top_p, top_k)


@pytest.mark.parametrize(
    ("options", "name", "value"),
    [
        ((0, 1.0, 0), "temperature", "0"),
        ((-1, 1.0, 0), "temperature", "-1"),
        ((float("inf"), 1.0, 0), "temperature", "inf"),
        ((1.0, 0, 0), "top_p", "0"),
        ((1.0, 1.5, 0), "top_p", "1.5"),
        ((1.0, -0.1, 0), "top_p", "-0.1"),
        ((1.0, 1.0, -1), "top_k", "-1"),
        ((1.0, 1.0, 2.5), "top_k", "2.5"),
        ((1.0, 1.0, True), "top_k", "True"),
    ],
)
def test_bad_options_raise_naming_the_value(options, name, value):
    with pytest.raises(ValueError) as err:
        check_sampling_options(*options)
    msg = str(err.value)
    assert name in msg and value in msg, msg
