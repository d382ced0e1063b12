"""Tests of the Euler sampler (Algorithm 1): hazards, reveal steps, NFE accounting, options, validation.

All models here are tiny deterministic dummies. Each dummy computes the logits of a
row from that row alone (elementwise ops only), so evaluating a subset of the batch
gives bit-identical logits: this is what makes ``skip_idle=True`` and ``False``
comparable token for token.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from unmask.samplers import UPDATES, EulerSampler, SampleOutput, filter_logits, step_hazards
from unmask.schedules import get_schedule, schedule_names

pytestmark = pytest.mark.usefixtures("one_thread")

from sampler_dummies import MASK, VOCAB, C, ConstantModel, MixModel, TableModel, event_rounds, gen  # noqa: E402

SCHEDULES = schedule_names()  # cubic / power with their defaults


class ParamFreeModule(nn.Module):
    """An nn.Module without parameters (``model.parameters()`` is empty)."""

    vocab_size = VOCAB
    uses_time = False
    num_classes = 0
    null_label = 0
    config = SimpleNamespace(grid=(3,))

    def forward(self, x, t, labels):
        return torch.zeros(*x.shape, VOCAB - 1)


class LinearModule(nn.Module):
    """An nn.Module with parameters: logits = embedding of the current token (per position)."""

    vocab_size = VOCAB
    uses_time = True
    num_classes = 0
    null_label = 0
    config = SimpleNamespace(grid=(2, 3))

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, VOCAB - 1)

    def forward(self, x, t, labels):
        return self.embed(x) + t.view(-1, 1, 1, 1)


# ---------------------------------------------------------------------------------------
# step_hazards
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("steps", [1, 2, 7, 64])
def test_step_hazards_are_probabilities_ending_in_one(schedule, update, steps):
    q = step_hazards(get_schedule(schedule), steps, update)
    assert q.shape == (steps,)
    assert q.dtype == torch.float64
    assert torch.isfinite(q).all()
    assert ((q >= 0) & (q <= 1)).all()
    assert q[-1].item() == 1.0


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("steps", [1, 3, 10, 100])
def test_exact_hazards_give_marginal_mask_rate_one_minus_kappa(schedule, steps):
    sched = get_schedule(schedule)
    q = step_hazards(sched, steps, "exact")
    survival = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - q, 0)])  # after i steps
    grid = torch.arange(steps + 1, dtype=torch.float64) / steps
    expected = 1 - sched.kappa(grid)
    torch.testing.assert_close(survival, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("steps", [2, 5, 50])
def test_euler_hazards_are_clipped_h_times_rate(schedule, steps):
    sched = get_schedule(schedule)
    q = step_hazards(sched, steps, "euler")
    t = torch.arange(steps - 1, dtype=torch.float64) / steps
    expected = (sched.rate(t) / steps).clamp(max=1.0)  # rate = κ̇/(1−κ), +inf -> clipped to 1
    torch.testing.assert_close(q[:-1], expected, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("name", ["linear", "power"])  # power's default exponent is 1
@pytest.mark.parametrize("steps", [1, 4, 33])
def test_linear_exact_and_euler_hazards_coincide(name, steps):
    sched = get_schedule(name)
    exact = step_hazards(sched, steps, "exact")
    euler = step_hazards(sched, steps, "euler")
    torch.testing.assert_close(exact, euler, atol=1e-12, rtol=1e-12)
    # and both are 1 / (S − i)
    torch.testing.assert_close(exact, 1 / (steps - torch.arange(steps, dtype=torch.float64)), atol=1e-12, rtol=0)


def test_nonlinear_exact_and_euler_hazards_differ():
    sched = get_schedule("cosine")
    assert not torch.allclose(step_hazards(sched, 5, "exact"), step_hazards(sched, 5, "euler"))


@pytest.mark.parametrize("steps", [0, -1])
def test_step_hazards_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match=rf"steps.*{steps}"):
        step_hazards(get_schedule("linear"), steps)


def test_step_hazards_rejects_unknown_update():
    with pytest.raises(ValueError, match="bogus"):
        step_hazards(get_schedule("linear"), 4, "bogus")


# ---------------------------------------------------------------------------------------
# reveal steps drawn up front
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_empirical_mask_rate_matches_survival(schedule, update):
    steps, b, length = 6, 1000, 8
    sampler = EulerSampler(steps=steps, schedule=schedule, update=update)
    out = sampler.sample(ConstantModel(grid=(length,)), b, generator=gen(11))
    q = step_hazards(get_schedule(schedule), steps, update)
    survival = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - q, 0)])
    n = b * length
    for i in range(steps + 1):
        frac = (out.state(i) == MASK).double().mean().item()
        s = survival[i].item()
        tol = 5 * math.sqrt(max(s * (1 - s), 1e-4) / n) + 1e-9
        assert abs(frac - s) <= tol, (i, frac, s)
    # fraction revealed exactly at step i is the pmf survival_i * q_i
    for i in range(steps):
        frac = (out.reveal_step == i).double().mean().item()
        p = (survival[i] * q[i]).item()
        assert abs(frac - p) <= 5 * math.sqrt(max(p * (1 - p), 1e-4) / n), (i, frac, p)
    # a zero-hazard step reveals nothing (e.g. the first Euler step of cosine / quadratic / cubic)
    for i in (q == 0).nonzero().flatten().tolist():
        assert not (out.reveal_step == i).any()


@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_uniform_zero_never_lands_on_a_zero_hazard_step(monkeypatch, schedule, update):
    """Edge of the up-front inverse CDF: u = 0 must pick the first step with q > 0
    (e.g. step 1 for the Euler update of cosine / quadratic / cubic, whose q_0 = 0)."""
    steps = 5
    q = step_hazards(get_schedule(schedule), steps, update)
    first_positive = int((q > 0).to(torch.int64).argmax())
    monkeypatch.setattr(
        torch, "rand", lambda *size, dtype=None, generator=None, device=None: torch.zeros(*size, dtype=dtype)
    )
    out = EulerSampler(steps=steps, schedule=schedule, update=update, final_argmax=False).sample(MixModel(grid=(3,)), 2)
    monkeypatch.undo()
    assert (out.reveal_step == first_positive).all()
    assert not (out.tokens == MASK).any()


def test_state_and_chain_reconstruct_the_trajectory():
    model = MixModel(grid=(3, 2))
    out = EulerSampler(steps=5, schedule="cosine").sample(model, 4, generator=gen(3))
    assert isinstance(out, SampleOutput)
    assert torch.equal(out.state(0), out.x_init)
    assert (out.x_init == MASK).all()
    assert torch.equal(out.state(out.steps), out.tokens)
    chain = out.chain()
    assert chain.shape == (6, 4, 3, 2)
    for i in range(1, 6):
        prev, cur = chain[i - 1], chain[i]
        changed = prev != cur
        # a position changes at most once, from [MASK] to its final token, exactly at its reveal step
        assert (prev[changed] == MASK).all()
        assert torch.equal(cur[changed], out.tokens[changed])
        assert torch.equal(changed, out.reveal_step == i - 1)
    for bad in (-1, 6):
        with pytest.raises(ValueError, match=str(bad)):
            out.state(bad)


# ---------------------------------------------------------------------------------------
# every option combination
# ---------------------------------------------------------------------------------------
INNER = list(itertools.product([0.0, 1.0, 3.0], [0.5, 1.0, 2.0], [1.0, 0.5], [0, 3]))  # cfg, T, top_p, top_k


@pytest.mark.parametrize("uses_time", [True, False])
@pytest.mark.parametrize("skip_idle", [True, False])
@pytest.mark.parametrize("final_argmax", [True, False])
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_option_combination(schedule, update, final_argmax, skip_idle, uses_time):
    """The full product: the pytest axes here times the (cfg, temperature, top_p, top_k) loop."""
    steps, grid = 3, (2, 2)
    labels = torch.tensor([0, 1])
    const = ConstantModel(token=2, grid=grid, uses_time=uses_time, num_classes=2)
    mix = MixModel(grid=grid, uses_time=uses_time, num_classes=2)
    for cfg, temperature, top_p, top_k in INNER:
        case = dict(cfg=cfg, temperature=temperature, top_p=top_p, top_k=top_k)
        sampler = EulerSampler(
            steps=steps, schedule=schedule, update=update, final_argmax=final_argmax, skip_idle=skip_idle, **case
        )
        # a model with all mass on token 2 gives token 2 everywhere
        out = sampler.sample(const, labels=labels, generator=gen(0))
        assert torch.equal(out.tokens, torch.full((2, *grid), 2)), case

        # a nontrivial model: no [MASK] left, tokens in the data vocabulary, consistent bookkeeping
        mix.calls.clear()
        out = sampler.sample(mix, labels=labels, generator=gen(1))
        assert out.tokens.shape == (2, *grid) and out.tokens.dtype == torch.long, case
        assert ((out.tokens >= 0) & (out.tokens < MASK)).all(), case
        assert ((out.reveal_step >= 0) & (out.reveal_step < steps)).all(), case
        assert out.nfe == len(mix.calls), case
        assert out.nfe == (steps if not skip_idle else int(out.nfe_per_sample.max())), case
        for c in mix.calls:  # CFG: plain batch for cfg in (0, 1), one doubled batch [cond; null] otherwise
            rows = c.x.shape[0] if cfg in (0.0, 1.0) else c.x.shape[0] // 2
            assert c.x.shape[0] == (rows if cfg in (0.0, 1.0) else 2 * rows), case
            assert rows == 2 or skip_idle, case
            if cfg == 0.0:
                assert (c.labels == 2).all(), case
            elif cfg == 3.0:
                assert (c.labels[rows:] == 2).all() and (c.labels[:rows] < 2).all(), case


# ---------------------------------------------------------------------------------------
# filtering and the last-step arg-max inside the sampler
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"),
    [(1.0, 0, 1.0), (0.5, 0, 1.0), (2.0, 0, 1.0), (2.0, 3, 1.0), (1.0, 0, 0.6), (2.0, 3, 0.6)],
)
def test_single_step_draws_follow_processed_softmax(temperature, top_k, top_p):
    table = torch.tensor([[1.5, 0.2, -0.3, 0.9, -1.0], [0.0, 0.4, 0.8, -0.6, 0.3]])
    model = TableModel(table)
    b = 20000
    sampler = EulerSampler(steps=1, temperature=temperature, top_k=top_k, top_p=top_p, final_argmax=False)
    out = sampler.sample(model, b, generator=gen(5))
    probs = torch.softmax(filter_logits(table, temperature=temperature, top_k=top_k, top_p=top_p), -1)
    for pos in range(2):
        counts = torch.bincount(out.tokens[:, pos], minlength=C).double()
        freq = counts / b
        assert (counts[probs[pos] == 0] == 0).all()  # filtered tokens are never drawn
        assert (freq - probs[pos]).abs().max().item() < 0.015, (freq, probs[pos])


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_final_argmax_only_fills_the_last_step(schedule):
    table = torch.tensor([[0.5, 0.0, 0.3, -0.2, 0.1]]).expand(6, 5).contiguous()
    model = TableModel(table)
    steps, b = 4, 2000
    out = EulerSampler(steps=steps, schedule=schedule, final_argmax=True).sample(model, b, generator=gen(8))
    last = out.reveal_step == steps - 1
    assert last.any() and (~last).any()
    assert (out.tokens[last] == 0).all()  # the arg-max
    early = out.tokens[~last]
    freq = torch.bincount(early, minlength=C).double() / early.numel()
    probs = torch.softmax(table[0].double(), -1)
    assert (freq - probs).abs().max().item() < 5 * math.sqrt(0.25 / early.numel())
    # without final_argmax the last step draws as well
    out = EulerSampler(steps=steps, schedule=schedule, final_argmax=False).sample(model, b, generator=gen(8))
    last = out.reveal_step == steps - 1
    assert len(torch.unique(out.tokens[last])) == C


@pytest.mark.parametrize("top_k", [1, 2])
def test_tokens_stay_in_top_k_support(top_k):
    g = gen(2)
    table = torch.randn(4, C, generator=g)
    model = TableModel(table)
    out = EulerSampler(steps=3, top_k=top_k, temperature=2.0, final_argmax=False).sample(model, 200, generator=g)
    allowed = torch.topk(table, top_k, dim=-1).indices  # (L, k)
    hit = (out.tokens[..., None] == allowed[None]).any(-1)
    assert hit.all()


# ---------------------------------------------------------------------------------------
# transition()
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_transition_rows(schedule, update):
    steps = 5
    g = gen(4)
    sampler = EulerSampler(steps=steps, schedule=schedule, update=update, temperature=0.7, top_k=3, top_p=0.9)
    logits = 2 * torch.randn(3, 4, C, generator=g)
    x_t = torch.randint(0, VOCAB, (3, 4), generator=g)
    x_t[0, :2] = MASK
    x_t[1, 0] = 1
    masked = x_t == MASK
    q = step_hazards(get_schedule(schedule), steps, update)
    pred = torch.softmax(filter_logits(logits, temperature=0.7, top_k=3, top_p=0.9), -1)
    for i in range(steps):
        p = sampler.transition(logits, x_t, i)
        assert p.shape == (3, 4, VOCAB) and p.dtype == torch.float64
        assert (p >= 0).all()
        torch.testing.assert_close(p.sum(-1), torch.ones(3, 4, dtype=torch.float64), atol=1e-12, rtol=0)
        # masked: keep [MASK] with 1 − q_i, move to j with q_i p(j); the prediction part has no [MASK]
        torch.testing.assert_close(p[masked][:, MASK], (1 - q[i]).expand(int(masked.sum())), atol=1e-12, rtol=0)
        torch.testing.assert_close(p[masked][:, :C], q[i] * pred[masked], atol=1e-12, rtol=0)
        torch.testing.assert_close(p[masked][:, :C].sum(-1), q[i].expand(int(masked.sum())), atol=1e-12, rtol=0)
        # filtered tokens get no mass
        assert (p[masked][:, :C][pred[masked] == 0] == 0).all()
        # unmasked: one-hot on the current token (and never back to [MASK])
        expected = torch.nn.functional.one_hot(x_t[~masked], VOCAB).double()
        assert torch.equal(p[~masked], expected)
    # the last step leaves nothing masked
    assert (sampler.transition(logits, x_t, steps - 1)[..., MASK] == 0).all()
    for bad in (-1, steps):
        with pytest.raises(ValueError, match=str(bad)):
            sampler.transition(logits, x_t, bad)


# ---------------------------------------------------------------------------------------
# NFE accounting and skip_idle
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("uses_time", [True, False])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_nfe_without_skipping(schedule, uses_time):
    steps, b = 7, 3
    model = MixModel(grid=(5,), uses_time=uses_time)
    out = EulerSampler(steps=steps, schedule=schedule, skip_idle=False).sample(model, b, generator=gen(0))
    assert out.nfe == steps == len(model.calls)
    assert torch.equal(out.nfe_per_sample, torch.full((b,), steps))
    assert all(c.x.shape[0] == b for c in model.calls)
    for i, call in enumerate(model.calls):
        assert torch.equal(call.x, out.state(i))  # the model sees the current state at every step


@pytest.mark.parametrize("uses_time", [True, False])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_nfe_with_skipping(schedule, uses_time):
    steps, b, length = 12, 5, 4
    model = MixModel(grid=(length,), uses_time=uses_time)
    out = EulerSampler(steps=steps, schedule=schedule, skip_idle=True).sample(model, b, generator=gen(1))
    flat = out.reveal_step.reshape(b, -1)
    distinct = torch.tensor([len(torch.unique(r)) for r in flat])
    assert torch.equal(out.nfe_per_sample, distinct)
    assert (out.nfe_per_sample <= min(steps, length)).all()
    assert torch.equal(out.idle_steps, steps - out.nfe_per_sample)
    rounds = event_rounds(out)
    assert out.nfe == len(rounds) == len(model.calls) == int(out.nfe_per_sample.max())
    assert model.rows_seen() == int(out.nfe_per_sample.sum())
    for (rows, row_steps), call in zip(rounds, model.calls, strict=True):
        # each sample is evaluated only at steps where it reveals something, on its state there
        assert torch.equal(call.x, torch.stack([out.state(int(st))[r] for r, st in zip(rows, row_steps, strict=True)]))
        if uses_time:
            torch.testing.assert_close(call.t, row_steps.float() / steps, atol=1e-7, rtol=0)
        else:
            assert call.t is None


def test_itm_with_many_steps_spends_at_most_one_evaluation_per_token():
    steps, b, length = 1000, 3, 64
    model = MixModel(grid=(length,), uses_time=False)
    out = EulerSampler(steps=steps, schedule="linear").sample(model, b, generator=gen(2))
    assert (out.nfe_per_sample <= length).all()
    assert (out.nfe_per_sample >= 1).all()
    assert model.rows_seen() == int(out.nfe_per_sample.sum())
    assert out.nfe <= length  # calls are batched across samples, one per event round
    assert torch.equal(out.idle_steps, steps - out.nfe_per_sample)
    assert not (out.tokens == MASK).any()


@pytest.mark.parametrize("cfg", [0.0, 1.0, 3.0])
@pytest.mark.parametrize("uses_time", [True, False])
@pytest.mark.parametrize("final_argmax", [True, False])
@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_skip_idle_gives_identical_tokens(schedule, update, final_argmax, uses_time, cfg):
    kwargs = dict(
        steps=9, schedule=schedule, update=update, final_argmax=final_argmax, cfg=cfg, temperature=1.5, top_k=4
    )
    labels = torch.tensor([0, 2, 1, 0])
    fast, slow = (
        EulerSampler(skip_idle=skip, **kwargs).sample(
            MixModel(grid=(3, 2), uses_time=uses_time, num_classes=2), labels=labels, generator=gen(21)
        )
        for skip in (True, False)
    )
    assert torch.equal(fast.tokens, slow.tokens)
    assert torch.equal(fast.reveal_step, slow.reveal_step)
    assert slow.nfe == 9 and fast.nfe <= 9
    assert torch.equal(fast.idle_steps, slow.idle_steps)
    assert (fast.nfe_per_sample <= slow.nfe_per_sample).all()


# ---------------------------------------------------------------------------------------
# determinism, time input, x_init
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("skip_idle", [True, False])
def test_same_seed_same_tokens_different_seed_different_tokens(skip_idle):
    sampler = EulerSampler(steps=6, schedule="cosine", skip_idle=skip_idle, final_argmax=False)
    a = sampler.sample(MixModel(grid=(16,)), 4, generator=gen(100))
    b = sampler.sample(MixModel(grid=(16,)), 4, generator=gen(100))
    c = sampler.sample(MixModel(grid=(16,)), 4, generator=gen(101))
    assert torch.equal(a.tokens, b.tokens)
    assert torch.equal(a.reveal_step, b.reveal_step)
    assert not torch.equal(a.tokens, c.tokens)
    assert not torch.equal(a.reveal_step, c.reveal_step)


def test_etm_receives_grid_times_and_itm_receives_none():
    steps, b = 5, 3
    etm = MixModel(grid=(4,), uses_time=True)
    EulerSampler(steps=steps, skip_idle=False).sample(etm, b, generator=gen(0))
    assert len(etm.calls) == steps
    for i, call in enumerate(etm.calls):
        assert call.t is not None and call.t.shape == (b,) and call.t.is_floating_point()
        torch.testing.assert_close(call.t, torch.full((b,), i / steps), atol=1e-7, rtol=0)
    itm = MixModel(grid=(4,), uses_time=False)
    for skip in (True, False):
        itm.calls.clear()
        EulerSampler(steps=steps, skip_idle=skip).sample(itm, b, generator=gen(0))
        assert itm.calls and all(c.t is None for c in itm.calls)


@pytest.mark.parametrize("skip_idle", [True, False])
def test_x_init_positions_are_kept(skip_idle):
    g = gen(9)
    b, grid = 4, (3, 4)
    x_init = torch.randint(0, C, (b, *grid), generator=g)
    hole = torch.rand(b, *grid, generator=g) < 0.5
    hole[0] = True  # one sample fully masked
    hole[1] = False  # one sample fully given
    x_init[hole] = MASK
    model = MixModel(grid=grid)
    steps = 6
    out = EulerSampler(steps=steps, schedule="quadratic", skip_idle=skip_idle).sample(
        model, x_init=x_init, generator=gen(10)
    )
    assert torch.equal(out.x_init, x_init)
    assert torch.equal(out.tokens[~hole], x_init[~hole])
    assert torch.equal(out.reveal_step == -1, ~hole)
    assert ((out.reveal_step[hole] >= 0) & (out.reveal_step[hole] < steps)).all()
    assert not (out.tokens == MASK).any()
    assert all(torch.equal(out.state(i)[~hole], x_init[~hole]) for i in range(steps + 1))
    if skip_idle:
        assert out.nfe_per_sample[1].item() == 0  # nothing to generate, never evaluated
        assert out.idle_steps[1].item() == steps
    else:
        assert out.nfe_per_sample[1].item() == steps


def test_fully_given_x_init_needs_no_evaluation():
    x_init = torch.tensor([[0, 1, 2, 3], [4, 4, 0, 1]])
    model = MixModel(grid=(4,))
    out = EulerSampler(steps=5).sample(model, x_init=x_init, generator=gen(0))
    assert torch.equal(out.tokens, x_init)
    assert out.nfe == 0 and not model.calls
    assert (out.reveal_step == -1).all()


class NoConfig:
    """A TokenModel without ``.config``: the grid must come from ``grid=``."""

    vocab_size = VOCAB
    uses_time = False
    num_classes = 0
    null_label = 0

    def __init__(self, grid):
        self.inner = MixModel(grid=grid)

    def __call__(self, x, t, labels):
        return self.inner(x, t, labels)


def test_grid_argument_and_module_models():
    out = EulerSampler(steps=3).sample(NoConfig((2, 3)), 2, grid=(2, 3), generator=gen(0))
    assert out.tokens.shape == (2, 2, 3) and not (out.tokens == MASK).any()
    # nn.Module models, with and without parameters (the device comes from the parameters if any)
    out = EulerSampler(steps=3).sample(ParamFreeModule(), 2, generator=gen(0))
    assert out.tokens.shape == (2, 3) and not (out.tokens == MASK).any()
    out = EulerSampler(steps=3).sample(LinearModule(), 2, generator=gen(0))
    assert out.tokens.shape == (2, 2, 3) and not (out.tokens == MASK).any()


def test_samples_from_labels_alone():
    model = MixModel(grid=(4,), num_classes=3)
    out = EulerSampler(steps=4, cfg=2.0).sample(model, labels=torch.tensor([0, 3, 2]), generator=gen(0))
    assert out.tokens.shape == (3, 4)


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"steps": 0}, ["steps", "0"]),
        ({"steps": -1}, ["steps", "-1"]),
        ({"temperature": 0}, ["temperature", "0"]),
        ({"temperature": -1}, ["temperature", "-1"]),
        ({"top_p": 0}, ["top_p", "0"]),
        ({"top_p": 1.5}, ["top_p", "1.5"]),
        ({"top_k": -1}, ["top_k", "-1"]),
        ({"cfg": -0.5}, ["cfg", "-0.5"]),
        ({"update": "bogus"}, ["bogus"]),
        ({"schedule": "bogus"}, ["bogus"]),
    ],
)
def test_bad_sampler_options_raise(kwargs, words):
    with pytest.raises(ValueError) as err:
        EulerSampler(**kwargs)
    for w in words:
        assert w in str(err.value)


def test_bad_sample_arguments_raise():
    cond = MixModel(grid=(3,), num_classes=3)
    uncond = MixModel(grid=(3,))
    sampler = EulerSampler(steps=3)
    with pytest.raises(ValueError, match="label 4"):
        sampler.sample(cond, labels=torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="label -1"):
        sampler.sample(cond, labels=torch.tensor([-1, 0]))
    sampler.sample(cond, labels=torch.tensor([3, 0]))  # the null label itself is allowed
    with pytest.raises(ValueError, match="unconditional"):
        sampler.sample(uncond, labels=torch.tensor([0, 0]))
    with pytest.raises(ValueError, match=r"3\.0.*labels"):
        EulerSampler(steps=3, cfg=3).sample(cond, 2)
    with pytest.raises(ValueError, match=r"0\.0.*labels"):
        EulerSampler(steps=3, cfg=0).sample(cond, 2)
    with pytest.raises(ValueError, match="id 6"):
        sampler.sample(uncond, x_init=torch.tensor([[0, 6, MASK]]))
    with pytest.raises(ValueError, match="id -1"):
        sampler.sample(uncond, x_init=torch.tensor([[0, -1, MASK]]))
    with pytest.raises(ValueError, match="x_init"):
        sampler.sample(uncond, x_init=torch.tensor([[0.0, 1.0, 5.0]]))
    with pytest.raises(ValueError, match="got 0"):
        sampler.sample(uncond, 0)
    with pytest.raises(ValueError, match="got -2"):
        sampler.sample(uncond, -2)
    with pytest.raises(ValueError, match="n=3"):
        sampler.sample(uncond, 3, x_init=torch.full((2, 3), MASK))
    with pytest.raises(ValueError, match="3 labels for 2 samples"):
        sampler.sample(cond, 2, labels=torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError):
        sampler.sample(uncond)  # neither n, labels nor x_init
