"""The training loop: AdamW + warm-up, clipping, EMA, autocast, checkpoints, metrics, resume.

``train(config, out_dir)`` runs a config to completion; ``train(..., resume=True)``
continues a run from its latest checkpoint and ends with exactly the weights an
uninterrupted run would have (batch order is a pure function of the step, and the
training generator, the global RNG, the optimiser and the EMA are all checkpointed).

A non-finite loss or gradient norm stops training with ``TrainingDiverged``; the
last good checkpoint is kept and nothing newer is written. Ctrl-C (or SIGTERM) saves
a checkpoint at the last completed step before stopping.

A run directory is locked while a trainer uses it (``DIR/.lock``, ``unmask._lock``): a second
trainer on the same directory fails at once with ``RunDirLocked``, before reading or writing
anything in it, instead of interleaving its checkpoints and metrics with the first one's.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Generator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor

from .._io import atomic_write_text
from .._lock import RunDirLocked
from ..config import Config, ConfigError
from ..data import (
    CaptionDataset,
    StreamDataset,
    TokenDataset,
    batch_indices,
    get_dataset,
    index_streams,
    is_video_dataset,
)
from ..data.shards import ShardDataset, ShardError, open_shards, read_manifest, shard_loader
from ..interpolants import MaskingInterpolant, MultiStreamInterpolant, StreamSpec, sample_times
from ..losses import (
    AutoregressiveObjective,
    LossOutput,
    MaskedCrossEntropy,
    MaskedObjective,
    MultiStreamObjective,
    Objective,
    SubTokenCrossEntropy,
    SubTokenObjective,
    slice_batch,
)
from ..models import CaptionConditioned, MultiStreamTransformer, Transformer, VideoTransformer
from ..prime import SubTokenCodec, SubTokenInterpolant
from ..samplers import EulerSampler, MultiStreamSampler, Sampler
from ..schedules import get_schedule
from ..tokenizers import load_tokenizer, tokenizer_fingerprint
from ..visualize import save_grid, save_video_grid
from .checkpoint import CONFIG_FILE, list_checkpoints, load_checkpoint, load_weights, save_checkpoint
from .common import (
    MetricsLog,
    StopRequest,
    TrainingDiverged,
    autocast_dtype,
    check_run_dir,
    fused_adamw_available,
    learning_rate,
    progress_bar,
    resolve_device,
    run_dir_lock,
)
from .distributed import DistContext, init_distributed
from .ema import EMA
from .plateau import PlateauCheck, check_plateau, eval_history
from .text_model import bind_captions, build_text_model, text_encoder_of

__all__ = [
    "train",
    "TrainResult",
    "TrainingDiverged",
    "RunDirLocked",
    "build_model",
    "build_interpolant",
    "build_objective",
    "stream_specs",
    "default_sampler",
    "resolve_device",
    "RESUMABLE_KEYS",
    "STOP_REASONS",
]

#: Config keys a resumed run may change (they do not alter the optimisation path).
RESUMABLE_KEYS = {
    "train.steps",
    "train.log_every",
    "train.ckpt_every",
    "train.keep_checkpoints",
    "train.threads",
    "train.eval_batches",
    "train.device",
    "train.workers",
    "train.grad_accum",
    "train.compile",
    "train.until_plateau",
    "train.plateau_tol",
    "train.plateau_window",
    "train.plateau_min_steps",
    "train.max_minutes",
}

#: Why ``train`` returned: the step target, the plateau criterion, an interruption
#: (Ctrl-C / SIGTERM), the ``stop_after`` of the call, or ``train.max_minutes``.
STOP_REASONS = ("steps", "plateau", "interrupted", "stop_after", "time_limit")


@dataclass
class TrainResult:
    """Where a run ended: its directory, step, last loss, wall time, checkpoint and why it stopped.

    ``loss`` is NaN when this call ran no step (a resumed run that had already reached its target).
    ``reason`` is one of ``STOP_REASONS``; ``plateau`` holds the criterion's last check
    (``PlateauCheck.to_dict()``) when ``train.until_plateau`` is on.
    """

    run_dir: Path
    step: int
    loss: float
    seconds: float
    checkpoint: Path | None
    reason: str = "steps"
    plateau: dict[str, Any] | None = None


AnyDataset = TokenDataset | ShardDataset | StreamDataset


def build_model(
    config: Config, dataset: AnyDataset
) -> Transformer | MultiStreamTransformer | VideoTransformer | CaptionConditioned:
    """The backbone for ``config`` on ``dataset`` (vocabulary, grid and classes from the data);
    a ``MultiStreamTransformer`` over the streams of a ``StreamDataset``, a ``VideoTransformer``
    over the clips (N, T, H, W) of a video dataset, a ``TextTransformer`` bound to the captions
    of a ``CaptionDataset`` when ``model.text_encoder`` is set."""
    if config.model.text_encoder is not None:
        if not isinstance(dataset, CaptionDataset):
            raise ConfigError(f"model.text_encoder needs a captioned dataset, got {config.data.name!r}")
        return build_text_model(config, dataset)
    if config.data.shards is None and is_video_dataset(config.data.name):
        return VideoTransformer(config.model.video_backbone(dataset.vocab_size, dataset.grid, dataset.num_classes))
    if isinstance(dataset, StreamDataset):
        return MultiStreamTransformer(
            config.model.multistream_backbone(
                dataset.vocab_sizes, dataset.grids, separate_times=config.path.timesteps == "separate"
            )
        )
    return Transformer(config.model.backbone(dataset.vocab_size, dataset.grid, dataset.num_classes))


def stream_specs(config: Config, dataset: StreamDataset) -> list[StreamSpec]:
    """The interpolant's streams for ``dataset``: its names, vocabularies and grids, the run's schedule."""
    schedule = get_schedule(config.path.schedule_spec())
    return [StreamSpec(name, dataset.vocab_sizes[name], dataset.grids[name], schedule) for name in dataset.names]


def build_interpolant(config: Config, vocab_size: int) -> MaskingInterpolant:
    return MaskingInterpolant(
        get_schedule(config.path.schedule_spec()),
        vocab_size,
        smoothing=config.path.smoothing,
        coupling_ratio=config.path.coupling_ratio,
        prefix_prob=config.path.prefix_prob,
    )


def build_objective(config: Config, vocab_size: int, streams: list[StreamSpec] | None = None) -> Objective:
    """The training objective of ``config`` for data with ``vocab_size`` ids (incl. [MASK]).

    Masked diffusion on tokens (the default), MDM-Prime on ℓ = ``model.subtokens`` > 1
    sub-tokens, or next-token prediction for ``model.causal``; with ``streams`` (the
    ``stream_specs`` of a multi-stream dataset) masked diffusion on every stream.
    """
    weighting = cast(Any, config.loss.weighting)
    reduction = cast(Any, config.loss.reduction)
    if streams is not None:
        try:
            interpolant = MultiStreamInterpolant(
                streams,
                timesteps=config.path.timesteps,
                clean_stream_prob=config.path.clean_stream_prob,
                clean_stream_weights=config.path.stream_clean_weights(),
                null_stream_prob=config.path.null_stream_prob,
                fixed_times=config.path.stream_times(),
                time_powers=config.path.stream_time_powers(),
                eps=config.loss.eps,
            )
            return MultiStreamObjective(
                interpolant,
                MaskedCrossEntropy(weighting, True, "masked_mean"),
                config.loss.stream_weighting,
                config.loss.stream_loss_weights(),
            )
        except ValueError as err:
            raise ConfigError(str(err)) from None
    if config.model.causal:
        return AutoregressiveObjective(bos=vocab_size - 1)
    if config.model.subtokens > 1:
        if config.path.smoothing or config.path.coupling_ratio:
            raise ConfigError("path.smoothing and path.coupling_ratio are not supported with model.subtokens > 1")
        if not config.loss.masked:
            raise ConfigError("loss.masked=false has no meaning for MDM-Prime (revealed sub-tokens are certain)")
        codec = SubTokenCodec(vocab_size - 1, config.model.subtokens)
        return SubTokenObjective(
            SubTokenInterpolant(get_schedule(config.path.schedule_spec()), codec),
            SubTokenCrossEntropy(codec, weighting, reduction),
        )
    return MaskedObjective(
        build_interpolant(config, vocab_size), MaskedCrossEntropy(weighting, config.loss.masked, reduction)
    )


def default_sampler(model: Transformer, config: Config, **overrides: Any) -> Sampler:
    """The run's ``sample`` settings as a sampler that fits the model: ``sample.sampler`` for a masked
    model when set (Euler or MaskGIT), else Euler for masked models, the Prime sampler for sub-token
    models, ancestral sampling for causal ones. CFG is 1 for an unconditional model."""
    from ..samplers.settings import sampler_from_settings

    if model.config.causal:
        name = "autoregressive"
    elif model.subtokens:
        name = "prime"
    else:
        name = config.sample.sampler if config.sample.sampler in ("euler", "maskgit") else "euler"
    if model.num_classes == 0:
        overrides = {**overrides, "cfg": 1.0}
    return sampler_from_settings(config.sample, config.path.schedule_spec(), name, **overrides)


def train(
    config: Config,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    stop_after: int | None = None,
) -> TrainResult:
    """Train ``config`` into ``out_dir``.

    Args:
        config: a validated ``Config`` (``load_config``).
        out_dir: the run directory (created).
        resume: continue the run in ``out_dir`` from its latest checkpoint. The saved
            config wins; only ``RESUMABLE_KEYS`` may differ in ``config``.
        progress: show a progress bar (default: when stderr is a terminal).
        stop_after: stop (with a checkpoint) once this many steps are done, as an
            interruption would; the run can be resumed to ``train.steps``.

    Returns:
        ``TrainResult`` of the run.

    Raises:
        RunDirLocked: another process is training into ``out_dir`` (it holds ``out_dir/.lock``);
            raised before anything in the directory is read or written.
    """
    run_dir = Path(out_dir)
    config.validate()
    tc = config.train
    device = resolve_device(tc.device)
    dist_ctx = init_distributed(device.type)
    try:
        with run_dir_lock(run_dir, dist_ctx):
            return _train(config, run_dir, dist_ctx, device, resume=resume, progress=progress, stop_after=stop_after)
    finally:
        dist_ctx.close()


class _Forward:
    """The model's attributes, called through its DDP wrapper (gradient all-reduce) when there is one."""

    def __init__(self, model: Transformer, wrapped: Any) -> None:
        self._model, self._wrapped = model, wrapped

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __call__(self, *args: Any) -> Tensor:
        return cast(Tensor, self._wrapped(*args))


