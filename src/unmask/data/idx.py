"""Reader for the idx format of (Fashion-)MNIST (optionally gzip-compressed)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import UserError

__all__ = ["read_idx", "IdxError"]

_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IdxError(UserError):
    """An idx file is truncated or malformed."""


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file: magic (0, 0, dtype, ndim), ndim big-endian uint32 sizes, then the data.

    Raises ``IdxError`` naming the file if the header is wrong or the data is short.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        raise IdxError(f"cannot read {path}: {err}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise IdxError(f"{path} is not an idx file (bad magic {raw[:4].hex()})")
    dtype = _DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{path} is truncated inside its header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(shape)) if shape else 1
    need = header + count * dtype.itemsize
    if len(raw) != need:
        raise IdxError(f"{path} holds {len(raw)} bytes, expected {need} for shape {shape} (truncated or altered)")
    return np.frombuffer(raw, dtype=dtype, offset=header, count=count).reshape(shape).astype(dtype.newbyteorder("="))
