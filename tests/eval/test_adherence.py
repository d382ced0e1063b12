"""Caption adherence: the trained scene detector on real scenes scores high against their own captions
and far lower against shuffled captions; the per-caption scores follow the grammar."""

from __future__ import annotations

import numpy as np
import pytest

from unmask.data import render_scenes, scene_captions
from unmask.data.captions import parse_caption
from unmask.eval.adherence import adherence, caption_scores, load_or_train_scene_detector

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    det, report = load_or_train_scene_detector()  # the default one unmask adherence uses (cached per session)
    return det, report


def test_real_scenes_adhere_to_their_captions_and_not_to_shuffled_ones(detector) -> None:  # type: ignore[no-untyped-def]
    det, report = detector
    assert report.test["all"] > 0.9  # held-out real scenes vs their own captions, measured at training
    images, ids, _ = render_scenes(200, 5)
    caps = scene_captions()
    own = [caps[i] for i in ids]
    shuffled = [own[i] for i in np.random.RandomState(0).permutation(len(own))]
    good, bad = adherence(det, images, own), adherence(det, images, shuffled)
    for key in ("class", "count", "size", "all"):
        assert good[key] > 0.9, key
        assert bad[key] < good[key] - 0.4, key
    assert good["position"] > 0.9 and good["n_relation"] > 50


def test_cached_detector_is_reused(detector) -> None:  # type: ignore[no-untyped-def]
    det, report = detector
    again, report2 = load_or_train_scene_detector()
    assert report2 == report
    images, _, _ = render_scenes(20, 7)
    from unmask.eval.adherence import detect

    assert detect(det, images) == detect(again, images)


def test_caption_scores_follow_the_grammar() -> None:
    spec = parse_caption("two small squares left of a big circle")
    right = [("square", "small", 4.0, 8.0), ("square", "small", 6.0, 20.0), ("circle", "big", 24.0, 16.0)]
    assert caption_scores(spec, right) == {"class": 1.0, "count": 1.0, "size": 1.0, "position": 1.0, "all": 1.0}
    mirrored = [(c, s, 32 - x, y) for c, s, x, y in right]
    assert caption_scores(spec, mirrored)["position"] == 0.0
    assert caption_scores(spec, mirrored)["all"] == 0.0
    one = caption_scores(spec, right[1:])
    assert one["class"] == 1.0 and one["count"] == 0.0
    plain = caption_scores(parse_caption("three big pluses"), [("plus", "big", 5.0, 5.0)] * 3)
    assert plain["all"] == 1.0 and np.isnan(plain["position"])


def test_bad_input_is_named(detector) -> None:  # type: ignore[no-untyped-def]
    det, _ = detector
    images, _, _ = render_scenes(2, 0)
    with pytest.raises(ValueError, match="sample 1: caption 'a dog'"):
        adherence(det, images, ["a big circle", "a dog"])
    with pytest.raises(ValueError, match="2 images for 1 captions"):
        adherence(det, images, ["a big circle"])


def test_evaluate_adherence_adds_fd_through_the_existing_evaluation(detector) -> None:  # type: ignore[no-untyped-def]
    from unmask.data import get_dataset
    from unmask.eval.adherence import evaluate_adherence

    det, _ = detector
    real = get_dataset("scenes-mini", "train")
    images, caps = real.images()[:8], real.item_captions()[:8]
    report = evaluate_adherence(images, caps, ref="scenes-mini", ref_n=16, detector=det)
    assert report["adherence"]["all"] > 0.7  # type: ignore[index]
    dist = report["distribution"]
    assert isinstance(dist, dict) and dist["fd"] >= 0 and dist["ref"] == "scenes-mini"
