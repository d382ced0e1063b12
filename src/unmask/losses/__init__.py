"""Training objectives: masked, weighted cross-entropy (paper Eq. 3, 10)."""

from .cross_entropy import REDUCTIONS, WEIGHTINGS, LossOutput, MaskedCrossEntropy, loss_weight

__all__ = ["MaskedCrossEntropy", "LossOutput", "loss_weight", "WEIGHTINGS", "REDUCTIONS"]
