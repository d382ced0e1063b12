"""The U-Net segmenter judge of generated images: trained once on real images, cached, and scoring masks."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from unmask.data import get_dataset
from unmask.data import shapes as shapes_module
from unmask.eval import segmenter_judge as judge_module
from unmask.eval.segmenter_judge import judge_scores, load_or_train_segmenter
from unmask.paths import cache_dir
from unmask.training.plateau import plateau_stop_rule

pytestmark = pytest.mark.usefixtures("one_thread", "small_judge")


@pytest.fixture(scope="module")
def small_judge() -> Iterator[None]:
    """Shapes splits of 120 / 40 canvases and a 20-step judge, so it trains in seconds."""
    mp = pytest.MonkeyPatch()
    mp.setitem(shapes_module.SPLIT_SIZES, "train", 120)
    mp.setitem(shapes_module.SPLIT_SIZES, "test", 40)
    for key, value in (("max_steps", 20), ("eval_every", 10), ("batch_size", 16), ("width", 8)):
        mp.setitem(judge_module.JUDGE_RECIPE, key, value)
    yield
    mp.undo()


def test_trained_once_then_read_from_the_cache(capsys) -> None:  # noqa: ANN001
    first = load_or_train_segmenter("shapes", levels=8)
    assert "training the segmenter judge of 'shapes' once" in capsys.readouterr().err
    meta = json.loads(first.path.with_suffix(".json").read_text())
    assert meta["steps"] == 20 and meta["recipe"]["val_n"] == 24 and meta["recipe"]["levels"] == 8
    assert first.path.parent == cache_dir() / "segmenters" and first.levels == 8
    again = load_or_train_segmenter("shapes", levels=8)
    assert capsys.readouterr().err == ""  # not trained again
    for key, value in first.model.state_dict().items():
        assert torch.equal(value, again.model.state_dict()[key]), key
    assert (again.test_miou, again.test_pixel_accuracy) == (first.test_miou, first.test_pixel_accuracy)
    # another recipe (here the stopping rule) is another judge
    other = load_or_train_segmenter("shapes", levels=8, stop=plateau_stop_rule(10), stop_name="plateau from 10")
    assert other.path != first.path


def test_a_truncated_cache_is_trained_again(capsys) -> None:  # noqa: ANN001
    judge = load_or_train_segmenter("shapes", levels=8)
    capsys.readouterr()
    data = judge.path.read_bytes()
    judge.path.write_bytes(data[: len(data) // 2])
    again = load_or_train_segmenter("shapes", levels=8)
    assert "training the segmenter judge" in capsys.readouterr().err
    assert again.path.read_bytes() == data  # the same seeded run, written whole again
    assert not list(judge.path.parent.glob(".tmp-*"))


def test_its_test_score_is_its_score_on_the_real_test_pairs() -> None:
    judge = load_or_train_segmenter("shapes", levels=8)
    test = get_dataset("shapes", "test", levels=8)
    pred = judge.predict(test.streams["image"])
    assert pred.shape == (40, 16, 16) and pred.dtype == np.int64 and 0 <= pred.min() and pred.max() <= 5
    real = judge_scores(judge, test.streams["image"], test.streams["mask"])
    assert real.miou == pytest.approx(judge.test_miou) and real.pixel_accuracy == pytest.approx(
        judge.test_pixel_accuracy
    )
    # its own masks are perfect agreement; masks of other canvases are not
    assert judge_scores(judge, test.streams["image"], pred).miou == pytest.approx(1.0)
    rolled = judge_scores(judge, test.streams["image"], np.roll(pred, 1, axis=0))
    assert rolled.pixel_accuracy < 1.0


def test_bad_input_is_one_clear_error() -> None:
    judge = load_or_train_segmenter("shapes", levels=8)
    with pytest.raises(ValueError, match="images hold grey level 8 outside \\[0, 7\\] of the judge"):
        judge.predict(torch.full((2, 32, 32), 8))
    with pytest.raises(ValueError, match="images must be \\(N, H, W\\) grey-level ids, got shape \\(32, 32\\)"):
        judge.predict(torch.zeros(32, 32, dtype=torch.long))
    with pytest.raises(ValueError, match="do not match the masks given"):
        judge_scores(judge, torch.zeros(2, 32, 32, dtype=torch.long), np.zeros((2, 32, 32), dtype=np.int64))
    with pytest.raises(ValueError, match="dataset 'digits' is not a dataset of paired streams"):
        load_or_train_segmenter("digits")
