"""Tests of the masking schedules κ_t: end points, monotonicity, derivative, inverse, rate, validation, registry."""

from __future__ import annotations

import math

import pytest
import torch

from unmask.schedules import (
    SCHEDULES,
    CubicSchedule,
    PowerSchedule,
    Schedule,
    ScheduleValue,
    get_schedule,
    schedule_names,
)

CUBIC_PARAMS = [(0.0, 0.0), (1.0, 1.0), (2.0, 0.5), (0.5, 3.0)]
POWER_PARAMS = [0.3, 3.0]

# (id, factory): every registered name with its defaults, plus cubic / power with other parameters.
CASES = [(name, (lambda n=name: get_schedule(n))) for name in schedule_names()]
CASES += [(f"cubic(a={a},b={b})", (lambda a=a, b=b: get_schedule("cubic", a=a, b=b))) for a, b in CUBIC_PARAMS]
CASES += [(f"power(p={p})", (lambda p=p: get_schedule("power", p=p))) for p in POWER_PARAMS]


@pytest.fixture(params=[f for _, f in CASES], ids=[i for i, _ in CASES])
def schedule(request) -> Schedule:
    return request.param()


def f64(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


INTERIOR = torch.linspace(0.01, 0.99, 197, dtype=torch.float64)


def test_registry_lists_the_paper_families():
    names = schedule_names()
    assert names == sorted(names)
    assert set(names) == set(SCHEDULES)
    for family in ("root", "linear", "cosine", "arccos", "quadratic", "cubic"):
        assert family in names


# --- values --------------------------------------------------------------------------------
def test_end_points(schedule):
    for dtype in (torch.float32, torch.float64):
        k = schedule.kappa(torch.tensor([0.0, 1.0], dtype=dtype))
        assert k.dtype == dtype
        assert abs(k[0].item()) <= 1e-7
        assert abs(k[1].item() - 1) <= 1e-7
    assert abs(schedule.kappa(0.0).item()) <= 1e-12
    assert abs(schedule.kappa(1.0).item() - 1) <= 1e-12


def test_monotone_and_in_unit_interval(schedule):
    t = torch.linspace(0, 1, 10001, dtype=torch.float64)
    k = schedule.kappa(t)
    assert torch.isfinite(k).all()
    assert (k >= -1e-12).all() and (k <= 1 + 1e-12).all()
    assert (k.diff() >= -1e-12).all(), f"kappa decreases by {-k.diff().min().item():.3g}"
    # Increasing overall: the interior is strictly between the end values somewhere.
    assert k[5000] > k[0] and k[5000] < k[-1]


def test_kappa_dot_matches_autograd(schedule):
    t = INTERIOR.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(schedule.kappa(t).sum(), t)
    expected = schedule.kappa_dot(INTERIOR)
    torch.testing.assert_close(expected, grad, rtol=1e-9, atol=1e-12)
    assert (expected >= 0).all()


def test_kappa_dot_matches_finite_differences(schedule):
    h = 1e-6
    fd = (schedule.kappa(INTERIOR + h) - schedule.kappa(INTERIOR - h)) / (2 * h)
    torch.testing.assert_close(schedule.kappa_dot(INTERIOR), fd, rtol=1e-5, atol=1e-6)


def test_inverse(schedule):
    t = torch.linspace(0, 1, 401, dtype=torch.float64)
    torch.testing.assert_close(schedule.kappa_inv(schedule.kappa(t)), t, rtol=0, atol=1e-6)
    # and the other way round, on κ values
    k = torch.linspace(0, 1, 101, dtype=torch.float64)
    torch.testing.assert_close(schedule.kappa(schedule.kappa_inv(k)), k, rtol=0, atol=1e-9)
    # float32 in, float32 out
    t32 = torch.linspace(0.05, 0.95, 19)
    inv32 = schedule.kappa_inv(schedule.kappa(t32))
    assert inv32.dtype == torch.float32
    torch.testing.assert_close(inv32, t32, rtol=0, atol=2e-3)


def test_call_matches_kappa_and_kappa_dot(schedule):
    t = torch.rand(3, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    v = schedule(t)
    assert isinstance(v, ScheduleValue)
    assert torch.equal(v.kappa, schedule.kappa(t))
    assert torch.equal(v.kappa_dot, schedule.kappa_dot(t))
    assert v.kappa.shape == t.shape and v.kappa_dot.shape == t.shape
    assert v.kappa.dtype == t.dtype and v.kappa_dot.dtype == t.dtype


def test_shape_and_dtype_are_kept(schedule):
    for dtype in (torch.float32, torch.float64):
        t = torch.full((2, 3, 4), 0.4, dtype=dtype)
        for out in (schedule.kappa(t), schedule.kappa_dot(t), schedule.kappa_inv(t), schedule.rate(t)):
            assert out.shape == t.shape
            assert out.dtype == dtype
    scalar = schedule.kappa(0.25)
    assert scalar.ndim == 0


def test_rate(schedule):
    v = schedule(INTERIOR)
    r = schedule.rate(INTERIOR)
    torch.testing.assert_close(r, v.kappa_dot / (1 - v.kappa), rtol=1e-12, atol=0)
    assert (r > 0).all()
    # rate = d/dt [-log(1 - κ_t)]
    t = INTERIOR.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad((-torch.log1p(-schedule.kappa(t))).sum(), t)
    torch.testing.assert_close(r, grad, rtol=1e-8, atol=1e-10)


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), -1e-9, 1.0000001])
def test_time_outside_unit_interval_raises(schedule, bad):
    shown = "nan" if math.isnan(bad) else repr(bad)
    for fn in (schedule.kappa, schedule.kappa_dot, schedule, schedule.rate, schedule.kappa_inv):
        with pytest.raises(ValueError) as err:
            fn(bad)
        assert shown in str(err.value)
        # a single bad entry in an otherwise valid float64 tensor is found and named
        with pytest.raises(ValueError) as err:
            fn(f64(0.2, bad, 0.7))
        assert shown in str(err.value)


