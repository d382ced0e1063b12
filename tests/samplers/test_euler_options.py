"""Euler sampler options of the sampling issue: adaptive steps and the re-masking corrector."""

from __future__ import annotations

import pytest
import torch
from sampler_dummies import MASK, C, ConstantModel, MixModel, gen  # noqa: E402

from unmask.samplers import EulerSampler
from unmask.samplers.euler import remask_probabilities, step_hazards, time_grid
from unmask.schedules import get_schedule, schedule_names

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("schedule", schedule_names())
@pytest.mark.parametrize("steps", [4, 16, 50])
def test_adaptive_grid_keeps_euler_jumps_at_most_one(schedule, steps):
    s = get_schedule(schedule)
    grid = time_grid(s, steps, adaptive=True)
    assert grid[0] == 0 and grid[-1] == 1 and (grid[1:] > grid[:-1]).all()
    h = grid[1:] - grid[:-1]
    assert (h <= 1 / steps + 1e-12).all()
    assert len(grid) - 1 >= steps
    v = s(grid[:-1])
    rate = v.kappa_dot / (1 - v.kappa)
    ok = torch.isfinite(rate) & (h > 1e-3 / steps * 1.0001)
    assert (h[ok] * rate[ok] <= 1 + 1e-9).all()


def test_adaptive_grid_equals_fixed_grid_for_linear():
    s = get_schedule("linear")
    torch.testing.assert_close(time_grid(s, 10, adaptive=True), time_grid(s, 10))


@pytest.mark.parametrize("schedule", ["cosine", "cubic", "root"])
def test_adaptive_sampling_fills_everything(schedule):
    out = EulerSampler(steps=8, schedule=schedule, adaptive=True, update="euler").sample(
        MixModel(grid=(20,)), 3, generator=gen(0)
    )
    assert not (out.tokens == MASK).any()
    assert out.steps == len(step_hazards(get_schedule(schedule), 8, "euler", adaptive=True))


@pytest.mark.parametrize("schedule", schedule_names())
@pytest.mark.parametrize("eta", [0.0, 0.05, 0.5, 5.0])
def test_remask_probabilities_preserve_the_mask_rate(schedule, eta):
    s = get_schedule(schedule)
    grid = time_grid(s, 20)
    sigma, q = remask_probabilities(s, grid, eta)
    kappa = s.kappa(grid)
    assert ((sigma >= 0) & (sigma <= min(eta, 1.0) + 1e-12)).all() and ((q >= 0) & (q <= 1)).all()
    assert sigma[-1] == 0 and q[-1] == 1
    # revealed fraction after the step: kept revealed + newly revealed
    after = kappa[:-1] * (1 - sigma) + (1 - kappa[:-1]) * q
    torch.testing.assert_close(after[:-1], kappa[1:-1], atol=1e-9, rtol=0)
    if eta == 0:
        torch.testing.assert_close(q, step_hazards(s, 20, "exact"))


def test_corrector_remasks_and_keeps_the_marginal_mask_rate():
    steps, b, length = 10, 3000, 6
    sampler = EulerSampler(steps=steps, schedule="cosine", corrector=0.3, final_argmax=False)
    out = sampler.sample(MixModel(grid=(length,)), b, generator=gen(4))
    assert not (out.tokens == MASK).any() and out.remasking
    # re-masking happened: some positions were last revealed late although revealed earlier before
    assert out.nfe <= steps
    with pytest.raises(ValueError, match="not recorded"):
        out.state(3)


def test_corrector_mask_rate_is_one_minus_kappa_empirically(monkeypatch):
    # run the corrector for k steps only (a model that records the state it sees)
    steps, b, length = 8, 4000, 5
    model = MixModel(grid=(length,))
    EulerSampler(steps=steps, schedule="linear", corrector=0.4, skip_idle=False).sample(model, b, generator=gen(1))
    kappa = get_schedule("linear").kappa(torch.arange(steps, dtype=torch.float64) / steps)
    for i, call in enumerate(model.calls):
        masked = (call.x == MASK).double().mean()
        assert abs(masked - (1 - kappa[i])) < 0.02, (i, masked, 1 - kappa[i])


def test_corrector_with_a_deterministic_model_still_returns_its_token():
    out = EulerSampler(steps=6, corrector=1.0).sample(ConstantModel(token=1, grid=(5,)), 4, generator=gen(0))
    assert (out.tokens == 1).all()


def test_corrector_never_touches_given_positions():
    x_init = torch.full((50, 4), MASK)
    x_init[:, 0] = 2
    out = EulerSampler(steps=6, corrector=2.0).sample(MixModel(grid=(4,)), x_init=x_init, generator=gen(0))
    assert (out.tokens[:, 0] == 2).all() and ((out.tokens >= 0) & (out.tokens < C)).all()


def test_corrector_options_are_validated():
    with pytest.raises(ValueError, match="corrector strength must be a finite number >= 0, got -0.1"):
        EulerSampler(corrector=-0.1)
    with pytest.raises(ValueError, match="needs update='exact'"):
        EulerSampler(corrector=0.1, update="euler")
