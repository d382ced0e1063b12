"""Which time an explicit-timestep model is told at each call: the start of its step on the sampler's
own grid (Euler: t_i of ``time_grid``, non-uniform when adaptive; Prime: t_i; MaskGIT: κ⁻¹ of the
fraction revealed; multi-stream: the Euler grid's t_i for the targets, 1 / 0 for given / dropped
streams). Before this was checked, Euler told i / n instead of t_i, which differs on the adaptive
grids of ``cubic`` (by up to 0.36) and ``root`` (0.11)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from unmask.models import MultiStreamConfig, MultiStreamTransformer, StreamConfig
from unmask.prime import SubTokenCodec
from unmask.samplers import EulerSampler, MaskGITSampler, MultiStreamSampler, PrimeSampler, time_grid
from unmask.schedules import get_schedule, schedule_names

_spec = importlib.util.spec_from_file_location("sampler_dummies", Path(__file__).with_name("sampler_dummies.py"))
assert _spec is not None and _spec.loader is not None
dummies = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dummies)

pytestmark = pytest.mark.usefixtures("one_thread")


class RecordingETM(dummies.DummyModel):
    """An explicit-timestep stub: uniform logits, every call's (rows' tokens, t) recorded."""

    def logits(self, x, t, labels):
        assert t is not None and t.shape == (x.shape[0],) and t.dtype == torch.float32
        return torch.zeros(*x.shape, self.vocab_size - 1)


def _steps_called(out: Any, skip_idle: bool) -> list[list[int]]:
    """Per call, the step of each row evaluated (as the sampler's event rounds or every step)."""
    if skip_idle:
        return [steps.tolist() for _, steps in dummies.event_rounds(out)]
    b = out.tokens.shape[0]
    return [[i] * b for i in range(out.steps)]


@pytest.mark.parametrize("name", schedule_names())
@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("skip_idle", [True, False])
def test_euler_tells_an_etm_the_grid_time_of_its_step(name: str, adaptive: bool, skip_idle: bool) -> None:
    schedule = get_schedule(name)
    model = RecordingETM(grid=(12,), uses_time=True)
    sampler = EulerSampler(steps=16, schedule=schedule, adaptive=adaptive, skip_idle=skip_idle)
    out = sampler.sample(model, n=5, generator=dummies.gen(0))
    grid = time_grid(schedule, 16, adaptive).float()
    assert out.steps == len(grid) - 1
    expected = _steps_called(out, skip_idle)
    assert len(model.calls) == len(expected)
    for call, steps in zip(model.calls, expected, strict=True):
        torch.testing.assert_close(call.t, grid[torch.tensor(steps)], rtol=0, atol=1e-7)


def test_the_check_would_catch_step_over_count_on_a_non_uniform_grid() -> None:
    """The grids the issue measured are non-uniform, so t_i and i / n differ there."""
    for name, gap in (("cubic", 0.3), ("root", 0.1)):
        grid = time_grid(get_schedule(name), 16, adaptive=True)
        n = len(grid) - 1
        assert float((grid - torch.arange(n + 1, dtype=torch.float64) / n).abs().max()) > gap


class PrimeETM:
    """A sub-token explicit-timestep stub (V = 15 tokens as 2 base-4 digits): uniform logits, t recorded."""

    def __init__(self) -> None:
        self.codec = SubTokenCodec(15, 2)
        self.vocab_size, self.subtokens, self.uses_time, self.num_classes, self.null_label = 16, 2, True, 0, 0
        self.config = SimpleNamespace(grid=(6,))
        self.times: list[torch.Tensor] = []

    def __call__(self, y, t, labels):
        self.times.append(t.clone())
        return torch.zeros(*y.shape[:-1], 15)


@pytest.mark.parametrize("skip_idle", [True, False])
def test_prime_tells_an_etm_the_grid_time_of_its_step(skip_idle: bool) -> None:
    model = PrimeETM()
    out = PrimeSampler(steps=8, skip_idle=skip_idle).sample(model, n=3, generator=dummies.gen(1))
    grid = time_grid(get_schedule("linear"), 8).float()
    assert len(model.times) == out.nfe
    if not skip_idle:
        for i, t in enumerate(model.times):
            assert torch.equal(t, torch.full((3,), float(grid[i])))
    for t in model.times:
        assert all(float((grid[:-1] - v).abs().min()) < 1e-7 for v in t)


@pytest.mark.parametrize("name", schedule_names())
def test_maskgit_tells_an_etm_kappa_inverse_of_the_revealed_fraction(name: str) -> None:
    schedule = get_schedule(name)
    model = RecordingETM(grid=(10,), uses_time=True)
    MaskGITSampler(steps=6, time_schedule=schedule).sample(model, n=4, generator=dummies.gen(2))
    for call in model.calls:
        revealed = (call.x != model.vocab_size - 1).double().mean(1)
        torch.testing.assert_close(call.t, schedule.kappa_inv(revealed).float(), rtol=0, atol=1e-6)


class Recorder:
    """A multi-stream model whose calls' times are recorded."""

    def __init__(self, model: MultiStreamTransformer) -> None:
        self.model, self.times = model, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __call__(self, x, t, labels):
        self.times.append({k: v.clone() for k, v in t.items()})
        return self.model(x, t, labels)


@pytest.mark.parametrize("adaptive", [False, True])
def test_multistream_targets_get_the_euler_grid_time(adaptive: bool) -> None:
    streams = (StreamConfig("image", 5, (4, 4), 2), StreamConfig("label", 4, (1,)))
    torch.manual_seed(0)
    net = MultiStreamTransformer(MultiStreamConfig(streams=streams, dim=16, depth=1, heads=2, timestep=True)).eval()
    model = Recorder(net)
    schedule = get_schedule("cubic")
    euler = EulerSampler(steps=8, schedule=schedule, adaptive=adaptive, skip_idle=False)
    labels = torch.tensor([[0], [2], [1]])
    out = MultiStreamSampler("label->image", euler).sample(model, {"label": labels}, generator=dummies.gen(3))
    grid = time_grid(schedule, 8, adaptive).float()
    assert len(model.times) == out.flat.steps == len(grid) - 1
    for i, t in enumerate(model.times):
        torch.testing.assert_close(t["image"], torch.full((3,), float(grid[i])), rtol=0, atol=1e-7)
        assert torch.equal(t["label"], torch.ones(3))  # the given stream is clean
