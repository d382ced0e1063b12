"""Datasets as token tensors (one grid, or paired named streams), and a deterministic resumable batch order."""

from .base import DatasetNotAvailable, TokenDataset, batch_indices, stratified_split
from .cityscapes import CITYSCAPES_CATEGORIES, CityscapesError, load_cityscapes
from .digits import load_digits
from .idx import IdxError, read_idx
from .mnist_like import load_fashion_mnist, load_mnist5k
from .registry import DATASET_OPTIONS, DATASETS, dataset_names, get_dataset, is_stream_dataset, is_text_dataset
from .shapes import SHAPE_CLASSES, load_shapes, render_shapes
from .streams import STREAM_KINDS, StreamDataset, index_streams, pairs_from_labels
from .text import KJV_ALPHABET, kjv_text, load_kjv

__all__ = [
    "DatasetNotAvailable",
    "TokenDataset",
    "batch_indices",
    "stratified_split",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist5k",
    "read_idx",
    "IdxError",
    "DATASETS",
    "get_dataset",
    "dataset_names",
    "DATASET_OPTIONS",
    "is_text_dataset",
    "is_stream_dataset",
    "StreamDataset",
    "STREAM_KINDS",
    "index_streams",
    "pairs_from_labels",
    "load_shapes",
    "render_shapes",
    "SHAPE_CLASSES",
    "load_cityscapes",
    "CITYSCAPES_CATEGORIES",
    "CityscapesError",
    "load_kjv",
    "kjv_text",
    "KJV_ALPHABET",
]
