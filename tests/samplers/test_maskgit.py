"""MaskGIT-style confidence sampling: unmask counts, confidence choice, Gumbel noise, CFG ramp, ETM time."""

from __future__ import annotations

import itertools

import pytest
import torch
from sampler_dummies import MASK, C, ConstantModel, MixModel, TableModel, gen  # noqa: E402

from unmask.samplers import MaskGITSampler, unmask_counts
from unmask.schedules import get_schedule

pytestmark = pytest.mark.usefixtures("one_thread")

COUNT_SCHEDULES = ["root", "linear", "square", "cosine", "arccos"]


@pytest.mark.parametrize("schedule", COUNT_SCHEDULES)
@pytest.mark.parametrize(("masked", "steps"), [(64, 8), (784, 12), (10, 10), (100, 1), (7, 3), (0, 4)])
def test_unmask_counts_sum_to_l_with_at_least_one_per_step(schedule, masked, steps):
    counts = unmask_counts(masked, steps, get_schedule(schedule))
    assert counts.shape == (steps,) and int(counts.sum()) == masked
    if masked >= steps:
        assert (counts >= 1).all()


@pytest.mark.parametrize("schedule", COUNT_SCHEDULES)
def test_unmask_counts_follow_the_schedule(schedule):
    s = get_schedule(schedule)
    counts = unmask_counts(1000, 10, s)
    cumulative = counts.cumsum(0).double() / 1000
    target = s.kappa(torch.arange(1, 11, dtype=torch.float64) / 10)
    assert (cumulative - target).abs().max() <= 0.011


def test_cosine_counts_grow_like_maskgit():
    counts = unmask_counts(256, 8, get_schedule("cosine"))
    assert (counts[1:] >= counts[:-1]).all()  # few tokens first, many at the end


GRID = list(itertools.product(COUNT_SCHEDULES, ["linear", "warmup", "none"], ["constant", "linear"], [True, False]))


@pytest.mark.parametrize(("schedule", "gumbel", "cfg_schedule", "uses_time"), GRID)
def test_every_option_combination_fills_every_position(schedule, gumbel, cfg_schedule, uses_time):
    labels = torch.tensor([0, 1, 2])
    for steps, cfg, temperature, top_p, top_k in [(1, 1.0, 1.0, 1.0, 0), (5, 3.0, 0.7, 0.8, 0), (12, 0.0, 2.0, 1.0, 2)]:
        sampler = MaskGITSampler(
            steps=steps,
            schedule=schedule,
            gumbel=gumbel,
            cfg_schedule=cfg_schedule,
            cfg=cfg,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
        )
        const = ConstantModel(token=3, grid=(3, 3), uses_time=uses_time, num_classes=3)
        assert (sampler.sample(const, labels=labels, generator=gen(0)).tokens == 3).all()
        mix = MixModel(grid=(3, 3), uses_time=uses_time, num_classes=3)
        out = sampler.sample(mix, labels=labels, generator=gen(1))
        assert not (out.tokens == MASK).any() and ((out.tokens >= 0) & (out.tokens < C)).all()
        # each step reveals the scheduled number of tokens; steps with none are not evaluated
        counts = unmask_counts(9, steps, get_schedule(schedule))
        assert out.nfe == len(mix.calls) == int((counts > 0).sum())
        for i in range(steps):
            assert ((out.reveal_step == i).reshape(3, -1).sum(1) == counts[i]).all()


def test_revealed_tokens_are_never_redrawn():
    model = MixModel(grid=(16,))
    out = MaskGITSampler(steps=6, gumbel="linear").sample(model, 4, generator=gen(2))
    for i, call in enumerate(model.calls):
        state = out.state(i)
        assert torch.equal(call.x, state)  # the model saw exactly the revealed-so-far tokens
        shown = state != MASK
        assert torch.equal(state[shown], out.tokens[shown])


