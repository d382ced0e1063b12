"""Text tokenizers and the KJV corpus: round trips, fixed split, packing, bad input."""

from __future__ import annotations

import pytest
import torch

from unmask.data import KJV_ALPHABET, get_dataset, kjv_text
from unmask.data.text import pack
from unmask.tokenizers import ByteTokenizer, CharTokenizer, GPT2Tokenizer, build_tokenizer

TEXT = (
    "In the beginning God created the heavens and the earth.\nAnd God said, Let there be light: and there was light.\n"
)


@pytest.mark.parametrize("tok", [ByteTokenizer(), CharTokenizer(KJV_ALPHABET), GPT2Tokenizer()])
def test_round_trip_and_rebuild(tok) -> None:
    ids = tok.encode(TEXT)
    assert ids.dtype == torch.long and int(ids.min()) >= 0 and int(ids.max()) < tok.vocab
    assert tok.decode(ids[None]) == [TEXT]
    again = build_tokenizer(tok.config())
    assert again.decode(ids[None]) == [TEXT] and again.vocab_size == tok.vocab + 1
    assert tok.kind == "text"


def test_known_ids() -> None:
    assert ByteTokenizer().encode("Hé").tolist() == [72, 195, 169]
    assert GPT2Tokenizer().encode("In the beginning").tolist() == [818, 262, 3726]  # GPT-2's own ids
    assert GPT2Tokenizer().vocab == 50257 and ByteTokenizer().vocab_size == 257


def test_chars_outside_the_alphabet_are_named() -> None:
    tok = CharTokenizer(KJV_ALPHABET)
    with pytest.raises(ValueError, match=r"character 'é' \(U\+00E9\) at position 2 is not in the tokenizer's alphabet"):
        tok.encode("Thé")
    with pytest.raises(ValueError, match="appears twice"):
        CharTokenizer("abca")


def test_decode_refuses_ids_outside_the_vocabulary() -> None:
    with pytest.raises(ValueError, match="token id 256 is outside the text vocabulary"):
        ByteTokenizer().decode(torch.tensor([[72, 256]]))
    with pytest.raises(ValueError, match="token id 63 is outside"):
        CharTokenizer(KJV_ALPHABET).decode(torch.tensor([[63]]))


def test_invalid_utf8_from_a_model_decodes_with_replacement() -> None:
    assert ByteTokenizer().decode(torch.tensor([[72, 195, 72]])) == ["H\ufffdH"]


def test_gpt2_refuses_special_token_text() -> None:
    with pytest.raises(ValueError, match="cannot be encoded with the GPT-2 tokenizer"):
        GPT2Tokenizer().encode("a <|endoftext|> b")


def test_kjv_split_is_fixed_disjoint_and_clean() -> None:
    train, valid = kjv_text()
    assert train.startswith("In the beginning God created")
    assert 3_800_000 < len(train) < 4_100_000 and 150_000 < len(valid) < 250_000
    assert set(train + valid) == set(KJV_ALPHABET)  # no digits: verse references are removed
    # chapter 20 of Genesis (canonical chapter index 19) is validation
    assert "And Abraham journeyed from thence toward the south country" in valid
    assert "And Abraham journeyed from thence toward the south country" not in train


@pytest.mark.parametrize("tokenizer,seq_len", [("bytes", 128), ("chars", 64), ("gpt2", 32)])
def test_kjv_dataset_packs_sequences(tokenizer: str, seq_len: int) -> None:
    ds = get_dataset("kjv", "test", tokenizer=tokenizer, seq_len=seq_len)
    assert ds.tokens.shape[1] == seq_len and ds.labels is None and ds.num_classes == 0
    assert int(ds.tokens.max()) < ds.vocab_size - 1
    text = "".join(ds.tokenizer.decode(ds.tokens[:3]))
    assert kjv_text()[1].startswith(text[:50])


def test_pack_drops_the_remainder_and_rejects_short_streams() -> None:
    assert pack(torch.arange(10), 4).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="holds no sequence of 16"):
        pack(torch.arange(10), 16)


def test_options_that_do_not_apply_are_errors() -> None:
    with pytest.raises(ValueError, match="data.levels does not apply to dataset 'kjv'"):
        get_dataset("kjv", "train", levels=16)
    with pytest.raises(ValueError, match="data.tokenizer does not apply to dataset 'digits'"):
        get_dataset("digits", "train", tokenizer="bytes")
    with pytest.raises(ValueError, match="unknown text tokenizer 'bpe'"):
        get_dataset("kjv", "train", tokenizer="bpe")
