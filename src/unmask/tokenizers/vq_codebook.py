"""The codebook of the VQ-VAE (``unmask.tokenizers.vqvae``): ``EMAVectorQuantizer``, nearest-neighbour
quantisation against K code vectors kept as EMA means of their assigned encoder outputs (no codebook
loss) with dead-code restarts onto batch vectors, its ``QuantizeOutput``, and the two summaries of
code assignment counts, ``codebook_perplexity`` and ``codebook_usage``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["EMAVectorQuantizer", "QuantizeOutput", "codebook_perplexity", "codebook_usage"]


def codebook_perplexity(counts: Tensor) -> float:
    """exp(H(p)) of the code frequencies p = counts / Σ counts: 1 when one code is used, K when all are equally."""
    c = counts.double()
    total = c.sum()
    if total <= 0:
        return 0.0
    p = c / total
    nz = p[p > 0]
    return float(torch.exp(-(nz * nz.log()).sum()))


def codebook_usage(counts: Tensor) -> float:
    """Fraction of codes assigned at least once, in [0, 1]."""
    return float((counts > 0).double().mean())


@dataclass
class QuantizeOutput:
    """quantized: straight-through codes (B, D, h, w); indices (B, h, w) int64; commitment ‖z_e − sg(e)‖² (mean);
    counts (K,) assignments per code in this batch."""

    quantized: Tensor
    indices: Tensor
    commitment: Tensor
    counts: Tensor


class EMAVectorQuantizer(nn.Module):
    """Nearest-neighbour codebook with EMA updates and dead-code restarts.

    Buffers (all saved with the weights): ``embedding`` (K, D) the codes; ``cluster_size`` (K,)
    EMA of assignment counts N_k; ``embed_sum`` (K, D) EMA of the sums of assigned vectors m_k.
    """

    embedding: Tensor
    cluster_size: Tensor
    embed_sum: Tensor

    def __init__(
        self, codebook_size: int, code_dim: int, *, decay: float = 0.99, eps: float = 1e-5, dead_threshold: float = 1.0
    ) -> None:
        super().__init__()
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        self.decay = decay
        self.eps = eps
        self.dead_threshold = dead_threshold
        self.register_buffer("embedding", torch.randn(codebook_size, code_dim))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed_sum", torch.zeros(codebook_size, code_dim))

    def nearest(self, z: Tensor) -> Tensor:
        """Index of the nearest code (squared L2, ties → lowest index) for each row of z (M, D) → (M,) int64."""
        e = self.embedding
        d = z.pow(2).sum(1, keepdim=True) - 2 * z @ e.t() + e.pow(2).sum(1)[None, :]  # (M, K)
        return d.argmin(1)

    def lookup(self, indices: Tensor) -> Tensor:
        """Code vectors of ``indices`` (...,) → (..., D)."""
        return F.embedding(indices, self.embedding)

    def forward(self, z_e: Tensor) -> QuantizeOutput:
        """Quantise encoder outputs (B, D, h, w); gradients pass straight through to z_e."""
        b, d, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)  # (B·h·w, D)
        idx = self.nearest(flat.detach().float())
        q = self.lookup(idx).view(b, h, w, d).permute(0, 3, 1, 2)  # (B, D, h, w)
        commitment = F.mse_loss(z_e, q.detach())
        quantized = z_e + (q - z_e).detach()
        counts = torch.bincount(idx, minlength=self.codebook_size)
        return QuantizeOutput(quantized, idx.view(b, h, w), commitment, counts)

    @torch.no_grad()
    def ema_update(self, z: Tensor, indices: Tensor, generator: torch.Generator | None = None) -> int:
        """One EMA step from encoder outputs ``z`` (M, D) assigned to ``indices`` (M,); returns codes restarted.

        n_k = #{i: idx_i = k}, s_k = Σ_{idx_i = k} z_i;
        N_k ← γ N_k + (1 − γ) n_k,  m_k ← γ m_k + (1 − γ) s_k;
        e_k = m_k / Ñ_k with Ñ_k = (N_k + ε) / (Σ_j N_j + K ε) · Σ_j N_j (Laplace smoothing).
        Then every code with N_k < dead_threshold is set to a distinct random row of ``z`` (drawn with
        ``generator``; rows repeat only when M < number of dead codes), with N_k = dead_threshold and
        m_k = dead_threshold · e_k.
        """
        z = z.detach().float()
        k = self.codebook_size
        n = torch.bincount(indices, minlength=k).to(z.dtype)
        s = torch.zeros(k, z.shape[1], dtype=z.dtype, device=z.device).index_add_(0, indices, z)
        self.cluster_size.mul_(self.decay).add_(n, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(s, alpha=1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (total + k * self.eps) * total
        self.embedding.copy_(self.embed_sum / smoothed.clamp_min(1e-12)[:, None])
        return self.restart_dead(z, generator)

    @torch.no_grad()
    def restart_dead(self, z: Tensor, generator: torch.Generator | None = None) -> int:
        """Move codes with EMA count below ``dead_threshold`` onto rows of ``z`` (M, D); returns how many."""
        if self.dead_threshold <= 0 or z.shape[0] == 0:
            return 0
        dead = torch.nonzero(self.cluster_size < self.dead_threshold).flatten()
        nd = int(dead.numel())
        if nd == 0:
            return 0
        m = z.shape[0]
        gen_device = generator.device if generator is not None else torch.device("cpu")
        if m >= nd:
            pick = torch.randperm(m, generator=generator, device=gen_device)[:nd]
        else:
            pick = torch.randint(0, m, (nd,), generator=generator, device=gen_device)
        new = z[pick.to(z.device)].to(self.embedding.dtype)
        self.embedding[dead] = new
        self.cluster_size[dead] = self.dead_threshold
        self.embed_sum[dead] = new * self.dead_threshold
        return nd