def _compiled(module: torch.nn.Module, enabled: bool) -> Any:
    """``torch.compile(module)`` when asked and available, falling back to eager on failure.

    The first call compiles; if compilation fails (no C++ toolchain, an unsupported op or
    platform) a warning names the error and that call and all later ones run eagerly.
    """
    if not enabled:
        return module
    try:
        compiled = torch.compile(module)
    except Exception as err:  # noqa: BLE001 - any failure means: run eagerly
        warnings.warn(f"train.compile=true but torch.compile is unavailable ({err}); training eagerly", stacklevel=2)
        return module
    state = {"ok": True}

    def call(*args: Any) -> Any:
        if state["ok"]:
            try:
                return compiled(*args)
            except Exception as err:  # noqa: BLE001
                state["ok"] = False
                warnings.warn(f"torch.compile failed ({type(err).__name__}: {err}); training eagerly", stacklevel=2)
        return module(*args)

    return call


def _train(
    config: Config,
    run_dir: Path,
    dist_ctx: DistContext,
    device: torch.device,
    *,
    resume: bool,
    progress: bool | None,
    stop_after: int | None,
) -> TrainResult:
    config = check_run_dir(config, run_dir, resume, RESUMABLE_KEYS, name_resumable=True)
    dist_ctx.barrier()  # every rank has looked at the run directory before rank 0 writes to it
    tc = config.train
    world, rank = dist_ctx.world_size, dist_ctx.rank
    if tc.batch_size % (world * tc.grad_accum):
        raise ConfigError(
            f"train.batch_size={tc.batch_size} is not divisible by world size {world} × train.grad_accum "
            f"{tc.grad_accum} = {world * tc.grad_accum}"
        )
    per_rank = tc.batch_size // world
    micro = per_rank // tc.grad_accum
    if device.type == "cuda" and dist_ctx.distributed:
        device = torch.device("cuda", dist_ctx.local_rank)
    if tc.threads > 0:
        torch.set_num_threads(tc.threads)
    amp = autocast_dtype(tc.precision, device)
    main = dist_ctx.is_main

    dataset, test_set = load_training_data(config)
    if tc.until_plateau and (test_set is None or len(test_set) == 0):
        raise ConfigError(
            f"train.until_plateau=true needs a held-out split to evaluate; {config.data.name!r} has none here"
        )
    has_labels = dataset.has_labels if isinstance(dataset, ShardDataset) else dataset.labels is not None

    torch.manual_seed(tc.seed)  # the same initial weights on every rank
    model: Any = build_model(config, dataset).to(device)
    backbone = model.config.to_dict()
    if not has_labels and model.num_classes > 0:
        raise ConfigError(f"model.class_conditional=true but dataset {config.data.name!r} has no labels")
    ema = EMA(model, config.optim.ema_decay)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=config.optim.lr,
        betas=(config.optim.beta1, config.optim.beta2),
        weight_decay=config.optim.weight_decay,
        fused=fused_adamw_available(device),
    )
    objective = build_objective(
        config, dataset.vocab_size, stream_specs(config, dataset) if isinstance(dataset, StreamDataset) else None
    )
    # One generator, the same on every rank: each rank draws the whole global batch's times,
    # masks and label drops and keeps its slice (see unmask.training.distributed).
    gen = torch.Generator(device=device).manual_seed(tc.seed)
    step = 0

    if resume:
        ckpt = load_checkpoint(run_dir, with_state=True, map_location=device)
        if tokenizer_fingerprint(ckpt.tokenizer) != tokenizer_fingerprint(dataset.tokenizer.config()):
            raise ConfigError(
                f"cannot resume {str(run_dir)!r}: its checkpoint was trained on tokens of {ckpt.tokenizer}, "
                f"the data now comes from {dataset.tokenizer.config()}"
            )
        load_weights(model, ckpt.model, str(ckpt.path))
        load_weights(ema.shadow, ckpt.ema, str(ckpt.path))
        st = ckpt.state
        assert st is not None
        optimizer.load_state_dict(st["optimizer"])
        ema.updates = int(st["ema_updates"])
        gen.set_state(st["generator"].cpu() if device.type == "cpu" else st["generator"])
        torch.set_rng_state(st["torch_rng"].cpu())
        step = ckpt.step
        if step >= tc.steps:
            return TrainResult(run_dir, step, float("nan"), 0.0, ckpt.path)
        stopped = _plateau_check(config, run_dir, step) if main and tc.until_plateau else None
        stopped = cast(PlateauCheck | None, dist_ctx.broadcast_object(stopped))
        if stopped is not None and stopped.reached:  # it stopped at its plateau: nothing left to train
            return TrainResult(run_dir, step, float("nan"), 0.0, ckpt.path, "plateau", stopped.to_dict())
    # torch's global RNG (dropout) differs per rank; the data randomness above does not
    if dist_ctx.distributed:
        torch.manual_seed(tc.seed * 1_000_003 + 7919 * rank + step)
    ddp: Any = None
    if dist_ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    fwd: Any = _Forward(model, _compiled(ddp if ddp is not None else model, tc.compile))

    metrics = MetricsLog(run_dir / "metrics.jsonl")
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / CONFIG_FILE, config.to_json())
        metrics.write(
            {
                "event": "resume" if resume else "start",
                "step": step,
                "parameters": model.num_parameters(),
                "backbone": backbone,
                # at a run's start: the sizes of token content and position at the input (unmask info shows them)
                **({} if resume else {"input_norms": model.input_norms()}),
                "device": str(device),
                "autocast": str(amp),
                "threads": torch.get_num_threads(),
                "world_size": world,
                "grad_accum": tc.grad_accum,
            }
        )
    dist_ctx.barrier()

    def state_dict() -> dict[str, Any]:
        return {
            "optimizer": optimizer.state_dict(),
            "ema_updates": ema.updates,
            "generator": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "step": step,
            "world_size": world,
        }

    plateau: dict[str, PlateauCheck | None] = {"check": None}  # the criterion's last check (rank 0's)

    clock = {"checkpoints": 0.0}  # seconds spent in checkpoints (saving, evaluation, previews) this call

    def checkpoint() -> Path | None:
        """Rank 0 writes the checkpoint, evaluates and samples; the others wait at a barrier.

        Its record carries ``train_s``: the seconds this call has spent training so far, checkpoints
        excluded (held-out loss against training wall-clock: ``benchmarks/learning_speed.py``)."""
        path = None
        began = time.perf_counter()
        if main:
            path = save_checkpoint(
                run_dir,
                step=step,
                model=model,
                ema=ema.shadow,
                config=config,
                state=state_dict(),
                backbone=backbone,
                tokenizer=dataset.tokenizer.config(),
                keep=tc.keep_checkpoints,
            )
            record: dict[str, Any] = {
                "event": "checkpoint",
                "step": step,
                "path": str(path),
                "train_s": began - t_start - clock["checkpoints"],
            }
            if test_set is not None:
                scored = ema.shadow
                if isinstance(scored, CaptionConditioned) and isinstance(test_set, CaptionDataset):
                    scored = bind_captions(scored, text_encoder_of(config), test_set.captions)
                record.update(evaluate(cast(Transformer, scored), test_set, config, objective, device, amp))
                if tc.until_plateau and "eval_loss" in record:
                    check = _plateau_check(config, run_dir, step, record["eval_loss"])
                    assert check is not None  # the loss at ``step`` was just given
                    record["plateau"] = check.to_dict()
                    plateau["check"] = check
            grid_path = sample_grid(
                cast(Transformer, ema.shadow), dataset, config, run_dir / "samples" / f"step_{step:08d}.png", device
            )
            record["samples"] = str(grid_path)
            metrics.write(record)
        dist_ctx.barrier()
        clock["checkpoints"] += time.perf_counter() - began
        return path

    target = tc.steps if stop_after is None else min(tc.steps, stop_after)
    bar = progress_bar(progress, total=tc.steps, initial=step, desc="train") if main else None
    positions = (
        sum(math.prod(g) for g in dataset.grids.values())
        if isinstance(dataset, StreamDataset)
        else math.prod(dataset.grid)
    )
    stream_names = list(dataset.names) if isinstance(dataset, StreamDataset) else []
    batches = _batches(dataset, config, step, target, device)
    last_loss = float("nan")
    last_ckpt: Path | None = None
    t_start = time.perf_counter()
    t_window, window_steps = t_start, 0
    interrupted = False
    stop_reason = "steps" if target == tc.steps else "stop_after"
    mine = range(rank * per_rank, (rank + 1) * per_rank)
    parts = [slice(mine.start + j * micro, mine.start + (j + 1) * micro) for j in range(tc.grad_accum)]
    model.train()
    with StopRequest(catch_interrupt=dist_ctx.distributed) as stop:
        try:
            while step < target:
                requested = torch.tensor([float(stop.requested)], device=device)
                if bool(dist_ctx.all_reduce_sum(requested)[0] > 0):  # every rank stops at the same step
                    interrupted = True
                    break
                lr = learning_rate(config, step)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x1, batch_labels = next(batches)  # the global batch, on every rank
                t = sample_times(
                    tc.batch_size, eps=config.loss.eps, stratified=config.loss.stratified, generator=gen, device=device
                )
                corrupted = objective.corrupt(x1, t, gen)
                y = None
                if model.num_classes > 0:
                    assert batch_labels is not None
                    y = batch_labels
                    drop = torch.rand(tc.batch_size, generator=gen, device=device) < tc.p_uncond
                    y = torch.where(drop, torch.full_like(y, model.null_label), y)
                norm = objective.count(corrupted)  # the normaliser of the whole global batch
                optimizer.zero_grad(set_to_none=True)
                stats = torch.zeros(3, device=device)  # Σ weighted loss terms, Σ correct, Σ scored
                per_stream = torch.zeros(len(stream_names), 3, device=device)  # the same per stream
                for j, part in enumerate(parts):
                    last = j == len(parts) - 1
                    sync = ddp.no_sync() if (ddp is not None and not last) else nullcontext()
                    with sync:
                        piece = slice_batch(corrupted, part)
                        with torch.autocast(device.type, dtype=amp) if amp is not None else nullcontext():
                            logits = objective.predict(fwd, piece, None if y is None else y[part])
                        out = objective.loss(logits, piece)
                        assert out.total is not None and out.correct is not None
                        # DDP averages gradients over ranks: × world makes it the global sum / norm
                        (out.total / norm * world).backward()
                    stats += torch.stack([out.total.detach().float(), out.correct.float(), out.selected.sum().float()])
                    if stream_names:
                        per_stream += _stream_stats(out, stream_names)
                dist_ctx.all_reduce_sum(stats)
                loss_value = float(stats[0] / norm)
                accuracy = float(stats[1] / stats[2]) if float(stats[2]) > 0 else float("nan")
                if stream_names:
                    dist_ctx.all_reduce_sum(per_stream)
                if not math.isfinite(loss_value):
                    if main:
                        metrics.write({"event": "diverged", "step": step, "loss": loss_value})
                    raise TrainingDiverged(
                        f"loss became {loss_value} at step {step}; stopping. The last good checkpoint "
                        f"({list_checkpoints(run_dir)[-1] if list_checkpoints(run_dir) else 'none yet'}) is kept; "
                        "try a lower optim.lr or a larger optim.warmup_steps"
                    )
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip).item()
                if not math.isfinite(grad_norm):
                    if main:
                        metrics.write({"event": "diverged", "step": step, "loss": loss_value, "grad_norm": grad_norm})
                    raise TrainingDiverged(
                        f"gradient norm became {grad_norm} at step {step}; stopping. The last good checkpoint is kept; "
                        "try a lower optim.lr"
                    )
                optimizer.step()
                ema.update(model)
                step += 1
                window_steps += 1
                last_loss = loss_value
                if bar is not None:
                    bar.update(1)
                if main and (step % tc.log_every == 0 or step == target):
                    now = time.perf_counter()
                    rate = window_steps * tc.batch_size / max(now - t_window, 1e-9)
                    record = {
                        "event": "train",
                        "step": step,
                        "loss": loss_value,
                        "accuracy": accuracy,
                        "lr": lr,
                        "grad_norm": grad_norm,
                        "samples_per_s": rate,
                        "tokens_per_s": rate * positions,
                        "elapsed_s": now - t_start,
                    }
                    if stream_names:
                        record.update(_stream_record(per_stream, stream_names))
                    metrics.write(record)
                    if bar is not None:
                        bar.set_postfix(loss=f"{loss_value:.4f}", img_s=f"{rate:.0f}", tok_s=f"{rate * positions:.0f}")
                    t_window, window_steps = now, 0
                out_of_time = False
                if tc.max_minutes > 0:  # rank 0's clock decides for every rank
                    late = time.perf_counter() - t_start >= 60 * tc.max_minutes
                    out_of_time = bool(dist_ctx.broadcast_object(late))
                if step % tc.ckpt_every == 0 or step == target or out_of_time:
                    last_ckpt = checkpoint()
                    model.train()
                    if tc.until_plateau:
                        check = cast(PlateauCheck | None, dist_ctx.broadcast_object(plateau["check"]))
                        if check is not None and check.reached:
                            stop_reason = "plateau"
                            if main:
                                metrics.write({"event": "plateau", **check.to_dict()})
                                print(f"stopped at its plateau at step {step}: {check.reason}", file=sys.stderr)
                            break
                    if out_of_time and step < target:
                        stop_reason = "time_limit"
                        if main:
                            print(f"stopped after train.max_minutes={tc.max_minutes} at step {step}", file=sys.stderr)
                        break
        except KeyboardInterrupt:
            interrupted = True
        finally:
            batches.close()  # stops data-loader workers
            if bar is not None:
                bar.close()
    if interrupted:
        done = list_checkpoints(run_dir)
        if step > 0 and (not done or not done[-1].name.endswith(f"{step:08d}")):
            last_ckpt = checkpoint()
        if main:
            metrics.write({"event": "interrupted", "step": step})
            print(f"interrupted at step {step}; checkpoint saved, continue with --resume", file=sys.stderr)
    seconds = time.perf_counter() - t_start
    if interrupted:
        stop_reason = "interrupted"
    last_check = plateau["check"]
    final = last_check.to_dict() if last_check is not None else None
    if main:
        metrics.write({"event": "end", "step": step, "seconds": seconds, "reason": stop_reason})
    return TrainResult(run_dir, step, last_loss, seconds, last_ckpt, stop_reason, final)


