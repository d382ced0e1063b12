"""Training a VQ-VAE tokenizer: ``unmask tokenizer train``.

``train_tokenizer(config, out_dir)`` trains a ``VQVAE`` on the images of a registered dataset
or an image folder and writes::

    RUN/
      config.json               the resolved TokenizerRunConfig
      metrics.jsonl             train records (loss, mse, commitment, PSNR, perplexity, usage,
                                restarts, images/s) and checkpoint records (held-out PSNR, usage,
                                perplexity over eval_images test images)
      recon.png                 test images (odd rows) over their reconstructions (even rows)
      tokenizer.safetensors     the latest weights + config: what ``unmask tokenize`` loads
      checkpoints/step_*/       model.safetensors, config.json, state.pt, manifest.json (SHA-256s)

Checkpoints use the same layout and atomic commit as the diffusion trainer (``commit_checkpoint``);
the learning-rate schedule, the stop request, the run-directory check and the metrics log are
the ones of ``unmask.training.common``. Batch order is
``batch_indices(n, batch_size, step, seed)``, the restart generator and the optimiser are
checkpointed, so ``resume=True`` ends with the weights an uninterrupted run would have.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file

from .._io import save_tensors
from .._lock import lock_run_dir
from ..config import ConfigError, TokenizerRunConfig
from ..data import batch_indices
from ..data.images import ImageSource, open_image_source
from ..eval.reconstruction import psnr
from ..tokenizers import TOKENIZER_RUN_FILE
from ..tokenizers.base import float_to_images, images_to_float
from ..tokenizers.vqvae import VQVAE, codebook_perplexity, codebook_usage, save_vqvae
from ..visualize import save_grid
from .checkpoint import (
    CONFIG_FILE,
    MODEL_FILE,
    STATE_FILE,
    CheckpointError,
    commit_checkpoint,
    resolve_checkpoint_dir,
    verify_checkpoint,
)
from .common import (
    RateMeter,
    StopRequest,
    TrainingDiverged,
    begin_run,
    check_run_dir,
    needs_final_checkpoint,
    progress_bar,
    resolve_device,
    restore_training_state,
    set_learning_rate,
    warmup_then_decay,
)

__all__ = ["train_tokenizer", "TokenizerTrainResult", "evaluate_reconstruction", "TOKENIZER_RESUMABLE_KEYS"]

#: Config keys a resumed tokenizer run may change.
TOKENIZER_RESUMABLE_KEYS = {
    "train.steps",
    "train.decay_steps",
    "train.log_every",
    "train.ckpt_every",
    "train.keep_checkpoints",
    "train.threads",
    "train.eval_images",
    "train.device",
}


@dataclass
class TokenizerTrainResult:
    """Where a tokenizer run ended: directory, step, last loss, wall time, the exported tokenizer file, the
    last held-out evaluation (PSNR, usage, perplexity) and whether a stop signal ended it (Ctrl-C / SIGTERM:
    its checkpoint is saved and ``resume=True`` goes on)."""

    run_dir: Path
    step: int
    loss: float
    seconds: float
    tokenizer: Path | None
    eval: dict[str, float]
    interrupted: bool = False


@torch.no_grad()
def evaluate_reconstruction(model: VQVAE, images: np.ndarray, *, batch_size: int = 256) -> dict[str, float]:
    """Reconstruct uint8 ``images`` through the codes and score them.

    Returns ``psnr`` (dB, on the uint8 reconstructions), ``mse`` (on [0, 1] pixels), ``usage`` (fraction
    of codes used at least once over all images), ``perplexity`` (exp entropy of the code frequencies).
    """
    model.eval()
    device = next(model.parameters()).device
    counts = torch.zeros(model.config.codebook_size, dtype=torch.long)
    recon = []
    for s in range(0, len(images), batch_size):
        x = images_to_float(images[s : s + batch_size], model.config.in_channels).to(device)
        idx = model.encode_indices(x)
        counts += torch.bincount(idx.flatten().cpu(), minlength=model.config.codebook_size)
        recon.append(float_to_images(model.decode_indices(idx)))
    rec = np.concatenate(recon)
    mse01 = float(np.mean(((rec.astype(np.float64) - images.astype(np.float64)) / 255.0) ** 2))
    return {
        "psnr": psnr(rec, images),
        "mse": mse01,
        "usage": codebook_usage(counts),
        "perplexity": codebook_perplexity(counts),
    }


def _learning_rate(config: TokenizerRunConfig, step: int) -> float:
    """Linear warm-up to ``train.lr`` then constant or cosine decay to ``min_lr_ratio · lr``."""
    t = config.train
    return warmup_then_decay(
        step,
        lr=t.lr,
        warmup_steps=t.warmup_steps,
        schedule=t.lr_schedule,
        min_lr_ratio=t.min_lr_ratio,
        steps=t.steps,
        decay_steps=t.decay_steps,
    )


def _save(run_dir: Path, step: int, model: VQVAE, config: TokenizerRunConfig, state: dict[str, Any], keep: int) -> Path:
    """Checkpoint ``step``: weights, config and training state, committed as the diffusion trainer's are."""

    def write(tmp: Path) -> list[str]:
        save_tensors({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, tmp / MODEL_FILE)
        (tmp / CONFIG_FILE).write_text(config.to_json())
        torch.save(state, tmp / STATE_FILE)
        return [MODEL_FILE, CONFIG_FILE, STATE_FILE]

    manifest = {"kind": "vqvae", "step": step, "parameters": model.num_parameters(), "vqvae": model.config.to_dict()}
    return commit_checkpoint(run_dir, step, write, manifest, keep=keep)


def _load(run_dir: Path, device: torch.device) -> tuple[int, dict[str, torch.Tensor], dict[str, Any]]:
    """The step, weights and training state of the latest checkpoint of ``run_dir``, verified."""
    ckpt = resolve_checkpoint_dir(run_dir)
    manifest = verify_checkpoint(ckpt)
    if manifest.get("kind") != "vqvae":
        raise CheckpointError(f"{ckpt} is not a VQ-VAE tokenizer checkpoint")
    try:
        weights = load_file(str(ckpt / MODEL_FILE), device=str(device))
        state = torch.load(ckpt / STATE_FILE, map_location=device, weights_only=True)
    except (SafetensorError, OSError, RuntimeError) as err:
        raise CheckpointError(f"cannot read {ckpt}: {err}") from None
    return int(manifest["step"]), weights, state


def _source(config: TokenizerRunConfig) -> ImageSource:
    """The training images: a registered dataset as stored, or a folder cropped/resized to
    ``data.image_size`` (default ``model.image_size``)."""
    from ..data import DATASETS

    size = config.data.image_size
    if size is None and config.data.name not in DATASETS:
        size = config.model.image_size
    try:
        return open_image_source(config.data.name, image_size=size, channels=config.model.in_channels)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def train_tokenizer(
    config: TokenizerRunConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    stop_after: int | None = None,
) -> TokenizerTrainResult:
    """Train the VQ-VAE of ``config`` into ``out_dir`` (see the module docstring for the layout).

    Args:
        config: a validated ``TokenizerRunConfig`` (``load_tokenizer_config``).
        out_dir: the run directory.
        resume: continue from the latest checkpoint in ``out_dir``; only ``TOKENIZER_RESUMABLE_KEYS`` may change.
        progress: progress bar (default: when stderr is a terminal).
        stop_after: stop (with a checkpoint) after this many steps, as an interruption would.

    Raises:
        RunDirLocked: another process is training into ``out_dir`` (nothing in it is touched).
    """
    with lock_run_dir(Path(out_dir)):
        return _train_tokenizer(config, Path(out_dir), resume=resume, progress=progress, stop_after=stop_after)


def _train_tokenizer(
    config: TokenizerRunConfig, run_dir: Path, *, resume: bool, progress: bool | None, stop_after: int | None
) -> TokenizerTrainResult:
    config.validate()
    config = check_run_dir(config, run_dir, resume, TOKENIZER_RESUMABLE_KEYS)

    tc = config.train
    if tc.threads > 0:
        torch.set_num_threads(tc.threads)
    device = resolve_device(tc.device)
    source = _source(config)
    images, _ = source.read("train")
    shape = images.shape[1:3]
    f = config.model.factor
    if shape[0] % f or shape[1] % f:
        raise ConfigError(
            f"images of {config.data.name!r} are {shape[0]}×{shape[1]}, not divisible by 2^downsample={f}"
        )
    eval_split = "test" if "test" in source.splits() else "train"
    eval_images = source.read(eval_split)[0]
    if tc.eval_images and tc.eval_images < len(eval_images):
        eval_images = eval_images[: tc.eval_images]

    torch.manual_seed(tc.seed)
    model = VQVAE(config.model).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, betas=(tc.beta1, tc.beta2))
    gen = torch.Generator(device=device).manual_seed(tc.seed)
    step = 0
    if resume:
        step, weights, st = _load(run_dir, device)
        model.load_state_dict(weights, strict=True)
        restore_training_state(st, optimizer, gen, device)
    log = begin_run(run_dir, config).write

    if not resume:
        log(
            {
                "event": "start",
                "parameters": model.num_parameters(),
                "vqvae": config.model.to_dict(),
                "train_images": len(images),
                "eval_images": len(eval_images),
                "eval_split": eval_split,
                "grid": [shape[0] // f, shape[1] // f],
                "device": str(device),
                "threads": torch.get_num_threads(),
            }
        )

    last_eval: dict[str, float] = {}

    def checkpoint() -> Path:
        nonlocal last_eval
        state = {
            "optimizer": optimizer.state_dict(),
            "generator": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "step": step,
        }
        path = _save(run_dir, step, model, config, state, tc.keep_checkpoints)
        save_vqvae(model, run_dir / TOKENIZER_RUN_FILE)
        last_eval = evaluate_reconstruction(model, eval_images)
        show = eval_images[:16]
        rec = float_to_images(
            model.decode_indices(model.encode_indices(images_to_float(show, config.model.in_channels).to(device)))
        )
        pairs = np.concatenate([show[:8], rec[:8], show[8:16], rec[8:16]])
        save_grid(pairs, run_dir / "recon.png", nrow=min(8, len(show)))
        model.train()
        log({"event": "checkpoint", "step": step, "path": str(path), **{f"eval_{k}": v for k, v in last_eval.items()}})
        return path

    target = tc.steps if stop_after is None else min(tc.steps, stop_after)
    bar = progress_bar(progress, total=tc.steps, initial=step, desc="tokenizer")
    n = len(images)
    images_t = torch.from_numpy(np.ascontiguousarray(images))
    last_loss = float("nan")
    meter = RateMeter()
    restarts = 0
    interrupted = False
    model.train()
    with StopRequest() as stop:
        try:
            while step < target:
                if stop.requested:
                    interrupted = True
                    break
                lr = _learning_rate(config, step)
                set_learning_rate(optimizer, lr)
                idx = batch_indices(n, tc.batch_size, step, tc.seed)
                x = images_to_float(images_t[idx], config.model.in_channels).to(device)
                out = model(x)
                mse = F.mse_loss(out.recon, x)
                loss = mse + config.model.beta * out.commitment
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    log({"event": "diverged", "step": step, "loss": loss_value})
                    raise TrainingDiverged(f"VQ-VAE loss became {loss_value} at step {step}; try a lower train.lr")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if tc.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
                optimizer.step()
                d = config.model.code_dim
                restarts += model.quantizer.ema_update(
                    out.z_e.detach().permute(0, 2, 3, 1).reshape(-1, d), out.indices.flatten(), gen
                )
                step += 1
                meter.tick()
                last_loss = loss_value
                if bar is not None:
                    bar.update(1)
                if step % tc.log_every == 0 or step == target:
                    rate, elapsed = meter.read(tc.batch_size)
                    mse01 = mse.item() / 4.0  # [−1, 1] → [0, 1] pixels
                    record = {
                        "event": "train",
                        "step": step,
                        "loss": loss_value,
                        "mse": mse01,
                        "commitment": out.commitment.item(),
                        "psnr": 10 * math.log10(1.0 / max(mse01, 1e-12)),
                        "perplexity": codebook_perplexity(out.counts),
                        "usage": codebook_usage(out.counts),
                        "restarts": restarts,
                        "lr": lr,
                        "images_per_s": rate,
                        "elapsed_s": elapsed,
                    }
                    log(record)
                    if bar is not None:
                        bar.set_postfix(
                            loss=f"{loss_value:.4f}", psnr=f"{record['psnr']:.1f}", ppl=f"{record['perplexity']:.0f}"
                        )
                    restarts = 0
                if step % tc.ckpt_every == 0 or step == target:
                    checkpoint()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if bar is not None:
                bar.close()
    if interrupted:
        if needs_final_checkpoint(run_dir, step):
            checkpoint()
        log({"event": "interrupted", "step": step})
        print(f"interrupted at step {step}; checkpoint saved, continue with --resume", file=sys.stderr)
    seconds = time.perf_counter() - meter.start
    log({"event": "end", "step": step, "seconds": seconds})
    tok = run_dir / TOKENIZER_RUN_FILE
    return TokenizerTrainResult(
        run_dir, step, last_loss, seconds, tok if tok.is_file() else None, last_eval, interrupted=interrupted
    )