def test_unknown_name_raises():
    with pytest.raises(ValueError, match="no_such_schedule"):
        get_schedule("no_such_schedule")
    with pytest.raises(ValueError, match="bogus"):
        get_schedule({"name": "bogus"})
    with pytest.raises(ValueError, match="name"):
        get_schedule({"a": 1.0})


def test_unknown_parameter_raises():
    with pytest.raises(ValueError, match="linear"):
        get_schedule("linear", p=2.0)
    with pytest.raises(ValueError):
        get_schedule("cubic", c=1.0)
    built = get_schedule("cosine")
    with pytest.raises(ValueError):
        get_schedule(built, a=1.0)


@pytest.mark.parametrize("a,b", [(-1.0, 0.0), (0.0, -1.0), (-0.01, 2.0), (10.0, 0.0), (0.0, 10.0)])
def test_non_monotone_cubic_raises(a, b):
    with pytest.raises(ValueError, match="monotone"):
        CubicSchedule(a, b)
    with pytest.raises(ValueError, match="monotone"):
        get_schedule("cubic", a=a, b=b)


@pytest.mark.parametrize("a,b", [(float("nan"), 0.0), (0.0, float("nan")), (float("inf"), 0.0), (0.0, float("inf"))])
def test_non_finite_cubic_raises(a, b):
    with pytest.raises(ValueError, match="cubic"):
        CubicSchedule(a, b)


@pytest.mark.parametrize("p", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_power_exponent_raises(p):
    with pytest.raises(ValueError, match="exponent") as err:
        PowerSchedule(p)
    assert str(p) in str(err.value)
    with pytest.raises(ValueError):
        get_schedule("power", p=p)


# --- registry round trip -------------------------------------------------------------------
def test_config_round_trip(schedule):
    cfg = schedule.config()
    assert cfg["name"] == schedule.name
    rebuilt = get_schedule(cfg)
    assert type(rebuilt) is type(schedule)
    assert rebuilt.config() == cfg
    t = torch.linspace(0, 1, 101, dtype=torch.float64)
    assert torch.equal(rebuilt.kappa(t), schedule.kappa(t))
    assert torch.equal(rebuilt.kappa_dot(INTERIOR), schedule.kappa_dot(INTERIOR))
    assert cfg == schedule.config()  # config() is not consumed by get_schedule
    assert get_schedule(schedule) is schedule
    assert isinstance(repr(schedule), str)


# --- closed forms (paper Table 1) ----------------------------------------------------------
@pytest.mark.parametrize(
    "name,params,expected",
    [
        ("linear", {}, lambda t: t),
        ("quadratic", {}, lambda t: t**2),
        ("root", {}, lambda t: t.sqrt()),
        ("cosine", {}, lambda t: 1 - torch.cos(math.pi * t / 2)),
        ("arccos", {}, lambda t: 1 - 2 * torch.arccos(t) / math.pi),
        ("cubic", {"a": 0.0, "b": 0.0}, lambda t: 3 * t**2 - 2 * t**3),
        ("cubic", {"a": 1.0, "b": 1.0}, lambda t: t),
        ("power", {"p": 3.0}, lambda t: t**3),
    ],
)
def test_closed_forms(name, params, expected):
    t = torch.linspace(0, 1, 51, dtype=torch.float64)
    torch.testing.assert_close(get_schedule(name, **params).kappa(t), expected(t), rtol=1e-12, atol=1e-12)


def test_cubic_end_slopes_are_a_and_b():
    for a, b in CUBIC_PARAMS:
        s = CubicSchedule(a, b)
        assert s.kappa_dot(0.0).item() == pytest.approx(a)
        assert s.kappa_dot(1.0).item() == pytest.approx(b)


def test_singular_end_derivatives():
    assert math.isinf(get_schedule("root").kappa_dot(0.0).item())
    assert math.isinf(get_schedule("arccos").kappa_dot(1.0).item())
    assert math.isinf(get_schedule("linear").rate(1.0).item())
