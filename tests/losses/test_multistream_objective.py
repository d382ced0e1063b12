"""The multi-stream objective: per-stream masked CE, equal vs token weighting, slicing, baselines, bounds."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from unmask.interpolants import MultiStreamInterpolant, StreamSpec, sample_times
from unmask.losses import MaskedCrossEntropy, MultiStreamObjective, slice_batch
from unmask.models import MultiStreamConfig, MultiStreamTransformer, StreamConfig

pytestmark = pytest.mark.usefixtures("one_thread")

SPECS = [StreamSpec("image", 9, (4, 4)), StreamSpec("label", 5, (1,))]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def batch(b: int = 32) -> dict[str, torch.Tensor]:
    g = gen(1)
    return {s.name: torch.randint(0, s.vocab_size - 1, (b, *s.grid), generator=g) for s in SPECS}


def random_logits(b: int, seed: int = 2) -> dict[str, torch.Tensor]:
    g = gen(seed)
    return {s.name: torch.randn(b, *s.grid, s.vocab_size - 1, generator=g, requires_grad=True) for s in SPECS}


def objective(weighting: str = "equal", loss: str = "constant", **kw: object) -> MultiStreamObjective:
    return MultiStreamObjective(MultiStreamInterpolant(SPECS, **kw), MaskedCrossEntropy(loss), weighting)  # type: ignore[arg-type]


def masked_ce(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="none")
    m = mask.reshape(-1)
    return (ce * m).sum(), m.sum()


@pytest.mark.parametrize("weighting", ["equal", "tokens"])
def test_weightings_against_a_direct_computation(weighting: str) -> None:
    obj = objective(weighting)
    x1 = batch()
    target = obj.corrupt(x1, sample_times(32, generator=gen(3)), gen(4))
    logits = random_logits(32)
    out = obj.loss(logits, target)
    sums = {k: masked_ce(logits[k], x1[k], p.mask) for k, p in target.paths.items()}
    if weighting == "equal":  # each stream's masked mean, summed
        want = sum(s / c.clamp_min(1) for s, c in sums.values())
    else:  # Eq. 4: one masked mean over the concatenation
        want = sum(s for s, _ in sums.values()) / sum(c for _, c in sums.values())
    assert torch.allclose(out.loss, want, atol=1e-6)
    assert out.streams is not None and set(out.streams) == {"image", "label"}
    for k, (s, c) in sums.items():  # per-stream extras: its own masked mean and its positions
        assert torch.allclose(out.streams[k].loss, s / c.clamp_min(1), atol=1e-6)
        assert int(out.streams[k].selected.sum()) == int(c)
    assert out.per_token.shape == out.selected.shape == out.weight.shape == (32, 16 + 1)
    assert int(out.correct) == sum(int(o.correct) for o in out.streams.values())


@pytest.mark.parametrize("weighting", ["equal", "tokens"])
def test_slices_add_up_to_the_whole_batch(weighting: str) -> None:
    """What data-parallel and accumulated steps do: each part's total over the *global* count."""
    obj = objective(weighting, clean_stream_prob=0.3)
    x1 = batch()
    target = obj.corrupt(x1, sample_times(32, generator=gen(5)), gen(6))
    logits = random_logits(32)
    whole = obj.loss(logits, target)
    norm = obj.count(target)
    parts = [slice(0, 8), slice(8, 20), slice(20, 32)]
    total = 0.0
    for rows in parts:
        piece = slice_batch(target, rows)
        assert piece.paths["image"].x_t.shape[0] == rows.stop - rows.start
        assert torch.equal(piece.norms["image"], target.norms["image"])  # 0-d normalisers are kept whole
        out = obj.loss({k: v[rows] for k, v in logits.items()}, piece)
        total = total + out.total / norm
    assert torch.allclose(total, whole.loss, atol=1e-6)


