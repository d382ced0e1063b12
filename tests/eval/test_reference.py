"""Reference features of a real split: computed once, cached atomically, keyed, and recomputed if corrupt."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from unmask.data import get_dataset
from unmask.eval import cache_dir
from unmask.eval.features import FeatureExtractor, get_extractor
from unmask.eval.reference import reference_dir, reference_features, select_indices

pytestmark = pytest.mark.usefixtures("one_thread")


class PixelExtractor(FeatureExtractor):
    """A cheap stand-in network: mean RGB pixels of a 4×4 grid (48-d); counts the images it sees."""

    def __init__(self, name: str = "pixels-test") -> None:
        self.name = name
        self.dim = 48
        self.input_size = 4
        self.seen = 0

    def embed(self, x: Tensor) -> Tensor:
        self.seen += len(x)
        return torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)


def test_real_extractor_small_subset() -> None:
    ref = reference_features("digits", "test", n=8)
    ext = get_extractor()
    assert ref.extractor == ext.name and ref.n == 8
    assert ref.features.shape == (8, 1280) and ref.features.dtype == np.float32
    assert ref.path.parent == cache_dir() / "reference" and ref.path.is_file()
    assert ext.name in ref.path.name and "digits-test-n8" in ref.path.name
    images = get_dataset("digits", "test").images()[ref.indices]
    np.testing.assert_allclose(ref.features, ext(images), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ref.stats.mu, ref.features.mean(0), rtol=1e-5, atol=1e-6)
    assert ref.stats.sigma.shape == (1280, 1280) and ref.stats.n == 8


def test_cached_after_first_call() -> None:
    ext = PixelExtractor("pixels-cache")
    first = reference_features("digits", "test", ext, n=40)
    assert ext.seen == 40
    again = reference_features("digits", "test", ext, n=40)
    assert ext.seen == 40  # read from disk
    np.testing.assert_array_equal(first.features, again.features)
    np.testing.assert_array_equal(first.stats.sigma, again.stats.sigma)
    np.testing.assert_array_equal(first.indices, again.indices)
    reference_features("digits", "test", ext, n=40, refresh=True)
    assert ext.seen == 80
    assert not [p for p in reference_dir().iterdir() if p.name.startswith(".tmp")]  # atomic writes leave nothing


def test_key_includes_n_split_extractor_and_selection() -> None:
    ext_a, ext_b = PixelExtractor("pixels-a"), PixelExtractor("pixels-b")
    paths = {
        reference_features("digits", "test", ext_a, n=20).path,
        reference_features("digits", "test", ext_a, n=21).path,
        reference_features("digits", "train", ext_a, n=20).path,
        reference_features("digits", "test", ext_b, n=20).path,
        reference_features("digits", "test", ext_a, indices=list(range(20))).path,
    }
    assert len(paths) == 5
    assert ext_b.seen == 20


def test_levels_are_passed_to_the_dataset() -> None:
    """digits only has 17 levels: levels=17 selects the same pixels, hence the same cache file."""
    ext = PixelExtractor("pixels-levels")
    a = reference_features("digits", "test", ext, n=12)
    b = reference_features("digits", "test", ext, n=12, levels=17)
    assert a.path == b.path and ext.seen == 12


def test_explicit_indices() -> None:
    ext = PixelExtractor("pixels-idx")
    ref = reference_features("digits", "test", ext, indices=[3, 0, 7, 11])
    images = get_dataset("digits", "test").images()[[3, 0, 7, 11]]
    np.testing.assert_allclose(ref.features, ext(images), rtol=1e-6)
    assert ref.indices.tolist() == [3, 0, 7, 11]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-contents"])
def test_corrupted_cache_is_recomputed(damage: str) -> None:
    ext = PixelExtractor(f"pixels-{damage}")
    good = reference_features("digits", "test", ext, n=30)
    data = good.path.read_bytes()
    if damage == "garbage":
        good.path.write_bytes(b"definitely not an npz file")
    elif damage == "truncated":
        good.path.write_bytes(data[: len(data) // 2])
    else:  # a readable npz, with the right metadata, whose features have the wrong shape
        with np.load(good.path) as f:
            meta = f["meta"]
        with good.path.open("wb") as fh:
            np.savez(fh, features=np.zeros((3, 48), np.float32), mu=good.stats.mu, sigma=good.stats.sigma, meta=meta)
    with pytest.warns(RuntimeWarning, match="recomputing"):
        again = reference_features("digits", "test", ext, n=30)
    assert ext.seen == 60
    np.testing.assert_array_equal(again.features, good.features)
    reference_features("digits", "test", ext, n=30)  # the rewritten file is valid again
    assert ext.seen == 60


def test_select_indices() -> None:
    assert select_indices(10, None).tolist() == list(range(10))
    assert select_indices(10, 10).tolist() == list(range(10))
    sub = select_indices(100, 7)
    assert len(sub) == 7 and np.all(np.diff(sub) > 0) and sub.max() < 100
    assert np.array_equal(sub, select_indices(100, 7))  # deterministic
    with pytest.raises(ValueError, match=r"\[2, 10\]"):
        select_indices(10, 11)


def test_bad_arguments() -> None:
    ext = PixelExtractor("pixels-bad")
    with pytest.raises(ValueError, match="n must be in"):
        reference_features("digits", "test", ext, n=100_000)
    with pytest.raises(ValueError, match="indices must lie"):
        reference_features("digits", "test", ext, indices=[0, 100_000])
    with pytest.raises(ValueError, match="n = 3 but 2 indices"):
        reference_features("digits", "test", ext, n=3, indices=[0, 1])
    with pytest.raises(ValueError, match="unknown feature extractor"):
        reference_features("digits", "test", "vgg")
    with pytest.raises(ValueError, match="17 grey levels"):
        reference_features("digits", "test", ext, n=10, levels=4)
    assert ext.seen == 0
