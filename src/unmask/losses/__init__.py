"""Training objectives: masked, weighted cross-entropy (paper Eq. 3, 10) on tokens, and its
MDM-Prime form on sub-tokens under the carry-over joint parameterisation."""

from .cross_entropy import REDUCTIONS, WEIGHTINGS, LossOutput, MaskedCrossEntropy, loss_weight
from .prime import SubTokenCrossEntropy

__all__ = ["MaskedCrossEntropy", "SubTokenCrossEntropy", "LossOutput", "loss_weight", "WEIGHTINGS", "REDUCTIONS"]
