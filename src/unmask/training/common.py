"""What the diffusion trainer (``loop``) and the VQ-VAE trainer (``vq_trainer``) share.

The device and its autocast dtype, the optimiser's learning-rate schedule, the stop request
(SIGTERM / Ctrl-C → a checkpoint at the next step boundary), the run directory's lock and
its check against the config (a new run, or a resume that changes only resumable keys),
the metrics log and the progress bar.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
import warnings
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import torch

from .._io import atomic_write_text
from .._lock import RunDirLocked, lock_run_dir
from ..config import Config, ConfigError, TokenizerRunConfig
from .checkpoint import CONFIG_FILE, list_checkpoints
from .distributed import DistContext

__all__ = [
    "TrainingDiverged",
    "StopRequest",
    "MetricsLog",
    "RateMeter",
    "begin_run",
    "resolve_device",
    "autocast_dtype",
    "fused_adamw_available",
    "learning_rate",
    "warmup_then_decay",
    "set_learning_rate",
    "warm_restart",
    "warm_restart_warning",
    "diff_configs",
    "check_run_dir",
    "run_dir_lock",
    "progress_bar",
    "restore_training_state",
    "needs_final_checkpoint",
]

#: A run's config: a diffusion run's or a tokenizer run's.
RunConfig = TypeVar("RunConfig", Config, TokenizerRunConfig)


class TrainingDiverged(RuntimeError):
    """The loss or gradient became NaN / inf."""


# -- device ---------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    """The torch device ``train.device`` names: ``auto`` is CUDA when available, else the CPU.

    Raises ``ConfigError`` for a name torch does not know or for CUDA on a machine without it.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"train.device={name!r} is not a torch device") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"train.device={name!r} but CUDA is not available")
    return dev


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bf16 where the device is fast at it (CUDA with bf16 support); fp32 otherwise.

    ``precision="bf16"`` forces bf16 autocast (on a CPU without bf16 units it is far
    slower than fp32: a warning says so). None means no autocast (fp32).
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        if device.type == "cpu" and "AMX" not in torch.backends.cpu.get_cpu_capability():
            warnings.warn("bf16 autocast on a CPU without AMX/bf16 units is much slower than fp32", stacklevel=2)
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def fused_adamw_available(device: torch.device) -> bool:
    """Whether AdamW's fused kernel runs on ``device``: CUDA always, the CPU from torch 2.4.

    On this project's 2-core CPU the fused step of the ``fmnist`` model (3.5 M parameters)
    took 14.6 ms against 56.3 ms for the per-tensor loop and 63.2 ms for ``foreach``
    (``benchmarks/train_throughput.py`` reports the optimiser's share of a step).
    """
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    major, minor = (int(x) for x in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4)


# -- learning rate --------------------------------------------------------------------------


