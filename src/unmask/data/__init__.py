"""Datasets as token tensors, and a deterministic resumable batch order."""

from .base import DatasetNotAvailable, TokenDataset, batch_indices, stratified_split
from .digits import load_digits
from .registry import DATASETS, dataset_names, get_dataset

__all__ = [
    "DatasetNotAvailable",
    "TokenDataset",
    "batch_indices",
    "stratified_split",
    "load_digits",
    "DATASETS",
    "get_dataset",
    "dataset_names",
]
