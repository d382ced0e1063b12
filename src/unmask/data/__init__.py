"""Datasets as token tensors (one grid, token videos, or paired named streams), and a deterministic resumable
batch order."""

from .base import DatasetNotAvailable, TokenDataset, batch_indices, stratified_split
from .captions import (
    CaptionDataset,
    load_caption_pairs,
    load_fashion_mnist_captions,
    load_scenes,
    parse_caption,
    render_scenes,
    scene_captions,
)
from .cityscapes import CITYSCAPES_CATEGORIES, CityscapesError, load_cityscapes
from .digits import load_digits
from .idx import IdxError, read_idx
from .mnist_like import load_fashion_mnist, load_mnist5k, read_fashion_mnist
from .registry import (
    CAPTION_DATASETS,
    DATASET_OPTIONS,
    DATASETS,
    VIDEO_DATASETS,
    dataset_names,
    get_dataset,
    is_caption_dataset,
    is_stream_dataset,
    is_text_dataset,
    is_video_dataset,
)
from .shapes import LABEL_CLASSES, SHAPE_CLASSES, dominant_class, load_shapes, load_shapes_labelled, render_shapes
from .streams import STREAM_KINDS, StreamDataset, index_streams, pairs_from_labels
from .text import KJV_ALPHABET, kjv_text, load_kjv
from .videos import (
    BOUNCING_CLASSES,
    VideoFileError,
    load_bouncing_shapes,
    load_moving_fashion_mnist,
    load_video_files,
    read_video_files,
    render_bouncing_shapes,
    render_moving_fashion_mnist,
)

__all__ = [
    "DatasetNotAvailable",
    "TokenDataset",
    "batch_indices",
    "stratified_split",
    "load_digits",
    "load_fashion_mnist",
    "read_fashion_mnist",
    "load_mnist5k",
    "read_idx",
    "IdxError",
    "DATASETS",
    "get_dataset",
    "dataset_names",
    "DATASET_OPTIONS",
    "is_text_dataset",
    "is_stream_dataset",
    "is_video_dataset",
    "VIDEO_DATASETS",
    "load_bouncing_shapes",
    "render_bouncing_shapes",
    "BOUNCING_CLASSES",
    "load_moving_fashion_mnist",
    "render_moving_fashion_mnist",
    "load_video_files",
    "read_video_files",
    "VideoFileError",
    "StreamDataset",
    "STREAM_KINDS",
    "index_streams",
    "pairs_from_labels",
    "load_shapes",
    "load_shapes_labelled",
    "dominant_class",
    "LABEL_CLASSES",
    "render_shapes",
    "SHAPE_CLASSES",
    "load_cityscapes",
    "CITYSCAPES_CATEGORIES",
    "CityscapesError",
    "load_kjv",
    "kjv_text",
    "KJV_ALPHABET",
    "CaptionDataset",
    "CAPTION_DATASETS",
    "is_caption_dataset",
    "load_scenes",
    "load_fashion_mnist_captions",
    "load_caption_pairs",
    "render_scenes",
    "scene_captions",
    "parse_caption",
]
