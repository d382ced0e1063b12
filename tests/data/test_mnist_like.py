from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.data import DatasetNotAvailable, IdxError, get_dataset, read_idx


def write_idx(path: Path, array: np.ndarray, *, gz: bool = True, truncate: int = 0) -> None:
    code = {np.uint8: 0x08, np.int32: 0x0C}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if truncate:
        data = data[:-truncate]
    (gzip.open if gz else open)(path, "wb").write(data)


@pytest.fixture()
def mini_fashion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 30), ("t10k", 10)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    monkeypatch.setenv("UNMASK_FASHION_MNIST_DIR", str(tmp_path))
    return tmp_path


def test_read_idx_round_trip(tmp_path: Path) -> None:
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    write_idx(tmp_path / "a.idx", a, gz=False)
    assert np.array_equal(read_idx(tmp_path / "a.idx"), a)


def test_read_idx_reports_truncation_and_garbage(tmp_path: Path) -> None:
    write_idx(tmp_path / "t.gz", np.zeros((4, 5), np.uint8), truncate=3)
    with pytest.raises(IdxError, match=r"t\.gz holds .* expected"):
        read_idx(tmp_path / "t.gz")
    (tmp_path / "g.idx").write_bytes(b"hello world")
    with pytest.raises(IdxError, match="not an idx file"):
        read_idx(tmp_path / "g.idx")


@pytest.mark.parametrize("levels", [2, 16, 256])
def test_fashion_mnist_levels_quantise_and_decode(mini_fashion: Path, levels: int) -> None:
    ds = get_dataset("fashion-mnist", "train", levels)
    raw = read_idx(mini_fashion / "train-images-idx3-ubyte.gz")
    assert ds.grid == (28, 28) and len(ds) == 30 and ds.vocab_size == levels + 1
    assert int(ds.tokens.max()) <= levels - 1 and int(ds.tokens.min()) >= 0
    err = np.abs(ds.images().astype(int) - raw.astype(int)).max()
    assert err <= 255 / (levels - 1) / 2 + 1
    if levels == 256:
        assert np.array_equal(ds.images(), raw)
    assert ds.labels is not None and ds.labels.tolist() == [i % 10 for i in range(30)]
    assert ds.class_names[9] == "Ankle boot"


def test_fashion_mnist_default_is_16_levels(mini_fashion: Path) -> None:
    assert get_dataset("fashion-mnist", "test").vocab_size == 17


def test_missing_fashion_mnist_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNMASK_FASHION_MNIST_DIR", str(tmp_path / "nothing"))
    with pytest.raises(DatasetNotAvailable, match="apt-get install dataset-fashion-mnist"):
        get_dataset("fashion-mnist")


def test_bad_levels(mini_fashion: Path) -> None:
    with pytest.raises(ValueError, match="levels for fashion-mnist must be an integer in \\[2, 256\\], got 1"):
        get_dataset("fashion-mnist", "train", 1)
    with pytest.raises(ValueError, match="digits have exactly 17"):
        get_dataset("digits", "train", 16)


def test_real_fashion_mnist_package() -> None:
    """The Debian package is part of the project's set-up (scripts/install.sh, .ci/run)."""
    train = get_dataset("fashion-mnist", "train")
    test = get_dataset("fashion-mnist", "test", 256)
    assert len(train) == 60_000 and len(test) == 10_000
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert train.tokens.dtype == torch.long and int(test.tokens.max()) == 255


def test_mnist5k_split() -> None:
    tr, te = get_dataset("mnist5k", "train"), get_dataset("mnist5k", "test")
    assert len(tr) == 4000 and len(te) == 1000 and tr.grid == (28, 28)
    assert torch.bincount(te.labels).tolist() == [100] * 10
