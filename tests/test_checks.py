"""unmask._checks: the per-stream shape check shared by the multi-stream interpolant, model, sampler
and joint editing."""

from __future__ import annotations

import pytest
import torch

from unmask._checks import check_stream_batch
from unmask.errors import UserError

GRIDS = {"image": (4, 4), "label": (1,)}


def test_streams_of_their_grids_and_one_batch_give_the_batch() -> None:
    x = {"image": torch.zeros(3, 4, 4), "label": torch.zeros(3, 1)}
    assert check_stream_batch(x, GRIDS) == 3
    assert check_stream_batch({"label": torch.zeros(5, 1)}, GRIDS) == 5  # a subset of the streams


@pytest.mark.parametrize(
    ("x", "names", "message"),
    [
        ({"image": torch.zeros(3, 4, 5)}, None, "stream 'image' has shape (3, 4, 5), expected (B, 4, 4)"),
        ({"image": torch.zeros(3, 4, 4), "label": torch.zeros(2, 1)}, None, "stream 'label' has 2 rows, the others 3"),
        (
            {"image": torch.zeros(3, 4, 4), "label": torch.zeros(2, 1)},
            {"label": "condition stream 'label'"},
            "condition stream 'label' has 2 rows, the others 3",
        ),
        ({}, None, "no streams given"),
    ],
)
def test_a_stream_that_differs_is_named(x: dict, names: dict | None, message: str) -> None:
    with pytest.raises(UserError) as err:
        check_stream_batch(x, GRIDS, names=names)
    assert str(err.value) == message
