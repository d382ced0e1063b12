"""The state of a U-Net segmenter run on disk, so a run can stop and resume (``train_unet_segmenter``'s
``state_path``): weights, optimiser, generator, step, curve and the settings a resume must share."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write_bytes
from ..models.unet import UNet, UNetConfig

__all__ = ["save_state", "load_state"]

#: What a resumed segmenter run must share with the run that wrote its state (max_steps may change).
_SAME_ON_RESUME = ("batch_size", "lr", "weight_decay", "warmup_steps", "min_lr_ratio", "max_shift_mask_px", "seed")


def save_state(
    path: Path,
    model: UNet,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    curve: list[dict[str, float]],
    step: int,
    seconds: float,
    hyper: dict[str, Any],
    config: UNetConfig,
) -> None:
    """Write a segmenter run's state to ``path`` atomically (a torch pickle of tensors and plain values)."""
    buf = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "generator": gen.get_state(),
            "curve": curve,
            "step": step,
            "seconds": seconds,
            "hyper": {k: hyper[k] for k in (*_SAME_ON_RESUME, "train_n", "heldout_n")},
            "config": repr(config),
        },
        buf,
    )
    atomic_write_bytes(path, buf.getvalue())


def load_state(
    path: Path,
    model: UNet,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    curve: list[dict[str, float]],
    hyper: dict[str, Any],
    config: UNetConfig,
) -> tuple[int, float]:
    """Restore a run from ``save_state``'s file into ``model``, ``opt``, ``gen`` and ``curve``;
    returns (step, seconds trained). ``ValueError`` naming what differs from this run."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a truncated or foreign file: say which
        raise ValueError(f"cannot resume from {str(path)!r}: {type(err).__name__}: {err}") from None
    if state.get("config") != repr(config):
        raise ValueError(f"cannot resume from {str(path)!r}: it holds {state.get('config')}, this run is {config!r}")
    for key, value in state["hyper"].items():
        if hyper[key] != value:
            raise ValueError(f"cannot resume from {str(path)!r}: {key} was {value!r}, now {hyper[key]!r}")
    if state["step"] > hyper["max_steps"]:
        raise ValueError(
            f"cannot resume from {str(path)!r}: it is at step {state['step']}, beyond max_steps={hyper['max_steps']}"
        )
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    gen.set_state(state["generator"])
    curve.extend(state["curve"])
    return int(state["step"]), float(state["seconds"])
