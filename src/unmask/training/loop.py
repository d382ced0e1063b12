"""The training loop of token models: AdamW + warm-up, clipping, EMA, autocast, checkpoints, resume.

``train(config, out_dir)`` runs a config to completion; ``train(..., resume=True)``
continues a run from its latest checkpoint and ends with exactly the weights an
uninterrupted run would have (batch order is a pure function of the step, and the
training generator, the global RNG, the optimiser and the EMA are all checkpointed).

A non-finite loss or gradient norm stops training with ``TrainingDiverged``; the
last good checkpoint is kept and nothing newer is written. Ctrl-C (or SIGTERM) saves
a checkpoint at the last completed step before stopping. A second trainer on a locked run
directory fails at once with ``RunDirLocked``, before reading or writing anything in it.

The loop is ``_train``, in phases (set-up, resume, checkpoint, the steps, stop); what it calls is
beside it: ``factories``, ``batches``, ``step``, ``evaluate``, ``preview`` and ``common``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch

from ..config import Config, ConfigError
from ..data.shards import ShardDataset
from ..models import Transformer
from ..tokenizers import tokenizer_fingerprint
from .batches import load_training_data, positions_per_sample, training_batches
from .checkpoint import list_checkpoints, load_checkpoint, load_weights, save_checkpoint
from .common import (
    MetricsLog,
    RateMeter,
    StopRequest,
    TrainingDiverged,
    autocast_dtype,
    begin_run,
    check_run_dir,
    learning_rate,
    needs_final_checkpoint,
    progress_bar,
    resolve_device,
    restore_training_state,
    run_dir_lock,
    set_learning_rate,
    warm_restart,
    warm_restart_warning,
)
from .distributed import DistContext, init_distributed
from .ema import EMA
from .evaluate import checkpoint_evaluation, plateau_check, stream_record
from .factories import build_model, build_optimizer, objective_for
from .families import family_for
from .plateau import PlateauCheck
from .preview import sample_grid
from .step import backward, corrupt_batch, training_forward

__all__ = ["train", "TrainResult", "RESUMABLE_KEYS", "STOP_REASONS"]

#: Config keys a resumed run may change. None alters the model, the data or the optimiser, but
#: ``train.steps`` moves the end of a cosine learning-rate decay (``optim.lr_schedule``): raising
#: it on resume restarts the decay from a higher rate (a warm restart) from the resumed step on,
#: unless ``optim.decay_steps`` pins the decay's end (then the rate stays at its minimum after it).
RESUMABLE_KEYS = {
    "train.steps",
    "optim.decay_steps",
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
    "train.plateau_smooth",
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
    config.resolve().validate()  # a hand-built Config gets its size-derived model fields here
    tc = config.train
    device = resolve_device(tc.device)
    dist_ctx = init_distributed(device.type)
    try:
        with run_dir_lock(run_dir, dist_ctx):
            return _train(config, run_dir, dist_ctx, device, resume=resume, progress=progress, stop_after=stop_after)
    finally:
        dist_ctx.close()


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
    """``train`` once the run directory is locked: this rank's part of the run in ``run_dir``."""
    # -- set-up: the config to run, this rank's share of a batch, the data, the model, the
    # -- optimiser, the objective and the one generator of the run's randomness
    config = check_run_dir(config, run_dir, resume, RESUMABLE_KEYS, name_resumable=True)
    dist_ctx.barrier()  # every rank has looked at the run directory before rank 0 writes to it
    tc = config.train
    world, rank = dist_ctx.world_size, dist_ctx.rank
    parts = dist_ctx.batch_slices(tc.batch_size, tc.grad_accum)  # this rank's micro-batches
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
    optimizer = build_optimizer(model, config, device)
    objective = objective_for(config, dataset)
    # One generator, the same on every rank: each rank draws the whole global batch's times,
    # masks and label drops and keeps its slice (see unmask.training.distributed).
    gen = torch.Generator(device=device).manual_seed(tc.seed)
    step = 0

    # -- resume: weights, EMA, optimiser, generators and step from the latest checkpoint
    restart: tuple[float, float] | None = None  # (from, to) when the resume raised the learning rate
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
        restore_training_state(st, optimizer, gen, device)
        ema.updates = int(st["ema_updates"])
        step = ckpt.step
        if step >= tc.steps:
            return TrainResult(run_dir, step, float("nan"), 0.0, ckpt.path)
        restart = warm_restart(config, float(optimizer.param_groups[0]["lr"]), step)
        old_decay_end = ckpt.config.optim.decay_steps or ckpt.config.train.steps
        caution = warm_restart_warning(config, step, restart, old_decay_end) if restart is not None else None
        if main and caution is not None:
            print(f"warning: {caution}", file=sys.stderr)
        stopped = plateau_check(config, run_dir, step) if main and tc.until_plateau else None
        stopped = cast(PlateauCheck | None, dist_ctx.broadcast_object(stopped))
        if stopped is not None and stopped.reached:  # it stopped at its plateau: nothing left to train
            return TrainResult(run_dir, step, float("nan"), 0.0, ckpt.path, "plateau", stopped.to_dict())
    # torch's global RNG (dropout) differs per rank; the data randomness above does not
    if dist_ctx.distributed:
        torch.manual_seed(tc.seed * 1_000_003 + 7919 * rank + step)
    ddp, fwd = training_forward(model, device, dist_ctx.distributed, tc.compile)

    metrics = begin_run(run_dir, config) if main else MetricsLog(run_dir / "metrics.jsonl")  # rank 0 writes
    if main:
        metrics.write(
            {
                "event": "resume" if resume else "start",
                "step": step,
                # a resume that raised the learning rate (a larger train.steps under a cosine): from, to
                **({"warm_restart": list(restart)} if restart is not None else {}),
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

    # -- checkpoint: rank 0 saves, evaluates on held-out data and renders a preview
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
                state={
                    "optimizer": optimizer.state_dict(),
                    "ema_updates": ema.updates,
                    "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "step": step,
                    "world_size": world,
                },
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
                held_out, check = checkpoint_evaluation(
                    ema.shadow, test_set, config, objective, device, amp, run_dir, step
                )
                record.update(held_out)
                if check is not None:
                    plateau["check"] = check
            preview = run_dir / "samples" / f"step_{step:08d}.png"
            record["samples"] = str(sample_grid(cast(Transformer, ema.shadow), dataset, config, preview, device))
            metrics.write(record)
        dist_ctx.barrier()
        clock["checkpoints"] += time.perf_counter() - began
        return path

    # -- the loop: one optimiser step on the global batch of each step, split over ranks and
    # -- micro-batches; a record every log_every steps, a checkpoint every ckpt_every
    target = tc.steps if stop_after is None else min(tc.steps, stop_after)
    bar = progress_bar(progress, total=tc.steps, initial=step, desc="train") if main else None
    positions = positions_per_sample(dataset)
    stream_names = family_for(config).stream_names(dataset)
    batches = training_batches(dataset, config, step, target, device)
    last_loss = float("nan")
    last_ckpt: Path | None = None
    meter = RateMeter()
    t_start = meter.start
    interrupted = False
    stop_reason = "steps" if target == tc.steps else "stop_after"
    model.train()
    with StopRequest(catch_interrupt=dist_ctx.distributed) as stop:
        try:
            while step < target:
                requested = torch.tensor([float(stop.requested)], device=device)
                if bool(dist_ctx.all_reduce_sum(requested)[0] > 0):  # every rank stops at the same step
                    interrupted = True
                    break
                # step: learning rate, batch, corruption and condition dropout, then the gradient
                lr = learning_rate(config, step)
                set_learning_rate(optimizer, lr)
                x1, batch_labels = next(batches)  # the global batch, on every rank
                corrupted, y = corrupt_batch(objective, x1, batch_labels, model, config, gen, device)
                norm = objective.count(corrupted)  # the normaliser of the whole global batch
                optimizer.zero_grad(set_to_none=True)
                stats, per_stream = backward(objective, fwd, ddp, corrupted, y, parts, norm, world, amp, stream_names)
                dist_ctx.all_reduce_sum(stats)
                loss_value = float(stats[0] / norm)
                accuracy = float(stats[1] / stats[2]) if float(stats[2]) > 0 else float("nan")
                if stream_names:
                    dist_ctx.all_reduce_sum(per_stream)
                # a non-finite loss or gradient stops the run before the optimiser takes it
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
                meter.tick()
                last_loss = loss_value
                if bar is not None:
                    bar.update(1)
                # log, then checkpoint (and stop at the plateau or the time limit)
                if main and (step % tc.log_every == 0 or step == target):
                    rate, elapsed = meter.read(tc.batch_size)
                    record = {
                        "event": "train",
                        "step": step,
                        "loss": loss_value,
                        "accuracy": accuracy,
                        "lr": lr,
                        "grad_norm": grad_norm,
                        "samples_per_s": rate,
                        "tokens_per_s": rate * positions,
                        "elapsed_s": elapsed,
                    }
                    if stream_names:
                        record.update(stream_record(per_stream, stream_names))
                    metrics.write(record)
                    if bar is not None:
                        bar.set_postfix(loss=f"{loss_value:.4f}", img_s=f"{rate:.0f}", tok_s=f"{rate * positions:.0f}")
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
    # -- stop: a checkpoint at the last step of an interruption, the end record
    if interrupted:
        if needs_final_checkpoint(run_dir, step):
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
