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


def test_the_fd_reference_can_be_another_split(detector) -> None:  # type: ignore[no-untyped-def]
    """Samples of scenes-compose's held-out captions are compared with the held-out scenes (test-heldout)."""
    from unmask.data import get_dataset
    from unmask.eval.adherence import evaluate_adherence

    det, _ = detector
    held = get_dataset("scenes-compose", "test-heldout")
    images, caps = held.images()[:8], held.item_captions()[:8]
    fds = {
        split: evaluate_adherence(images, caps, ref="scenes-compose", ref_split=split, ref_n=16, detector=det)
        for split in ("test", "test-heldout")
    }
    for split, report in fds.items():
        assert report["distribution"]["ref_split"] == split  # type: ignore[index]
    assert fds["test"]["distribution"]["fd"] != fds["test-heldout"]["distribution"]["fd"]  # type: ignore[index]
    with pytest.raises(ValueError, match="'nope'"):
        evaluate_adherence(images, caps, ref="scenes-compose", ref_split="nope", ref_n=16, detector=det)


# --- class-name captions (fashion-mnist-captions): the caption's class, judged by the dataset's classifier


def test_fashion_caption_class_reads_every_caption_of_the_dataset() -> None:
    from unmask.data import get_dataset
    from unmask.data.captions import FASHION_TEMPLATES, fashion_caption_class

    ds = get_dataset("fashion-mnist-captions", "test")
    assert ds.labels is not None
    for i, caption in enumerate(ds.captions):  # every distinct caption: label = class * templates + template
        assert fashion_caption_class(caption) == i // len(FASHION_TEMPLATES)
    items = ds.item_captions()[:500]
    assert [fashion_caption_class(c) for c in items] == (ds.labels[:500] // len(FASHION_TEMPLATES)).tolist()
    assert fashion_caption_class("  A Photo of a   SNEAKER ") == 7  # spacing and case do not matter


@pytest.mark.parametrize("caption", ["a photo of a sneakers", "a sock", "", "two small squares"])
def test_fashion_caption_class_names_a_bad_caption(caption: str) -> None:
    from unmask.data.captions import fashion_caption_class

    with pytest.raises(ValueError, match=f"caption {caption!r} is not a fashion-mnist-captions caption"):
        fashion_caption_class(caption)


@pytest.mark.parametrize("fd", [False, True])
def test_class_caption_adherence_scores_the_named_class(quick_digits_classifier, monkeypatch, fd: bool) -> None:  # type: ignore[no-untyped-def]
    """Real images captioned with their own class adhere as often as the classifier is right; shuffled
    captions far less; with FD the report carries the same accuracy as evaluate_samples'."""
    import unmask.eval.classifier as classifier_mod
    import unmask.eval.report as report_mod
    from unmask.data import get_dataset
    from unmask.data.captions import FASHION_NAMES
    from unmask.eval import conditional_accuracy
    from unmask.eval.adherence import evaluate_class_caption_adherence

    def fake_load(name, levels=None):  # type: ignore[no-untyped-def]
        assert name == "digits"
        return quick_digits_classifier

    monkeypatch.setattr(classifier_mod, "load_or_train_classifier", fake_load)
    monkeypatch.setattr(report_mod, "load_or_train_classifier", fake_load)
    ds = get_dataset("digits", "test")
    assert ds.labels is not None
    images, labels = ds.images()[:120], ds.labels.numpy()[:120]
    own = [f"a photo of a {FASHION_NAMES[k]}" for k in labels]
    shuffled = [own[i] for i in np.random.RandomState(0).permutation(len(own))]
    kw = {"ref": "digits", "fd": fd, "ref_n": 40}
    good = evaluate_class_caption_adherence(images, own, **kw)  # type: ignore[arg-type]
    bad = evaluate_class_caption_adherence(images, shuffled, **kw)  # type: ignore[arg-type]
    expected = conditional_accuracy(quick_digits_classifier.model, images, labels)
    assert good["adherence"]["class"] == expected.accuracy > 0.8  # type: ignore[index]
    assert good["adherence"]["per_class"] == expected.per_class  # type: ignore[index]
    assert bad["adherence"]["class"] < expected.accuracy - 0.5  # type: ignore[index]
    assert good["classifier_test_accuracy"] == quick_digits_classifier.test_accuracy and good["n"] == 120
    if fd:
        dist = good["distribution"]
        assert dist["conditional_accuracy"] == expected.accuracy and dist["fd"] >= 0  # type: ignore[index]
    else:
        assert "distribution" not in good
    with pytest.raises(ValueError, match="120 images but 119 captions"):
        evaluate_class_caption_adherence(images, own[:-1], **kw)  # type: ignore[arg-type]


def test_a_cached_report_of_another_version_is_trained_again(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import json

    monkeypatch.setenv("UNMASK_CACHE", str(tmp_path))
    settings = {"n_train": 64, "steps": 3, "seed": 0, "n_test": 20}
    _, report = load_or_train_scene_detector(**settings)
    (meta,) = (tmp_path / "adherence").glob("*.json")
    info = json.loads(meta.read_text())
    meta.write_text(json.dumps({**info, "field_of_another_version": 1}))
    _, again = load_or_train_scene_detector(**settings)
    assert again == report  # trained again (deterministic under the seed), not a TypeError
    assert json.loads(meta.read_text()) == info  # and the cache is rewritten
