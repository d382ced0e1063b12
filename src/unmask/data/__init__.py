"""Datasets as token tensors, and a deterministic resumable batch order."""

from .base import TokenDataset, batch_indices, stratified_split
from .digits import load_digits
from .registry import DATASETS, dataset_names, get_dataset

__all__ = ["TokenDataset", "batch_indices", "stratified_split", "load_digits", "DATASETS", "get_dataset", "dataset_names"]
