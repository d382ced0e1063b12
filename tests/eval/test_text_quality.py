"""Text sample quality: n-gram entropies and distinct-n against hand-computed values, and the exact NLL
of samples under an autoregressive judge (equal to the judge's own held-out NLL, refusing [MASK])."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from unmask.config import load_config
from unmask.eval.likelihood import held_out_nll
from unmask.eval.text_quality import distinct_ngrams, ngram_entropy, text_sample_report, text_stats
from unmask.training import build_objective
from unmask.training.batches import load_training_data
from unmask.training.factories import build_model

pytestmark = pytest.mark.usefixtures("one_thread")


def test_entropies_and_distinct_by_hand() -> None:
    rows = np.array([[0, 1, 0, 1], [2, 2, 2, 2]])
    # unigrams: 0 ×2, 1 ×2, 2 ×4 → p = (1/4, 1/4, 1/2): H = 1.5 bits
    assert ngram_entropy(rows, 1) == pytest.approx(1.5)
    # bigrams within rows (never across): (0,1) ×2, (1,0) ×1, (2,2) ×3 → 6 bigrams, 3 distinct
    p = np.array([2, 1, 3]) / 6
    assert ngram_entropy(rows, 2) == pytest.approx(float(-(p * np.log2(p)).sum()))
    assert distinct_ngrams(rows, 2) == pytest.approx(3 / 6)
    # trigrams: (0,1,0), (1,0,1), (2,2,2) ×2 → 3 distinct of 4
    assert distinct_ngrams(rows, 3) == pytest.approx(3 / 4)
    s = text_stats(torch.as_tensor(rows))
    assert (s.sequences, s.tokens_per_sequence) == (2, 4)


def test_repetition_lowers_every_statistic() -> None:
    gen = np.random.default_rng(0)
    varied = gen.integers(0, 50, size=(32, 64))
    repeated = np.tile(gen.integers(0, 50, size=(32, 4)), (1, 16))
    a, b = text_stats(varied), text_stats(repeated)
    assert b.bigram_entropy_bits < a.bigram_entropy_bits
    assert b.distinct_2 < a.distinct_2 and b.distinct_3 < a.distinct_3
    assert ngram_entropy(np.zeros((3, 10), dtype=int), 2) == 0.0
    assert ngram_entropy(varied, 1) <= math.log2(50) + 1e-9


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros(5, dtype=int), r"\(N, L\)"),
        (np.zeros((0, 5), dtype=int), "no tokens"),
        (np.zeros((2, 5)), "integer token ids"),
        (np.full((2, 5), -1), "negative token id"),
    ],
)
def test_bad_token_arrays_name_the_problem(bad: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        text_stats(bad)
    with pytest.raises(ValueError, match="no 4-grams"):
        ngram_entropy(np.zeros((2, 3), dtype=int), 4)


@pytest.fixture(scope="module")
def judge():
    cfg = load_config("tiny", ["data.name=kjv", "data.seq_len=16", "model.patch=1", "model.causal=true"])
    data, _ = load_training_data(cfg)
    torch.manual_seed(0)
    model = build_model(cfg, data).eval()
    return model, build_objective(cfg, data.vocab_size), data


def test_judge_nll_is_the_exact_held_out_nll(judge) -> None:
    model, objective, data = judge
    rows = data.tokens[:24]
    report = text_sample_report(rows, judge=(model, objective), reference=data.tokens[24:40], batch_size=8)
    direct = held_out_nll(model, objective, rows, batch_size=8)
    assert report.judge_nats_per_token == pytest.approx(direct.nats_per_token)
    assert report.generative_perplexity == pytest.approx(math.exp(direct.nats_per_token))
    assert report.reference is not None and report.reference.sequences == 16
    assert report.reference_judge_nats_per_token is not None
    d = report.to_dict()
    assert d["judge"]["bits_per_token"] == pytest.approx(direct.nats_per_token / math.log(2))
    assert set(d) == {"samples", "judge", "reference"}


def test_judge_refuses_mask_ids_and_masked_models(judge) -> None:
    model, objective, data = judge
    rows = data.tokens[:4].clone()
    rows[1, 3] = objective.bos  # the id a masked model uses for [MASK]
    with pytest.raises(ValueError, match=f"token id {objective.bos}.*\\[MASK\\]"):
        text_sample_report(rows, judge=(model, objective))
    masked_cfg = load_config("tiny", ["data.name=kjv", "data.seq_len=16", "model.patch=1"])
    with pytest.raises(ValueError, match="autoregressive"):
        text_sample_report(data.tokens[:4], judge=(model, build_objective(masked_cfg, data.vocab_size)))
