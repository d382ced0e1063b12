"""Segmentation and classification scores on hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from unmask.eval import (
    accuracy,
    confusion_matrix,
    majority_vote,
    scores_from_confusion,
    segmentation_scores,
    uncertainty_map,
    uncertainty_vs_error,
)


def test_confusion_matrix_rows_are_truth_columns_predictions() -> None:
    target = np.array([[0, 0], [1, 2]])
    pred = np.array([[0, 1], [1, 1]])
    c = confusion_matrix(pred, target, 3)
    assert c.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_miou_and_pixel_accuracy_by_hand() -> None:
    # class 0: TP 1, FN 1 (pred 1)            → IoU 1 / 2
    # class 1: TP 1, FP 2 (from 0 and 2)       → IoU 1 / 3
    # class 2: TP 0, FN 1                      → IoU 0
    # class 3: absent from truth and prediction → left out of the mean
    target = np.array([[0, 0], [1, 2]])
    pred = np.array([[0, 1], [1, 1]])
    s = segmentation_scores(pred, target, 4)
    assert s.per_class_iou[:3] == pytest.approx((1 / 2, 1 / 3, 0.0))
    assert math.isnan(s.per_class_iou[3])
    assert s.miou == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)
    assert s.pixel_accuracy == pytest.approx(2 / 4)
    d = s.to_dict(("bg", "a", "b", "c"))
    assert d["per_class_iou"]["c"] is None and d["miou"] == s.miou


def test_perfect_prediction_and_a_class_only_predicted() -> None:
    t = np.random.RandomState(0).randint(0, 5, (3, 8, 8))
    assert segmentation_scores(t, t, 5).miou == 1.0
    pred = np.zeros((1, 2, 2), dtype=np.int64)
    pred[0, 0, 0] = 3  # a false positive of a class absent from the truth still counts (IoU 0)
    s = segmentation_scores(pred, np.zeros((1, 2, 2), dtype=np.int64), 4)
    assert s.per_class_iou[0] == pytest.approx(3 / 4) and s.per_class_iou[3] == 0.0
    assert s.miou == pytest.approx((3 / 4 + 0) / 2)


def test_dataset_level_iou_sums_confusions() -> None:
    a_t, a_p = np.array([[0, 1]]), np.array([[0, 1]])
    b_t, b_p = np.array([[1, 1]]), np.array([[0, 0]])
    whole = segmentation_scores(np.stack([a_p, b_p]), np.stack([a_t, b_t]), 2)
    summed = scores_from_confusion(confusion_matrix(a_p, a_t, 2) + confusion_matrix(b_p, b_t, 2))
    assert whole.miou == summed.miou and np.array_equal(whole.confusion, summed.confusion)


def test_uncertainty_is_zero_where_samples_agree_and_log2_on_a_split() -> None:
    samples = np.array([[[0, 1]], [[0, 2]], [[0, 1]], [[0, 2]]])  # (K=4, 1, 2)
    entropy, disagreement = uncertainty_map(samples, 3)
    assert entropy.shape == (1, 2)
    assert entropy[0, 0] == 0.0 and disagreement[0, 0] == 0.0
    assert entropy[0, 1] == pytest.approx(math.log(2)) and disagreement[0, 1] == pytest.approx(0.5)
    assert majority_vote(samples, 3).tolist() == [[0, 1]]  # tie 1 vs 2 → the lower id


def test_uncertainty_vs_error_on_a_hand_worked_case() -> None:
    u = np.array([0.9, 0.8, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    truth = np.zeros(10, int)
    vote = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])  # wrong at the two most uncertain pixels and one certain one
    r = uncertainty_vs_error(u, vote, truth, top=0.2)
    assert r["error"] == pytest.approx(0.3)
    assert r["error_top"] == 1.0 and r["error_rest"] == pytest.approx(1 / 8)
    assert r["error_uncertain"] == pytest.approx(2 / 3) and r["error_certain"] == pytest.approx(1 / 7)
    assert r["uncertain_share"] == pytest.approx(0.3)
    # wrong pixels (0.9, 0.8, 0) against right ones (0.5 and six 0s): 7 + 7 + (6 ties × 0.5) of 21 pairs
    assert r["auroc"] == pytest.approx((7 + 7 + 3) / 21)


def test_uncertainty_vs_error_is_half_for_an_uninformative_map_and_nan_without_errors() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 20_000)
    vote = np.where(rng.random(20_000) < 0.3, (truth + 1) % 3, truth)
    r = uncertainty_vs_error(rng.random(20_000), vote, truth)
    assert r["auroc"] == pytest.approx(0.5, abs=0.02) and r["error_top"] == pytest.approx(0.3, abs=0.03)
    assert math.isnan(uncertainty_vs_error(np.ones(4), truth[:4], truth[:4])["auroc"])


def test_accuracy() -> None:
    assert accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), 2), r"shape \(2, 2\) do not match"),
        (
            lambda: confusion_matrix(np.full((2,), 5), np.zeros((2,), int), 3),
            r"predictions contain class 5 outside \[0, 2\]",
        ),
        (lambda: confusion_matrix(np.zeros(2), np.zeros(2, int), 3), "must hold integer class ids, got dtype float64"),
        (lambda: confusion_matrix(np.zeros(2, int), np.zeros(2, int), 0), "num_classes must be an integer >= 1, got 0"),
        (lambda: uncertainty_map(np.zeros(3, int), 2), r"samples must have shape \(K, ...\)"),
        (lambda: accuracy(np.zeros(0, int), np.zeros(0, int)), "accuracy of no predictions is undefined"),
        (
            lambda: uncertainty_vs_error(np.zeros(3), np.zeros(3, int), np.zeros(3, int), top=1.0),
            r"top must be in \(0, 1\), got 1.0",
        ),
        (lambda: uncertainty_vs_error(np.zeros(3), np.zeros(2, int), np.zeros(3, int)), "must have one shape"),
    ],
)
def test_bad_input_names_the_problem(call, match: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=match):
        call()
