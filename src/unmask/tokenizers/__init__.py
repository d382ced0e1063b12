"""Tokenizers: ``encode`` images (or text) to token ids and ``decode`` back."""

from .pixel import PixelQuantizer

__all__ = ["PixelQuantizer"]


def build_tokenizer(spec: dict[str, object]) -> PixelQuantizer:
    """Rebuild a tokenizer from its ``config()`` dict (as stored in checkpoints)."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name == "pixel":
        return PixelQuantizer(**spec)  # type: ignore[arg-type]
    raise ValueError(f"unknown tokenizer {name!r} in spec {spec}")


__all__ += ["build_tokenizer"]
