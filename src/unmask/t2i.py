"""Text-to-image: build, bind and sample caption-conditioned models (the API behind ``unmask sample --captions``).

* ``build_text_model(config, dataset)``: the ``TextTransformer`` of a run, bound to the dataset's
  caption table (``CaptionConditioned``), with the text encoder ``model.text_encoder`` names.
* ``caption_table(encoder, captions)``: the model input for a list of captions (frozen-encoder
  embeddings are cached under ``cache_dir()/text``).
* ``load_text_encoder_for(model)``: the encoder a checkpoint recorded, refused if its weights differ.
* ``generate_captions(model, tokenizer, sampler, captions, ...)``: samples for each caption
  (CFG over captions: the null caption is the unconditional branch, one batched forward).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .models import CaptionConditioned, TextTransformer
from .text_encoders import TextEncoder, check_captions
from .training.text_model import bind_captions, build_text_model, caption_table, load_text_encoder_for, text_encoder_of

__all__ = [
    "text_encoder_of",
    "build_text_model",
    "caption_table",
    "bind_captions",
    "load_text_encoder_for",
    "generate_captions",
    "read_captions_file",
    "training_words",
    "unknown_words",
]


def read_captions_file(path: str) -> list[str]:
    """One caption per line (blank lines are empty captions = the null caption; a trailing newline is not a line)."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ValueError(f"captions file {path!r} is empty")
    return lines


def training_words(config: Any) -> set[str] | None:
    """The words of the captions a run trained on (``words()`` of each caption its train split uses),
    or None when the training data cannot be opened here (a ``caption-pairs`` folder not on this machine)."""
    from .data import CaptionDataset, get_dataset
    from .text_encoders.scratch import words

    try:
        data = get_dataset(config.data.name, "train", **config.data.options())
    except (OSError, ValueError):
        return None
    if not isinstance(data, CaptionDataset):
        return None
    used = data.labels.unique().tolist() if data.labels is not None else range(len(data.captions))
    return {w for i in used for w in words(data.captions[i])}


def unknown_words(captions: Sequence[str], known: set[str], encoder: TextEncoder) -> dict[str, str]:
    """{word: how ``encoder`` handles it} for every word of ``captions`` that no training caption holds."""
    from .text_encoders.scratch import words

    new = sorted({w for c in captions for w in words(c)} - known)
    return {w: encoder.describe_word(w, known) for w in new}


def generate_captions(
    model: TextTransformer | CaptionConditioned,
    tokenizer: Any,
    sampler: Any,
    captions: Sequence[str],
    *,
    per_caption: int = 1,
    seed: int = 0,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    encoder: TextEncoder | None = None,
    progress: bool = False,
) -> tuple[Any, list[str]]:
    """``per_caption`` samples of each caption (in blocks: c0 c0 … c1 c1 …); returns (``Generated``, the
    caption of every sample). The same seed gives the same images."""
    from .inference import generate

    caps = check_captions(captions)
    if not caps:
        raise ValueError("give at least one caption")
    if per_caption < 1:
        raise ValueError(f"per_caption must be >= 1, got {per_caption}")
    enc = encoder or load_text_encoder_for(model)
    bound = bind_captions(model, enc, caps)
    labels = [i for i in range(len(caps)) for _ in range(per_caption)]
    gen = generate(
        bound,
        tokenizer,
        sampler,
        n=len(labels),
        labels=labels,
        seed=seed,
        batch_size=batch_size,
        device=device,
        progress=progress,
    )
    gen.captions = [caps[i] for i in labels]
    gen.labels = np.full(len(labels), -1, dtype=np.int64)  # no class ids: the captions are the condition
    return gen, gen.captions
