"""Captioned datasets: scenes are deterministic and match their captions; Fashion-MNIST captions name the
class; users' pairs (JSONL, COCO layout) load and name the bad item."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unmask.data import get_dataset, load_caption_pairs, parse_caption, render_scenes, scene_captions
from unmask.data.captions import RELATIONS, SCENE_SIZES


def test_grammar_is_complete_and_parses_back() -> None:
    caps = scene_captions()
    assert len(caps) == len(set(caps)) == 24 + 2 * 2 * 4 * 4 * 2 * 4
    for c in caps:
        spec = parse_caption(c)
        assert spec.cls in c and spec.size in c
    assert parse_caption("two small squares left of a big circle").relation == "left of"
    with pytest.raises(ValueError, match="'four squares' is not of the scene grammar"):
        parse_caption("four squares")


def test_scenes_are_deterministic_and_match_their_captions() -> None:
    a = render_scenes(60, 11)
    b = render_scenes(60, 11)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    assert not np.array_equal(render_scenes(60, 12)[0], a[0])
    caps = scene_captions()
    for image, k, objs in zip(*a, strict=True):
        spec = parse_caption(caps[k])
        n_b = 1 if spec.relation else 0
        assert len(objs) == spec.count + n_b
        group, last = objs[: spec.count], objs[spec.count :]
        assert all((c, s) == (spec.cls, spec.size) for c, s, _, _ in group)
        lo, hi = SCENE_SIZES[spec.size]
        for _, _, x, y in objs:  # the object is drawn: its centre pixel is bright
            assert image[int(y), int(x)] >= 150
        if spec.relation:
            (cb, sb, xb, yb) = last[0]
            assert (cb, sb) == (spec.cls_b, spec.size_b)
            for _, _, x, y in group:
                assert {
                    "left of": x < 16 <= xb,
                    "right of": x > 16 >= xb,
                    "above": y < 16 <= yb,
                    "below": y > 16 >= yb,
                }[spec.relation]
    assert set(RELATIONS) == {"left of", "right of", "above", "below"}


def test_scenes_mini_splits_share_the_caption_table() -> None:
    train, test = get_dataset("scenes-mini", "train"), get_dataset("scenes-mini", "test")
    assert len(train) == 512 and len(test) == 128 and train.grid == (32, 32)
    assert train.captions == test.captions == scene_captions()
    assert train.num_classes == len(scene_captions()) and int(train.tokens.max()) <= 7
    assert train.item_captions()[0] == scene_captions()[int(train.labels[0])]


def test_fashion_mnist_captions_name_the_class() -> None:
    from unmask.data.captions import FASHION_NAMES, FASHION_TEMPLATES

    try:
        ds = get_dataset("fashion-mnist-captions", "test")
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"Fashion-MNIST is not installed: {err}")
    base = get_dataset("fashion-mnist", "test")
    caps = ds.item_captions()
    assert len(caps) == len(base)
    for i in range(0, len(base), 997):
        assert FASHION_NAMES[int(base.labels[i])] in caps[i]
    assert set((ds.labels % len(FASHION_TEMPLATES)).tolist()) == set(range(len(FASHION_TEMPLATES)))
    assert ds.captions[ds.labels[0]] == FASHION_TEMPLATES[int(ds.labels[0]) % 4].format(FASHION_NAMES[base.labels[0]])


def _write_images(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(n):
        Image.fromarray(np.full((40, 48), 20 * i, dtype=np.uint8)).save(folder / f"im{i}.png")
        names.append(f"im{i}.png")
    return names


def test_jsonl_pairs(tmp_path: Path) -> None:
    names = _write_images(tmp_path, 10)
    lines = [json.dumps({"image": n, "caption": f"caption {i % 3}"}) for i, n in enumerate(names)]
    (tmp_path / "captions.jsonl").write_text("\n".join(lines) + "\n")
    train = load_caption_pairs(tmp_path, "train", size=16)
    test = load_caption_pairs(tmp_path, "test", size=16)
    assert len(train) == 9 and len(test) == 1 and train.grid == (16, 16)
    assert set(train.item_captions()) <= {"caption 0", "caption 1", "caption 2"}
    (tmp_path / "captions.jsonl").write_text(lines[0] + "\n" + json.dumps({"image": "gone.png", "caption": "x"}))
    with pytest.raises(ValueError, match=r"captions.jsonl:2: image .*gone.png' does not exist"):
        load_caption_pairs(tmp_path, "train", test_fraction=0.0)
    (tmp_path / "captions.jsonl").write_text(lines[0] + '\n{"image": 3}\n')
    with pytest.raises(ValueError, match=r"captions.jsonl:2: each line must be"):
        load_caption_pairs(tmp_path, "train")
    (tmp_path / "bad.png").write_text("not an image")
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "bad.png", "caption": "x"}))
    with pytest.raises(ValueError, match=r"captions.jsonl:1: cannot read image .*bad.png"):
        load_caption_pairs(tmp_path, "train", test_fraction=0.0)


def test_coco_layout(tmp_path: Path) -> None:
    names = _write_images(tmp_path / "train" / "images", 3)
    ann = {
        "images": [{"id": 10 + i, "file_name": n} for i, n in enumerate(names)],
        "annotations": [
            {"image_id": 10, "caption": "a grey square"},
            {"image_id": 12, "caption": "white"},
            {"image_id": 10, "caption": "another caption of the same image"},
        ],
    }
    (tmp_path / "train" / "annotations").mkdir()
    (tmp_path / "train" / "annotations" / "captions_train.json").write_text(json.dumps(ann))
    ds = load_caption_pairs(tmp_path, "train", size=8)
    assert len(ds) == 3 and ds.item_captions()[1] == "white"
    assert np.array_equal(ds.tokens[0], ds.tokens[2])  # two captions of one image
    ann["annotations"].append({"image_id": 99, "caption": "orphan"})
    (tmp_path / "train" / "annotations" / "captions_train.json").write_text(json.dumps(ann))
    with pytest.raises(ValueError, match="annotation 3: needs an image_id of a listed image"):
        load_caption_pairs(tmp_path, "train")
    with pytest.raises(ValueError, match="set data.root"):
        get_dataset("caption-pairs", "train")
