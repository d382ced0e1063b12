"""Load a trained model and generate: the Python API behind ``unmask sample``."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ._io import atomic_write_bytes, atomic_write_text
from .config import Config
from .errors import UserError
from .models import CaptionConditioned, MultiStreamTransformer, TextTransformer, Transformer, VideoTransformer
from .samplers import Sampler, continuation_init
from .samplers.settings import sampler_from_settings
from .tokenizers import Tokenizer
from .training.checkpoint import Checkpoint, load_checkpoint, load_weights
from .training.families import family_of_backbone, token_sampler_name
from .visualize import require_mp4_writer, save_gif, save_grid, save_mp4, save_video_grid

__all__ = [
    "load_model",
    "load_multistream_model",
    "load_any_model",
    "sampler_from_config",
    "model_sampler",
    "check_sampler_fits",
    "generate",
    "generate_distributed",
    "Generated",
    "save_samples",
]


def load_model(
    path: str | Path, *, weights: str = "ema", device: str | torch.device = "cpu"
) -> tuple[Transformer | VideoTransformer, Checkpoint]:
    """The model stored at ``path`` (a checkpoint or run directory), in eval mode (a token-grid
    ``Transformer`` or a ``VideoTransformer``).

    ``weights`` is ``"ema"`` (default) or ``"raw"``. Raises ``CheckpointError`` for a
    missing, truncated or mismatched checkpoint. A multi-stream checkpoint is refused
    here (its model returns a dict of logits): load it with ``load_multistream_model``.
    """
    model, ckpt = load_any_model(path, weights=weights, device=device)
    if isinstance(model, MultiStreamTransformer):
        raise UserError(
            f"{str(ckpt.path)!r} holds a joint multi-stream model (streams {', '.join(model.stream_names)}); "
            "use unmask joint --ckpt … --mode … to sample it"
        )
    return model, ckpt


def load_multistream_model(
    path: str | Path, *, weights: str = "ema", device: str | torch.device = "cpu"
) -> tuple[MultiStreamTransformer, Checkpoint]:
    """The multi-stream model stored at ``path``, in eval mode; ``ValueError`` for a single-stream one."""
    model, ckpt = load_any_model(path, weights=weights, device=device)
    if not isinstance(model, MultiStreamTransformer):
        raise ValueError(
            f"{str(ckpt.path)!r} holds a single-stream model, not a joint multi-stream one; use unmask sample"
        )
    return model, ckpt


def load_any_model(
    path: str | Path, *, weights: str = "ema", device: str | torch.device = "cpu"
) -> tuple[Transformer | MultiStreamTransformer | VideoTransformer, Checkpoint]:
    """The model stored at ``path``, in eval mode: single-stream, multi-stream, video or (unbound)
    text-to-image, as the model family its backbone record names rebuilds it
    (``unmask.training.families.family_of_backbone``)."""
    if weights not in ("ema", "raw"):
        raise ValueError(f"weights must be 'ema' or 'raw', got {weights!r}")
    ckpt = load_checkpoint(path, map_location=device)
    family = family_of_backbone(dict(ckpt.backbone))
    model = family.model_from_backbone(dict(ckpt.backbone)).to(device)
    weights_of = family.checkpoint_weights(ckpt.ema if weights == "ema" else ckpt.model)
    load_weights(model, weights_of, str(ckpt.path))
    return model.eval(), ckpt  # type: ignore[return-value]


def model_sampler(model: Transformer | VideoTransformer | TextTransformer) -> str:
    """The sampler a model is drawn with by default: "autoregressive" for causal models,
    "prime" for MDM-Prime (sub-token) models, "euler" otherwise (``token_sampler_name``)."""
    return token_sampler_name(model)


def check_sampler_fits(model: Transformer | VideoTransformer | TextTransformer, sampler: str) -> None:
    """Raise ``ValueError`` when ``sampler`` cannot draw from ``model``, naming both."""
    kind = model_sampler(model)
    plain = kind == "euler"
    if (sampler in ("euler", "maskgit") and not plain) or (sampler in ("prime", "autoregressive") and sampler != kind):
        what = {"autoregressive": "a causal model", "prime": "an MDM-Prime model", "euler": "a masked model"}[kind]
        raise ValueError(f"the {sampler} sampler cannot draw from {what}; use --sampler {kind}")


def sampler_from_config(config: Config, sampler: str | None = None, **overrides: object) -> Sampler:
    """A sampler with the run's ``sample`` settings (``sampler``: default the settings' own, else
    Euler); ``overrides`` that are not None win (``unmask.samplers.settings.sampler_from_settings``)."""
    return sampler_from_settings(config.sample, config.path.schedule_spec(), sampler, **overrides)


@dataclass
class Generated:
    """Samples: tokens (N, *grid) int64, labels (N,) (−1 = unconditional), decoded uint8
    images (image tokenizers; grey clips (N, T, H, W) when ``video``) or texts (text
    tokenizers), NFE, idle steps, the spec of the tokenizer that decoded them, and for
    continued clips the number of given frames ``prefix_frames`` (0 = whole clips drawn); for a
    text-to-image model the caption each sample was conditioned on (``captions``, labels then −1)."""

    tokens: np.ndarray
    labels: np.ndarray
    images: np.ndarray | None
    nfe: int
    nfe_per_sample: float
    texts: list[str] | None = None
    idle_steps: float = float("nan")
    steps: int = 0
    tokenizer: dict[str, object] | None = None
    video: bool = False
    prefix_frames: int = 0
    captions: list[str] | None = None


def generate(
    model: Transformer | VideoTransformer | CaptionConditioned,
    tokenizer: Tokenizer,
    sampler: Sampler,
    *,
    n: int,
    labels: Sequence[int] | None = None,
    seed: int = 0,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    progress: bool = False,
    prefix: np.ndarray | torch.Tensor | None = None,
) -> Generated:
    """Draw ``n`` samples in batches; the result depends only on (model, sampler, labels, seed, batch_size,
    prefix).

    ``prefix`` (video models): token clips (n, K, H, W) whose K first frames are given; the
    sampler fills only frames K … T − 1 and never changes the given ones (continuation).
    """
    if n < 1:
        raise ValueError(f"number of samples must be >= 1, got {n}")
    video = isinstance(model, VideoTransformer)
    prefix_t = None
    if prefix is not None:
        if not video:
            raise ValueError("a prefix of frames needs a video model; this checkpoint holds a token-grid model")
        prefix_t = torch.as_tensor(np.asarray(prefix)).long()
        if prefix_t.ndim != 4 or prefix_t.shape[0] != n:
            raise ValueError(f"prefix must be token clips (n={n}, K, H, W), got shape {tuple(prefix_t.shape)}")
    if labels is not None:
        lab = torch.as_tensor(list(labels), dtype=torch.long)
        if lab.numel() != n:
            raise ValueError(f"{lab.numel()} labels for {n} samples")
        if model.num_classes == 0:
            raise ValueError("labels given but the model is unconditional")
        bad = (lab < 0) | (lab >= model.num_classes)
        if bool(bad.any()):
            raise ValueError(f"label {int(lab[bad][0])} outside the classes [0, {model.num_classes - 1}]")
    else:
        lab = None
    gen = torch.Generator(device=device).manual_seed(seed)
    chunks, nfe, per, idle = [], 0, [], []
    steps = 0
    starts = range(0, n, batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="sample", unit="batch")
    for s in starts:
        e = min(n, s + batch_size)
        batch_labels = None if lab is None else lab[s:e].to(device)
        x_init = None
        if prefix_t is not None:
            x_init = continuation_init(prefix_t[s:e], model.config.grid, model.vocab_size).to(device)
        out = sampler.sample(model, e - s, labels=batch_labels, x_init=x_init, generator=gen, device=device)
        chunks.append(out.tokens.cpu())
        nfe += out.nfe
        per.append(out.nfe_per_sample.float().cpu())
        idle.append(out.idle_steps.float().cpu())
        steps = out.steps
    tokens = torch.cat(chunks).numpy()
    decoded = tokenizer.decode(tokens)
    text = tokenizer.kind == "text"
    return Generated(
        tokens=tokens,
        labels=(lab.numpy() if lab is not None else np.full(n, -1, dtype=np.int64)),
        images=None if text else np.asarray(decoded),
        texts=list(decoded) if text else None,
        nfe=nfe,
        nfe_per_sample=float(torch.cat(per).mean()),
        idle_steps=float(torch.cat(idle).mean()),
        steps=steps,
        tokenizer=tokenizer.config(),
        video=video,
        prefix_frames=0 if prefix_t is None else int(prefix_t.shape[1]),
    )


def generate_distributed(
    model: Transformer | VideoTransformer,
    tokenizer: Tokenizer,
    sampler: Sampler,
    *,
    n: int,
    labels: Sequence[int] | None,
    seed: int,
    batch_size: int,
    device: str | torch.device,
    rank: int,
    world_size: int,
    parts_dir: str | Path,
    barrier: Callable[[], None],
    prefix: np.ndarray | None = None,
) -> Generated | None:
    """Data-parallel ``generate``: rank r draws the globally indexed samples [r·n/W, (r+1)·n/W).

    Each rank writes its samples with their global indices to ``parts_dir/rank{r}.npz``
    (atomically); after ``barrier()`` rank 0 checks that the parts cover 0 … n − 1 exactly
    once, merges them in index order, removes the parts and returns the whole set; the
    other ranks return None. ``prefix`` (video continuation, (n, K, H, W)) is split like the
    labels. Rank r seeds its generator with ``seed · 1000003 + r``, so the
    samples depend on (seed, world size), as in DiT's ``sample_ddp.py``; labels follow the
    global index, so a class-balanced request stays balanced.
    """
    parts = Path(parts_dir)
    parts.mkdir(parents=True, exist_ok=True)
    lo, hi = rank * n // world_size, (rank + 1) * n // world_size
    index = np.arange(lo, hi, dtype=np.int64)
    arrays: dict[str, np.ndarray] = {"index": index}
    if hi > lo:
        part = generate(
            model,
            tokenizer,
            sampler,
            n=hi - lo,
            labels=None if labels is None else list(labels)[lo:hi],
            prefix=None if prefix is None else np.asarray(prefix)[lo:hi],
            seed=seed * 1_000_003 + rank,
            batch_size=batch_size,
            device=device,
        )
        arrays.update(
            tokens=part.tokens,
            labels=part.labels,
            nfe=np.asarray(part.nfe, dtype=np.int64),
            evals=np.asarray(part.nfe_per_sample * (hi - lo)),
            idle=np.asarray(part.idle_steps * (hi - lo)),
            steps=np.asarray(part.steps),
        )
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(parts / f"rank{rank:05d}.npz", buf.getvalue())
    barrier()
    if rank != 0:
        return None
    loaded = [dict(np.load(parts / f"rank{r:05d}.npz")) for r in range(world_size)]
    got = np.concatenate([d["index"] for d in loaded])
    if not np.array_equal(np.sort(got), np.arange(n)):
        raise RuntimeError(f"sample parts in {str(parts)!r} do not cover the indices 0 … {n - 1} exactly once")
    full = [d for d in loaded if len(d["index"])]
    order = np.argsort(np.concatenate([d["index"] for d in full]), kind="stable")
    tokens = np.concatenate([d["tokens"] for d in full])[order]
    decoded = tokenizer.decode(tokens)
    text = tokenizer.kind == "text"
    for f in parts.glob("rank*.npz"):
        f.unlink()
    parts.rmdir()
    return Generated(
        tokens=tokens,
        labels=np.concatenate([d["labels"] for d in full])[order],
        images=None if text else np.asarray(decoded),
        texts=list(decoded) if text else None,
        nfe=int(sum(int(d["nfe"]) for d in full)),
        nfe_per_sample=float(sum(float(d["evals"]) for d in full) / n),
        idle_steps=float(sum(float(d["idle"]) for d in full) / n),
        steps=int(full[0]["steps"]),
        tokenizer=tokenizer.config(),
        video=isinstance(model, VideoTransformer),
        prefix_frames=0 if prefix is None else int(np.asarray(prefix).shape[1]),
    )


def save_samples(out: str | Path, gen: Generated, *, nrow: int | None = None, mp4: bool = False) -> tuple[Path, Path]:
    """Write ``out`` (.npz with tokens, labels, images or texts, nfe, the tokenizer spec as JSON)
    and, beside it, a PNG grid (images) or a .txt of the samples (text), atomically. Returns both paths.

    Clips (``gen.video``): the .npz holds ``videos`` uint8 (N, T, H, W) instead of ``images``
    and ``prefix_frames``; beside it go an animated GIF (returned) and a PNG of frame strips
    (one row per clip). With ``mp4``, also an H.264 MP4 of the GIF's grid at ``out.with_suffix(".mp4")``
    (needs imageio-ffmpeg, checked before anything is written; ``ValueError`` for samples that are not clips).
    """
    out = Path(out)
    if out.suffix != ".npz":
        raise ValueError(f"output file must end in .npz, got {str(out)!r}")
    if mp4:
        if not gen.video:
            raise ValueError("an MP4 needs clips (samples of a video model); these samples are not clips")
        require_mp4_writer()
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    arrays: dict[str, np.ndarray] = {
        "tokens": gen.tokens,
        "labels": gen.labels,
        "nfe": np.asarray(gen.nfe, dtype=np.int64),
    }
    if gen.texts is not None:
        arrays["texts"] = np.array(gen.texts, dtype=np.str_)
    elif gen.video:
        assert gen.images is not None
        arrays["videos"] = gen.images
        arrays["prefix_frames"] = np.asarray(gen.prefix_frames, dtype=np.int64)
    else:
        assert gen.images is not None
        arrays["images"] = gen.images
    if gen.captions is not None:
        arrays["captions"] = np.array(gen.captions, dtype=np.str_)
    if gen.tokenizer is not None:
        arrays["tokenizer"] = np.array(json.dumps(gen.tokenizer, sort_keys=True))
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(out, buf.getvalue())
    if gen.texts is not None:
        txt = out.with_suffix(".txt")
        atomic_write_text(txt, "\n\n".join(f"--- sample {i} ---\n{t}" for i, t in enumerate(gen.texts)) + "\n")
        return out, txt
    assert gen.images is not None
    n = len(gen.images)
    if gen.video:
        save_video_grid(gen.images, out.with_suffix(".png"))
        if mp4:
            save_mp4(gen.images, out.with_suffix(".mp4"), nrow=nrow)
        return out, save_gif(gen.images, out.with_suffix(".gif"), nrow=nrow)
    if nrow is None:
        nrow = int(np.ceil(np.sqrt(n)))
    png = save_grid(gen.images, out.with_suffix(".png"), nrow=nrow)
    return out, png