@pytest.mark.parametrize("weighting", ["equal", "tokens"])
def test_stream_weights_scale_one_streams_term_and_leave_its_logged_loss(weighting: str) -> None:
    x1 = batch()
    plain = objective(weighting)
    target = plain.corrupt(x1, sample_times(32, generator=gen(11)), gen(12))
    logits = random_logits(32)
    a = plain.loss(logits, target)
    interp = MultiStreamInterpolant(SPECS)
    weighted = MultiStreamObjective(interp, MaskedCrossEntropy("constant"), weighting, {"label": 4.0})
    b = weighted.loss(logits, target)
    count = plain.count(target)
    label = a.streams["label"].total / (target.norms["label"] if weighting == "equal" else 1)
    assert torch.allclose(b.loss, a.loss + 3 * label / count, atol=1e-6)
    for name in ("image", "label"):
        assert torch.equal(b.streams[name].loss, a.streams[name].loss)  # logged per stream, unweighted


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"mask": 2.0}, "loss weight for unknown stream 'mask'; the streams are image, label"),
        ({"label": -1.0}, r"loss weight of stream 'label' must be a finite number >= 0, got -1.0"),
        ({"label": math.inf}, r"loss weight of stream 'label' must be a finite number >= 0, got inf"),
    ],
)
def test_bad_stream_weights_name_the_value(weights: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MultiStreamObjective(MultiStreamInterpolant(SPECS), MaskedCrossEntropy("constant"), "equal", weights)


def test_fixed_times_give_the_plain_discriminative_cross_entropy() -> None:
    obj = objective(fixed_times={"image": 1.0, "label": 0.0})
    x1 = batch()
    target = obj.corrupt(x1, sample_times(32, generator=gen(7)), gen(8))
    logits = random_logits(32)
    out = obj.loss(logits, target)
    want = F.cross_entropy(logits["label"].reshape(32, -1), x1["label"].reshape(32))
    assert torch.allclose(out.loss, want, atol=1e-6)
    out.loss.backward()
    assert logits["image"].grad is not None and (logits["image"].grad == 0).all()  # the image is never scored


def test_elbo_weight_with_a_clean_stream_keeps_gradients_finite() -> None:
    """A stream at t = 1 has w = κ̇/(1 − κ) = ∞ but nothing masked: no NaN may leak into the gradient."""
    obj = objective(loss="elbo", clean_stream_prob=1.0)
    target = obj.corrupt(batch(), sample_times(32, generator=gen(9)), gen(10))
    assert any(bool((p.t == 1).any()) for p in target.paths.values())
    logits = random_logits(32)
    out = obj.loss(logits, target)
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert all(torch.isfinite(v.grad).all() for v in logits.values())  # type: ignore[arg-type]


class Uniform:
    """Uniform logits over every stream's data tokens."""

    uses_time = False

    def __call__(self, x: dict[str, torch.Tensor], t: object, labels: object) -> dict[str, torch.Tensor]:
        return {s.name: torch.zeros(*x[s.name].shape, s.vocab_size - 1) for s in SPECS}


def test_uniform_model_bound_is_the_token_average_of_log_v() -> None:
    """Each stream's ELBO under a uniform model integrates to log V_s per token; the joint bound
    is their token-weighted average (16 image tokens of 8 values, 1 label of 4)."""
    obj = objective()
    x1 = {s.name: torch.randint(0, s.vocab_size - 1, (2000, *s.grid), generator=gen(11)) for s in SPECS}
    est = obj.nll_bound(Uniform(), x1, None, gen(12))
    assert est.shape == (2000,)
    want = (16 * math.log(8) + 1 * math.log(4)) / 17
    assert abs(float(est.mean()) - want) < 0.03 * want


@pytest.mark.parametrize("timestep", [False, True])
def test_objective_drives_a_real_model(timestep: bool) -> None:
    model = MultiStreamTransformer(
        MultiStreamConfig(
            streams=(StreamConfig("image", 9, (4, 4), 2), StreamConfig("label", 5, (1,))),
            dim=32,
            depth=2,
            heads=2,
            timestep=timestep,
        )
    )
    obj = objective(clean_stream_prob=0.5)
    target = obj.corrupt(batch(), sample_times(32, generator=gen(13)), gen(14))
    out = obj.loss(obj.predict(model, target, None), target)
    out.loss.backward()
    # the image head (per-position, generative) starts at zero: a uniform prediction, loss log(V − 1);
    # the one-token label readout starts with the normal init, so its loss is near, not at, log 4
    assert out.streams is not None
    assert abs(float(out.streams["image"].loss.detach()) - math.log(8)) < 1e-5
    label = float(out.streams["label"].loss.detach())
    assert label != pytest.approx(math.log(4), abs=1e-5) and abs(label - math.log(4)) < 0.5
    assert abs(float(out.loss.detach()) - (math.log(8) + label)) < 1e-5
    assert torch.isfinite(obj.nll_bound(model, batch(), None, gen(15))).all()


def test_bad_objective_options() -> None:
    interp = MultiStreamInterpolant(SPECS)
    with pytest.raises(ValueError, match="unknown stream weighting 'mean'; choose one of equal, tokens"):
        MultiStreamObjective(interp, MaskedCrossEntropy(), "mean")
    with pytest.raises(ValueError, match="masked mean of masked positions per stream; got masked=False"):
        MultiStreamObjective(interp, MaskedCrossEntropy(masked=False))
    obj = MultiStreamObjective(interp, MaskedCrossEntropy())
    target = obj.corrupt(batch(), sample_times(32, generator=gen(16)), gen(17))
    with pytest.raises(ValueError, match=r"logits for streams \['image'\] do not match the streams"):
        obj.loss({"image": random_logits(32)["image"]}, target)
