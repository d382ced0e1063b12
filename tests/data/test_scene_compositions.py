"""scenes-compose: a quarter of the relation captions held out of training, so that a text encoder can
be asked for compositions it never saw; every word, (size, class) and relation still occurs in training."""

from __future__ import annotations

import hashlib
from collections import Counter
from unittest import mock

import numpy as np
import pytest
import torch

from unmask.data import get_dataset, parse_caption, render_scenes, scene_captions
from unmask.data.captions import (
    HELDOUT_RELATIONS,
    RELATIONS,
    SCENE_CLASSES,
    SCENE_SIZES,
    heldout_captions,
    is_heldout_caption,
    load_scenes,
)


def test_one_relation_held_out_per_group_and_each_relation_twice() -> None:
    assert set(HELDOUT_RELATIONS) == {(s, c) for s in SCENE_SIZES for c in SCENE_CLASSES}
    assert Counter(HELDOUT_RELATIONS.values()) == {r: 2 for r in RELATIONS}
    held = heldout_captions()
    relation_captions = [c for c in scene_captions() if parse_caption(c).relation]
    assert len(held) == 128 == len(relation_captions) // 4
    for c in held:
        spec = parse_caption(c)
        assert HELDOUT_RELATIONS[(spec.size, spec.cls)] == spec.relation
    assert not any(is_heldout_caption(c) for c in scene_captions()[:24])  # single-group captions stay
    with pytest.raises(ValueError, match="not of the scene grammar"):
        is_heldout_caption("a purple dragon")


def test_every_word_and_part_of_a_held_out_caption_is_seen_in_training() -> None:
    seen = [c for c in scene_captions() if not is_heldout_caption(c)]
    seen_words = {w for c in seen for w in c.split()}
    assert {w for c in heldout_captions() for w in c.split()} <= seen_words
    specs = [parse_caption(c) for c in seen]
    # each group-A (size, class) and each relation occurs with a relation in training, just not together
    assert {(s.size, s.cls) for s in specs if s.relation} == set(HELDOUT_RELATIONS)
    assert {s.relation for s in specs if s.relation} == set(RELATIONS)
    assert {(s.size_b, s.cls_b) for s in specs if s.relation} == set(HELDOUT_RELATIONS)


def test_pools_draw_only_their_captions() -> None:
    caps = scene_captions()
    _, seen_ids, _ = render_scenes(400, 5, pool="seen")
    _, held_ids, held_objs = render_scenes(60, 6, pool="heldout")
    assert not any(is_heldout_caption(caps[k]) for k in seen_ids)
    assert 0.35 < float(np.mean(seen_ids < 24)) < 0.65  # half single-group, half relation, as 'all'
    assert all(is_heldout_caption(caps[k]) for k in held_ids)
    assert all(len(o) == parse_caption(caps[k]).count + 1 for k, o in zip(held_ids, held_objs, strict=True))
    with pytest.raises(ValueError, match="pool must be 'all', 'seen' or 'heldout', got 'new'"):
        render_scenes(2, 0, pool="new")


def test_the_default_pool_keeps_the_scenes_of_every_seed() -> None:
    """'all' is the draw scenes always made: the same images as before the pools existed (digest of seed 11)."""
    images, ids, _ = render_scenes(40, 11)
    assert np.array_equal(render_scenes(40, 11, pool="all")[1], ids)
    digest = hashlib.sha256(images.tobytes() + ids.tobytes()).hexdigest()[:16]
    assert digest == DIGEST_ALL_SEED_11


DIGEST_ALL_SEED_11 = "a0d2400e912da682"


def test_compose_dataset_splits(tmp_path) -> None:
    with (
        mock.patch.dict("os.environ", {"UNMASK_CACHE": str(tmp_path)}),
        mock.patch(
            "unmask.data.captions.COMPOSE_SPLITS",
            {
                "train": (64, 0, "seen"),
                "test": (16, 1, "seen"),
                "test-heldout": (24, 4, "heldout"),
                "val": (16, 5, "seen"),
                "val-heldout": (24, 6, "heldout"),
            },
        ),
    ):
        train = get_dataset("scenes-compose", "train")
        held = get_dataset("scenes-compose", "test-heldout")
        assert (len(train), len(held)) == (64, 24) and train.name == "scenes-compose"
        assert train.captions == held.captions == scene_captions()
        assert not any(is_heldout_caption(c) for c in train.item_captions())
        assert all(is_heldout_caption(c) for c in held.item_captions())
        val, val_held = get_dataset("scenes-compose", "val"), get_dataset("scenes-compose", "val-heldout")
        assert not any(is_heldout_caption(c) for c in val.item_captions())
        assert all(is_heldout_caption(c) for c in val_held.item_captions())
        assert not torch.equal(val_held.tokens, held.tokens)  # their own scenes: choosing on val leaves test unread
        assert list((tmp_path / "datasets").glob("scenes-compose-v1-*"))  # cached under its own name
        with pytest.raises(ValueError, match="scenes-compose split must be one of 'train', 'test', 'test-heldout'"):
            load_scenes("nope", compose=True)
    with pytest.raises(ValueError, match="mini and compose"):
        load_scenes("train", mini=True, compose=True)