def warmup_then_decay(
    step: int,
    *,
    lr: float,
    warmup_steps: int,
    schedule: str,
    min_lr_ratio: float,
    steps: int,
    decay_steps: int = 0,
) -> float:
    """The learning rate at ``step`` (0-based) of ``steps``: linear warm-up over ``warmup_steps``
    to ``lr``, then constant (``schedule="constant"``) or cosine decay to ``min_lr_ratio · lr``
    at ``decay_steps`` (``"cosine"``; 0 = at ``steps``), the minimum after it. Always in (0, lr]
    for lr > 0."""
    if warmup_steps and step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return lr
    span = max(1, (decay_steps or steps) - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def learning_rate(config: Config, step: int) -> float:
    """Linear warm-up to ``optim.lr`` then constant or cosine decay to ``min_lr_ratio · lr``."""
    o = config.optim
    return warmup_then_decay(
        step,
        lr=o.lr,
        warmup_steps=o.warmup_steps,
        schedule=o.lr_schedule,
        min_lr_ratio=o.min_lr_ratio,
        steps=config.train.steps,
        decay_steps=o.decay_steps,
    )


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate to ``lr`` (the loops call it before each step)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def warm_restart(config: Config, resumed_lr: float, step: int, rise: float = 1.05) -> tuple[float, float] | None:
    """``(resumed_lr, new_lr)`` when resuming at ``step`` (>= 1) raises the learning rate, else None.

    ``resumed_lr`` is the rate of the checkpoint's last step (``step - 1``), as its optimiser state
    holds it. Under the same config the schedule gives that step the same rate; a larger
    ``train.steps`` stretches a cosine decay, so the same step gets a higher one: a warm restart.
    It counts when the new rate exceeds the resumed one by more than the factor ``rise``.
    """
    if step < 1:
        return None
    new_lr = learning_rate(config, step - 1)
    return (resumed_lr, new_lr) if new_lr > rise * resumed_lr else None


def warm_restart_warning(
    config: Config, step: int, rates: tuple[float, float], old_decay_end: int | None = None
) -> str | None:
    """The warning for a warm restart (``rates`` from ``warm_restart``) that the plateau rule may
    misread: with ``train.until_plateau`` on and ``train.plateau_min_steps`` below the cap, the stall
    of the held-out loss while the raised rate is high can stop the run. None when it cannot.
    ``old_decay_end``, where the checkpoint's decay ended (its ``optim.decay_steps`` or else its
    cap), names the other way out: ``optim.decay_steps`` keeps the old decay and extends it at the
    minimum rate."""
    tc = config.train
    if not tc.until_plateau or tc.plateau_min_steps >= tc.steps:
        return None
    keep = (
        f", or optim.decay_steps={old_decay_end} to keep the old decay and go on at its minimum rate"
        if old_decay_end is not None
        else ""
    )
    return (
        f"train.steps={tc.steps} stretches the learning-rate decay: at step {step} the rate rises from "
        f"{rates[0]:.3g} to {rates[1]:.3g} (a warm restart), and the held-out loss may stall while it is high, "
        f"which the plateau rule could take for a plateau; pass train.plateau_min_steps={tc.steps} to apply "
        f"the rule only at the cap{keep}"
    )


# -- stopping -------------------------------------------------------------------------------


class StopRequest:
    """Turns SIGTERM (and, with ``catch_interrupt``, SIGINT) into a graceful stop at the next
    step boundary: ``requested`` becomes True. Data-parallel runs catch both, so that every rank
    stops at the same step (the request is all-reduced) instead of one rank raising
    KeyboardInterrupt mid-collective. The previous handlers are restored on exit; outside the
    main thread no handler is installed."""

    def __init__(self, catch_interrupt: bool = False) -> None:
        self.requested = False
        self._signals = [signal.SIGTERM] + ([signal.SIGINT] if catch_interrupt else [])
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        for sig in self._signals:
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not in the main thread
                pass
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


# -- resuming and stopping ------------------------------------------------------------------


def restore_training_state(
    state: dict[str, Any], optimizer: torch.optim.Optimizer, generator: torch.Generator, device: torch.device
) -> None:
    """Put a checkpoint's training ``state`` back: the optimiser's moments, the run's generator
    (on ``device``) and torch's global RNG, as they were when the checkpoint was written."""
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"].cpu() if device.type == "cpu" else state["generator"])
    torch.set_rng_state(state["torch_rng"].cpu())


def needs_final_checkpoint(run_dir: Path, step: int) -> bool:
    """Whether a run stopping at ``step`` (> 0) has no checkpoint of that step yet."""
    done = list_checkpoints(run_dir)
    return step > 0 and (not done or not done[-1].name.endswith(f"{step:08d}"))


# -- the run directory ----------------------------------------------------------------------


def diff_configs(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted key, value in ``a``, value in ``b``) for every leaf where two nested config dicts
    differ, in sorted key order (a key missing on one side has the value None there)."""
    for key in sorted(set(a) | set(b)):
        full = f"{prefix}{key}"
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            yield from diff_configs(va, vb, full + ".")
        elif va != vb:
            yield full, va, vb


def check_run_dir(
    config: RunConfig, run_dir: Path, resume: bool, resumable: Collection[str], *, name_resumable: bool = False
) -> RunConfig:
    """The config to run in ``run_dir``: on resume the saved one with ``config``'s ``train``
    section and its values of the other ``resumable`` keys (e.g. ``optim.decay_steps``), else ``config``.

    Raises ``ConfigError`` when resuming a directory with no checkpoint, when the resumed config
    differs from the saved one in a key outside ``resumable`` (``preset`` may always differ; with
    ``name_resumable`` the message lists the keys that may), and when a new run would write into
    a directory that already holds one.
    """
    existing = list_checkpoints(run_dir)
    if resume:
        if not existing:
            raise ConfigError(f"--resume: {str(run_dir)!r} holds no checkpoint to resume from")
        saved = type(config).from_dict(json.loads((run_dir / CONFIG_FILE).read_text()))
        changed = [
            (k, a, b)
            for k, a, b in diff_configs(saved.to_dict(), config.to_dict())
            if k not in resumable and k != "preset"
        ]
        if changed:
            k, a, b = changed[0]
            hint = f" (only {', '.join(sorted(resumable))} may change on resume)" if name_resumable else ""
            raise ConfigError(f"cannot resume {str(run_dir)!r} with a different config: {k} was {a!r}, now {b!r}{hint}")
        merged = replace(saved, train=config.train)
        for key in resumable:
            section, name = key.split(".", 1)
            if section != "train":
                part = replace(getattr(merged, section), **{name: getattr(getattr(config, section), name)})
                merged = replace(merged, **{section: part})
        return merged
    if existing or (run_dir / CONFIG_FILE).exists():
        raise ConfigError(f"{str(run_dir)!r} already holds a run; pass --resume to continue it or choose a new --out")
    return config


@contextmanager
def run_dir_lock(run_dir: Path, dist_ctx: DistContext) -> Iterator[None]:
    """Hold the run directory's lock for the block (released on return, on exceptions, and on the
    SIGTERM / Ctrl-C stop, which returns normally).

    Only rank 0 writes into the run directory, so only rank 0 takes the lock (the others would
    find it held by rank 0). When rank 0 cannot take it, every rank raises the same
    ``RunDirLocked`` rather than waiting for rank 0 at the next collective.
    """
    with ExitStack() as stack:
        failure: RunDirLocked | None = None
        if dist_ctx.is_main:
            try:
                stack.enter_context(lock_run_dir(run_dir))
            except RunDirLocked as err:
                failure = err
        message = dist_ctx.broadcast_object(None if failure is None else str(failure))
        if failure is not None:
            raise failure
        if message is not None:
            raise RunDirLocked(str(message))
        yield


# -- what a run reports ---------------------------------------------------------------------


def begin_run(run_dir: Path, config: Config | TokenizerRunConfig) -> MetricsLog:
    """Create ``run_dir`` (if new), write the run's resolved config to ``config.json`` atomically
    and return the run's metrics log (``metrics.jsonl``, appended to on resume)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / CONFIG_FILE, config.to_json())
    return MetricsLog(run_dir / "metrics.jsonl")


class MetricsLog:
    """Appends records to a run's ``metrics.jsonl``, one JSON object a line, flushed at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` (JSON-serialisable values) as one line."""
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()


class RateMeter:
    """Throughput between train records: ``tick()`` after each step, ``read(batch_size)`` at a record.

    ``start`` is the wall-clock (``time.perf_counter``) second the meter was made: the start of
    this call's training, which the loops also use for elapsed and time-limit checks.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self._since, self._steps = self.start, 0

    def tick(self) -> None:
        """Count one step."""
        self._steps += 1

    def read(self, batch_size: int) -> tuple[float, float]:
        """(samples per second over the steps since the last read, seconds since ``start``);
        the next read measures from now."""
        now = time.perf_counter()
        rate = self._steps * batch_size / max(now - self._since, 1e-9)
        self._since, self._steps = now, 0
        return rate, now - self.start


def progress_bar(progress: bool | None, *, total: int, initial: int, desc: str) -> Any:
    """A tqdm bar over ``total`` steps from ``initial``, or None: with ``progress`` None, only
    when stderr is a terminal."""
    if not (sys.stderr.isatty() if progress is None else progress):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True)
