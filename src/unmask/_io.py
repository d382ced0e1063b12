"""File I/O shared by every layer: atomic writes (temporary name in the same directory, fsync,
rename) and SHA-256 digests of files."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from torch import Tensor, nn

__all__ = [
    "ListedFileFaults",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_listed_file",
    "fsync_dir",
    "load_cached_weights",
    "save_tensors",
    "save_weights_atomically",
    "sha256_files",
]

M = TypeVar("M", bound="nn.Module")


def sha256_files(*paths: str | Path, names: bool = False) -> str:
    """SHA-256 (hex) over the bytes of ``paths`` in order, read in 1 MiB chunks.

    With ``names``, each file's name and a NUL byte precede its bytes (so renaming a file of a
    folder changes the digest).
    """
    h = hashlib.sha256()
    for p in paths:
        if names:
            h.update(Path(p).name.encode() + b"\0")
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class ListedFileFaults:
    """How one kind of manifest (token shards, checkpoints) reports a file it lists that is not as
    recorded: the error class and one message template per fault, formatted with ``p`` (the path as a
    string), ``size`` (its bytes) and ``expected`` (the recorded bytes)."""

    error: type[Exception]
    missing: str
    size: str
    digest: str


def check_listed_file(p: Path, nbytes: int, sha256: str | None, faults: ListedFileFaults) -> None:
    """Raise ``faults.error`` unless the file ``p`` exists, has ``nbytes`` bytes and, unless ``sha256``
    is None (not checked), that SHA-256."""
    if not p.is_file():
        raise faults.error(faults.missing.format(p=str(p)))
    size = p.stat().st_size
    if size != nbytes:
        raise faults.error(faults.size.format(p=str(p), size=size, expected=nbytes))
    if sha256 is not None and sha256_files(p) != sha256:
        raise faults.error(faults.digest.format(p=str(p)))


def fsync_dir(path: str | Path) -> None:
    """fsync a directory so a rename inside it is durable (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename.

    Readers see either the old file or the complete new one, never a partial write.
    """
    path = Path(path)
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def save_tensors(tensors: dict[str, Tensor], path: str | Path) -> None:
    """``safetensors.torch.save_file`` with the permissions of any other new file (0666 less the
    umask): safetensors creates its files readable by their owner only, which left shared
    checkpoints and zoo releases unreadable to other users."""
    from safetensors.torch import save_file

    save_file(tensors, str(path))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def save_weights_atomically(module: nn.Module, path: str | Path) -> None:
    """``module``'s state dict (detached, on the CPU, contiguous) to the safetensors file ``path``, written to a
    temporary file in the same directory and renamed: a cache or a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        save_tensors({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_cached_weights(
    weights: str | Path, meta: str | Path, build: Callable[[dict[str, Any]], M]
) -> tuple[M, dict[str, Any]] | None:
    """A cached trained module: ``build(info)`` on the JSON ``meta`` file, loaded with the safetensors file
    ``weights``; ``None`` when either file is missing or unreadable (truncated, foreign, a state dict that does
    not fit the module, a key missing from the JSON), so the caller trains again instead of failing."""
    import json

    from safetensors import SafetensorError
    from safetensors.torch import load_file

    weights, meta = Path(weights), Path(meta)
    if not (weights.is_file() and meta.is_file()):
        return None
    try:
        info = json.loads(meta.read_text())
        module = build(info)
        module.load_state_dict(load_file(str(weights)))
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, KeyError):
        return None  # unreadable (e.g. truncated): the caller trains again
    return module, info
