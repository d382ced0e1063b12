"""Random translations of token grids (``data.shift``): exact moves, aligned streams, determinism, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unmask.config import ConfigError, load_config
from unmask.data import get_dataset
from unmask.data.augment import shift_generator, shift_grid, shift_streams, shift_tokens, stream_shift_factors
from unmask.training import load_checkpoint, train
from unmask.training.batches import check_shift, training_batches

pytestmark = pytest.mark.usefixtures("one_thread")


def _naive_shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    out = torch.empty_like(x)
    for i in range(h):
        for j in range(w):
            out[..., i, j] = x[..., min(max(i - dy, 0), h - 1), min(max(j - dx, 0), w - 1)]
    return out


@pytest.mark.parametrize("shape", [(3, 5, 7), (3, 2, 6, 6)])
def test_shift_grid_matches_an_edge_replicating_loop(shape: tuple[int, ...]) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 17, shape, generator=g)
    dy, dx = torch.tensor([0, 2, -1]), torch.tensor([-3, 1, 0])
    out = shift_grid(x, dy, dx)
    assert out.dtype == x.dtype and out.shape == x.shape
    for b in range(shape[0]):
        assert torch.equal(out[b], _naive_shift(x[b], int(dy[b]), int(dx[b])))
    assert torch.equal(shift_grid(x, torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long)), x)


def test_shifted_tokens_hold_only_input_ids_and_are_a_pure_function_of_seed_and_step() -> None:
    x = torch.randint(0, 5, (64, 8, 8), generator=torch.Generator().manual_seed(1))
    a = shift_tokens(x, 2, shift_generator(0, 7))
    b = shift_tokens(x, 2, shift_generator(0, 7))
    c = shift_tokens(x, 2, shift_generator(0, 8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(a.unique().tolist()) <= set(x.unique().tolist())
    assert not torch.equal(a, x)  # 64 draws of 25 offsets: some sample moved
    assert shift_tokens(x, 0, shift_generator(0, 7)) is x


def test_paired_streams_move_together_in_coarse_cells() -> None:
    mask = torch.randint(0, 6, (32, 4, 4), generator=torch.Generator().manual_seed(2))
    image = mask.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)  # an 8×8 image of the 4×4 mask
    label = torch.arange(32)[:, None]
    grids = {"image": (8, 8), "mask": (4, 4), "label": (1,)}
    out = shift_streams({"image": image, "mask": mask, "label": label}, grids, 1, shift_generator(3, 0))
    assert torch.equal(out["image"], out["mask"].repeat_interleave(2, dim=1).repeat_interleave(2, dim=2))
    assert torch.equal(out["label"], label)
    assert not torch.equal(out["mask"], mask)


def test_streams_that_cannot_move_together_are_named() -> None:
    assert stream_shift_factors({"image": (32, 32), "mask": (16, 16), "label": (1,)}) == {"image": 2, "mask": 1}
    with pytest.raises(ValueError, match=r"'image' \(32×32\) together with a 12×12 stream"):
        stream_shift_factors({"image": (32, 32), "mask": (12, 12)})
    with pytest.raises(ValueError, match="shift must be >= 0, got -1"):
        shift_tokens(torch.zeros(2, 4, 4, dtype=torch.long), -1, shift_generator(0, 0))


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("tiny", ["data.shift=-1"], "data.shift must be >= 0, got -1"),
        ("kjv", ["data.shift=1"], "data.shift=1 moves image grids; the text dataset 'kjv'"),
    ],
)
def test_config_refuses_a_shift_it_cannot_apply(preset: str, overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(preset, overrides)


def test_a_shift_as_large_as_the_grid_is_refused() -> None:
    digits = get_dataset("digits", "train")
    assert check_shift(digits, 2) == 2
    with pytest.raises(ConfigError, match=r"data.shift=8 must be smaller than the coarsest grid's side \(8\)"):
        check_shift(digits, 8)


@pytest.mark.parametrize("preset", ["tiny", "tiny-joint"])
def test_training_batches_are_shifted_and_held_out_data_is_not(preset: str) -> None:
    plain = load_config(preset, ["train.batch_size=32"])
    moved = load_config(preset, ["train.batch_size=32", "data.shift=1"])
    ds = get_dataset(plain.data.name, "train", **plain.data.options())
    a = [b for b, _ in training_batches(ds, plain, 3, 5, torch.device("cpu"))]
    b = [b for b, _ in training_batches(ds, moved, 3, 5, torch.device("cpu"))]
    c = [b for b, _ in training_batches(ds, moved, 4, 5, torch.device("cpu"))]
    first = (lambda x: x["image"]) if isinstance(a[0], dict) else (lambda x: x)
    assert not torch.equal(first(a[0]), first(b[0]))
    assert torch.equal(first(b[1]), first(c[0]))  # the same step gives the same batch, wherever a run starts
    if isinstance(a[0], dict):
        assert torch.equal(a[0]["label"], b[0]["label"])


def test_a_shifted_run_resumes_to_the_uninterrupted_weights(tmp_path: Path) -> None:
    overrides = ["train.steps=8", "train.ckpt_every=4", "train.log_every=4", "data.shift=1"]
    train(load_config("tiny", overrides), tmp_path / "full", progress=False)
    train(load_config("tiny", overrides), tmp_path / "part", progress=False, stop_after=4)
    train(load_config("tiny", overrides), tmp_path / "part", resume=True, progress=False)
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "part")
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