def _plateau_check(config: Config, run_dir: Path, step: int, loss: float | None = None) -> PlateauCheck | None:
    """The plateau criterion at ``step`` from the run's logged held-out losses (``loss``: the one just
    measured at ``step``, not logged yet); None when no held-out loss exists at ``step``."""
    tc = config.train
    history = [(s, v) for s, v in eval_history(run_dir / "metrics.jsonl", up_to=step) if loss is None or s < step]
    if loss is not None:
        history.append((step, loss))
    if step not in dict(history):
        return None
    return check_plateau(history, step, tol=tc.plateau_tol, window=tc.plateau_window, min_steps=tc.plateau_min_steps)


def _stream_stats(out: LossOutput, names: list[str]) -> Tensor:
    """(S, 3) per stream: its loss term over the whole batch (total / its global count), Σ correct, Σ scored.

    Summed over micro-batches and ranks these give each stream's masked-mean loss and accuracy.
    """
    assert out.streams is not None
    rows = []
    for name in names:
        o = out.streams[name]
        assert o.total is not None and o.count is not None and o.correct is not None
        rows.append(torch.stack([(o.total / o.count).detach().float(), o.correct.float(), o.selected.sum().float()]))
    return torch.stack(rows)


def _stream_record(per_stream: Tensor, names: list[str], prefix: str = "") -> dict[str, float]:
    """``loss_<stream>`` and ``accuracy_<stream>`` (on masked positions) from ``_stream_stats`` sums."""
    record: dict[str, float] = {}
    for i, name in enumerate(names):
        scored = float(per_stream[i, 2])
        record[f"{prefix}loss_{name}"] = float(per_stream[i, 0])
        record[f"{prefix}accuracy_{name}"] = float(per_stream[i, 1]) / scored if scored > 0 else float("nan")
    return record


