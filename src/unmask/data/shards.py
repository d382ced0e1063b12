"""Token shards on disk: pre-tokenised datasets as memory-mapped uint16 arrays (appendix C.1).

Layout of a shard directory (written by ``unmask tokenize`` / ``tokenize_dataset``)::

    DIR/
      manifest.json              written last: format, dataset, tokenizer spec + fingerprint,
                                 grid, vocab_size, classes, and per split the shards with
                                 count, bytes and SHA-256 of every file
      plan.json                  what is being tokenised (lets an interrupted run resume)
      train-00000.tokens.npy     uint16 (n, *grid) token ids in [0, vocab_size − 2]
      train-00000.labels.npy     int32 (n,) class ids (only for labelled datasets)
      train-00000.json           the shard's record; its presence marks the shard as finished
      …

Every file is written under a temporary name and renamed into place, and a shard's record is
written after its arrays, so an interrupted tokenisation leaves only whole shards behind.
``open_shards`` verifies sizes, SHA-256, array headers and token ranges against the manifest
and names the file at fault; ``ShardDataset`` then reads batches through memory maps (opened
lazily in each data-loader worker).

The files themselves (names, writing a shard, the manifest, checks) are in :mod:`.shard_files`.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..tokenizers import Tokenizer, build_tokenizer
from .shard_files import (
    MANIFEST_FILE,
    PLAN_FILE,
    SHARD_FORMAT,
    ShardError,
    _check_file,
    _open_npy,
    read_manifest,
    shard_name,
    write_shard,
)

__all__ = [
    "ShardError",
    "ShardDataset",
    "StepBatchSampler",
    "open_shards",
    "read_manifest",
    "write_shard",
    "shard_loader",
    "MANIFEST_FILE",
    "PLAN_FILE",
    "SHARD_FORMAT",
    "shard_name",
]


@dataclass
class _Shard:
    start: int
    count: int
    tokens: Path
    labels: Path | None


class _ShardArrays:
    """Global index → (tokens, labels) over a split's shards, through lazily opened memory maps.

    Pickles without its open maps, so each data-loader worker opens its own.
    """

    def __init__(self, shards: list[_Shard], grid: tuple[int, ...]) -> None:
        self.shards = shards
        self.grid = grid
        self.starts = np.array([s.start for s in shards], dtype=np.int64)
        self.total = sum(s.count for s in shards)
        self._maps: dict[int, tuple[np.ndarray, np.ndarray | None]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_maps"] = None
        return state

    def _arrays(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        if self._maps is None:
            self._maps = {}
        if i not in self._maps:
            s = self.shards[i]
            tok = np.load(s.tokens, mmap_mode="r", allow_pickle=False)
            lab = None if s.labels is None else np.load(s.labels, mmap_mode="r", allow_pickle=False)
            self._maps[i] = (tok, lab)
        return self._maps[i]

    def take(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows ``indices`` (global, in order): tokens int64 (B, *grid), labels int64 (B,) or None."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.total):
            raise IndexError(f"shard index out of range [0, {self.total})")
        which = np.searchsorted(self.starts, idx, side="right") - 1
        tokens = np.empty((len(idx), *self.grid), dtype=np.int64)
        labels = None if self.shards and self.shards[0].labels is None else np.empty(len(idx), dtype=np.int64)
        for shard in np.unique(which):
            sel = np.flatnonzero(which == shard)
            local = idx[sel] - self.starts[shard]
            tok, lab = self._arrays(int(shard))
            tokens[sel] = tok[local]
            if labels is not None and lab is not None:
                labels[sel] = lab[local]
        return tokens, labels


@dataclass
class ShardDataset:
    """One split of a verified shard set; the same interface as ``TokenDataset`` where the trainer needs it.

    Attributes:
        name: the dataset the shards hold (manifest ``dataset``).
        split: "train" / "test" / ….
        directory: the shard directory.
        num_classes, class_names: from the manifest.
        tokenizer: the tokenizer that made the tokens (rebuilt from the manifest spec; decodes samples).
        grid: token grid of one example.
        fingerprint: the tokenizer's fingerprint.
    """

    name: str
    split: str
    directory: Path
    num_classes: int
    tokenizer: Tokenizer
    grid: tuple[int, ...]
    fingerprint: str
    arrays: _ShardArrays
    class_names: tuple[str, ...] = ()
    _tokens: Tensor | None = field(default=None, repr=False)
    _labels: Tensor | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.arrays.total

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def _materialise(self) -> None:
        if self._tokens is None:
            tok, lab = self.arrays.take(np.arange(len(self)))
            self._tokens = torch.from_numpy(tok)
            self._labels = None if lab is None else torch.from_numpy(lab)

    @property
    def tokens(self) -> Tensor:
        """All tokens of the split in memory, (N, *grid) int64 (read once; meant for small splits such as test)."""
        self._materialise()
        assert self._tokens is not None
        return self._tokens

    @property
    def labels(self) -> Tensor | None:
        """All labels (N,) int64, or None for unlabelled data."""
        if self.arrays.shards and self.arrays.shards[0].labels is None:
            return None
        self._materialise()
        return self._labels

    @property
    def has_labels(self) -> bool:
        return bool(self.arrays.shards) and self.arrays.shards[0].labels is not None

    def images(self) -> np.ndarray:
        return self.tokenizer.decode(self.tokens)


def open_shards(
    directory: str | Path,
    split: str = "train",
    *,
    expect_fingerprint: str | None = None,
    expect_dataset: str | None = None,
    verify: str = "hash",
    tokenizer: Tokenizer | None = None,
) -> ShardDataset:
    """Open and verify split ``split`` of the shard set in ``directory``.

    Args:
        expect_fingerprint: refuse shards whose tokenizer fingerprint differs (the model's tokenizer).
        expect_dataset: refuse shards of another dataset.
        verify: "hash" (sizes, SHA-256, headers, token ranges: reads every byte once) or "size"
            (sizes and headers only).
        tokenizer: the tokenizer to attach (default: rebuilt from the manifest's spec).

    Raises:
        ShardError: naming the file and what is wrong.
    """
    if verify not in ("hash", "size"):
        raise ValueError(f"verify must be 'hash' or 'size', got {verify!r}")
    d = Path(directory)
    manifest = read_manifest(d)
    mpath = d / MANIFEST_FILE
    if expect_fingerprint is not None and manifest["fingerprint"] != expect_fingerprint:
        spec = manifest["tokenizer"]
        raise ShardError(
            f"shards in {str(d)!r} were made by another tokenizer ({spec.get('name')} "
            f"{spec.get('path', spec.get('levels', ''))}, fingerprint {manifest['fingerprint'][:12]}…) than the one "
            f"the config names (fingerprint {expect_fingerprint[:12]}…); re-tokenise with that tokenizer or point "
            "data.tokenizer at the one that made them"
        )
    if expect_dataset is not None and manifest["dataset"] != expect_dataset:
        raise ShardError(f"shards in {str(d)!r} hold dataset {manifest['dataset']!r}, but data.name={expect_dataset!r}")
    splits = manifest["splits"]
    if split not in splits:
        raise ShardError(f"{str(mpath)!r} has no split {split!r} (it has {', '.join(sorted(splits)) or 'none'})")
    grid = tuple(int(g) for g in manifest["grid"])
    vocab = int(manifest["vocab_size"])
    tok = tokenizer if tokenizer is not None else build_tokenizer(manifest["tokenizer"])
    if tok.vocab_size != vocab:
        raise ShardError(f"{str(mpath)!r} says vocab_size {vocab}, its tokenizer has {tok.vocab_size}")
    labelled = int(manifest["num_classes"]) > 0
    shards: list[_Shard] = []
    start = 0
    info = splits[split]
    for i, rec in enumerate(info["shards"]):
        if rec.get("index") != i or rec.get("split") != split:
            raise ShardError(f"{str(mpath)!r}: shard {i} of split {split!r} is listed out of order or mislabelled")
        count = int(rec["count"])
        tp = _check_file(d, rec["tokens"], "tokens", verify == "hash")
        arr = _open_npy(tp, np.dtype(np.uint16), (count, *grid))
        if verify == "hash" and count:
            hi = int(arr.max())
            if hi > vocab - 2:
                raise ShardError(
                    f"shard file {str(tp)!r} holds token id {hi}, outside the data vocabulary [0, {vocab - 2}]"
                )
        lp = None
        if labelled:
            if rec.get("labels") is None:
                raise ShardError(f"{str(mpath)!r}: shard {rec['tokens']['file']} of a labelled dataset has no labels")
            lp = _check_file(d, rec["labels"], "labels", verify == "hash")
            lab = _open_npy(lp, np.dtype(np.int32), (count,))
            if verify == "hash" and count and (lab.min() < 0 or lab.max() >= int(manifest["num_classes"])):
                raise ShardError(
                    f"shard file {str(lp)!r} holds labels in [{lab.min()}, {lab.max()}], outside the "
                    f"{manifest['num_classes']} classes"
                )
        shards.append(_Shard(start, count, tp, lp))
        start += count
    if start != int(info["count"]):
        raise ShardError(f"{str(mpath)!r}: split {split!r} lists {info['count']} examples but its shards hold {start}")
    return ShardDataset(
        name=manifest["dataset"],
        split=split,
        directory=d,
        num_classes=int(manifest["num_classes"]),
        tokenizer=tok,
        grid=grid,
        fingerprint=manifest["fingerprint"],
        arrays=_ShardArrays(shards, grid),
        class_names=tuple(manifest.get("class_names", ())),
    )


def manifest_splits(directory: str | Path) -> list[str]:
    """Split names of a finished shard set."""
    return sorted(read_manifest(directory)["splits"])


# -- loading batches ----------------------------------------------------------------------------


class StepBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Yields ``batch_indices(n, batch_size, step, seed)`` for step = start … stop − 1: the trainer's exact
    deterministic batch order, so a run reading shards sees the batches an in-memory run would."""

    def __init__(self, n: int, batch_size: int, seed: int, start: int, stop: int) -> None:
        self.n, self.batch_size, self.seed, self.start, self.stop = n, batch_size, seed, start, stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        from .base import batch_indices

        for step in range(self.start, self.stop):
            yield batch_indices(self.n, self.batch_size, step, self.seed).tolist()


class _BatchReader(torch.utils.data.Dataset[tuple[Tensor, Tensor]]):
    """``reader[list_of_indices]`` → one whole batch (tokens int64, labels int64 or an empty tensor)."""

    def __init__(self, arrays: _ShardArrays) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return self.arrays.total

    def __getitem__(self, indices: list[int]) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        tok, lab = self.arrays.take(np.asarray(indices))
        return torch.from_numpy(tok), torch.from_numpy(lab) if lab is not None else torch.empty(0, dtype=torch.long)


def shard_loader(
    dataset: ShardDataset,
    *,
    batch_size: int,
    seed: int,
    start: int,
    stop: int,
    workers: int = 0,
    pin_memory: bool = False,
) -> torch.utils.data.DataLoader[tuple[Tensor, Tensor]]:
    """A ``DataLoader`` over batches ``start … stop − 1`` of ``dataset`` in the trainer's order.

    Each item is a whole batch: (tokens (B, *grid) int64, labels (B,) int64 — empty when unlabelled).
    ``workers`` > 0 reads in that many processes (each opens its own memory maps), prefetching ahead.
    The worker processes ignore SIGTERM and SIGINT: a signal sent to the whole process group (a
    scheduler's stop, ``pkill -f``, Ctrl-C in a terminal) is the main process's to handle — it stops
    at the next step boundary with a checkpoint and then shuts the workers down — instead of killing a
    worker and crashing the run with "DataLoader worker … killed by signal".
    """
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    return _StopSignalSafeLoader(
        _BatchReader(dataset.arrays),
        sampler=StepBatchSampler(len(dataset), batch_size, seed, start, stop),
        batch_size=None,
        num_workers=workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        worker_init_fn=_ignore_stop_signals if workers else None,
    )


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class _StopSignalSafeLoader(torch.utils.data.DataLoader):  # type: ignore[type-arg]
    """A ``DataLoader`` whose worker processes are born with SIGTERM / SIGINT blocked (the mask a forked or
    spawned child inherits), so that a stop signal arriving before a worker has run its ``worker_init_fn``
    stays pending and is then discarded by ``_ignore_stop_signals`` instead of killing the worker. The main
    process blocks them only while it starts the workers; a signal it receives meanwhile is delivered when
    the block ends, not lost."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        if self.num_workers == 0 or not hasattr(signal, "pthread_sigmask"):
            return super().__iter__()
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            return super().__iter__()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _ignore_stop_signals(worker_id: int) -> None:
    """A loader worker's start: leave SIGTERM / SIGINT to the main process (see ``shard_loader``).
    A worker still exits when the main process does (the loader's shutdown, or torch's watchdog
    when the parent is gone)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # born blocked (_StopSignalSafeLoader): pending ones are now ignored
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def expected_shards(count: int, shard_size: int) -> int:
    return max(1, math.ceil(count / shard_size)) if count else 0
