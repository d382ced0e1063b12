"""The model zoo: releases of the models behind the headline results, shipped with the project.

A zoo entry is a release folder (``unmask.training.checkpoint.save_release``): EMA weights in fp16,
the run's config, its recorded sampler settings and, for models on VQ tokens, the tokenizer, every
file digested in the manifest. ``unmask sample --ckpt zoo/NAME`` draws from it like from a run;
``unmask zoo export`` writes one and ``unmask zoo list`` lists them. The project keeps the whole
zoo within ``ZOO_BUDGET_BYTES``; an entry is replaced only when the result it backs changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .training.checkpoint import MANIFEST_FILE, is_release, load_checkpoint

__all__ = ["ZOO_BUDGET_BYTES", "ZooEntry", "list_zoo", "zoo_bytes"]

#: The most the shipped zoo may hold, all entries together.
ZOO_BUDGET_BYTES = 60 * 1024 * 1024


@dataclass(frozen=True)
class ZooEntry:
    """One release: its folder, size on disk, training step, parameter count, note and recorded settings."""

    path: Path
    bytes: int
    step: int
    parameters: int
    preset: str
    note: str
    sampling: dict | None


def zoo_bytes(root: str | Path) -> int:
    """Bytes of every file under ``root``."""
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def list_zoo(root: str | Path, verify: bool = True) -> list[ZooEntry]:
    """The releases directly under ``root``, by name; ``verify`` loads each (sizes and SHA-256 checked,
    a ``CheckpointError`` naming a bad file)."""
    out = []
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not is_release(folder):
            continue
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        preset = ""
        if verify:
            preset = load_checkpoint(folder).config.preset
        sampling_path = folder / "sampling.json"
        sampling = json.loads(sampling_path.read_text()) if sampling_path.is_file() else None
        out.append(
            ZooEntry(
                path=folder,
                bytes=zoo_bytes(folder),
                step=int(manifest["step"]),
                parameters=int(manifest["parameters"]),
                preset=preset,
                note=str(manifest["release"].get("note", "")),
                sampling=sampling,
            )
        )
    return out
