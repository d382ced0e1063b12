"""Pre-tokenisation: encode a dataset once into token shards (``unmask tokenize``).

``tokenize_dataset(tokenizer, dataset, out)`` splits every split into shards of
``shard_size`` images, encodes them (in ``workers`` processes, each with one torch thread),
and writes each shard with ``write_shard``; ``manifest.json`` comes last. A ``plan.json``
written first records the tokenizer fingerprint, the dataset and the shard size: running
the same command again skips every shard whose record exists and whose files still match
it, and a different tokenizer / dataset / shard size in the same directory is refused.
"""

from __future__ import annotations

import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_text
from ..errors import UserError
from ..tokenizers import Tokenizer, build_tokenizer, file_sha256, load_tokenizer, tokenizer_fingerprint
from .images import ImageSource, open_image_source
from .shards import MANIFEST_FILE, PLAN_FILE, SHARD_FORMAT, ShardError, shard_name, write_shard

__all__ = ["tokenize_dataset", "TokenizeResult"]


@dataclass
class TokenizeResult:
    """The finished shard set: directory, shards encoded now vs. found finished, examples, seconds."""

    directory: Path
    encoded: int
    skipped: int
    examples: dict[str, int]
    seconds: float


def _record_ok(out: Path, split: str, index: int, count: int, labelled: bool) -> dict[str, Any] | None:
    """The shard's record if the shard is finished and its files still match it, else None."""
    rec_path = out / f"{shard_name(split, index)}.json"
    if not rec_path.is_file():
        return None
    try:
        rec = json.loads(rec_path.read_text())
        files = [rec["tokens"]] + ([rec["labels"]] if labelled else [])
        if rec["count"] != count or (labelled and rec["labels"] is None):
            return None
        for f in files:
            p = out / f["file"]
            if not p.is_file() or p.stat().st_size != f["bytes"] or file_sha256(p) != f["sha256"]:
                return None
        return rec  # type: ignore[no-any-return]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None


# Worker state: each process builds the tokenizer and the image source once.
_WORKER: dict[str, Any] = {}


