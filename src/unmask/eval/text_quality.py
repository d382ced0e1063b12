"""Quality of generated text, beyond likelihood: the generative perplexity under a judge model and the
n-gram statistics that catch repetition.

- **Generative NLL / perplexity** (the MDLM and MDM-Prime papers' measure): the exact negative
  log-likelihood of the samples under an autoregressive judge trained on the same data (nats per
  token; for byte tokens, bits per token are bits per byte). Low means the judge finds the samples
  plausible; alone it rewards dull, repetitive text, so it is read beside:
- **n-gram entropies** of the samples (bits; unigram and bigram distributions pooled over all
  samples) and **distinct-n** (distinct n-grams / all n-grams): low-temperature repetition lowers
  both. The same statistics of real held-out text (``reference``) say what to expect.

    report = text_sample_report(samples, judge=(ar_model, ar_objective), reference=val_tokens[:256])
    report.to_dict()
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["TextStats", "TextSampleReport", "distinct_ngrams", "ngram_entropy", "text_sample_report", "text_stats"]


def _as_rows(tokens: Tensor | np.ndarray, what: str = "tokens") -> np.ndarray:
    """(N, L) int64 array of token ids; ``ValueError`` for another shape, no rows or negative ids."""
    arr = tokens.detach().cpu().numpy() if isinstance(tokens, Tensor) else np.asarray(tokens)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be sequences (N, L), got shape {tuple(arr.shape)}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{what} holds no tokens (shape {tuple(arr.shape)})")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be integer token ids, got dtype {arr.dtype}")
    if arr.min() < 0:
        raise ValueError(f"{what} hold a negative token id ({int(arr.min())})")
    return arr.astype(np.int64)


def _ngrams(rows: np.ndarray, n: int) -> Counter[tuple[int, ...]]:
    """n-grams within each sequence (never across two), pooled."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if rows.shape[1] < n:
        raise ValueError(f"sequences of {rows.shape[1]} tokens hold no {n}-grams")
    grams = np.stack([rows[:, i : rows.shape[1] - n + 1 + i] for i in range(n)], -1).reshape(-1, n)
    return Counter(map(tuple, grams.tolist()))


def ngram_entropy(tokens: Tensor | np.ndarray, n: int = 1) -> float:
    """Entropy in bits of the pooled n-gram distribution of ``tokens`` (N, L): Σ −p log₂ p over the
    n-grams within each sequence. 0 for text that repeats one n-gram; at most n · log₂(vocabulary)."""
    counts = np.fromiter(_ngrams(_as_rows(tokens), n).values(), dtype=np.float64)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def distinct_ngrams(tokens: Tensor | np.ndarray, n: int = 2) -> float:
    """distinct-n: distinct n-grams over all n-grams of ``tokens`` (N, L), pooled; in (0, 1]."""
    counts = _ngrams(_as_rows(tokens), n)
    return len(counts) / sum(counts.values())


@dataclass(frozen=True)
class TextStats:
    """n-gram statistics of a set of sequences (bits; distinct-n in (0, 1])."""

    sequences: int
    tokens_per_sequence: int
    unigram_entropy_bits: float
    bigram_entropy_bits: float
    distinct_2: float
    distinct_3: float


def text_stats(tokens: Tensor | np.ndarray) -> TextStats:
    """``TextStats`` of ``tokens`` (N, L) with L ≥ 3."""
    rows = _as_rows(tokens)
    return TextStats(
        sequences=int(rows.shape[0]),
        tokens_per_sequence=int(rows.shape[1]),
        unigram_entropy_bits=ngram_entropy(rows, 1),
        bigram_entropy_bits=ngram_entropy(rows, 2),
        distinct_2=distinct_ngrams(rows, 2),
        distinct_3=distinct_ngrams(rows, 3),
    )


@dataclass(frozen=True)
class TextSampleReport:
    """Samples' statistics, their NLL under the judge (when given), and the reference's statistics.

    Attributes:
        samples: n-gram statistics of the samples.
        judge_nats_per_token, judge_stderr_nats: exact NLL of the samples under the autoregressive
            judge, mean over sequences and its standard error (None without a judge).
        reference: the same statistics of real text, and ``reference_judge_nats_per_token`` its NLL
            under the judge (what a perfect sampler would score), when given.
    """

    samples: TextStats
    judge_nats_per_token: float | None = None
    judge_stderr_nats: float | None = None
    reference: TextStats | None = None
    reference_judge_nats_per_token: float | None = None

    @property
    def generative_perplexity(self) -> float | None:
        """exp(judge NLL per token) of the samples."""
        return None if self.judge_nats_per_token is None else math.exp(self.judge_nats_per_token)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"samples": asdict(self.samples)}
        if self.judge_nats_per_token is not None:
            out["judge"] = {
                "nats_per_token": self.judge_nats_per_token,
                "stderr_nats": self.judge_stderr_nats,
                "bits_per_token": self.judge_nats_per_token / math.log(2),
                "generative_perplexity": self.generative_perplexity,
            }
        if self.reference is not None:
            out["reference"] = asdict(self.reference)
            if self.reference_judge_nats_per_token is not None:
                out["reference"]["judge_nats_per_token"] = self.reference_judge_nats_per_token
                out["reference"]["judge_bits_per_token"] = self.reference_judge_nats_per_token / math.log(2)
        return out


def _judge_nll(
    judge: tuple[Any, Any], rows: np.ndarray, what: str, batch_size: int, device: str
) -> tuple[float, float]:
    from .likelihood import held_out_nll

    model, objective = judge
    if type(objective).__name__ != "AutoregressiveObjective":
        raise ValueError(
            f"the judge must be an autoregressive model with its objective (exact NLL), got {type(objective).__name__}"
        )
    # the judge's last id is its [BOS] (where a masked model has its [MASK]): samples hold data ids only
    data_vocab = min(int(objective.bos), int(getattr(model, "vocab_size", objective.bos)))
    top = int(rows.max())
    if top >= data_vocab:
        raise ValueError(
            f"{what} hold token id {top}, outside the judge's data vocabulary (ids 0 … {data_vocab - 1}): "
            "a [MASK] left in a sample, or text of another tokenizer?"
        )
    report = held_out_nll(model, objective, torch.as_tensor(rows), batch_size=batch_size, device=device)
    return report.nats_per_token, report.stderr_nats


@torch.no_grad()
def text_sample_report(
    samples: Tensor | np.ndarray,
    *,
    judge: tuple[Any, Any] | None = None,
    reference: Tensor | np.ndarray | None = None,
    batch_size: int = 64,
    device: str = "cpu",
) -> TextSampleReport:
    """Statistics of ``samples`` (N, L) token ids, their exact NLL under ``judge`` = (autoregressive
    model, its ``AutoregressiveObjective``) and the same for ``reference`` (real text, (M, L′)).

    ``ValueError`` for samples that are not (N, L) integer ids, hold ids the judge cannot score (a
    [MASK] left behind), or a judge that is not autoregressive.
    """
    rows = _as_rows(samples, "samples")
    ref_rows = None if reference is None else _as_rows(reference, "reference")
    nll = stderr = ref_nll = None
    if judge is not None:
        nll, stderr = _judge_nll(judge, rows, "samples", batch_size, device)
        if ref_rows is not None:
            ref_nll, _ = _judge_nll(judge, ref_rows, "reference", batch_size, device)
    return TextSampleReport(
        samples=text_stats(rows),
        judge_nats_per_token=nll,
        judge_stderr_nats=stderr,
        reference=None if ref_rows is None else text_stats(ref_rows),
        reference_judge_nats_per_token=ref_nll,
    )
