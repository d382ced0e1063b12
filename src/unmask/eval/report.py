"""One call that scores generated images against a real dataset.

Distribution metrics use features of a pretrained network (EfficientNet-Lite0 by default,
or pytorch-fid's Inception for a true FID): Fréchet distance and improved precision /
recall against cached reference features of the real split. Class-based metrics use the
dataset's independent classifier: an Inception-Score-style score of its p(y|x) and, for
samples that carry labels, conditional accuracy.
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from .accuracy import conditional_accuracy
from .classifier import ClassifierReport, load_or_train_classifier
from .features import DEFAULT_EXTRACTOR, FeatureExtractor, get_extractor, torch_threads
from .frechet import FeatureStats, frechet_distance
from .inception_score import inception_score
from .precision_recall import precision_recall
from .reference import reference_features

__all__ = ["evaluate_samples", "check_samples"]


def check_samples(images: np.ndarray, labels: np.ndarray | None, expected_shape: tuple[int, ...], ref: str) -> None:
    """Raise ValueError unless ``images`` is uint8 (N, *expected_shape), N ≥ 2, and ``labels`` None or (N,) ints."""
    FeatureExtractor.check_images(images, UserError)
    if tuple(images.shape[1:]) != tuple(expected_shape):
        want = ", ".join(str(s) for s in expected_shape)
        raise UserError(
            f"images of shape {images.shape} do not match the reference dataset {ref!r}: expected (N, {want})"
        )
    if len(images) < 2:
        raise UserError(f"need at least 2 images to compare distributions, got {len(images)}")
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 1 or len(lab) != len(images):
            raise UserError(f"labels must have shape ({len(images)},) to match the images, got {lab.shape}")
        if not np.issubdtype(lab.dtype, np.integer):
            raise UserError(f"labels must be integers (-1 for none), got dtype {lab.dtype}")


def evaluate_samples(
    images: np.ndarray,
    labels: np.ndarray | None,
    ref: str,
    *,
    extractor: str | FeatureExtractor = DEFAULT_EXTRACTOR,
    ref_split: str = "test",
    classifier: bool | str | ClassifierReport = True,
    pr_k: int = 3,
    ref_n: int | None = None,
    levels: int | None = None,
    batch_size: int = 16,
    progress: bool | None = None,
) -> dict[str, object]:
    """Score generated images against the real split ``ref_split`` of dataset ``ref``.

    Args:
        images: uint8 (N, H, W) or (N, H, W, 3), N ≥ 2, each image shaped like the dataset's.
        labels: (N,) class labels the samples were generated for; -1 (or None) for unconditional
            samples. Conditional accuracy is computed over the samples with labels ≥ 0.
        ref: registered dataset name.
        extractor: feature extractor spec (see :func:`get_extractor`) or instance.
        ref_split: split whose images are the reference.
        classifier: True: the dataset's cached classifier (trained on first use); a dataset
            name: that dataset's (e.g. ``shapes-labelled``'s, trained on its label stream, for
            samples compared with the ``shapes`` images); a :class:`ClassifierReport` to use
            that one; False: skip the class-based metrics.
        pr_k: k of the k-NN balls of precision / recall (needs N > k and ref_n > k).
        ref_n: number of reference images (default: the whole split).
        levels: grey levels the reference images are quantised to (``get_dataset(ref, split, levels)``;
            None: the dataset's default); should be those the samples' model was trained with.
        batch_size, progress: for the feature extractor.

    Returns:
        A JSON-serialisable dict:

        * ``n``, ``ref``, ``ref_split``, ``ref_n``; ``extractor`` (its name, with the weights hash);
        * ``fd``: Fréchet distance in that feature space (an FID only with ``inception-v3``);
        * ``precision``, ``recall`` in [0, 1], with ``pr_k``;
        * ``inception_score``: exp E KL(p(y|x) ‖ p(y)) with the dataset's own classifier (not
          Inception), in [1, C];
        * ``conditional_accuracy``, ``conditional_accuracy_per_class``, ``conditional_accuracy_n``:
          over the samples with labels ≥ 0 (None when there are none);
        * ``classifier_test_accuracy``: the classifier's accuracy on the real test split.

        Class-based entries are None with ``classifier=False``.
    """
    from ..data import get_dataset

    if pr_k < 1:
        raise UserError(f"pr_k must be >= 1, got {pr_k}")
    expected_shape = get_dataset(ref, ref_split, levels).grid
    check_samples(images, labels, expected_shape, ref)
    if len(images) <= pr_k:
        raise UserError(f"precision/recall with k = {pr_k} needs more than {pr_k} images, got {len(images)}")
    ext = get_extractor(extractor)

    reference = reference_features(
        ref, ref_split, ext, n=ref_n, levels=levels, batch_size=batch_size, progress=progress
    )
    feats = ext(images, batch_size=batch_size, progress=progress)
    fd = frechet_distance(FeatureStats.from_features(feats), reference.stats)
    pr = precision_recall(reference.features, feats, k=pr_k)

    report: dict[str, object] = {
        "n": int(len(images)),
        "ref": ref,
        "ref_split": ref_split,
        "ref_n": reference.n,
        "extractor": ext.name,
        "fd": fd,
        "precision": pr.precision,
        "recall": pr.recall,
        "pr_k": pr_k,
        "inception_score": None,
        "conditional_accuracy": None,
        "conditional_accuracy_per_class": None,
        "conditional_accuracy_n": None,
        "classifier_test_accuracy": None,
    }
    if classifier is False:
        return report
    # a tiny CNN on tiny images: extra threads only wait for each other (see unmask.eval._threads)
    with torch_threads(ext.num_threads):
        if isinstance(classifier, ClassifierReport):
            clf = classifier
        else:
            clf = load_or_train_classifier(ref if classifier is True else classifier, levels=levels)
        report["classifier_test_accuracy"] = float(clf.test_accuracy)
        report["inception_score"] = inception_score(clf.model.predict_proba(images)).mean
        if labels is not None:
            lab = np.asarray(labels).astype(np.int64)
            keep = lab >= 0
            if keep.any():
                acc = conditional_accuracy(clf.model, images[keep], lab[keep])
                report["conditional_accuracy"] = acc.accuracy
                report["conditional_accuracy_per_class"] = acc.per_class
                report["conditional_accuracy_n"] = acc.n
    return report