def _init_worker(tokenizer_spec: dict[str, Any], source_spec: dict[str, Any], threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER["tokenizer"] = build_tokenizer(tokenizer_spec)
    _WORKER["source"] = open_image_source(
        source_spec["dataset"], **{k: v for k, v in source_spec.items() if k != "dataset"}
    )


def _encode_shard(
    out: str,
    split: str,
    index: int,
    start: int,
    stop: int,
    tokenizer: Tokenizer | None = None,
    source: ImageSource | None = None,
) -> dict[str, Any]:
    tok = tokenizer if tokenizer is not None else _WORKER["tokenizer"]
    src = source if source is not None else _WORKER["source"]
    images, labels = src.read(split, start, stop)
    tokens = tok.encode(images).numpy()
    return write_shard(out, split, index, tokens, labels, tok.vocab_size)


def tokenize_dataset(
    tokenizer: str | Tokenizer,
    dataset: str,
    out: str | Path,
    *,
    splits: list[str] | None = None,
    shard_size: int = 10_000,
    workers: int = 1,
    image_size: int | None = None,
    progress: bool | None = None,
) -> TokenizeResult:
    """Encode ``dataset`` (a registered name or an image folder) with ``tokenizer`` into shards in ``out``.

    Args:
        tokenizer: a tokenizer reference (``pixel:16``, a VQ-VAE file or run directory, a VQModel folder)
            or a tokenizer object (it must have a ``config()`` that ``build_tokenizer`` rebuilds).
        splits: splits to encode (default: every split the dataset has).
        shard_size: images per shard (≥ 1).
        workers: encoding processes (1 = in this process). Each uses one torch thread.
        image_size: side images of a folder are center-cropped and resized to (default: the tokenizer's
            training size, when it has one).
        progress: print one line per finished shard to stderr (default: when stderr is a terminal).

    Returns:
        ``TokenizeResult``; ``out/manifest.json`` describes the finished set.

    Raises:
        ShardError: ``out`` holds (part of) a tokenisation with another tokenizer, dataset or shard size.
        ValueError: bad arguments, unknown dataset, an image that cannot be decoded (named).
    """
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise UserError(f"shard_size must be an integer >= 1, got {shard_size!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UserError(f"workers must be an integer >= 1, got {workers!r}")
    tok = load_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
    spec = tok.config()
    fingerprint = tokenizer_fingerprint(spec)
    from .registry import DATASETS

    if image_size is None and dataset not in DATASETS:
        image_size = getattr(tok, "image_size", None)  # a folder: default to the tokenizer's training size
    channels = getattr(tok, "channels", None)
    if tok.kind != "image" or not isinstance(channels, int):
        raise UserError(f"tokenize_dataset encodes images; {type(tok).__name__} is a {tok.kind!r} tokenizer")
    source = open_image_source(dataset, image_size=image_size, channels=channels)
    names = source.splits() if splits is None else list(splits)
    for s in names:
        if s not in source.splits():
            raise UserError(f"{source.name} has no split {s!r}; it has {', '.join(source.splits())}")
    counts = {s: source.count(s) for s in names}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = {
        "format": SHARD_FORMAT,
        "dataset": source.name,
        "source": source.spec(),
        "fingerprint": fingerprint,
        "shard_size": shard_size,
        "splits": counts,
    }
    plan_path = out / PLAN_FILE
    if plan_path.is_file():
        try:
            old = json.loads(plan_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ShardError(f"cannot read {str(plan_path)!r}: {err}; remove the directory to start over") from None
        for key in ("dataset", "fingerprint", "shard_size", "splits"):
            if old.get(key) != plan[key]:
                raise ShardError(
                    f"{str(out)!r} holds a tokenisation with another {key} ({old.get(key)!r}, now {plan[key]!r}); "
                    "choose a new --out or remove it"
                )
    elif any(out.iterdir()):
        raise ShardError(f"{str(out)!r} is not empty and holds no {PLAN_FILE}; choose a new or empty --out")
    else:
        atomic_write_text(plan_path, json.dumps(plan, indent=2))

    labelled = source.num_classes > 0
    jobs: list[tuple[str, int, int, int]] = []
    records: dict[tuple[str, int], dict[str, Any]] = {}
    for s, n in counts.items():
        for i in range(math.ceil(n / shard_size)):
            start, stop = i * shard_size, min(n, (i + 1) * shard_size)
            rec = _record_ok(out, s, i, stop - start, labelled)
            if rec is not None:
                records[(s, i)] = rec
            else:
                jobs.append((s, i, start, stop))
    skipped = len(records)
    show = sys.stderr.isatty() if progress is None else progress
    t0 = time.perf_counter()
    total = len(jobs) + skipped

    def done(rec: dict[str, Any]) -> None:
        records[(rec["split"], rec["index"])] = rec
        if show:
            print(
                f"tokenize: {shard_name(rec['split'], rec['index'])} ({rec['count']} images) "
                f"[{len(records)}/{total}] {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )

    if workers == 1 or len(jobs) <= 1:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(1)  # like a worker process: parallelism comes from --workers
        try:
            for s, i, start, stop in jobs:
                done(_encode_shard(str(out), s, i, start, stop, tokenizer=tok, source=source))
        finally:
            torch.set_num_threads(before)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(spec, source.spec(), 1),
        ) as pool:
            futures = [pool.submit(_encode_shard, str(out), s, i, start, stop) for s, i, start, stop in jobs]
            try:
                for fut in as_completed(futures):
                    done(fut.result())
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # finished shards stay; rerun resumes
                raise

    grids = {tuple(np.load(out / r["tokens"]["file"], mmap_mode="r").shape[1:]) for r in records.values()}
    if not grids:
        raise ValueError(f"{source.name} has no images in splits {', '.join(names)}")
    if len(grids) != 1:
        raise ShardError(f"shards in {str(out)!r} have different token grids {sorted(grids)}")
    manifest = {
        "kind": "unmask-token-shards",
        "format": SHARD_FORMAT,
        "dataset": source.name,
        "source": source.spec(),
        "tokenizer": spec,
        "fingerprint": fingerprint,
        "grid": list(grids.pop()),
        "vocab_size": tok.vocab_size,
        "num_classes": source.num_classes,
        "class_names": list(source.class_names),
        "image_shape": list(source.image_shape()),
        "shard_size": shard_size,
        "splits": {
            s: {"count": n, "shards": [records[(s, i)] for i in range(math.ceil(n / shard_size))]}
            for s, n in counts.items()
        },
    }
    atomic_write_text(out / MANIFEST_FILE, json.dumps(manifest, indent=2))
    return TokenizeResult(out, len(jobs), skipped, counts, time.perf_counter() - t0)
