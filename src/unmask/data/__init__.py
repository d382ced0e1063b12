"""Datasets as token tensors, and a deterministic resumable batch order."""

from .base import DatasetNotAvailable, TokenDataset, batch_indices, stratified_split
from .digits import load_digits
from .idx import IdxError, read_idx
from .mnist_like import load_fashion_mnist, load_mnist5k
from .registry import DATASET_OPTIONS, DATASETS, dataset_names, get_dataset, is_text_dataset
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
    "load_kjv",
    "kjv_text",
    "KJV_ALPHABET",
]
