"""Model families: one home for what tells a token grid, a joint multi-stream model, a video model
and a text-to-image model apart (see ``base``).

The trainer, inference, the CLI and ``unmask info`` ask the registry instead of branching on
config keys or model classes: ``family_for(config)`` for a run, ``family_of_backbone(record)`` for
a checkpoint. A new family is a module with a ``ModelFamily`` subclass and one line here (or, from
outside the library, one ``register_family(MyFamily())`` call).

* ``base``: ``ModelFamily``, the registry (``FAMILIES``, ``register_family``, ``family_for``, …);
* ``token_grid``: ``Transformer`` over one grid: masked, MDM-Prime and causal (the fallback);
* ``multistream``: ``MultiStreamTransformer`` over aligned streams (joint models);
* ``video``: ``VideoTransformer`` over token clips;
* ``text_to_image``: ``TextTransformer`` conditioned on captions.
"""

from __future__ import annotations

from . import base
from .base import *  # noqa: F403  (re-exported whole: __all__ below)
from .multistream import MultiStreamFamily, multistream_objective, stream_specs
from .text_to_image import TextToImageFamily
from .token_grid import TokenGridFamily, build_interpolant, token_objective, token_sampler, token_sampler_name
from .video import VideoFamily

__all__ = [
    "TokenGridFamily",
    "MultiStreamFamily",
    "VideoFamily",
    "TextToImageFamily",
    "build_interpolant",
    "token_objective",
    "token_sampler",
    "token_sampler_name",
    "multistream_objective",
    "stream_specs",
]
__all__ += base.__all__

# the built-in families, asked in this order (the token grid, the fallback, always last)
base.register_family(TextToImageFamily())
base.register_family(VideoFamily())
base.register_family(MultiStreamFamily())
base.register_family(TokenGridFamily())
