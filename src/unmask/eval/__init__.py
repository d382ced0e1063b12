"""Evaluation of generated images, and held-out likelihoods.

* An independent classifier trained on real data, and conditional accuracy of samples.
* Feature extractors (:mod:`.features`: EfficientNet-Lite0, pytorch-fid's Inception-v3),
  Fréchet distance, improved precision / recall, an Inception-Score-style score,
  cached reference features of real splits, and :func:`evaluate_samples` tying them together.
* :func:`held_out_nll`: negative ELBO / exact NLL per token on a held-out split.
* Clips (:mod:`.video`): frame-level Fréchet distance and temporal consistency (mean
  absolute frame-to-frame change against the data's).
* Segmentation and classification scores (:mod:`.segmentation`): confusion matrix, mIoU,
  pixel accuracy, accuracy, per-pixel uncertainty of several sampled maps.
* Whether clips show one object moving like a bouncing body (:mod:`.motion`), and the track error
  of continued clips.
* Text samples (:mod:`.text_quality`): NLL under an autoregressive judge, n-gram entropies, distinct-n.
* The baselines a practitioner would pick instead of a joint model (:mod:`.discriminative_baselines`):
  scikit-learn classifiers on pixels, a convolutional U-Net segmenter trained to its plateau; that
  U-Net as the judge of generated images (:mod:`.segmenter_judge`: does a mask → image sample show its mask).
"""

from . import segmentation
from .accuracy import ConditionalAccuracy, conditional_accuracy
from .baselines import IndependentPixelSampler
from .classifier import ClassifierReport, ImageClassifier, cache_dir, load_or_train_classifier, train_classifier
from .discriminative_baselines import (
    SegmenterRun,
    sklearn_classifier_baselines,
    train_unet_segmenter,
    unet_segmenter_baseline,
)
from .features import FeatureExtractor, get_extractor
from .frechet import FeatureStats, frechet_distance
from .inception_score import InceptionScore, inception_score
from .likelihood import LikelihoodReport, held_out_nll
from .motion import MotionParams, clip_motion, continuation_error, motion_report
from .precision_recall import PrecisionRecall, precision_recall
from .reconstruction import evaluate_tokenizer, held_out_indices, psnr
from .reference import ReferenceFeatures, reference_features
from .report import evaluate_samples
from .segmentation import *  # noqa: F403  (re-exported whole: __all__ below)
from .sprite_motion import SpriteMotionParams, clip_sprite_motion, sprite_continuation_error, sprite_motion_report
from .text_quality import TextSampleReport, text_sample_report
from .video import TemporalConsistency, evaluate_videos, frame_fd, mean_abs_change, temporal_consistency

__all__ = [
    "IndependentPixelSampler",
    "ImageClassifier",
    "ClassifierReport",
    "train_classifier",
    "load_or_train_classifier",
    "cache_dir",
    "ConditionalAccuracy",
    "conditional_accuracy",
    "FeatureExtractor",
    "get_extractor",
    "FeatureStats",
    "frechet_distance",
    "PrecisionRecall",
    "precision_recall",
    "InceptionScore",
    "inception_score",
    "ReferenceFeatures",
    "reference_features",
    "evaluate_samples",
    "held_out_nll",
    "LikelihoodReport",
    "evaluate_tokenizer",
    "held_out_indices",
    "psnr",
    "evaluate_videos",
    "frame_fd",
    "mean_abs_change",
    "temporal_consistency",
    "TemporalConsistency",
    "MotionParams",
    "clip_motion",
    "continuation_error",
    "motion_report",
    "SpriteMotionParams",
    "clip_sprite_motion",
    "sprite_continuation_error",
    "sprite_motion_report",
    "TextSampleReport",
    "text_sample_report",
    "SegmenterRun",
    "sklearn_classifier_baselines",
    "train_unet_segmenter",
    "unet_segmenter_baseline",
]
__all__ += segmentation.__all__
