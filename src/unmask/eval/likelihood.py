"""Held-out likelihoods: negative ELBO (masked diffusion, MDM-Prime) or exact NLL (autoregressive).

``held_out_nll`` runs an objective's ``nll_bound`` over a token dataset and reports nats
and bits per token and the perplexity bound exp(nats per token), with the standard
error of the mean over sequences. For masked models the value is a Monte-Carlo
estimate of an upper bound (one stratified t per sequence and pass, ``repeats`` passes);
for the autoregressive reference it is exact. For byte tokens, bits per token are
bits per byte (bits per character for ASCII text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import UserError

__all__ = ["held_out_nll", "LikelihoodReport"]


@dataclass
class LikelihoodReport:
    """Mean negative log-likelihood (bound) per token over a dataset."""

    nats_per_token: float
    stderr_nats: float
    sequences: int
    tokens_per_sequence: int
    repeats: int
    exact: bool

    @property
    def bits_per_token(self) -> float:
        return self.nats_per_token / math.log(2)

    @property
    def perplexity(self) -> float:
        """exp(nats per token): a bound on the perplexity for masked models, exact for AR."""
        return math.exp(self.nats_per_token)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nats_per_token": self.nats_per_token,
            "stderr_nats": self.stderr_nats,
            "bits_per_token": self.bits_per_token,
            "perplexity": self.perplexity,
            "sequences": self.sequences,
            "tokens_per_sequence": self.tokens_per_sequence,
            "repeats": self.repeats,
            "kind": "exact NLL" if self.exact else "negative ELBO (upper bound, Monte-Carlo)",
        }


@torch.no_grad()
def held_out_nll(
    model: Any,
    objective: Any,
    tokens: Tensor | dict[str, Tensor],
    labels: Tensor | None = None,
    *,
    batch_size: int = 64,
    repeats: int = 1,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> LikelihoodReport:
    """Average ``objective.nll_bound`` over ``tokens`` (N, …), ``repeats`` passes with fresh t and masks.

    ``tokens`` may be {stream: (N, …)} for a multi-stream objective (nats per token over all
    streams). Deterministic under ``seed``. Returns a ``LikelihoodReport``.
    """
    if isinstance(tokens, dict):
        streams = tokens
        count = int(next(iter(streams.values())).shape[0])
        per_example = sum(int(v[0].numel()) for v in streams.values()) if count else 0
    else:
        streams = None
        count = int(tokens.shape[0])
        per_example = int(tokens[0].numel()) if count else 0
    if count < 1:
        raise UserError("no sequences to evaluate")
    if repeats < 1 or batch_size < 1:
        raise UserError(f"repeats and batch_size must be >= 1, got {repeats} and {batch_size}")
    exact = type(objective).__name__ == "AutoregressiveObjective"
    if exact:
        repeats = 1
    gen = torch.Generator(device=device).manual_seed(seed)
    per_seq = torch.zeros(count, dtype=torch.float64)
    starts = [(r, s) for r in range(repeats) for s in range(0, count, batch_size)]
    it: Any = starts
    if progress:
        from tqdm import tqdm

        it = tqdm(starts, desc="nll", unit="batch")
    for _, s in it:
        x: Any = (
            {k: v[s : s + batch_size].to(device) for k, v in streams.items()}
            if streams is not None
            else tokens[s : s + batch_size].to(device)  # type: ignore[index]
        )
        y = None if labels is None else labels[s : s + batch_size].to(device)
        rows = min(batch_size, count - s)
        per_seq[s : s + rows] += objective.nll_bound(model, x, y, gen).double().cpu()
    per_seq /= repeats
    n = per_seq.shape[0]
    mean = float(per_seq.mean())
    stderr = float(per_seq.std(unbiased=True)) / math.sqrt(n) if n > 1 else float("nan")
    return LikelihoodReport(
        nats_per_token=mean,
        stderr_nats=stderr,
        sequences=n,
        tokens_per_sequence=per_example,
        repeats=repeats,
        exact=exact,
    )
