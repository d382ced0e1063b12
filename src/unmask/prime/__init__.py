"""MDM-Prime (arXiv 2505.18495): partial masking through base-b sub-tokens.

* ``SubTokenCodec``: the invertible base-b code of V tokens into ℓ sub-tokens;
* ``SubTokenInterpolant``: every sub-token masked independently under a schedule;
* ``carry_over`` / ``subtoken_log_marginals``: the joint parameterisation that gives
  tokens inconsistent with revealed sub-tokens zero mass, and its per-digit marginals.

The objective is ``unmask.losses.SubTokenCrossEntropy`` and the sampler
``unmask.samplers.PrimeSampler``.
"""

from .codec import SubTokenCodec, subtoken_base
from .parameterization import carry_over, carry_over_log_marginals, carry_over_table, subtoken_log_marginals
from .path import SubTokenInterpolant, SubTokenPathSample

__all__ = [
    "SubTokenCodec",
    "subtoken_base",
    "SubTokenInterpolant",
    "SubTokenPathSample",
    "carry_over",
    "carry_over_table",
    "carry_over_log_marginals",
    "subtoken_log_marginals",
]
