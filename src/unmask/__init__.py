"""unmask: Discrete Interpolants — masked generative models and masked discrete diffusion.

Subpackages, one concept each:

* ``unmask.schedules``    κ_t, κ̇_t, κ⁻¹ (paper Table 1), by name
* ``unmask.interpolants`` x_t from x_1 and t (Eq. 1, 6, 8), training-time draws of t
* ``unmask.losses``       masked, weighted cross-entropy (Eq. 3, 10)
* ``unmask.models``       the U-ViT-style token transformer (ETM / ITM), presets
* ``unmask.samplers``     Euler (Algorithm 1), CFG, temperature, top-k/p
* ``unmask.tokenizers``   pixel quantiser
* ``unmask.data``         datasets as tokens (digits)
* ``unmask.eval``         classifiers and metrics
* ``unmask.training``     the loop, EMA, checkpoints, resume
* ``unmask.config``, ``unmask.cli``  configs and the ``unmask`` command
"""

__version__ = "0.1.0"
