"""Checkpoints: safetensors weights, the resolved config as JSON, a separate training state.

Layout of a run directory::

    RUN/
      config.json                 the resolved config of the run
      metrics.jsonl               one JSON object per logged step / evaluation
      .lock                       while a trainer runs: its PID and host (unmask._lock)
      samples/step_00001000.png   a sample grid at every checkpoint
      checkpoints/
        latest                    name of the newest complete checkpoint
        step_00001000/
          model.safetensors       raw weights
          ema.safetensors         EMA weights
          config.json             the resolved config (again, so a checkpoint stands alone)
          state.pt                optimiser, step, RNG states (torch.load(weights_only=True))
          manifest.json           step, parameter count, and size + SHA-256 of every file

A **release** (``save_release``; the ``zoo/`` entries) is a checkpoint folder of its own with the
EMA weights only (``ema.safetensors``, fp16 by default), ``config.json``, the run's recorded sampler
settings (``sampling.json``) and, for models on VQ tokens, the tokenizer's weights
(``tokenizer.safetensors``), all digested in ``manifest.json`` (whose ``release`` entry says where
it came from). It loads like any checkpoint, its weights cast back to float32; its raw weights are
its EMA weights, and it has no training state to resume from.

Every file is written under a temporary name, fsync'ed and renamed into place; the
checkpoint directory itself is assembled under ``.tmp-…`` and renamed when complete,
and ``latest`` is replaced atomically last. A crash at any point leaves the previous
checkpoint intact and readable. Loading verifies sizes and hashes, so a truncated or
altered file is reported by name instead of yielding garbage weights.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from .._io import (
    ListedFileFaults,
    atomic_write_bytes,
    atomic_write_text,
    check_listed_file,
    fsync_dir,
    save_tensors,
    sha256_files,
)
from ..config import Config, ConfigError

__all__ = [
    "CheckpointError",
    "save_release",
    "is_release",
    "Checkpoint",
    "save_checkpoint",
    "commit_checkpoint",
    "load_checkpoint",
    "verify_checkpoint",
    "resolve_checkpoint_dir",
    "atomic_write_bytes",
    "atomic_write_text",
    "list_checkpoints",
    "load_weights",
]

MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
CONFIG_FILE = "config.json"
STATE_FILE = "state.pt"
MANIFEST_FILE = "manifest.json"
SAMPLING_FILE = "sampling.json"
TOKENIZER_FILE = "tokenizer.safetensors"
LATEST_FILE = "latest"
CKPT_DIR = "checkpoints"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, truncated, altered or does not match the model."""


