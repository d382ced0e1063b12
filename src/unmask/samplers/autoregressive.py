"""Left-to-right sampling from a causal model (the autoregressive reference).

Position i is drawn from the model's prediction given [BOS, x_1 … x_{i−1}] (BOS = the
[MASK] id), after temperature, top-k and top-p, with one float64 uniform per position
drawn up front. L positions cost L forward calls (no key/value cache: the reference is
for likelihoods and samples on short sequences, not for speed). Positions given in
``x_init`` are kept (prompting).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import SampleOutput, Sampler, SampleStart
from .categorical import check_sampling_options, draw_categorical, filter_logits
from .guidance import TokenModel, check_cfg, guided_logits

__all__ = ["AutoregressiveSampler"]


@dataclass
class AutoregressiveSampler(Sampler[SampleOutput]):
    """Ancestral sampling of a causal model over a 1-D grid; ``sample()`` is ``Sampler.sample``.

    Args:
        temperature: T > 0; logits are divided by T.
        top_p: nucleus mass in (0, 1]; 1 disables.
        top_k: keep the k most likely tokens; 0 disables.
        cfg: guidance scale w ≥ 0 for class-conditional causal models.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    cfg: float = 1.0

    def __post_init__(self) -> None:
        check_sampling_options(self.temperature, self.top_p, self.top_k)
        self.cfg = check_cfg(self.cfg)

    def check_model(self, model: TokenModel) -> None:
        """Only causal models (``model.config.causal``)."""
        if not getattr(getattr(model, "config", None), "causal", False):
            raise ValueError("the autoregressive sampler needs a causal model (model.causal=true)")

    def _sample(self, start: SampleStart) -> SampleOutput:
        """Draw sequences (B, L) from ``x``; the ``SampleOutput``'s ``steps`` is L (one per position)."""
        model, x, labels, generator, device = start.model, start.x, start.labels, start.generator, start.device
        if x.ndim != 2:
            raise ValueError(f"autoregressive sampling needs a 1-D grid, got tokens of shape {tuple(x.shape)}")
        mask_id = model.vocab_size - 1
        b, length = x.shape
        x_init = x.clone()
        u = torch.rand(x.shape, dtype=torch.float64, generator=generator, device=device)
        reveal = torch.where(x == mask_id, torch.arange(length, device=device).expand(b, length), -1)
        nfe = 0
        for i in range(length):
            todo = x[:, i] == mask_id
            if not bool(todo.any()):
                continue
            inp = torch.cat([torch.full_like(x[:, :1], mask_id), x[:, :-1]], dim=1)
            logits = guided_logits(model, inp, None, labels, self.cfg)[:, i]  # (B, V)
            nfe += 1
            new = draw_categorical(
                filter_logits(logits[todo], temperature=self.temperature, top_k=self.top_k, top_p=self.top_p),
                uniforms=u[todo, i],
            )
            x[todo, i] = new
        return SampleOutput(
            tokens=x,
            nfe=nfe,
            nfe_per_sample=torch.full((b,), nfe, dtype=torch.long, device=device),
            steps=length,
            reveal_step=reveal,
            x_init=x_init,
            mask_id=mask_id,
        )
