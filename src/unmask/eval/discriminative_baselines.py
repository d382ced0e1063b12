"""Discriminative baselines for the joint models (issue 19): what a practitioner would train instead.

Joint models classify and segment by unmasking a label or mask stream. To read their scores
honestly they are set beside the plain discriminative models on the same splits:

* :func:`sklearn_classifier_baselines`: scikit-learn's logistic regression and RBF SVC on the
  flattened pixels scaled to [0, 1] (the images exactly as ``get_dataset(name, split).images()``
  gives them), the regularisation C chosen by stratified k-fold cross-validation on the train
  split only, then refit on the whole train split and scored once on the test split.
* :func:`train_unet_segmenter`: a small convolutional U-Net (:class:`unmask.models.unet.UNet`)
  trained with AdamW, weight decay, linear warm-up then cosine decay, and random shifts applied
  identically to image and mask; it is scored on a held-out set every ``eval_every`` steps
  (cross-entropy, pixel accuracy, mIoU) and stops when ``stop`` says so — pass the project's
  plateau criterion (``unmask.training.plateau.check_plateau``; ``eval`` sits below
  ``training`` in the layer order, so it is handed in rather than imported).
* :func:`unet_segmenter_baseline`: that training on a ``StreamDataset`` (``shapes``) with a
  validation set carved out of the train split for the curve and the stopping decision, and
  the test split scored once at the end.

The segmenter lives in :mod:`.unet_segmenter`; its names are re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import TokenDataset, get_dataset
from .unet_segmenter import (
    IGNORE,
    SegmenterRun,
    StopRule,
    evaluate_segmenter,
    shift_pair,
    train_unet_segmenter,
    unet_segmenter_baseline,
)

__all__ = [
    "LOGREG_C_GRID",
    "SVC_C_GRID",
    "sklearn_classifier_baselines",
    "subsample_stratified",
    "SegmenterRun",
    "evaluate_segmenter",
    "shift_pair",
    "train_unet_segmenter",
    "unet_segmenter_baseline",
    "IGNORE",
    "StopRule",
]

#: Inverse regularisation strengths searched for logistic regression and the RBF SVC.
LOGREG_C_GRID: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
SVC_C_GRID: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0)


# --------------------------------------------------------------------------- classification on pixels


def subsample_stratified(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` of the ``labels`` keeping the class proportions (largest remainders), seeded."""
    labels = np.asarray(labels)
    if not 1 <= n <= len(labels):
        raise ValueError(f"cannot take {n} of {len(labels)} examples")
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n / len(labels)
    take = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - take), kind="stable")[: n - int(take.sum())]:
        take[i] += 1
    rng = np.random.RandomState(seed)
    idx = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(idx))


def _pixels(data: TokenDataset) -> tuple[np.ndarray, np.ndarray]:
    if data.labels is None:
        raise ValueError(f"dataset {data.name!r} has no class labels to classify")
    x = data.images().reshape(len(data), -1).astype(np.float64) / 255.0
    return x, data.labels.numpy().astype(np.int64)


def sklearn_classifier_baselines(
    dataset: str,
    levels: int | None = None,
    train_n: int | None = None,
    seed: int = 0,
    *,
    models: Sequence[str] = ("logreg", "svc"),
    folds: int = 5,
    logreg_c: Sequence[float] = LOGREG_C_GRID,
    svc_c: Sequence[float] = SVC_C_GRID,
    max_iter: int = 5000,
    n_jobs: int = 1,
    report_default: bool = True,
) -> dict[str, Any]:
    """Logistic regression and RBF SVC on the pixels of ``dataset``, tuned on its train split only.

    Args:
        dataset: a labelled image dataset of ``get_dataset`` ("digits", "fashion-mnist", "mnist5k").
        levels: its grey levels (None: the dataset's default); the pixels are the decoded
            uint8 images / 255, flattened.
        train_n: fit on a stratified random subsample of this many training images (None: all).
            An RBF SVC's fit grows about quadratically with n: use it for Fashion-MNIST's 60k.
        seed: the subsample and the cross-validation folds.
        models: which of "logreg", "svc".
        folds: stratified k-fold cross-validation (shuffled with ``seed``) on the train images
            used, choosing C by mean accuracy; the best C is refit on all of them.
        logreg_c, svc_c: the C grids (SVC: gamma "scale" = 1 / (pixels · variance)).
        max_iter: logistic regression's L-BFGS iterations (whether it converged is reported).
        n_jobs: processes for the grid search.
        report_default: also fit sklearn's default C = 1 on the same images and report its test
            accuracy beside the tuned one (context only: it plays no part in the choice).

    Returns:
        {"dataset", "levels", "train_n" (used), "train_total", "test_n", "folds", "seed",
        "models": {name: {"test_accuracy", "best_params", "cv_accuracy", "cv_grid"
        [{"C", "mean", "std"}], "fit_seconds", "test_accuracy_default_c", ...}}}.
    """
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC

    unknown = sorted(set(models) - {"logreg", "svc"})
    if unknown or not models:
        raise ValueError(f"models must be some of logreg, svc, got {list(models)}")
    train, test = get_dataset(dataset, "train", levels), get_dataset(dataset, "test", levels)
    if not isinstance(train, TokenDataset) or not isinstance(test, TokenDataset):
        raise ValueError(f"dataset {dataset!r} is not a labelled image dataset")
    x_train, y_train = _pixels(train)
    x_test, y_test = _pixels(test)
    total = len(y_train)
    if train_n is not None and train_n < total:
        idx = subsample_stratified(y_train, train_n, seed)
        x_train, y_train = x_train[idx], y_train[idx]
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    specs: dict[str, tuple[Any, dict[str, list[Any]]]] = {
        "logreg": (LogisticRegression(max_iter=max_iter), {"C": list(logreg_c)}),
        "svc": (SVC(kernel="rbf", gamma="scale"), {"C": list(svc_c)}),
    }
    out: dict[str, Any] = {
        "dataset": dataset,
        "levels": levels,
        "train_n": int(len(y_train)),
        "train_total": int(total),
        "test_n": int(len(y_test)),
        "folds": folds,
        "seed": seed,
        "features": "flattened pixels / 255",
        "models": {},
    }
    for name in models:
        estimator, grid = specs[name]
        t0 = time.perf_counter()
        search = GridSearchCV(estimator, grid, cv=cv, scoring="accuracy", n_jobs=n_jobs, refit=True)
        search.fit(x_train, y_train)
        seconds = time.perf_counter() - t0
        best = search.best_estimator_
        res = search.cv_results_
        wrong = int((best.predict(x_test) != y_test).sum())
        entry: dict[str, Any] = {
            "test_accuracy": 1.0 - wrong / len(y_test),
            "test_errors": wrong,
            "best_params": {k: (float(v) if isinstance(v, int | float) else v) for k, v in search.best_params_.items()},
            "cv_accuracy": float(search.best_score_),
            "cv_grid": [
                {"C": float(p["C"]), "mean": float(m), "std": float(s)}
                for p, m, s in zip(res["params"], res["mean_test_score"], res["std_test_score"], strict=True)
            ],
            "fit_seconds": round(seconds, 2),
        }
        if name == "logreg":
            entry["max_iter"] = max_iter
            entry["converged"] = bool(int(np.max(best.n_iter_)) < max_iter)
        else:
            entry["gamma"] = "scale"
            entry["support_vectors"] = int(best.n_support_.sum())
        if report_default:
            default = clone(estimator).set_params(C=1.0).fit(x_train, y_train)
            entry["test_accuracy_default_c"] = float((default.predict(x_test) == y_test).mean())
        out["models"][name] = entry
    return out
