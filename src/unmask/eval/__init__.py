"""Evaluation: an independent classifier trained on real data, and conditional accuracy of samples."""

from .accuracy import ConditionalAccuracy, conditional_accuracy
from .classifier import ClassifierReport, ImageClassifier, cache_dir, load_or_train_classifier, train_classifier

__all__ = [
    "ImageClassifier",
    "ClassifierReport",
    "train_classifier",
    "load_or_train_classifier",
    "cache_dir",
    "ConditionalAccuracy",
    "conditional_accuracy",
]
