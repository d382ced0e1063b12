"""The training data of a run and its batches.

``load_training_data`` opens the (train, test) data a config names: in-memory tokens, or token
shards checked against the run's tokenizer. ``training_batches`` yields the batches of steps
``start … stop − 1`` in ``batch_indices`` order, so batch order is a pure function of the step
(what makes a resumed run equal an uninterrupted one).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import torch
from torch import Tensor

from ..config import Config, ConfigError
from ..data import StreamDataset, TokenDataset, batch_indices, get_dataset, index_streams
from ..data.augment import shift_generator, shift_streams, shift_tokens, stream_shift_factors
from ..data.shards import ShardDataset, ShardError, open_shards, read_manifest, shard_loader
from ..tokenizers import load_tokenizer, tokenizer_fingerprint

__all__ = ["AnyDataset", "check_shift", "load_training_data", "training_batches", "positions_per_sample"]

#: What a run trains on: in-memory tokens, token shards on disk, or aligned streams.
AnyDataset = TokenDataset | ShardDataset | StreamDataset


def load_training_data(config: Config) -> tuple[AnyDataset, AnyDataset | None]:
    """The (train, held-out) data of ``config``: in-memory pixel tokens, or verified shards (``data.shards``).

    The held-out data is the split ``train.eval_split`` names (``test`` unless told). Shards are refused
    unless they were made by the tokenizer ``data.tokenizer`` names and hold the dataset ``data.name``;
    the held-out data is None when the shard set has no test split and ``eval_split`` is ``test``; a
    split the dataset or the shard set lacks is a ``ConfigError`` naming ``train.eval_split``.
    """
    split = config.train.eval_split
    if config.data.shards is None:
        try:
            named = get_dataset(config.data.name, split, **config.data.options())
        except ValueError as err:
            if split == "test":
                raise
            raise ConfigError(f"train.eval_split={split!r}: {err}") from None
        return get_dataset(config.data.name, "train", **config.data.options()), named
    assert config.data.tokenizer is not None
    tokenizer = load_tokenizer(config.data.tokenizer)
    expect = tokenizer_fingerprint(tokenizer.config())
    try:
        train = open_shards(
            config.data.shards, "train", expect_fingerprint=expect, expect_dataset=config.data.name, tokenizer=tokenizer
        )
        held_out = None
        splits = read_manifest(config.data.shards)["splits"]
        if split in splits:
            held_out = open_shards(config.data.shards, split, expect_fingerprint=expect, tokenizer=tokenizer)
        elif split != "test":
            raise ConfigError(
                f"train.eval_split={split!r}: the shards in {config.data.shards} have no such split "
                f"(they have {', '.join(sorted(splits))})"
            )
    except ShardError as err:
        raise ConfigError(str(err)) from None
    return train, held_out


def training_batches(
    dataset: AnyDataset, config: Config, start: int, stop: int, device: torch.device
) -> Generator[tuple[Any, Tensor | None], None, None]:
    """Training batches ``start … stop − 1`` as (tokens, labels) on ``device``, in ``batch_indices`` order.

    In-memory data is indexed on the device; shards are read by a ``DataLoader`` with
    ``train.workers`` worker processes. Both give the same batches for the same tokens.
    Multi-stream data gives {stream: tokens} and no labels. With ``data.shift`` > 0 every
    in-memory batch is randomly translated (``unmask.data.augment``), by draws that depend only on
    (seed, step).
    """
    tc = config.train
    shift = check_shift(dataset, config.data.shift)
    if isinstance(dataset, StreamDataset):
        streams = {k: v.to(device) for k, v in dataset.streams.items()}
        for step in range(start, stop):
            idx = batch_indices(len(dataset), tc.batch_size, step, tc.seed).to(device)
            batch = index_streams(streams, idx)
            if shift:
                batch = shift_streams(batch, dataset.grids, shift, shift_generator(tc.seed, step))
            yield batch, None
        return
    if isinstance(dataset, ShardDataset):
        loader = shard_loader(
            dataset,
            batch_size=tc.batch_size,
            seed=tc.seed,
            start=start,
            stop=stop,
            workers=tc.workers,
            pin_memory=device.type == "cuda",
        )
        it = iter(loader)
        try:
            for tokens, labels in it:
                yield tokens.to(device, non_blocking=True), (labels.to(device) if labels.numel() else None)
        finally:
            del it
        return
    tokens = dataset.tokens.to(device)
    labels = dataset.labels.to(device) if dataset.labels is not None else None
    for step in range(start, stop):
        idx = batch_indices(len(dataset), tc.batch_size, step, tc.seed).to(device)
        batch_tokens = tokens[idx]
        if shift:
            batch_tokens = shift_tokens(batch_tokens, shift, shift_generator(tc.seed, step))
        yield batch_tokens, (labels[idx] if labels is not None else None)


def check_shift(dataset: AnyDataset, shift: int) -> int:
    """``shift`` when ``dataset``'s grids can be moved by it, else ``ConfigError`` naming why.

    Token shards are not shifted (the config refuses ``data.shift`` with shards); a grid must have
    two spatial axes, and the shift must be smaller than the coarsest one's side.
    """
    if shift == 0:
        return 0
    if isinstance(dataset, ShardDataset):
        raise ConfigError(f"data.shift={shift} applies to in-memory datasets only, not to data.shards")
    grids = dataset.grids if isinstance(dataset, StreamDataset) else {"tokens": dataset.grid}
    try:
        factors = stream_shift_factors(grids)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if not factors:
        raise ConfigError(f"data.shift={shift} moves 2-D grids; {dataset.name!r} has grids {grids}")
    side = min(min(grids[k][-2:]) // f for k, f in factors.items())
    if shift >= side:
        raise ConfigError(f"data.shift={shift} must be smaller than the coarsest grid's side ({side})")
    return shift


def positions_per_sample(dataset: AnyDataset) -> int:
    """Token positions of one sample: the product of its grid (summed over streams)."""
    if isinstance(dataset, StreamDataset):
        return sum(math.prod(g) for g in dataset.grids.values())
    return math.prod(dataset.grid)
