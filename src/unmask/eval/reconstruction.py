"""How well a tokenizer keeps images: reconstruction PSNR, codebook use, and the Fréchet distance of
reconstructions — the floor a generative model over its tokens cannot go below."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from ..errors import UserError
from ..tokenizers.base import Tokenizer
from .reference import select_indices

__all__ = ["evaluate_tokenizer", "psnr", "held_out_indices"]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of uint8 images ``a`` vs ``b`` (MSE over all pixels; inf if equal)."""
    if a.shape != b.shape:
        raise ValueError(f"images to compare must have the same shape, got {a.shape} and {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def held_out_indices(total: int, ref_n: int | None, n: int, seed: int = 0) -> np.ndarray:
    """``n`` sorted positions of a split that are *not* among the ``ref_n`` reference images
    (``select_indices``); with ``ref_n`` None (the whole split is the reference) any ``n`` positions."""
    pool = (
        np.arange(total)
        if ref_n is None or ref_n >= total
        else np.setdiff1d(np.arange(total), select_indices(total, ref_n))
    )
    if n > len(pool):
        raise UserError(f"n = {n} but only {len(pool)} images lie outside the reference")
    rng = np.random.RandomState(seed)
    return np.sort(rng.permutation(pool)[:n]).astype(np.int64)


def evaluate_tokenizer(
    tokenizer: Tokenizer,
    dataset: str,
    *,
    split: str = "test",
    n: int = 500,
    ref_n: int | None = None,
    fd: bool = True,
    extractor: str = "efficientnet-lite0",
    seed: int = 0,
    progress: bool | None = None,
) -> dict[str, object]:
    """Encode and decode ``n`` images of ``dataset``/``split`` and score the reconstructions.

    The images are drawn (seed ``seed``) from the part of the split outside the FD reference
    (``ref_n`` images, as in ``unmask eval``), so the Fréchet distance compares reconstructions of
    held-out images with real images, like samples.

    Returns: ``n``, ``grid``, ``tokens_per_image``, ``vocab_size``, ``psnr`` (dB over all pixels),
    ``usage`` (fraction of the codebook used) and ``perplexity`` over these images' tokens,
    ``encode_decode_s``; with ``fd``: the ``evaluate_samples`` report of the reconstructions
    (``fd``, precision, recall, classifier scores) against the reference.
    """
    from ..data.images import IMAGE_LEVELS, open_image_source
    from ..tokenizers.vqvae import codebook_perplexity, codebook_usage
    from .report import evaluate_samples

    src = open_image_source(dataset)
    images_all, labels_all = src.read(split)
    idx = held_out_indices(len(images_all), ref_n, n, seed)
    images = images_all[idx]
    labels = None if labels_all is None else labels_all[idx]
    t0 = time.perf_counter()
    tokens = tokenizer.encode(images)
    recon = tokenizer.decode(tokens)
    seconds = time.perf_counter() - t0
    if recon.ndim == 4 and images.ndim == 3:  # an RGB tokenizer on grey data: score its grey average
        recon = np.round(recon.astype(np.float64).mean(-1)).astype(np.uint8)
    vocab = int(tokenizer.vocab_size)
    counts = torch.bincount(torch.as_tensor(tokens).flatten(), minlength=vocab - 1)
    report: dict[str, object] = {
        "dataset": dataset,
        "split": split,
        "n": int(len(images)),
        "grid": list(tokens.shape[1:]),
        "tokens_per_image": int(np.prod(tokens.shape[1:])),
        "vocab_size": vocab,
        "psnr": psnr(recon, images),
        "usage": codebook_usage(counts),
        "perplexity": codebook_perplexity(counts),
        "encode_decode_s": seconds,
    }
    if fd:
        rep = evaluate_samples(
            recon,
            labels,
            dataset,
            extractor=extractor,
            ref_split=split,
            ref_n=ref_n,
            levels=IMAGE_LEVELS.get(dataset),
            progress=progress,
        )
        report.update({k: v for k, v in rep.items() if k not in ("n", "ref")})
    return report
