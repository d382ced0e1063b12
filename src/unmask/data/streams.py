"""Datasets of paired token streams (image + segmentation mask, image + class label), held in memory.

A ``StreamDataset`` is the multi-stream counterpart of ``TokenDataset``: a dict of
named token tensors that share their first axis (the example), each stream with its
own vocabulary ([MASK] = its last id, never in the data) and its kind:

* ``"image"``: grey-level pixel tokens, decoded by ``tokenizer``;
* ``"segmentation"``: a per-pixel class map, ids = classes (``class_names[stream]``);
* ``"label"``: one class id per example, grid (1,).

Image ↔ label pairs of the single-stream datasets (``digits-pairs``,
``fashion-mnist-pairs``) turn a class label into a 1-token stream of vocabulary
num_classes + 1, so classification becomes unmasking that token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..tokenizers import Tokenizer
from .base import TokenDataset

__all__ = ["StreamDataset", "STREAM_KINDS", "pairs_from_labels", "index_streams", "as_tensor_streams"]

STREAM_KINDS = ("image", "segmentation", "label")


def index_streams(streams: dict[str, Tensor], idx: Tensor | slice) -> dict[str, Tensor]:
    """Every stream restricted to the examples ``idx``."""
    return {k: v[idx] for k, v in streams.items()}


@dataclass
class StreamDataset:
    """Paired token streams held in memory.

    Attributes:
        name: dataset registry name.
        split: "train" or "test".
        streams: {name: (N, *grid_s) int64 ids in [0, vocab_s − 2]}, in stream order.
        vocab_sizes: {name: V_s} ids including the stream's [MASK].
        kinds: {name: one of ``STREAM_KINDS``}.
        tokenizer: decodes the image stream ``image_stream`` (pixel tokens).
        class_names: {stream: names of its classes} for segmentation and label streams.
        image_stream: the stream ``images()`` decodes and image metrics compare.
    """

    name: str
    split: str
    streams: dict[str, Tensor]
    vocab_sizes: dict[str, int]
    kinds: dict[str, str]
    tokenizer: Tokenizer
    class_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    image_stream: str = "image"

    def __post_init__(self) -> None:
        if not self.streams:
            raise ValueError(f"dataset {self.name!r} has no streams")
        n = {int(v.shape[0]) for v in self.streams.values()}
        if len(n) != 1:
            raise ValueError(f"dataset {self.name!r}: streams have different lengths {sorted(n)}")
        for k in self.streams:
            if k not in self.vocab_sizes or k not in self.kinds:
                raise ValueError(f"dataset {self.name!r}: stream {k!r} has no vocabulary size or kind")
            if self.kinds[k] not in STREAM_KINDS:
                raise ValueError(f"stream {k!r} kind must be one of {', '.join(STREAM_KINDS)}, got {self.kinds[k]!r}")
        if self.image_stream not in self.streams:
            raise ValueError(
                f"dataset {self.name!r}: image stream {self.image_stream!r} is not one of {list(self.streams)}"
            )

    @property
    def labels(self) -> None:
        """No class-token labels: a label that is modelled is a stream."""
        return None

    @property
    def num_classes(self) -> int:
        """0: no class token (see ``labels``)."""
        return 0

    def __len__(self) -> int:
        return int(next(iter(self.streams.values())).shape[0])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.streams)

    @property
    def grids(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(int(g) for g in v.shape[1:]) for k, v in self.streams.items()}

    @property
    def grid(self) -> tuple[int, ...]:
        """The image stream's grid: the shape of ``images()`` (what image metrics compare)."""
        return self.grids[self.image_stream]

    @property
    def vocab_size(self) -> int:
        """The image stream's ids including [MASK] (``tokenizer.vocab_size``)."""
        return self.vocab_sizes[self.image_stream]

    def images(self) -> np.ndarray:
        """The image stream decoded to uint8 images (N, *grid)."""
        return np.asarray(self.tokenizer.decode(self.streams[self.image_stream]))

    def stream_classes(self, name: str) -> int:
        """Classes of a segmentation or label stream (its vocabulary without [MASK])."""
        if self.kinds.get(name) not in ("segmentation", "label"):
            raise ValueError(f"stream {name!r} of {self.name!r} is not a segmentation or label stream")
        return self.vocab_sizes[name] - 1


def pairs_from_labels(data: TokenDataset, name: str) -> StreamDataset:
    """An image + label ``StreamDataset`` from a labelled image ``TokenDataset``: the label becomes a
    1-token stream "label" (grid (1,), vocabulary num_classes + 1)."""
    if data.labels is None or data.num_classes < 1:
        raise ValueError(f"dataset {data.name!r} has no labels to pair with its images")
    return StreamDataset(
        name=name,
        split=data.split,
        streams={"image": data.tokens, "label": data.labels.reshape(-1, 1).long()},
        vocab_sizes={"image": data.vocab_size, "label": data.num_classes + 1},
        kinds={"image": "image", "label": "label"},
        tokenizer=data.tokenizer,
        class_names={"label": tuple(data.class_names) or tuple(str(i) for i in range(data.num_classes))},
    )


def as_tensor_streams(arrays: dict[str, np.ndarray]) -> dict[str, Tensor]:
    """int64 tensors of integer arrays."""
    return {k: torch.from_numpy(np.ascontiguousarray(v).astype(np.int64)) for k, v in arrays.items()}