@dataclass
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        path: the checkpoint directory.
        config: the run's resolved config.
        step: optimisation steps done.
        model: raw weights (state dict).
        ema: EMA weights (state dict).
        backbone: the ``TransformerConfig`` fields.
        tokenizer: the tokenizer spec (``config()`` of the tokenizer).
        state: the training state (only when requested), else None.
    """

    path: Path
    config: Config
    step: int
    backbone: dict[str, Any]
    tokenizer: dict[str, Any]
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    state: dict[str, Any] | None


def _state_dict_cpu(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}


def save_checkpoint(
    run_dir: str | Path,
    *,
    step: int,
    model: nn.Module,
    ema: nn.Module,
    config: Config,
    state: dict[str, Any],
    backbone: dict[str, Any],
    tokenizer: dict[str, Any],
    keep: int = 2,
) -> Path:
    """Write checkpoint ``step`` into ``run_dir/checkpoints`` atomically and prune old ones.

    ``backbone`` (``TransformerConfig.to_dict()``) and ``tokenizer`` (its ``config()``)
    go into the manifest so the checkpoint rebuilds its model and decodes its tokens
    without the dataset. Returns the final checkpoint directory; the ``keep`` newest
    checkpoints are kept.
    """

    def write(tmp: Path) -> list[str]:
        save_tensors(_state_dict_cpu(model), tmp / MODEL_FILE)
        save_tensors(_state_dict_cpu(ema), tmp / EMA_FILE)
        (tmp / CONFIG_FILE).write_text(config.to_json())
        torch.save(state, tmp / STATE_FILE)
        return [MODEL_FILE, EMA_FILE, CONFIG_FILE, STATE_FILE]

    manifest = {
        "step": step,
        "parameters": sum(v.numel() for v in model.state_dict().values()),
        "backbone": backbone,
        "tokenizer": tokenizer,
    }
    return commit_checkpoint(run_dir, step, write, manifest, keep=keep)


def commit_checkpoint(
    run_dir: str | Path,
    step: int,
    write: Callable[[Path], list[str]],
    manifest: dict[str, Any],
    *,
    keep: int,
) -> Path:
    """Assemble checkpoint ``step`` of ``run_dir`` and commit it: the one atomic write of both trainers.

    ``write(tmp)`` writes the checkpoint's files into the empty folder ``tmp`` and returns their
    names; each is fsync'ed and digested into ``manifest.json`` (``manifest`` followed by
    ``files`` and ``format``). The folder is then renamed to ``checkpoints/step_<step>`` (replacing
    a checkpoint of the same step), ``latest`` names it, and all but the ``keep`` newest
    checkpoints are removed (none when ``keep`` ≤ 0). A crash at any point leaves the previous
    checkpoint readable. Returns the checkpoint directory.
    """
    root = Path(run_dir) / CKPT_DIR
    root.mkdir(parents=True, exist_ok=True)
    name = f"step_{step:08d}"
    final = root / name
    tmp = root / f".tmp-{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    files = _digest_files(tmp, write(tmp))
    atomic_write_text(tmp / MANIFEST_FILE, json.dumps({**manifest, "files": files, "format": 1}, indent=2))
    fsync_dir(tmp)
    _replace_dir(tmp, final)  # re-saving the same step (e.g. after an interrupt) replaces it
    fsync_dir(root)
    atomic_write_text(root / LATEST_FILE, name + "\n")
    for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _digest_files(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """fsync each of the files ``names`` in ``folder`` and give its size and SHA-256 (a manifest's ``files``)."""
    files = {}
    for fname in names:
        p = folder / fname
        with open(p, "rb+") as fh:
            os.fsync(fh.fileno())
        files[fname] = {"bytes": p.stat().st_size, "sha256": sha256_files(p)}
    return files


def _replace_dir(tmp: Path, final: Path) -> None:
    """Rename the complete folder ``tmp`` to ``final``; an existing ``final`` is moved aside first
    and removed once the new one is in place."""
    if final.exists():
        old = final.parent / f".old-{final.name}-{os.getpid()}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old)
    else:
        os.replace(tmp, final)


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoint directories of a run, oldest first."""
    root = Path(run_dir) / CKPT_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("step_*") if p.is_dir() and (p / MANIFEST_FILE).is_file())


def resolve_checkpoint_dir(path: str | Path) -> Path:
    """A checkpoint directory from a checkpoint directory or a run directory (its latest)."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"checkpoint path {str(p)!r} does not exist")
    if (p / MANIFEST_FILE).is_file():
        return p
    root = p / CKPT_DIR
    latest = root / LATEST_FILE
    if latest.is_file():
        cand = root / latest.read_text().strip()
        if (cand / MANIFEST_FILE).is_file():
            return cand
    found = list_checkpoints(p)
    if found:
        return found[-1]
    raise CheckpointError(f"{str(p)!r} holds no checkpoint (no {MANIFEST_FILE}, and no {CKPT_DIR}/step_*)")


def verify_checkpoint(ckpt: Path) -> dict[str, Any]:
    """The manifest of checkpoint directory ``ckpt`` once every file it lists has its recorded size and SHA-256."""
    try:
        manifest = json.loads((ckpt / MANIFEST_FILE).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"cannot read {ckpt / MANIFEST_FILE}: {err}") from None
    for fname, info in manifest.get("files", {}).items():
        check_listed_file(ckpt / fname, info["bytes"], info["sha256"], _CHECKPOINT_FAULTS)
    return manifest


#: How ``verify_checkpoint`` reports a file of the manifest that is not as recorded.
_CHECKPOINT_FAULTS = ListedFileFaults(
    CheckpointError,
    missing="checkpoint file {p} is missing",
    size="checkpoint file {p} has {size} bytes, expected {expected} (truncated or altered)",
    digest=f"checkpoint file {{p}} does not match its SHA-256 in {MANIFEST_FILE} (corrupted)",
)


def is_release(path: str | Path) -> bool:
    """Whether ``path`` is a release folder (``save_release``): EMA weights only, no training state."""
    manifest = Path(path) / MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        return "release" in json.loads(manifest.read_text())
    except json.JSONDecodeError:
        return False


def load_checkpoint(
    path: str | Path, *, with_state: bool = False, map_location: str | torch.device = "cpu"
) -> Checkpoint:
    """Load and verify a checkpoint (directory, or a run directory for its latest one, or a release)."""
    ckpt = resolve_checkpoint_dir(path)
    manifest = verify_checkpoint(ckpt)
    release = manifest.get("release")
    try:
        config = Config.from_dict(json.loads((ckpt / CONFIG_FILE).read_text()))
    except (json.JSONDecodeError, ConfigError) as err:
        raise CheckpointError(f"checkpoint config {ckpt / CONFIG_FILE} is invalid: {err}") from None
    try:
        ema = load_file(str(ckpt / EMA_FILE), device=str(map_location))
        model = ema if release else load_file(str(ckpt / MODEL_FILE), device=str(map_location))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"cannot read weights in {ckpt}: {err}") from None
    tokenizer = dict(manifest["tokenizer"])
    if release:
        ema = {k: v.float() if v.is_floating_point() else v for k, v in ema.items()}
        model = ema
        if tokenizer.get("path") == TOKENIZER_FILE:  # a release carries its tokenizer's weights
            tokenizer["path"] = str(ckpt / TOKENIZER_FILE)
        if with_state:
            raise CheckpointError(f"{str(ckpt)!r} is a release (EMA weights only): it has no training state to resume")
    state = None
    if with_state:
        try:
            state = torch.load(ckpt / STATE_FILE, map_location=map_location, weights_only=True)
        except Exception as err:  # noqa: BLE001 - torch raises many types for bad files
            raise CheckpointError(f"cannot read training state {ckpt / STATE_FILE}: {err}") from None
    return Checkpoint(
        path=ckpt,
        config=config,
        step=int(manifest["step"]),
        backbone=manifest["backbone"],
        tokenizer=tokenizer,
        model=model,
        ema=ema,
        state=state,
    )


