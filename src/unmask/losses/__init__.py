"""Training objectives: masked, weighted cross-entropy (paper Eq. 3, 10) on tokens, its
MDM-Prime form on sub-tokens under the carry-over joint parameterisation, and the
objective objects the trainer drives (masked, sub-token, autoregressive, multi-stream)."""

from .cross_entropy import REDUCTIONS, WEIGHTINGS, LossOutput, MaskedCrossEntropy, Reduction, Weighting, loss_weight
from .objectives import (
    STREAM_WEIGHTINGS,
    AutoregressiveObjective,
    MaskedObjective,
    MultiStreamObjective,
    Objective,
    SubTokenObjective,
    slice_batch,
)
from .prime import SubTokenCrossEntropy

__all__ = [
    "MaskedCrossEntropy",
    "SubTokenCrossEntropy",
    "LossOutput",
    "loss_weight",
    "WEIGHTINGS",
    "REDUCTIONS",
    "Weighting",
    "Reduction",
    "Objective",
    "MaskedObjective",
    "SubTokenObjective",
    "AutoregressiveObjective",
    "MultiStreamObjective",
    "STREAM_WEIGHTINGS",
    "slice_batch",
]
