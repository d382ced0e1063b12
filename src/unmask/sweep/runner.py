"""Run a sweep: every cell of a grid on one checkpoint → samples → metrics → one CSV row.

Image models are scored by ``unmask.eval.report.evaluate_samples`` (FD, precision/recall, Inception-style
score, accuracy); video models by ``unmask.eval.video.evaluate_videos`` against the real clips: the frame FD
(column ``fd``), the frame-to-frame change over the real clips' (``change_ratio``) and the motion score over
the real clips' (``motion_ratio``).

The CSV (``OUT/sweep.csv``) is rewritten atomically after every cell, so an interrupted
sweep loses at most the cell in progress; running the same command again skips the
cells already in the CSV. ``OUT/sweep.json`` records the checkpoint and the grid, and a
sweep directory cannot be resumed with another checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_text
from ..data.images import IMAGE_LEVELS
from ..errors import UserError
from ..inference import check_sampler_fits, generate, load_model, save_samples
from ..models import TextTransformer, VideoTransformer
from ..samplers import Sampler
from ..samplers.settings import build_from_settings
from ..tokenizers import build_tokenizer
from .grid import SETTINGS, Cell, SweepSpec, check_int, load_grid
from .plots import plot_sweep
from .table import COLUMNS, METRICS, read_rows, write_rows

__all__ = ["run_sweep", "read_rows", "COLUMNS", "Evaluator"]

#: (images uint8 (N, H, W), or clips (N, T, H, W) of a video model; labels (N,) or None) → metrics dict with
#: some of METRICS.
Evaluator = Callable[[np.ndarray, "np.ndarray | None"], dict[str, float]]


def _sampler_for(cell: Cell, train_schedule: dict[str, Any], default_cfg: float) -> Sampler:
    """The cell's sampler, built as ``sampling.json`` settings are (one code path for both), with the
    checkpoint's CFG weight where the cell sets none."""
    settings = cell.as_dict()
    settings.setdefault("cfg", default_cfg)
    return build_from_settings(settings, train_schedule)


def _effective(cell: Cell, sampler: Sampler) -> dict[str, Any]:
    """Every setting that applies to the cell's sampler, with the value actually used."""
    out: dict[str, Any] = {"sampler": cell.sampler}
    for key, (applies, _) in SETTINGS.items():
        if key == "sampler" or cell.sampler not in applies:
            continue
        attr = "final_argmax" if key == "argmax" else key
        value = getattr(sampler, attr)
        out[key] = value.config()["name"] if hasattr(value, "config") else value
    return out


