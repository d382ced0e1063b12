"""Tests of the masking interpolant (Eq. 1, 6, 8, 10) and of training-time draws ``sample_times``."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from unmask.interpolants import DEFAULT_EPS, MaskingInterpolant, PathSample, sample_times
from unmask.schedules import get_schedule, schedule_names

pytestmark = pytest.mark.usefixtures("one_thread")

VOCAB = 7  # 6 data tokens + [MASK]
MASK = VOCAB - 1
SCHEDULES = schedule_names()
TIMES = (0.1, 0.3, 0.5, 0.7, 0.9)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def data(shape, seed=0, vocab=VOCAB) -> torch.Tensor:
    return torch.randint(0, vocab - 1, shape, generator=gen(seed))


def close_to(freq: float, p: float, n: int, z: float = 5.0) -> bool:
    """|freq - p| within z standard errors of a Bernoulli(p) mean over n draws."""
    return abs(freq - p) <= z * math.sqrt(p * (1 - p) / n) + 1e-12


def stacked_times(rows_per_t: int, times=TIMES) -> torch.Tensor:
    return torch.tensor(times).repeat_interleave(rows_per_t)


# --- end points ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCHEDULES)
def test_t0_all_mask_and_t1_data(name):
    interp = MaskingInterpolant(name, VOCAB)
    x_1 = data((64, 32))
    p0 = interp.sample(x_1, torch.zeros(64), gen(1))
    assert (p0.x_t == MASK).all()
    assert p0.mask.all()
    p1 = interp.sample(x_1, torch.ones(64), gen(2))
    assert torch.equal(p1.x_t, x_1)
    assert not p1.mask.any()
    # smoothing vanishes at both ends too
    smooth = MaskingInterpolant(name, VOCAB, smoothing=1.0)
    assert (smooth.sample(x_1, torch.zeros(64), gen(3)).x_t == MASK).all()
    s1 = smooth.sample(x_1, torch.ones(64), gen(4))
    assert torch.equal(s1.x_t, x_1) and not s1.noised.any()


# --- mask rate -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCHEDULES)
def test_mask_rate_matches_one_minus_kappa(name):
    interp = MaskingInterpolant(name, VOCAB)
    rows = 4096
    t = stacked_times(rows)
    x_1 = data((len(t), 64))
    path = interp.sample(x_1, t, gen(5))
    kappa = get_schedule(name).kappa(torch.tensor(TIMES, dtype=torch.float64))
    for i, ti in enumerate(TIMES):
        rate = path.mask[t == ti].double().mean().item()
        assert close_to(rate, 1 - kappa[i].item(), rows * 64), (ti, rate, 1 - kappa[i].item())


@pytest.mark.parametrize("name", SCHEDULES)
def test_positions_are_masked_independently(name):
    """Eq. 10 factorises over positions: the mask at two positions is uncorrelated given t."""
    interp = MaskingInterpolant(name, VOCAB)
    n = 20000
    t = torch.full((n,), 0.5)
    path = interp.sample(data((n, 2)), t, gen(6))
    m = path.mask.double()
    p = m.mean().item()
    both = (m[:, 0] * m[:, 1]).mean().item()
    assert close_to(both, p * p, n)


# --- shapes and structure ------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(256,), (16, 12), (8, 4, 5), (4, 3, 4, 5)], ids=["B", "BL", "BHW", "BTHW"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_shapes_and_structure(name, shape):
    interp = MaskingInterpolant(name, VOCAB)
    x_1 = data(shape, seed=7)
    t = torch.rand(shape[0], generator=gen(8))
    path = interp.sample(x_1, t, gen(9))
    assert isinstance(path, PathSample)
    for field in (path.x_t, path.mask, path.noised, path.coupled):
        assert field.shape == x_1.shape
    assert path.mask.dtype == torch.bool
    assert path.x_t.dtype == x_1.dtype
    assert path.x_1 is x_1 and path.t is t
    assert torch.equal(path.mask, path.x_t == MASK)
    assert torch.equal(path.x_t[~path.mask], x_1[~path.mask])  # no smoothing: revealed = data
    assert not path.noised.any() and not path.coupled.any()
    assert 0 < path.mask.sum() < path.mask.numel()


# --- smoothing -----------------------------------------------------------------------------
@pytest.mark.parametrize("s", [0.3, 1.0])
@pytest.mark.parametrize("name", ["linear", "cosine", "cubic"])
def test_smoothing(name, s):
    interp = MaskingInterpolant(name, VOCAB, smoothing=s)
    rows = 1024
    t = stacked_times(rows)
    x_1 = data((len(t), 64), seed=10)
    path = interp.sample(x_1, t, gen(11))
    kappa = get_schedule(name).kappa(torch.tensor(TIMES, dtype=torch.float64))
    n = rows * 64
    for i, ti in enumerate(TIMES):
        sel = t == ti
        k = kappa[i].item()
        assert close_to(path.noised[sel].double().mean().item(), s * k * (1 - k), n)
        assert close_to(path.mask[sel].double().mean().item(), 1 - k, n)
    # structure: the mask is still exactly the [MASK] tokens; noise sits on revealed positions
    assert torch.equal(path.mask, path.x_t == MASK)
    assert not (path.noised & path.mask).any()
    assert (path.x_t[path.noised] < MASK).all() and (path.x_t[path.noised] >= 0).all()
    clean = ~path.mask & ~path.noised
    assert torch.equal(path.x_t[clean], x_1[clean])
    # the noise is uniform over the data tokens (x_1 itself included)
    noise = path.x_t[path.noised]
    counts = torch.bincount(noise, minlength=VOCAB - 1).double()
    assert counts.numel() == VOCAB - 1
    for c in counts:
        assert close_to(c.item() / noise.numel(), 1 / (VOCAB - 1), noise.numel())
    # and noised tokens often differ from the data (they really are replaced)
    assert (path.x_t[path.noised] != x_1[path.noised]).double().mean() > 0.5


def test_zero_smoothing_gives_no_noise():
    interp = MaskingInterpolant("linear", VOCAB, smoothing=0.0)
    x_1 = data((512, 32))
    path = interp.sample(x_1, torch.rand(512, generator=gen(12)), gen(13))
    assert not path.noised.any()
    assert torch.equal(path.x_t[~path.mask], x_1[~path.mask])


# --- exact marginal ------------------------------------------------------------------------
@pytest.mark.parametrize("s", [0.0, 0.6])
@pytest.mark.parametrize("name", ["root", "cosine", "arccos"])
def test_marginal_is_a_distribution_matching_samples(name, s):
    interp = MaskingInterpolant(name, VOCAB, smoothing=s)
    t = torch.tensor([0.0, 0.2, 0.5, 0.8, 1.0])
    length = 8192
    x_1 = data((len(t), length), seed=14)
    marg = interp.marginal(x_1, t)
    assert marg.shape == (len(t), length, VOCAB)
    assert (marg >= 0).all()
    torch.testing.assert_close(marg.sum(-1), torch.ones(len(t), length, dtype=marg.dtype), rtol=0, atol=1e-12)
    kappa = get_schedule(name).kappa(t.double())
    torch.testing.assert_close(marg[..., MASK], (1 - kappa)[:, None].expand(-1, length), rtol=0, atol=1e-7)
    if s == 0:
        torch.testing.assert_close(
            marg[..., :MASK], kappa[:, None, None] * F.one_hot(x_1, VOCAB)[..., :MASK].double(), rtol=0, atol=1e-7
        )
    path = interp.sample(x_1, t, gen(15))
    emp = F.one_hot(path.x_t, VOCAB).double().mean(1)  # (B, K)
    expected = marg.mean(1)
    for b in range(len(t)):
        for k in range(VOCAB):
            p = expected[b, k].item()
            assert close_to(emp[b, k].item(), min(max(p, 0.0), 1.0), length), (b, k, emp[b, k].item(), p)
    # P(x_t = x_1) as well
    hit = (path.x_t == x_1).double().mean(1)
    p_hit = marg.gather(-1, x_1[..., None]).squeeze(-1).mean(1)
    for b in range(len(t)):
        assert close_to(hit[b].item(), min(p_hit[b].item(), 1.0), length)


def test_marginal_for_flat_tokens():
    interp = MaskingInterpolant("linear", VOCAB, smoothing=0.5)
    x_1 = torch.tensor([0, 3, 5])
    marg = interp.marginal(x_1, torch.tensor([0.5, 0.5, 0.5]))
    assert marg.shape == (3, VOCAB)
    eta = 0.5 * 0.5 * 0.5
    for i, tok in enumerate(x_1.tolist()):
        assert marg[i, MASK].item() == pytest.approx(0.5)
        assert marg[i, tok].item() == pytest.approx(0.5 - eta + eta / (VOCAB - 1))
        others = [k for k in range(VOCAB - 1) if k != tok]
        assert marg[i, others].tolist() == pytest.approx([eta / (VOCAB - 1)] * len(others))


# --- conditional coupling ------------------------------------------------------------------
@pytest.mark.parametrize("ratio", [0.2, 0.6])
@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_coupling(name, ratio):
    interp = MaskingInterpolant(name, VOCAB, coupling_ratio=ratio, smoothing=0.5)
    rows = 1024
    t = stacked_times(rows, times=(0.0, 0.3, 0.7))
    x_1 = data((len(t), 64), seed=16)
    path = interp.sample(x_1, t, gen(17))
    n = rows * 64
    assert not (path.coupled & path.mask).any()
    assert not (path.coupled & path.noised).any()
    assert torch.equal(path.x_t[path.coupled], x_1[path.coupled])
    assert torch.equal(path.mask, path.x_t == MASK)
    kappa = get_schedule(name).kappa(torch.tensor([0.0, 0.3, 0.7], dtype=torch.float64))
    for i, ti in enumerate((0.0, 0.3, 0.7)):
        sel = t == ti
        assert close_to(path.coupled[sel].double().mean().item(), ratio, n)
        k = kappa[i].item()
        assert close_to(path.mask[sel].double().mean().item(), (1 - k) * (1 - ratio), n)
    # at t = 0 exactly the coupled positions are revealed
    at0 = t == 0
    assert torch.equal(~path.mask[at0], path.coupled[at0])


# --- determinism ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCHEDULES)
def test_same_seed_same_sample(name):
    interp = MaskingInterpolant(name, VOCAB, smoothing=0.4, coupling_ratio=0.3)
    x_1 = data((32, 16))
    t = torch.rand(32, generator=gen(18))
    a = interp.sample(x_1, t, gen(19))
    b = interp.sample(x_1, t, gen(19))
    c = interp.sample(x_1, t, gen(20))
    for field in ("x_t", "mask", "noised", "coupled"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    assert not torch.equal(a.x_t, c.x_t)


def test_config_round_trip():
    interp = MaskingInterpolant(get_schedule("cubic", a=1.0, b=0.5), VOCAB, smoothing=0.25, coupling_ratio=0.1)
    cfg = interp.config()
    rebuilt = MaskingInterpolant(
        cfg["schedule"], cfg["vocab_size"], smoothing=cfg["smoothing"], coupling_ratio=cfg["coupling_ratio"]
    )
    assert rebuilt.config() == cfg
    assert rebuilt.mask_id == interp.mask_id == VOCAB - 1
    x_1 = data((16, 8))
    t = torch.rand(16, generator=gen(21))
    assert torch.equal(interp.sample(x_1, t, gen(22)).x_t, rebuilt.sample(x_1, t, gen(22)).x_t)


def test_smallest_vocabulary():
    interp = MaskingInterpolant("linear", 2)
    assert interp.mask_id == 1
    x_1 = torch.zeros(64, 8, dtype=torch.long)
    path = interp.sample(x_1, torch.full((64,), 0.5), gen(23))
    assert set(path.x_t.unique().tolist()) <= {0, 1}
    assert torch.equal(path.mask, path.x_t == 1)


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad_id", [MASK, VOCAB, VOCAB + 3, -1, -5])
def test_bad_token_ids_raise(bad_id):
    interp = MaskingInterpolant("linear", VOCAB)
    x_1 = data((4, 6))
    x_1[2, 3] = bad_id
    t = torch.full((4,), 0.5)
    with pytest.raises(ValueError, match=rf"id {bad_id}\b"):
        interp.sample(x_1, t)
    with pytest.raises(ValueError, match=rf"id {bad_id}\b"):
        interp.marginal(x_1, t)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bool])
def test_non_integer_tokens_raise(dtype):
    interp = MaskingInterpolant("linear", VOCAB)
    with pytest.raises(ValueError, match="integer"):
        interp.sample(torch.zeros(4, 6, dtype=dtype), torch.full((4,), 0.5))


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_times_raise(bad):
    interp = MaskingInterpolant("linear", VOCAB)
    x_1 = data((3, 6))
    t = torch.tensor([0.5, bad, 0.2], dtype=torch.float64)
    shown = "nan" if math.isnan(bad) else repr(bad)
    with pytest.raises(ValueError, match="t must be in") as err:
        interp.sample(x_1, t)
    assert shown in str(err.value)
    with pytest.raises(ValueError) as err:
        interp.marginal(x_1, t)
    assert shown in str(err.value)


@pytest.mark.parametrize("t_shape", [(3, 1), (4,), (2,), ()])
def test_bad_time_shape_raises(t_shape):
    interp = MaskingInterpolant("linear", VOCAB)
    x_1 = data((3, 6))
    with pytest.raises(ValueError, match="shape") as err:
        interp.sample(x_1, torch.full(t_shape, 0.5))
    assert str(tuple(t_shape)) in str(err.value)


@pytest.mark.parametrize("s", [-0.1, 1.5, float("nan")])
def test_bad_smoothing_raises(s):
    with pytest.raises(ValueError, match="smoothing") as err:
        MaskingInterpolant("linear", VOCAB, smoothing=s)
    assert str(s) in str(err.value)


@pytest.mark.parametrize("r", [1.0, 1.2, -0.2])
def test_bad_coupling_ratio_raises(r):
    with pytest.raises(ValueError, match="coupling_ratio") as err:
        MaskingInterpolant("linear", VOCAB, coupling_ratio=r)
    assert str(r) in str(err.value)


@pytest.mark.parametrize("v", [1, 0, -3, True, 4.0])
def test_bad_vocab_size_raises(v):
    with pytest.raises(ValueError, match="vocab_size") as err:
        MaskingInterpolant("linear", v)
    assert repr(v) in str(err.value)


def test_unknown_schedule_raises():
    with pytest.raises(ValueError, match="nope"):
        MaskingInterpolant("nope", VOCAB)


# --- sample_times --------------------------------------------------------------------------
@pytest.mark.parametrize("stratified", [False, True])
@pytest.mark.parametrize("eps", [0.0, DEFAULT_EPS, 0.1])
@pytest.mark.parametrize("batch", [1, 7, 256])
def test_sample_times_range(batch, eps, stratified):
    t = sample_times(batch, eps=eps, stratified=stratified, generator=gen(24))
    assert t.shape == (batch,)
    assert t.dtype == torch.float32
    assert (t >= eps).all() and (t <= 1 - eps).all()


def test_sample_times_default_eps():
    t = sample_times(4096, generator=gen(25))
    assert DEFAULT_EPS == 1e-3
    assert t.min() >= DEFAULT_EPS and t.max() <= 1 - DEFAULT_EPS


@pytest.mark.parametrize("eps", [0.0, 0.05])
@pytest.mark.parametrize("batch", [1, 5, 64, 1000])
def test_stratified_one_point_per_stratum(batch, eps):
    t = sample_times(batch, eps=eps, stratified=True, generator=gen(26)).double()
    u = ((t - eps) / (1 - 2 * eps)).sort().values
    i = torch.arange(batch, dtype=torch.float64)
    tol = 1e-5
    assert (u >= i / batch - tol).all() and (u <= (i + 1) / batch + tol).all()
    # and the order is shuffled, not sorted by stratum
    if batch >= 64:
        assert not torch.equal(t, t.sort().values)


def test_sample_times_mean_and_uniformity():
    n = 4096
    plain = sample_times(n, eps=0.0, generator=gen(27))
    assert abs(plain.mean().item() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    hist = torch.histc(plain, bins=10, min=0, max=1)
    assert ((hist - n / 10).abs() <= 5 * math.sqrt(n * 0.1 * 0.9)).all()
    strat = sample_times(1024, eps=0.0, stratified=True, generator=gen(28))
    assert abs(strat.mean().item() - 0.5) < 1e-3
    # stratification lowers the spread of the batch mean across draws
    means_plain = torch.stack([sample_times(32, generator=gen(100 + k)).mean() for k in range(200)])
    means_strat = torch.stack([sample_times(32, stratified=True, generator=gen(100 + k)).mean() for k in range(200)])
    assert means_strat.std() < 0.2 * means_plain.std()


def test_sample_times_deterministic():
    for stratified in (False, True):
        a = sample_times(50, stratified=stratified, generator=gen(29))
        b = sample_times(50, stratified=stratified, generator=gen(29))
        assert torch.equal(a, b)


@pytest.mark.parametrize("eps", [-0.1, 0.5, 0.7])
def test_sample_times_bad_eps_raises(eps):
    with pytest.raises(ValueError, match="eps") as err:
        sample_times(8, eps=eps)
    assert str(eps) in str(err.value)


@pytest.mark.parametrize("batch", [0, -2])
def test_sample_times_bad_batch_raises(batch):
    with pytest.raises(ValueError, match="batch_size"):
        sample_times(batch)


@pytest.mark.parametrize("stratified", [False, True])
@pytest.mark.parametrize("power", [0.5, 2.0, 3.0])
def test_sample_times_power_law(power, stratified):
    """t = u^p: P(t <= x) = x^(1/p), within the ε range, and the same u as the uniform draw."""
    n = 20000
    t = sample_times(n, eps=0.0, stratified=stratified, power=power, generator=gen(30)).double()
    u = sample_times(n, eps=0.0, stratified=stratified, generator=gen(30)).double()
    assert torch.allclose(t, u**power, atol=1e-6)
    for x in (0.1, 0.25, 0.5, 0.9):
        expected = x ** (1 / power)
        assert abs((t <= x).double().mean().item() - expected) < 5 * math.sqrt(expected * (1 - expected) / n)
    bounded = sample_times(256, eps=0.1, power=power, generator=gen(31))
    assert (bounded >= 0.1).all() and (bounded <= 0.9).all()


@pytest.mark.parametrize("power", [0, -1.0, float("nan"), float("inf"), "2"])
def test_sample_times_bad_power_raises(power):
    with pytest.raises(ValueError, match="power") as err:
        sample_times(8, power=power)
    assert repr(power) in str(err.value)
