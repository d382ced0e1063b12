"""render_streams: paired streams side by side, with marked positions drawn grey (regions to regenerate)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from unmask.tokenizers import PixelQuantizer
from unmask.visualize import colorize, render_streams

DATA = SimpleNamespace(
    kinds={"image": "image", "mask": "segmentation", "label": "label"}, tokenizer=PixelQuantizer(4, 255.0)
)


def streams() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "image": rng.integers(0, 4, (2, 4, 4)),
        "mask": rng.integers(1, 3, (2, 2, 2)),
        "label": np.array([[0], [1]]),
    }


def test_marked_positions_are_grey_and_the_rest_unchanged() -> None:
    plain = render_streams(streams(), DATA)
    assert plain.shape == (2, 4, 4 + 1 + 4 + 1 + 2, 3)  # image | mask (upscaled ×2) | label strip
    region = np.zeros((2, 4, 4), bool)
    region[0, 1:3, 1:3] = True
    hole = np.zeros((2, 2, 2), bool)
    hole[1, 0, 0] = True
    marked = render_streams(streams(), DATA, grey={"image": region, "mask": hole, "label": np.array([[True], [False]])})
    assert (marked[0, 1:3, 1:3] == 128).all()  # the image region
    assert np.array_equal(marked[0, :, :4][~region[0]], plain[0, :, :4][~region[0]])
    assert (marked[1, 0:2, 5:7] == 128).all()  # one mask token = 2×2 pixels after upscaling
    assert np.array_equal(marked[1, 2:, 5:9], plain[1, 2:, 5:9])
    assert (marked[0, :, 10:] == 128).all() and np.array_equal(marked[1, :, 10:], plain[1, :, 10:])
    assert np.array_equal(plain[1, 0, 10], colorize(np.array(2)))  # label 1 in its class colour (+1)


def test_a_grey_region_of_the_wrong_shape_is_named() -> None:
    with pytest.raises(ValueError, match=r"grey region of 'mask' has shape \(2, 4, 4\), its picture \(2, 2, 2\)"):
        render_streams(streams(), DATA, grey={"mask": np.ones((2, 4, 4), bool)})
