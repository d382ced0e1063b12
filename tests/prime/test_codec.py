"""The base-b sub-token code: invertible, codes >= V impossible, consistency sets, bad input."""

from __future__ import annotations

import itertools

import pytest
import torch

from unmask.prime import SubTokenCodec, carry_over, subtoken_base, subtoken_log_marginals

pytestmark = pytest.mark.usefixtures("one_thread")

CASES = [(2, 1), (7, 3), (16, 2), (17, 2), (256, 1), (256, 2), (256, 4), (256, 8), (1000, 3), (50257, 2), (50257, 4)]


@pytest.mark.parametrize("vocab,length", CASES)
def test_base_is_smallest_that_spells_the_vocabulary(vocab: int, length: int) -> None:
    b = subtoken_base(vocab, length)
    assert b**length >= vocab
    assert b == 2 or (b - 1) ** length < vocab


@pytest.mark.parametrize("vocab,length", CASES)
def test_encode_decode_round_trip_every_token(vocab: int, length: int) -> None:
    codec = SubTokenCodec(vocab, length)
    x = torch.arange(vocab)
    y = codec.encode(x)
    assert y.shape == (vocab, length)
    assert int(y.min()) >= 0 and int(y.max()) < codec.base
    assert torch.equal(codec.decode(y), x)
    # the code is positional base b, most significant digit first
    value = torch.zeros(vocab, dtype=torch.long)
    for j in range(length):
        value = value * codec.base + y[:, j]
    assert torch.equal(value, x)


def test_known_codes() -> None:
    codec = SubTokenCodec(256, 2)
    assert codec.base == 16 and codec.mask_id == 16 and codec.subtoken_vocab == 17
    assert codec.encode(torch.tensor([0, 255, 0x3A])).tolist() == [[0, 0], [15, 15], [3, 10]]
    assert SubTokenCodec(50257, 2).base == 225 and SubTokenCodec(50257, 4).base == 15


def test_encode_keeps_any_leading_shape() -> None:
    codec = SubTokenCodec(17, 2)
    x = torch.randint(0, 17, (3, 4, 5), generator=torch.Generator().manual_seed(0))
    y = codec.encode(x)
    assert y.shape == (3, 4, 5, 2)
    assert torch.equal(codec.decode(y), x)


def test_codes_at_or_above_vocab_are_refused() -> None:
    codec = SubTokenCodec(7, 3)  # b = 2, codes 0..7, token 7 does not exist
    with pytest.raises(ValueError, match="encode 7, not a token"):
        codec.decode(torch.tensor([[1, 1, 1]]))
    with pytest.raises(ValueError, match="sub-tokens contain id 2"):
        codec.decode(torch.tensor([[1, 2, 0]]))  # [MASK] digit
    with pytest.raises(ValueError, match="tokens contain id 7"):
        codec.encode(torch.tensor([7]))


@pytest.mark.parametrize("length", [0, -1, 2.0, True])
def test_bad_length_names_the_value(length: object) -> None:
    with pytest.raises(ValueError, match="subtoken length"):
        SubTokenCodec(256, length)  # type: ignore[arg-type]


def test_length_beyond_log2_vocab_is_refused() -> None:
    SubTokenCodec(256, 8)
    with pytest.raises(ValueError, match="ℓ=9 is too long for V=256"):
        SubTokenCodec(256, 9)


@pytest.mark.parametrize("vocab", [1, 0, -3])
def test_unencodable_vocabulary(vocab: int) -> None:
    with pytest.raises(ValueError, match=f"vocabulary of {vocab} tokens is not encodable"):
        SubTokenCodec(vocab, 1)


@pytest.mark.parametrize("vocab,length", [(7, 3), (17, 2), (27, 3)])
def test_consistent_sets_by_brute_force(vocab: int, length: int) -> None:
    codec = SubTokenCodec(vocab, length)
    b = codec.base
    states = list(itertools.product(range(b + 1), repeat=length))
    y = torch.tensor(states)
    ok = codec.consistent(y)
    digits = codec.digits.tolist()
    for state, row in zip(states, ok.tolist(), strict=True):
        expect = [all(s == b or s == d for s, d in zip(state, digits[v], strict=True)) for v in range(vocab)]
        assert row == expect


def test_carry_over_zeroes_inconsistent_tokens_and_keeps_one() -> None:
    codec = SubTokenCodec(7, 3)
    logits = torch.randn(5, 7, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([[2, 2, 2], [0, 2, 2], [1, 1, 2], [1, 1, 0], [2, 2, 1]])  # 2 = [MASK]
    out = carry_over(logits, y, codec)
    p = torch.softmax(out, -1)
    assert torch.allclose(p.sum(-1), torch.ones(5))
    assert torch.equal(out[0], logits[0])  # all masked: unchanged
    assert p[1, 4:].sum() == 0 and p[1, :4].sum() > 0.99  # leading digit 0: tokens 0..3
    assert torch.equal(p[2] > 0, torch.tensor([False] * 6 + [True]))  # 11? -> only 6 (7 is not a token)
    assert p[3, 6] == 1.0  # fully revealed 110 = 6
    assert torch.equal(p[4] > 0, torch.tensor([False, True, False, True, False, True, False]))


def test_marginals_sum_joint_over_digits() -> None:
    codec = SubTokenCodec(27, 3)  # b = 3, V = 27 = b^3: no padding
    g = torch.Generator().manual_seed(2)
    logp = torch.log_softmax(torch.randn(4, 27, generator=g), -1)
    marg = subtoken_log_marginals(logp, codec).exp()
    assert marg.shape == (4, 3, 3)
    p = logp.exp()
    for j in range(3):
        for d in range(3):
            expect = p[:, codec.digits[:, j] == d].sum(-1)
            assert torch.allclose(marg[:, j, d], expect, atol=1e-6)
    assert torch.allclose(marg.sum(-1), torch.ones(4, 3), atol=1e-6)


def test_marginals_with_padding_give_impossible_codes_no_mass() -> None:
    codec = SubTokenCodec(10, 2)  # b = 4, codes 10..15 padded
    logp = torch.log_softmax(torch.zeros(1, 10), -1)
    marg = subtoken_log_marginals(logp, codec).exp()[0]
    # leading digit: tokens 0-3 -> 0, 4-7 -> 1, 8-9 -> 2, none -> 3
    assert torch.allclose(marg[0], torch.tensor([0.4, 0.4, 0.2, 0.0]))
    assert torch.allclose(marg[1], torch.tensor([0.3, 0.3, 0.2, 0.2]))