def load_training_data(config: Config) -> tuple[AnyDataset, AnyDataset | None]:
    """The (train, test) data of ``config``: in-memory pixel tokens, or verified shards (``data.shards``).

    Shards are refused unless they were made by the tokenizer ``data.tokenizer`` names and hold the
    dataset ``data.name``; test is None when the shard set has no test split.
    """
    if config.data.shards is None:
        return (
            get_dataset(config.data.name, "train", **config.data.options()),
            get_dataset(config.data.name, "test", **config.data.options()),
        )
    assert config.data.tokenizer is not None
    tokenizer = load_tokenizer(config.data.tokenizer)
    expect = tokenizer_fingerprint(tokenizer.config())
    try:
        train = open_shards(
            config.data.shards, "train", expect_fingerprint=expect, expect_dataset=config.data.name, tokenizer=tokenizer
        )
        test = None
        if "test" in read_manifest(config.data.shards)["splits"]:
            test = open_shards(config.data.shards, "test", expect_fingerprint=expect, tokenizer=tokenizer)
    except ShardError as err:
        raise ConfigError(str(err)) from None
    return train, test


def _batches(
    dataset: AnyDataset, config: Config, start: int, stop: int, device: torch.device
) -> Generator[tuple[Any, Tensor | None], None, None]:
    """Training batches ``start … stop − 1`` as (tokens, labels) on ``device``, in ``batch_indices`` order.

    In-memory data is indexed on the device; shards are read by a ``DataLoader`` with
    ``train.workers`` worker processes. Both give the same batches for the same tokens.
    Multi-stream data gives {stream: tokens} and no labels.
    """
    tc = config.train
    if isinstance(dataset, StreamDataset):
        streams = {k: v.to(device) for k, v in dataset.streams.items()}
        for step in range(start, stop):
            idx = batch_indices(len(dataset), tc.batch_size, step, tc.seed).to(device)
            yield index_streams(streams, idx), None
        return
    if isinstance(dataset, ShardDataset):
        loader = shard_loader(
            dataset,
            batch_size=tc.batch_size,
            seed=tc.seed,
            start=start,
            stop=stop,
            workers=tc.workers,
            pin_memory=device.type == "cuda",
        )
        it = iter(loader)
        try:
            for tokens, labels in it:
                yield tokens.to(device, non_blocking=True), (labels.to(device) if labels.numel() else None)
        finally:
            del it
        return
    tokens = dataset.tokens.to(device)
    labels = dataset.labels.to(device) if dataset.labels is not None else None
    for step in range(start, stop):
        idx = batch_indices(len(dataset), tc.batch_size, step, tc.seed).to(device)
        yield tokens[idx], (labels[idx] if labels is not None else None)