def test_without_noise_the_most_confident_positions_are_revealed_first():
    # position j has confidence increasing with j: a peaked row is revealed before a flat one
    table = torch.stack([torch.linspace(0, 6.0 * j / 7, C) for j in range(8)])
    model = TableModel(table)
    out = MaskGITSampler(steps=8, schedule="linear", gumbel="none", temperature=1e-3).sample(model, 1, generator=gen(0))
    assert out.reveal_step[0].tolist() == [7, 6, 5, 4, 3, 2, 1, 0]


def test_gumbel_noise_makes_the_order_random_and_anneals_to_zero():
    table = torch.stack([torch.linspace(0, 6.0 * j / 7, C) for j in range(8)])
    sampler = MaskGITSampler(steps=8, schedule="linear", gumbel="linear", gumbel_temperature=50.0, temperature=1e-3)
    orders = {tuple(sampler.sample(TableModel(table), 1, generator=gen(s)).reveal_step[0].tolist()) for s in range(8)}
    assert len(orders) > 1
    assert sampler.gumbel_scale(0) == 50.0 and sampler.gumbel_scale(7) == 0.0


def test_warmup_chooses_randomly_only_in_its_first_steps():
    table = torch.stack([torch.linspace(0, 6.0 * j / 15, C) for j in range(16)])
    sampler = MaskGITSampler(steps=8, schedule="linear", gumbel="warmup", warmup_steps=2, temperature=1e-3)
    for seed in range(4):
        out = sampler.sample(TableModel(table), 1, generator=gen(seed)).reveal_step[0]
        late = out >= 2
        # after the warm-up, positions are revealed in order of confidence (higher j first)
        late_pos = late.nonzero().squeeze(1)
        steps_late = out[late_pos]
        assert (steps_late[1:] <= steps_late[:-1]).all()


def test_cfg_ramp():
    s = MaskGITSampler(steps=5, cfg=3.0, cfg_schedule="linear")
    assert [s.cfg_at(i) for i in range(5)] == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0])
    assert MaskGITSampler(steps=5, cfg=3.0).cfg_at(0) == 3.0


def test_etm_gets_the_training_time_of_the_current_mask_rate():
    model = MixModel(grid=(10,), uses_time=True)
    MaskGITSampler(steps=5, schedule="linear", time_schedule="cosine").sample(model, 2, generator=gen(0))
    cos = get_schedule("cosine")
    for call in model.calls:
        revealed = 1 - (call.x == MASK).double().mean(1)
        torch.testing.assert_close(call.t.double(), cos.kappa_inv(revealed), atol=1e-6, rtol=0)
    itm = MixModel(grid=(10,))
    MaskGITSampler(steps=5).sample(itm, 2, generator=gen(0))
    assert all(c.t is None for c in itm.calls)


def test_same_seed_same_samples():
    s = MaskGITSampler(steps=6, gumbel="linear")
    a = s.sample(MixModel(grid=(12,)), 3, generator=gen(5))
    b = s.sample(MixModel(grid=(12,)), 3, generator=gen(5))
    c = s.sample(MixModel(grid=(12,)), 3, generator=gen(6))
    assert torch.equal(a.tokens, b.tokens) and not torch.equal(a.tokens, c.tokens)


def test_x_init_is_kept():
    x_init = torch.full((2, 6), MASK)
    x_init[:, :2] = torch.tensor([[1, 2], [3, 4]])
    out = MaskGITSampler(steps=3).sample(MixModel(grid=(6,)), x_init=x_init, generator=gen(0))
    assert torch.equal(out.tokens[:, :2], x_init[:, :2])
    assert (out.reveal_step[:, :2] == -1).all()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"steps": 0}, "steps must be an integer >= 1, got 0"),
        ({"temperature": 0.0}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"cfg": -1.0}, "cfg scale"),
        ({"gumbel": "cubic"}, "gumbel mode 'cubic'"),
        ({"cfg_schedule": "cosine"}, "cfg_schedule 'cosine'"),
        ({"gumbel_temperature": -1.0}, "gumbel_temperature"),
        ({"schedule": "wobbly"}, "wobbly"),
        ({"warmup_steps": -1}, "warmup_steps"),
    ],
)
def test_bad_options_name_the_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        MaskGITSampler(**kwargs)
