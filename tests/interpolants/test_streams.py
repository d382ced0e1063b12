"""Several named streams: each masked by Eq. 1 at its own time; separate or shared times; clean, null, fixed."""

from __future__ import annotations

import pytest
import torch

from unmask.interpolants import MultiStreamInterpolant, StreamSpec, parse_stream_values, sample_times
from unmask.schedules import get_schedule

pytestmark = pytest.mark.usefixtures("one_thread")

STREAMS = [StreamSpec("image", 17, (8, 8)), StreamSpec("mask", 7, (4, 4), "cosine"), StreamSpec("label", 11, (1,))]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def data(b: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    g = gen(seed)
    return {s.name: torch.randint(0, s.vocab_size - 1, (b, *s.grid), generator=g) for s in STREAMS}


@pytest.mark.parametrize("timesteps", ["separate", "shared"])
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_time_zero_masks_everything_and_time_one_nothing(timesteps: str, value: float) -> None:
    interp = MultiStreamInterpolant(STREAMS, timesteps=timesteps)
    x1 = data()
    t = {s.name: torch.full((64,), value) for s in STREAMS}
    out = interp.sample(x1, t, gen())
    for s in STREAMS:
        p = out.paths[s.name]
        if value == 0:
            assert p.mask.all() and (p.x_t == s.mask_id).all()
        else:
            assert not p.mask.any() and torch.equal(p.x_t, x1[s.name])
        # the whole-batch normaliser counts the masked positions (at least 1)
        assert float(out.norms[s.name]) == max(1, int(p.mask.sum()))


def test_each_stream_masks_at_its_own_rate() -> None:
    """Per stream, the masked fraction is 1 − κ_s(t_s) for its own schedule and time."""
    interp = MultiStreamInterpolant(STREAMS)
    b = 4000
    x1 = data(b)
    t = {"image": torch.full((b,), 0.3), "mask": torch.full((b,), 0.6), "label": torch.full((b,), 0.9)}
    out = interp.sample(x1, t, gen(1))
    for s in STREAMS:
        want = 1 - float(get_schedule(s.schedule).kappa(t[s.name][:1]))
        got = out.paths[s.name].mask.float().mean().item()
        assert abs(got - want) < 0.02, (s.name, got, want)


@pytest.mark.parametrize("timesteps", ["separate", "shared"])
def test_separate_and_shared_times(timesteps: str) -> None:
    interp = MultiStreamInterpolant(STREAMS, timesteps=timesteps, eps=1e-3)
    t = sample_times(256, generator=gen(2))
    times = interp.draw_times(t, gen(3))
    assert list(times) == ["image", "mask", "label"]
    assert torch.equal(times["image"], t)  # the first stream keeps the given time
    for name in ("mask", "label"):
        if timesteps == "shared":
            assert torch.equal(times[name], t)
        else:
            assert not torch.equal(times[name], t)
            assert (times[name] >= 1e-3).all() and (times[name] <= 1 - 1e-3).all()
    assert torch.equal(times["mask"], interp.draw_times(t, gen(3))["mask"])  # a function of the generator


@pytest.mark.parametrize("option", ["clean", "null"])
def test_clean_or_null_stream_holds_exactly_one_stream_at_an_end(option: str) -> None:
    interp = MultiStreamInterpolant(STREAMS, **{f"{option}_stream_prob": 1.0})
    t = sample_times(3000, generator=gen(4))
    times = interp.draw_times(t, gen(5))
    end = 1.0 if option == "clean" else 0.0
    at_end = torch.stack([times[s.name] == end for s in STREAMS])  # (S, B)
    assert (at_end.sum(0) == 1).all()  # exactly one stream per sample
    share = at_end.float().mean(1)
    assert ((share - 1 / 3).abs() < 0.04).all()  # chosen uniformly


def test_clean_and_null_probabilities_are_respected() -> None:
    interp = MultiStreamInterpolant(STREAMS[:2], clean_stream_prob=0.3, null_stream_prob=0.2)
    t = sample_times(20000, generator=gen(6))
    times = interp.draw_times(t, gen(7))
    clean = ((times["image"] == 1) | (times["mask"] == 1)).float().mean().item()
    null = ((times["image"] == 0) | (times["mask"] == 0)).float().mean().item()
    assert abs(clean - 0.3) < 0.015 and abs(null - 0.2) < 0.015


def test_fixed_times_are_the_discriminative_objective() -> None:
    """image at t = 1 and mask at t = 0: the image is shown whole, the mask hidden whole."""
    interp = MultiStreamInterpolant(STREAMS[:2], fixed_times={"image": 1, "mask": 0}, clean_stream_prob=0.5)
    x1 = {k: v for k, v in data().items() if k != "label"}
    t = sample_times(64, generator=gen(8))
    out = interp.sample(x1, interp.draw_times(t, gen(9)), gen(10))
    assert torch.equal(out.paths["image"].x_t, x1["image"])
    assert (out.paths["mask"].x_t == 6).all()


@pytest.mark.parametrize("timesteps", ["separate", "shared"])
def test_time_powers_move_a_streams_times_and_leave_the_others(timesteps: str) -> None:
    """mask:3 draws the mask's time as u^3 (so κ = t ≤ 0.1 in 46 % of draws); the other streams keep their draws."""
    t = sample_times(20000, generator=gen(11))
    plain = MultiStreamInterpolant(STREAMS, timesteps=timesteps).draw_times(t, gen(12))
    powered = MultiStreamInterpolant(STREAMS, timesteps=timesteps, time_powers={"mask": 3}).draw_times(t, gen(12))
    assert torch.allclose(powered["mask"], plain["mask"] ** 3)
    for name in ("image", "label"):
        assert torch.equal(powered[name], plain[name])
    share = (powered["mask"] <= 0.1).float().mean().item()
    assert abs(share - 0.1 ** (1 / 3)) < 0.015
    # the clean / null draws apply after the power: a clean mask stream is still at t = 1
    both = MultiStreamInterpolant(STREAMS, time_powers={"mask": 3}, clean_stream_prob=1.0).draw_times(t, gen(13))
    assert ((both["mask"] == 1) | (both["mask"] < 1)).all() and (both["mask"] == 1).any()


@pytest.mark.parametrize("weights", [{"image": 8.0}, {"image": 0.0, "mask": 3.0}, {"mask": 1.0}])
def test_clean_stream_weights_choose_the_clean_stream(weights: dict[str, float]) -> None:
    """The clean stream is drawn with odds ∝ its weight (unlisted streams 1); the null draws stay uniform."""
    interp = MultiStreamInterpolant(STREAMS, clean_stream_prob=0.6, null_stream_prob=0.3, clean_stream_weights=weights)
    t = sample_times(30000, generator=gen(14))
    times = interp.draw_times(t, gen(15))
    odds = [weights.get(s.name, 1.0) for s in STREAMS]
    for s, w in zip(STREAMS, odds, strict=True):
        clean = (times[s.name] == 1).float().mean().item()
        null = (times[s.name] == 0).float().mean().item()
        assert interp.clean_share(s.name) == pytest.approx(0.6 * w / sum(odds))
        assert abs(clean - interp.clean_share(s.name)) < 0.012, (s.name, clean)
        assert abs(null - 0.1) < 0.012, (s.name, null)
    assert torch.equal(times["mask"], interp.draw_times(t, gen(15))["mask"])  # a function of the generator


def test_uniform_clean_weights_leave_the_draw_uniform() -> None:
    """Equal weights give the uniform shares; no weights keep the default draws bit for bit."""
    t = sample_times(30000, generator=gen(16))
    twos = {"image": 2.0, "mask": 2.0, "label": 2.0}
    even = MultiStreamInterpolant(STREAMS, clean_stream_prob=0.9, clean_stream_weights=twos)
    times = even.draw_times(t, gen(17))
    for s in STREAMS:
        assert even.clean_share(s.name) == pytest.approx(0.3)
        assert abs((times[s.name] == 1).float().mean().item() - 0.3) < 0.012
    plain = MultiStreamInterpolant(STREAMS, clean_stream_prob=0.9)
    again = MultiStreamInterpolant(STREAMS, clean_stream_prob=0.9, clean_stream_weights={})
    a, b = plain.draw_times(t, gen(18)), again.draw_times(t, gen(18))
    assert all(torch.equal(a[s.name], b[s.name]) for s in STREAMS)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clean_stream_prob": 0.5, "clean_stream_weights": {"depth": 2.0}}, "clean weight for unknown stream 'depth'"),
        (
            {"clean_stream_prob": 0.5, "clean_stream_weights": {"mask": -1.0}},
            r"clean weight of stream 'mask' must be a finite number >= 0, got -1.0",
        ),
        (
            {"clean_stream_prob": 0.5, "clean_stream_weights": {"mask": float("inf")}},
            r"clean weight of stream 'mask' must be a finite number >= 0, got inf",
        ),
        ({"clean_stream_weights": {"image": 4.0}}, "but clean_stream_prob is 0: no stream is ever held clean"),
        (
            {"clean_stream_prob": 0.5, "clean_stream_weights": {"image": 0, "mask": 0, "label": 0}},
            "weigh every stream 0",
        ),
        ({"time_powers": {"depth": 2.0}}, "time power for unknown stream 'depth'"),
        ({"time_powers": {"mask": 0.0}}, r"time power of stream 'mask' must be a finite number > 0, got 0.0"),
        ({"time_powers": {"mask": float("nan")}}, r"time power of stream 'mask' must be a finite number > 0, got nan"),
        ({"timesteps": "joint"}, "timesteps must be one of separate, shared, got 'joint'"),
        ({"clean_stream_prob": 1.5}, r"clean_stream_prob must be in \[0, 1\], got 1.5"),
        ({"clean_stream_prob": 0.6, "null_stream_prob": 0.6}, "clean_stream_prob \\+ null_stream_prob must be <= 1"),
        ({"fixed_times": {"depth": 1.0}}, "fixed time for unknown stream 'depth'"),
        ({"fixed_times": {"mask": 2.0}}, r"fixed time of stream 'mask' must be in \[0, 1\], got 2.0"),
    ],
)
def test_bad_options_name_the_value(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MultiStreamInterpolant(STREAMS, **kwargs)  # type: ignore[arg-type]


def test_bad_streams_name_the_stream() -> None:
    interp = MultiStreamInterpolant(STREAMS)
    t = {s.name: torch.full((4,), 0.5) for s in STREAMS}
    x1 = data(4)
    with pytest.raises(ValueError, match=r"streams \['image', 'mask'\] do not match"):
        interp.sample({k: x1[k] for k in ("image", "mask")}, t)
    bad = dict(x1, mask=torch.zeros(4, 4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"stream 'mask' has shape \(4, 4, 5\), expected \(B, 4, 4\)"):
        interp.sample(bad, t)
    bad = dict(x1, label=torch.full((4, 1), 10))  # 10 is the label stream's [MASK]
    with pytest.raises(ValueError, match=r"stream 'label' tokens contain id 10 outside the data vocabulary"):
        interp.sample(bad, t)
    bad = dict(x1, label=torch.zeros(3, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="stream 'label' has 3 rows, the others 4"):
        interp.sample(bad, t)
    with pytest.raises(ValueError, match="stream names must be unique"):
        MultiStreamInterpolant([STREAMS[0], STREAMS[0]])
    with pytest.raises(ValueError, match="stream name must be a Python identifier, got 'seg mask'"):
        StreamSpec("seg mask", 7, (4, 4))
    with pytest.raises(ValueError, match="stream 'mask': vocab_size must be an integer >= 2"):
        StreamSpec("mask", 1, (4, 4))


def test_parse_stream_values() -> None:
    assert parse_stream_values("image:1, mask:0") == {"image": 1.0, "mask": 0.0}
    with pytest.raises(ValueError, match="entries must look like name:number, got 'image'"):
        parse_stream_values("image", "path.fixed_times")
    with pytest.raises(ValueError, match="for stream 'mask' must be a number, got 'x'"):
        parse_stream_values("mask:x")
