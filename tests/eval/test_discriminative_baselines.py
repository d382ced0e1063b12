"""Discriminative baselines: scikit-learn classifiers on pixels, and the U-Net segmenter's training loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.data.shapes import CANVAS, MASK_SIZE, SHAPE_CLASSES, majority_downsample, render_shapes
from unmask.eval.discriminative_baselines import (
    IGNORE,
    evaluate_segmenter,
    shift_pair,
    sklearn_classifier_baselines,
    subsample_stratified,
    train_unet_segmenter,
)
from unmask.models.unet import UNetConfig
from unmask.tokenizers import PixelQuantizer
from unmask.training.plateau import check_plateau

pytestmark = pytest.mark.usefixtures("one_thread")

LEVELS = 16


def _shapes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = render_shapes(n, seed)
    masks = majority_downsample(labels, CANVAS // MASK_SIZE, len(SHAPE_CLASSES))
    return PixelQuantizer(levels=LEVELS).encode(images), torch.from_numpy(masks.astype(np.int64))


# --------------------------------------------------------------------------- classifiers on pixels


def test_subsample_keeps_class_proportions_and_is_seeded() -> None:
    labels = np.repeat(np.arange(3), [50, 30, 20])
    idx = subsample_stratified(labels, 10, seed=0)
    assert len(idx) == 10 and len(set(idx.tolist())) == 10 and np.all(np.diff(idx) > 0)
    assert np.bincount(labels[idx]).tolist() == [5, 3, 2]
    assert np.array_equal(idx, subsample_stratified(labels, 10, seed=0))
    assert not np.array_equal(idx, subsample_stratified(labels, 10, seed=1))
    with pytest.raises(ValueError, match="cannot take 101 of 100"):
        subsample_stratified(labels, 101, seed=0)


def test_sklearn_baselines_on_a_digits_subsample() -> None:
    out = sklearn_classifier_baselines("digits", train_n=200, folds=3, logreg_c=(0.1, 1.0), svc_c=(1.0, 10.0))
    assert (out["train_n"], out["train_total"], out["test_n"]) == (200, 1438, 359)
    for name in ("logreg", "svc"):
        m = out["models"][name]
        assert m["best_params"]["C"] in (0.1, 1.0, 10.0)
        assert len(m["cv_grid"]) == 2 and max(g["mean"] for g in m["cv_grid"]) == m["cv_accuracy"]
        # 200 training digits: both are far above chance (0.1) and below perfect
        assert 0.85 < m["test_accuracy"] < 1.0, (name, m["test_accuracy"])
        assert m["test_errors"] == round((1 - m["test_accuracy"]) * 359)
        assert 0.8 < m["test_accuracy_default_c"] <= 1.0
    assert out["models"]["logreg"]["converged"] is True
    again = sklearn_classifier_baselines("digits", train_n=200, folds=3, models=("svc",), svc_c=(1.0, 10.0))
    assert again["models"]["svc"]["test_accuracy"] == out["models"]["svc"]["test_accuracy"]


def test_sklearn_baselines_refuse_unknown_models() -> None:
    with pytest.raises(ValueError, match="models must be some of logreg, svc"):
        sklearn_classifier_baselines("digits", models=("mlp",))


# --------------------------------------------------------------------------- the U-Net segmenter


def test_shift_keeps_image_and_mask_aligned() -> None:
    gen = torch.Generator().manual_seed(0)
    masks = torch.randint(0, 6, (64, 8, 8))
    images = masks.repeat_interleave(2, 1).repeat_interleave(2, 2)  # each mask pixel a 2×2 block of the image
    img, msk = shift_pair(images, masks, 1, 2, gen)
    keep = msk != IGNORE
    assert torch.equal(img[:, ::2, ::2][keep], msk[keep])
    assert torch.equal(img[:, 1::2, 1::2][keep], msk[keep])
    ignored = (~keep).sum((1, 2))
    assert set(ignored.tolist()) <= {0, 8, 15}  # no shift, one axis (a row or column), both axes
    assert (ignored > 0).any() and (ignored == 0).any()
    same = shift_pair(images, masks, 0, 2, gen)
    assert same[0] is images and same[1] is masks


def test_training_records_a_curve_and_is_deterministic() -> None:
    x, y = _shapes(24, 5)
    cfg = UNetConfig(LEVELS, 6, width=4, depth=2, output_stride=2, groups=2)
    kw = dict(config=cfg, max_steps=12, batch_size=8, eval_every=5, warmup_steps=2, seed=3)
    run = train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], test_images=x[16:20], test_masks=y[16:20], **kw)
    assert [r["step"] for r in run.curve] == [5, 10, 12]  # every 5 steps and the last
    assert run.steps == 12 and not run.stopped_early and run.test is not None
    for r in run.curve:
        assert r["loss"] > 0 and 0 <= r["pixel_accuracy"] <= 1 and 0 <= r["miou"] <= 1
    loss, scores = evaluate_segmenter(run.model, x[16:], y[16:])
    assert loss == pytest.approx(run.curve[-1]["loss"]) and scores.miou == pytest.approx(run.curve[-1]["miou"])
    again = train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], **kw)
    assert again.curve[-1]["loss"] == run.curve[-1]["loss"]
    other = train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], **{**kw, "seed": 4})
    assert other.curve[-1]["loss"] != run.curve[-1]["loss"]
    assert run.to_dict(SHAPE_CLASSES)["test"]["per_class_iou"].keys() == set(SHAPE_CLASSES)


def test_a_stopped_run_resumes_as_if_never_stopped(tmp_path: Path) -> None:
    x, y = _shapes(24, 5)
    cfg = UNetConfig(LEVELS, 6, width=4, depth=2, output_stride=2, groups=2)
    kw = dict(config=cfg, batch_size=8, eval_every=5, warmup_steps=2, seed=3)
    whole = train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], max_steps=15, **kw)
    state = tmp_path / "unet.pt"

    def stop_at_10(history: list[tuple[int, float]], step: int) -> tuple[bool, str]:
        return step >= 10, "stopped for the test"

    first = train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], max_steps=15, stop=stop_at_10, state_path=state, **kw)
    assert first.steps == 10 and first.stopped_early and state.exists()
    resumed = train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], max_steps=15, state_path=state, **kw)
    assert [r["step"] for r in resumed.curve] == [5, 10, 15]
    assert [r["loss"] for r in resumed.curve] == [r["loss"] for r in whole.curve]
    for a, b in zip(resumed.model.state_dict().values(), whole.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # another setting, or other data sizes, is refused by name; nothing is overwritten
    before = state.read_bytes()
    with pytest.raises(ValueError, match="lr was 0.002, now 0.001"):
        train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], max_steps=20, state_path=state, **{**kw, "lr": 1e-3})
    with pytest.raises(ValueError, match="train_n was 16, now 12"):
        train_unet_segmenter(x[:12], y[:12], x[16:], y[16:], max_steps=20, state_path=state, **kw)
    assert state.read_bytes() == before
    state.write_bytes(before[: len(before) // 2])
    with pytest.raises(ValueError, match="cannot resume from"):
        train_unet_segmenter(x[:16], y[:16], x[16:], y[16:], max_steps=20, state_path=state, **kw)


def test_training_stops_at_the_plateau_criterion() -> None:
    x, y = _shapes(12, 6)
    cfg = UNetConfig(LEVELS, 6, width=4, depth=1, output_stride=2, groups=2)

    def plateau(history: list[tuple[int, float]], step: int) -> tuple[bool, str]:
        check = check_plateau(history, step, tol=1.0)  # a tolerance of 100%: any later evaluation is a plateau
        return check.reached, check.reason

    run = train_unet_segmenter(
        x[:8], y[:8], x[8:], y[8:], config=cfg, max_steps=50, batch_size=4, eval_every=2, stop=plateau
    )
    # the first check with a reference at or before 3/4 of the step: step 4 (reference step 2)
    assert run.stopped_early and run.steps == 4 and "from step 2" in run.reason
    assert [r["step"] for r in run.curve] == [2, 4]


def test_mismatched_masks_are_refused() -> None:
    x, y = _shapes(4, 0)
    cfg = UNetConfig(LEVELS, 6, width=4, depth=1, output_stride=1, groups=2)
    with pytest.raises(ValueError, match=r"train masks of shape \(4, 16, 16\) do not match \(4, 32, 32\) images"):
        train_unet_segmenter(x, y, x, y, config=cfg, max_steps=1)
    cfg2 = UNetConfig(LEVELS, 3, width=4, depth=1, output_stride=2, groups=2)
    with pytest.raises(ValueError, match="ids outside the 3 classes"):
        train_unet_segmenter(x, y, x, y, config=cfg2, max_steps=1)