@torch.no_grad()
def evaluate(
    model: Any,
    dataset: AnyDataset,
    config: Config,
    objective: Objective,
    device: torch.device,
    amp: torch.dtype | None,
) -> dict[str, float]:
    """Held-out loss, accuracy and likelihood bound on fixed batches (same t and masks every time).

    ``eval_loss`` / ``eval_accuracy`` are the training objective's; ``eval_nll`` is the
    negative ELBO (masked and sub-token models) or the exact NLL (causal models) in nats
    per token, with t stratified over [0, 1], and ``eval_bits_per_token`` the same in bits.
    Multi-stream models add ``eval_loss_<stream>`` / ``eval_accuracy_<stream>``.
    """
    batches = config.train.eval_batches
    if batches == 0 or len(dataset) == 0:
        return {}
    model.eval()
    gen = torch.Generator(device=device).manual_seed(12345)
    bound_gen = torch.Generator(device=device).manual_seed(54321)
    bs = min(config.train.batch_size, len(dataset))
    losses, accs, nll = [], [], []
    names = list(dataset.names) if isinstance(dataset, StreamDataset) else []
    per_stream = torch.zeros(len(names), 3, device=device)
    tokens: Any = (
        {k: v.to(device) for k, v in dataset.streams.items()}
        if isinstance(dataset, StreamDataset)
        else dataset.tokens.to(device)
    )
    labels = dataset.labels.to(device) if (dataset.labels is not None and model.num_classes > 0) else None
    ctx = torch.autocast(device.type, dtype=amp) if amp is not None else nullcontext()
    for i in range(batches):
        idx = batch_indices(len(dataset), bs, i, seed=777).to(device)
        x1 = index_streams(tokens, idx) if names else tokens[idx]
        t = sample_times(bs, eps=config.loss.eps, generator=gen, device=device)
        target = objective.corrupt(x1, t, gen)
        y = labels[idx] if labels is not None else None
        with ctx:
            logits = objective.predict(model, target, y)
        out = objective.loss(logits, target)
        losses.append(out.loss.item())
        accs.append(out.accuracy.item())
        if names:
            per_stream += _stream_stats(out, names) * torch.tensor([1 / batches, 1, 1], device=device)
        with ctx:
            nll.append(objective.nll_bound(model, x1, y, bound_gen).float().mean().item())
    nats = sum(nll) / len(nll)
    return {
        "eval_loss": sum(losses) / len(losses),
        "eval_accuracy": sum(accs) / len(accs),
        "eval_nll": nats,
        "eval_bits_per_token": nats / math.log(2),
        **_stream_record(per_stream, names, prefix="eval_"),
    }


