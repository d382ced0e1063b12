"""The text-to-image family: a ``TextTransformer`` conditioned on captions (``model.text_encoder``).

In training the model is bound to its dataset's caption table (``CaptionConditioned``: class i is
caption i), so the masked token grid's objective, default sampler and class-row preview apply
as they are. A checkpoint stores the inner ``TextTransformer`` (its weights under ``model.``);
loading gives it unbound, and scoring held-out data binds it to that split's captions.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ...config import Config, ConfigError
from ...data import CaptionDataset
from ...models import CaptionConditioned, TextTransformer, TextTransformerConfig
from ..batches import AnyDataset
from ..text_model import bind_captions, build_text_model, load_text_encoder_for, text_encoder_of
from .base import timestep_kind
from .token_grid import TokenGridFamily

__all__ = ["TextToImageFamily"]


class TextToImageFamily(TokenGridFamily):
    """Images from captions: a text encoder's tokens in the context of the token-grid trunk."""

    name = "text-to-image"
    kind = "text"
    fallback = False

    def matches(self, config: Config) -> bool:
        """A config with ``model.text_encoder`` set."""
        return config.model.text_encoder is not None

    def build_model(self, config: Config, dataset: AnyDataset) -> nn.Module:
        """``build_text_model``: the backbone bound to the captions of a ``CaptionDataset``."""
        if not isinstance(dataset, CaptionDataset):
            raise ConfigError(f"model.text_encoder needs a captioned dataset, got {config.data.name!r}")
        return build_text_model(config, dataset)

    def scored_model(self, model: Any, dataset: AnyDataset, config: Config) -> Any:
        """``model`` over the captions of ``dataset``: a trained model (``CaptionConditioned``) with the
        run's text encoder, a loaded one (``TextTransformer``) with the encoder its checkpoint recorded."""
        captions = getattr(dataset, "captions", ())
        if isinstance(model, CaptionConditioned):
            if not isinstance(dataset, CaptionDataset):
                return model
            return bind_captions(model, text_encoder_of(config), captions)
        if isinstance(model, TextTransformer):
            return bind_captions(model, load_text_encoder_for(model), captions)
        return model

    def model_from_backbone(self, backbone: dict[str, Any]) -> nn.Module:
        """The unbound ``TextTransformer`` of the record (its nested trunk config filled in by
        ``TextTransformerConfig.from_dict``)."""
        return TextTransformer(TextTransformerConfig.from_dict(dict(backbone)))

    def checkpoint_weights(self, weights: dict[str, Tensor]) -> dict[str, Tensor]:
        """The weights saved through ``CaptionConditioned`` (``model.`` prefixed), without the prefix."""
        return {k.removeprefix("model."): v for k, v in weights.items()}

    def describe(self, backbone: dict[str, Any]) -> list[str]:
        """The trunk (timestep kind, grid, patch, vocabulary, width, depth, heads), caption length and encoder."""
        bb = backbone
        trunk = bb["backbone"]
        kind = timestep_kind(trunk)
        enc = bb["encoder"]
        weights = f"weights sha256 {enc['sha256'][:12]}…" if "sha256" in enc else "trained with the model"
        return [
            f"model: text-to-image {kind}, grid {trunk['grid']}, patch {trunk['patch']}, vocab {trunk['vocab_size']} "
            f"(incl. [MASK]), dim {trunk['dim']}, depth {trunk['depth']}, heads {trunk['heads']}; captions of up to "
            f"{bb['text_len']} tokens in context",
            f"text encoder: {enc['name']} ({weights}), token width {bb['text_dim']}",
        ]