def load_weights(module: nn.Module, weights: dict[str, torch.Tensor], source: str) -> None:
    """Load a state dict strictly, naming mismatched keys and shapes."""
    own = module.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    shapes = [
        f"{k}: checkpoint {tuple(weights[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(weights))
        if tuple(weights[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:5]}")
        if shapes:
            parts.append("shape mismatch " + "; ".join(shapes[:5]))
        raise CheckpointError(f"weights in {source} do not match the model config: " + ", ".join(parts))
    module.load_state_dict(weights, strict=True)


def save_release(
    source: str | Path, out_dir: str | Path, *, dtype: str = "float16", note: str = "", overwrite: bool = False
) -> Path:
    """Write the EMA weights of the checkpoint at ``source`` (a run or checkpoint directory) as a
    release folder ``out_dir`` (see the module docstring); returns ``out_dir``.

    ``dtype`` is "float16" (half the bytes; sampling casts back to float32) or "float32". The run's
    ``sampling.json`` (``unmask sweep --best``) is carried over when it exists, and a VQ tokenizer's
    weights are copied in so the release decodes on its own. The folder is assembled under a
    temporary name and renamed into place: an existing ``out_dir`` is replaced only with
    ``overwrite`` (a release is replaced when a result changes, never by accident).
    """
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype must be 'float16' or 'float32', got {dtype!r}")
    ckpt_path = resolve_checkpoint_dir(source)
    ckpt = load_checkpoint(ckpt_path)
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise CheckpointError(f"{str(out)!r} exists; pass overwrite=True (--overwrite) to replace this release")
    tmp = out.parent / f".tmp-{out.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    cast = torch.float16 if dtype == "float16" else torch.float32
    weights = {k: (v.to(cast) if v.is_floating_point() else v).contiguous() for k, v in ckpt.ema.items()}
    save_tensors(weights, tmp / EMA_FILE)
    (tmp / CONFIG_FILE).write_text(ckpt.config.to_json())
    names = [EMA_FILE, CONFIG_FILE]
    run_dir = ckpt_path.parent.parent
    sampling = next((d / SAMPLING_FILE for d in (Path(source), run_dir) if (d / SAMPLING_FILE).is_file()), None)
    if sampling is not None:
        shutil.copyfile(sampling, tmp / SAMPLING_FILE)
        names.append(SAMPLING_FILE)
    tokenizer = dict(ckpt.tokenizer)
    if tokenizer.get("name") == "vqvae":
        shutil.copyfile(tokenizer["path"], tmp / TOKENIZER_FILE)
        tokenizer["path"] = TOKENIZER_FILE
        names.append(TOKENIZER_FILE)
    elif tokenizer.get("name") == "diffusers-vq":
        raise CheckpointError("a release of a model on a diffusers VQModel's tokens would not decode on its own")
    files = _digest_files(tmp, names)
    manifest = {
        "step": ckpt.step,
        "parameters": sum(v.numel() for v in ckpt.ema.values()),
        "backbone": ckpt.backbone,
        "tokenizer": tokenizer,
        "files": files,
        "format": 1,
        "release": {"source": str(ckpt_path), "weights": "ema", "dtype": dtype, "note": note},
    }
    atomic_write_text(tmp / MANIFEST_FILE, json.dumps(manifest, indent=2))
    fsync_dir(tmp)
    _replace_dir(tmp, out)
    fsync_dir(out.parent)
    return out
