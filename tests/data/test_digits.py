from __future__ import annotations

import numpy as np
import pytest
import torch

from unmask.data import batch_indices, get_dataset, stratified_split


def test_digits_tokens_labels_and_split() -> None:
    train = get_dataset("digits", "train")
    test = get_dataset("digits", "test")
    assert train.grid == (8, 8) and test.grid == (8, 8)
    assert len(train) + len(test) == 1797
    assert 0.19 < len(test) / 1797 < 0.21
    assert train.vocab_size == 18  # 17 grey levels + [MASK]
    for ds in (train, test):
        assert ds.tokens.dtype == torch.long
        assert int(ds.tokens.min()) == 0 and int(ds.tokens.max()) == 16
        assert ds.labels is not None and set(ds.labels.tolist()) == set(range(10))
        assert ds.num_classes == 10
    # every class is in both splits in proportion
    for c in range(10):
        n_tr = int((train.labels == c).sum())
        n_te = int((test.labels == c).sum())
        assert 0.15 < n_te / (n_tr + n_te) < 0.25


def test_digits_split_is_fixed_and_disjoint() -> None:
    from sklearn.datasets import load_digits

    raw = load_digits()
    a, b = get_dataset("digits", "train"), get_dataset("digits", "train")
    assert torch.equal(a.tokens, b.tokens)
    train_idx, test_idx = stratified_split(np.asarray(raw.target), 0.2, 0)
    assert not set(train_idx) & set(test_idx)
    assert len(train_idx) + len(test_idx) == 1797
    assert np.array_equal(a.tokens.numpy(), raw.images[train_idx].astype(np.int64))


def test_digits_decode_round_trip() -> None:
    ds = get_dataset("digits", "test")
    images = ds.images()
    assert images.dtype == np.uint8 and images.shape == (len(ds), 8, 8)
    assert torch.equal(ds.tokenizer.encode(images.astype(np.float64) * 16 / 255), ds.tokens)


def test_unknown_dataset_and_split() -> None:
    with pytest.raises(ValueError, match="mnist-9000"):
        get_dataset("mnist-9000")
    with pytest.raises(ValueError, match="validation"):
        get_dataset("digits", "validation")


@pytest.mark.parametrize(("n", "bs"), [(10, 3), (7, 7), (5, 12)])
def test_batch_indices_cover_each_epoch_once_and_are_deterministic(n: int, bs: int) -> None:
    steps = 3 * n // bs + 3
    seq = torch.cat([batch_indices(n, bs, s, seed=4) for s in range(steps)])
    assert torch.equal(seq, torch.cat([batch_indices(n, bs, s, seed=4) for s in range(steps)]))
    for epoch in range(len(seq) // n):
        assert sorted(seq[epoch * n : (epoch + 1) * n].tolist()) == list(range(n))


def test_batch_order_depends_on_the_seed() -> None:
    assert not torch.equal(batch_indices(50, 10, 0, seed=4), batch_indices(50, 10, 0, seed=5))


def test_missing_scikit_learn_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from unmask.data import DatasetNotAvailable

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(DatasetNotAvailable, match="pip install scikit-learn"):
        get_dataset("digits")
