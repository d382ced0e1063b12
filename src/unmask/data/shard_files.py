"""The files of a token shard directory (``unmask.data.shards``): their names (``shard_name``,
``MANIFEST_FILE``, ``PLAN_FILE``), writing one shard atomically (``write_shard``: arrays first, its
record last), reading the manifest (``read_manifest``), and checking a file's size and SHA-256 and an
array header against its record before it is memory-mapped; ``ShardError`` names the file at fault.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from .._io import ListedFileFaults, atomic_write_bytes, atomic_write_text, check_listed_file
from ..errors import UserError
from ..tokenizers import file_sha256

__all__ = ["ShardError", "MANIFEST_FILE", "PLAN_FILE", "SHARD_FORMAT", "shard_name", "write_shard", "read_manifest"]

MANIFEST_FILE = "manifest.json"
PLAN_FILE = "plan.json"
SHARD_FORMAT = 1
_KIND = "unmask-token-shards"


class ShardError(UserError):
    """A shard set is incomplete, truncated, corrupted, inconsistent with its manifest, or made by
    another tokenizer than the one asked for. The message names the file."""


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}"


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _file_record(path: Path) -> dict[str, Any]:
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def write_shard(
    out_dir: str | Path, split: str, index: int, tokens: np.ndarray | Tensor, labels: np.ndarray | None, vocab_size: int
) -> dict[str, Any]:
    """Write one shard (tokens as uint16, labels as int32) and then its record; returns the record.

    ``tokens`` (n, *grid) must be ids in [0, vocab_size − 2] (no [MASK]); ``labels`` (n,) or None.
    """
    out = Path(out_dir)
    t = np.asarray(tokens)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"tokens must be integers, got {t.dtype}")
    if vocab_size - 1 > 65536:
        raise ValueError(f"uint16 shards hold at most 65,536 data tokens, the vocabulary has {vocab_size - 1}")
    if t.size and (t.min() < 0 or t.max() > vocab_size - 2):
        raise ValueError(
            f"shard {shard_name(split, index)}: token ids span [{t.min()}, {t.max()}], outside the data "
            f"vocabulary [0, {vocab_size - 2}]"
        )
    name = shard_name(split, index)
    tok_path = out / f"{name}.tokens.npy"
    atomic_write_bytes(tok_path, _npy_bytes(t.astype(np.uint16)))
    record: dict[str, Any] = {
        "split": split,
        "index": index,
        "count": int(t.shape[0]),
        "tokens": _file_record(tok_path),
        "labels": None,
    }
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape != (t.shape[0],):
            raise ValueError(f"labels must have shape ({t.shape[0]},), got {lab.shape}")
        lab_path = out / f"{name}.labels.npy"
        atomic_write_bytes(lab_path, _npy_bytes(lab.astype(np.int32)))
        record["labels"] = _file_record(lab_path)
    atomic_write_text(out / f"{name}.json", json.dumps(record, indent=2))
    return record


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a complete shard set (``ShardError`` if it is missing, incomplete or malformed)."""
    d = Path(directory)
    path = d / MANIFEST_FILE
    if not d.is_dir():
        raise ShardError(f"shard directory {str(d)!r} does not exist")
    if not path.is_file():
        hint = (
            " (tokenisation unfinished: rerun the same unmask tokenize command to complete it)"
            if (d / PLAN_FILE).is_file()
            else ""
        )
        raise ShardError(f"{str(path)!r} is missing: {str(d)!r} is not a finished shard set{hint}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ShardError(f"cannot read {str(path)!r}: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != _KIND:
        raise ShardError(f"{str(path)!r} is not an unmask shard manifest")
    if manifest.get("format") != SHARD_FORMAT:
        raise ShardError(f"{str(path)!r} has format {manifest.get('format')!r}; this unmask reads {SHARD_FORMAT}")
    for key in ("dataset", "tokenizer", "fingerprint", "grid", "vocab_size", "num_classes", "splits"):
        if key not in manifest:
            raise ShardError(f"{str(path)!r} lacks the field {key!r}")
    return manifest


def _check_file(d: Path, rec: dict[str, Any], what: str, verify_hash: bool) -> Path:
    """The shard file ``rec`` of the manifest in ``d``, once it has its recorded size (and SHA-256
    with ``verify_hash``); ``what`` names its contents in the corruption message."""
    p = d / rec["file"]
    faults = ListedFileFaults(
        ShardError,
        missing=f"shard file {{p!r}} listed in {MANIFEST_FILE} is missing",
        size=f"shard file {{p!r}} has {{size}} bytes, {MANIFEST_FILE} says {{expected}} (truncated or altered)",
        digest=f"shard file {{p!r}} does not match its SHA-256 in {MANIFEST_FILE} (corrupted {what})",
    )
    check_listed_file(p, rec["bytes"], rec["sha256"] if verify_hash else None, faults)
    return p


def _open_npy(p: Path, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ShardError(f"shard file {str(p)!r} is not a readable .npy array: {err}") from None
    if arr.dtype != dtype or tuple(arr.shape) != shape:
        raise ShardError(
            f"shard file {str(p)!r} holds {arr.dtype} {tuple(arr.shape)}, the manifest says {dtype} {shape}"
        )
    return arr