def _key(settings: dict[str, Any]) -> str:
    blob = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def default_evaluator(ref: str, levels: int | None, extractor: str, ref_n: int | None = None) -> Evaluator:
    """Fréchet distance, precision/recall, Inception-style score and accuracy against ``ref``'s test split."""
    from ..eval.report import evaluate_samples

    def evaluate(images: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
        rep = evaluate_samples(images, labels, ref, levels=levels, extractor=extractor, ref_n=ref_n)
        rep["accuracy"] = rep.get("conditional_accuracy")
        return {k: float(rep[k]) for k in METRICS if rep.get(k) is not None}  # type: ignore[arg-type]

    return evaluate


def video_evaluator(ref: str, levels: int | None, extractor: str, ref_n: int | None = None) -> Evaluator:
    """Frame FD (as ``fd``), ``change_ratio`` and ``motion_ratio`` of clips (N, T, H, W) against ``ref``'s test clips
    (a registered video dataset, decoded at ``levels`` grey levels; ``ref_n``: a fixed subset of them)."""
    from ..data import is_video_dataset
    from ..eval.video import evaluate_videos

    if not is_video_dataset(ref):
        raise UserError(f"reference {ref!r} is not a video dataset; a video model's sweep scores clips")

    def evaluate(videos: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
        rep = evaluate_videos(videos, ref, extractor=extractor, ref_n=ref_n, levels=levels, motion=True)
        temporal = rep["temporal"]
        assert isinstance(temporal, dict)
        out = {"fd": float(rep["frame_fd"]), "change_ratio": float(temporal["ratio"])}  # type: ignore[arg-type]
        motion = rep.get("motion")  # absent for clips of fewer than 3 frames (no velocity to follow)
        if isinstance(motion, dict):
            out["motion_ratio"] = float(motion["score_ratio"])
        return out

    return evaluate


def run_sweep(
    ckpt: str | Path,
    grid: str | Path | SweepSpec,
    out_dir: str | Path,
    *,
    device: str = "cpu",
    weights: str = "ema",
    progress: bool | None = None,
    evaluator: Evaluator | None = None,
    plots: bool = True,
    seed: int | None = None,
) -> Path:
    """Evaluate every cell of ``grid`` on the checkpoint ``ckpt``; returns the CSV path.

    Cells already in ``out_dir/sweep.csv`` are not recomputed; a cell is identified by the
    sampler settings it resolves to. ``seed`` (an integer >= 0) replaces the grid's seed, to
    repeat a sweep under another seed into another ``out_dir``.
    """
    spec = grid if isinstance(grid, SweepSpec) else load_grid(grid)
    if seed is not None:
        spec = dataclasses.replace(spec, seed=check_int("seed", seed, 0))
    out = Path(out_dir)
    # a checkpoint whose samples a sweep cannot score is refused before anything is written
    model, checkpoint = load_model(ckpt, weights=weights, device=device)
    video = isinstance(model, VideoTransformer)
    if isinstance(model, TextTransformer):
        raise UserError(
            f"{str(checkpoint.path)!r} holds a text-to-image model; sweeps draw class-conditional samples. Sample "
            "with unmask sample --captions and score with unmask adherence"
        )
    config = checkpoint.config
    meta = {
        "checkpoint": str(checkpoint.path.resolve()),
        "step": checkpoint.step,
        "weights": weights,
        "n": spec.n,
        "seed": spec.seed,
        "ref": spec.ref or config.data.name,
        "ref_n": spec.ref_n,
        "extractor": spec.extractor,
    }
    # pixel models are compared with real images at their own grey levels; models on shards (VQ tokens)
    # decode to full-depth images, so their reference keeps every grey level
    ref_levels = config.data.levels if config.data.shards is None else IMAGE_LEVELS.get(str(meta["ref"]))
    make_evaluator = video_evaluator if video else default_evaluator
    evaluate = evaluator or make_evaluator(str(meta["ref"]), ref_levels, spec.extractor, spec.ref_n)
    out.mkdir(parents=True, exist_ok=True)
    meta_path = out / "sweep.json"
    if meta_path.is_file():
        old = json.loads(meta_path.read_text())
        for key in ("checkpoint", "step", "weights", "n", "seed", "ref", "ref_n", "extractor"):
            if old.get(key) != meta[key]:
                raise ValueError(
                    f"{str(out)!r} holds a sweep with {key}={old.get(key)!r}, not {meta[key]!r}; "
                    "use another --out to sweep a different checkpoint or setting"
                )
    atomic_write_text(meta_path, json.dumps({**meta, "grid": spec.source}, indent=2))

    tokenizer = build_tokenizer(checkpoint.tokenizer)
    labels = None
    if model.num_classes > 0:
        labels = [i * model.num_classes // spec.n for i in range(spec.n)]
    default_cfg = config.sample.cfg if model.num_classes > 0 else 1.0

    csv_path = out / "sweep.csv"
    rows: list[dict[str, Any]] = list(read_rows(csv_path))
    done = {r["cell"] for r in rows}
    # cells are identified by the settings actually used, so two grid entries that
    # resolve to the same sampler (e.g. an explicit default) are evaluated once
    todo: list[tuple[str, Cell, Sampler]] = []
    for cell in spec.cells:
        sampler = _sampler_for(cell, config.path.schedule_spec(), default_cfg)
        check_sampler_fits(model, cell.sampler)
        key = _key(_effective(cell, sampler))
        if key not in done:
            done.add(key)
            todo.append((key, cell, sampler))
    total = len(todo) + len(rows)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=len(rows), desc="sweep", unit="cell")
    try:
        for key, cell, sampler in todo:
            if labels is None and sampler.cfg != 1.0:
                raise ValueError(f"cell {cell.as_dict()} sets cfg={sampler.cfg} but the model is unconditional")
            t0 = time.perf_counter()
            gen = generate(
                model,
                tokenizer,
                sampler,
                n=spec.n,
                labels=labels,
                seed=spec.seed,
                batch_size=spec.batch_size,
                device=device,
            )
            if gen.images is None:
                raise ValueError("sweeps score images; this checkpoint's tokenizer decodes to text")
            metrics = evaluate(gen.images, None if labels is None else gen.labels)
            row: dict[str, Any] = {"cell": key, **_effective(cell, sampler)}
            row.update(seed=spec.seed, n=spec.n, nfe=gen.nfe, nfe_per_sample=round(gen.nfe_per_sample, 3))
            row.update({k: metrics.get(k) for k in METRICS})
            row["seconds"] = round(time.perf_counter() - t0, 2)
            if spec.save_samples:
                save_samples(out / "samples" / f"{key}.npz", gen)
            rows.append(row)
            write_rows(csv_path, rows)
            if bar is not None:
                fd = metrics.get("fd")
                bar.set_postfix(sampler=cell.sampler, steps=row.get("steps"), fd=f"{fd:.2f}" if fd is not None else "-")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if not csv_path.is_file():
        write_rows(csv_path, rows)
    if plots:
        plot_sweep(csv_path, out, ylabel="frame FD (EfficientNet-Lite0)" if video else None)
        if video:
            plot_sweep(csv_path, out, metric="motion_ratio", ylabel="motion score / real clips'")
    return csv_path
