"""Training: the loop, EMA, checkpoints (safetensors + JSON + state), logging and resume."""

from .._lock import RunDirLocked
from .checkpoint import (
    Checkpoint,
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    load_weights,
    resolve_checkpoint_dir,
    save_checkpoint,
)
from .common import TrainingDiverged, fused_adamw_available, learning_rate, resolve_device
from .ema import EMA
from .factories import build_interpolant, build_model, build_objective, default_sampler, stream_specs
from .flops import training_step_flops
from .loop import RESUMABLE_KEYS, TrainResult, train
from .vq_trainer import TokenizerTrainResult, evaluate_reconstruction, train_tokenizer

__all__ = [
    "train",
    "TrainResult",
    "TrainingDiverged",
    "RunDirLocked",
    "RESUMABLE_KEYS",
    "build_model",
    "build_interpolant",
    "build_objective",
    "stream_specs",
    "default_sampler",
    "training_step_flops",
    "fused_adamw_available",
    "learning_rate",
    "resolve_device",
    "EMA",
    "Checkpoint",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "load_weights",
    "resolve_checkpoint_dir",
    "list_checkpoints",
    "train_tokenizer",
    "TokenizerTrainResult",
    "evaluate_reconstruction",
]