def preview_classes(num_classes: int, rows: int = 10) -> list[int]:
    """The classes shown in a preview grid: all of them, or ``rows`` evenly spaced ones (captions)."""
    if num_classes <= rows:
        return list(range(num_classes))
    return [i * num_classes // rows for i in range(rows)]


@torch.no_grad()
def sample_grid(model: Any, dataset: AnyDataset, config: Config, path: Path, device: torch.device) -> Path:
    """A preview of the model at a checkpoint, with a fixed seed and the run's sample settings.

    Images: a PNG of ``sample.per_class`` samples per class (rows = classes, at most 10, evenly spaced:
    captions of a text model), or 10 rows
    for unconditional models; for video models the same clips, one row of frames per clip.
    Text: ``per_class`` samples, one per paragraph, in a .txt
    next to where the PNG would be. Multi-stream models: ``per_class`` rows of joint
    samples, every image-like stream side by side (``unmask.visualize.render_streams``).
    Returns the file written.
    """
    model.eval()
    sc = config.sample
    if isinstance(dataset, StreamDataset):
        from ..visualize import render_streams

        euler = EulerSampler(
            steps=sc.steps,
            schedule=get_schedule(sc.schedule) if sc.schedule else get_schedule(config.path.schedule_spec()),
            update=cast(Any, sc.update),
            temperature=sc.temperature,
            top_p=sc.top_p,
            top_k=sc.top_k,
            final_argmax=sc.final_argmax,
        )
        gen = torch.Generator(device=device).manual_seed(0)
        joint = MultiStreamSampler("joint", euler).sample(model, n=sc.per_class * 8, generator=gen, device=device)
        pictures = render_streams({k: v.cpu() for k, v in joint.tokens.items()}, dataset)
        return save_grid(pictures, path, nrow=8)
    sampler = default_sampler(model, config)
    gen = torch.Generator(device=device).manual_seed(0)
    text = dataset.tokenizer.kind == "text"
    if model.num_classes > 0:
        rows = preview_classes(model.num_classes)
        labels: Tensor | None = torch.tensor(rows, device=device).repeat_interleave(sc.per_class)
        out = sampler.sample(model, labels=labels, generator=gen, device=device)
    else:
        out = sampler.sample(model, sc.per_class * (1 if text else 10), generator=gen, device=device)
    decoded = dataset.tokenizer.decode(out.tokens.cpu())
    if isinstance(model, VideoTransformer):
        return save_video_grid(np.asarray(decoded), path)
    if text:
        out_path = path.with_suffix(".txt")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out_path, "\n\n".join(f"--- sample {i} ---\n{s}" for i, s in enumerate(decoded)) + "\n")
        return out_path
    return save_grid(decoded, path, nrow=sc.per_class)
