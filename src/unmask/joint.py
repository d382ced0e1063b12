"""Run a joint multi-stream checkpoint in one mode on a dataset split: the Python API behind ``unmask joint``.

``run_joint(ckpt, mode, out_dir)`` takes the first ``n`` examples of the checkpoint's
dataset split, holds the mode's condition streams at their true values, samples the
target streams ``samples`` times, and scores every target stream by its kind:

* **segmentation** (image → mask): mIoU, pixel accuracy and confusion of the first
  sample; with several samples also their mean mIoU, the per-pixel majority vote's
  scores and the mean per-pixel entropy, plus a picture of uncertainty maps;
* **label** (image → label, classification by unmasking): accuracy and confusion;
  with the default single step this is one network call and the arg-max;
* **image** (mask → image, label → image, joint): Fréchet distance against the real
  images of the split (``unmask.eval.evaluate_samples``), and for label-conditioned
  images of a labelled dataset the accuracy of its independent classifier (for
  ``shapes-labelled``, whose images are those of ``shapes``: FD against the ``shapes``
  images, and a classifier trained on its own label stream); the label generated with an
  image in a joint sample is compared with that classifier's (``label_agreement``); and for
  ``shapes``-based data a U-Net judge (``unmask.eval.segmenter_judge``) segments the
  generated images: against the mask that conditioned them (``cycle_miou``) or the mask
  sampled with them (``agreement_miou``).

Modes may list several streams on either side (``image->mask,label``: segment and
classify at once; ``mask,label->image``); every target is scored as above.

The conditions may also be the caller's own (``given``: e.g. masks drawn by a user for mask → image): then
nothing is scored against a truth, and the measures that need none remain (the FD of generated images, the
classifier's accuracy on given labels, the judge's ``cycle_miou`` against the given masks).

It writes ``metrics.json``, ``samples.npz`` (condition and sampled tokens), ``grid.png``
(conditions | samples | truth) and, with several samples of a segmentation,
``uncertainty.png``, each atomically.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._io import atomic_write_bytes, atomic_write_text
from .data import StreamDataset, get_dataset
from .errors import UserError
from .eval import segmentation as seg
from .inference import load_multistream_model
from .samplers import EulerSampler, MultiStreamSampler, parse_mode
from .samplers.settings import sampler_from_settings
from .visualize import heatmap, render_streams, save_grid

__all__ = ["run_joint", "image_reference", "image_classifier", "segmenter_judge", "check_dataset_fits", "check_given"]

#: Paired datasets whose images are those of another registered dataset (the FD reference; a
#: single-stream one's classifier also judges label-conditioned images).
_IMAGE_DATASET = {"digits-pairs": "digits", "fashion-mnist-pairs": "fashion-mnist", "shapes-labelled": "shapes"}


def image_reference(dataset: str) -> str:
    """The registered dataset whose real images a paired dataset's generated images are compared with."""
    return _IMAGE_DATASET.get(dataset, dataset)


def image_classifier(dataset: str) -> str:
    """The registered dataset whose classifier judges label-conditioned images of ``dataset``.

    A single-stream reference (``digits`` for ``digits-pairs``) has labels of its own; paired
    streams (``shapes-labelled``, whose reference ``shapes`` has none) train it on their label stream.
    """
    from .data import is_stream_dataset

    ref = image_reference(dataset)
    return dataset if is_stream_dataset(ref) else ref


#: datasets whose mask → image and joint samples a U-Net judge scores → the dataset it is trained on
_SEGMENTER_JUDGE = {"shapes": "shapes", "shapes-labelled": "shapes"}
#: no plateau decision for the judge before this step (the U-Net baseline's setting)
JUDGE_MIN_STEPS = 1000


def segmenter_judge(dataset: str, levels: int | None = None) -> Any:
    """The U-Net that judges generated images of ``dataset`` (``unmask.eval.segmenter_judge``), trained on
    real images to the project's plateau rule once and cached; ``None`` for a dataset without one."""
    if dataset not in _SEGMENTER_JUDGE:
        return None
    from .eval.segmenter_judge import load_or_train_segmenter
    from .training.plateau import plateau_stop_rule

    return load_or_train_segmenter(
        _SEGMENTER_JUDGE[dataset],
        levels=levels,
        stop=plateau_stop_rule(JUDGE_MIN_STEPS),
        stop_name=f"plateau rule (1% over the last quarter) from step {JUDGE_MIN_STEPS}",
    )


def _judge_masks(
    config: Any,
    data: StreamDataset,
    conditions: dict[str, torch.Tensor],
    targets: tuple[str, ...],
    truth: dict[str, torch.Tensor] | None,
    stacked: dict[str, np.ndarray],
    image_tokens: np.ndarray,
) -> dict[str, Any]:
    """The segmenter judge on generated images (N, H, W) tokens: ``cycle_*`` against the mask that conditioned
    them (mask → image; with ``cycle_real_*``, the judge on the real images of the same examples when they are
    dataset examples), or ``agreement_*`` against the mask sampled with them (joint). {} when the mode has no
    mask or the dataset no judge."""
    conds = tuple(conditions)
    masks = [m for m in data.names if data.kinds[m] == "segmentation"]
    if not masks or not (masks[0] in conds or masks[0] in targets):
        return {}
    judge = segmenter_judge(config.data.name, config.data.levels)
    if judge is None:
        return {}
    from .eval.segmenter_judge import judge_scores

    m = masks[0]
    out: dict[str, Any] = {"judge": {"path": str(judge.path), "test_miou": judge.test_miou}}
    if m in conds:
        key, against = "cycle", conditions[m].numpy()
        if truth is not None:
            real = judge_scores(judge, truth[data.image_stream].numpy(), against)
            out.update({"cycle_real_miou": real.miou, "cycle_real_pixel_accuracy": real.pixel_accuracy})
    else:
        key, against = "agreement", stacked[m][0]
    scores = judge_scores(judge, image_tokens, against)
    out.update({f"{key}_miou": scores.miou, f"{key}_pixel_accuracy": scores.pixel_accuracy})
    return out


def check_given(
    model: Any, data: StreamDataset, conds: tuple[str, ...], given: Mapping[str, Any]
) -> dict[str, torch.Tensor]:
    """The caller's condition streams as int64 tensors (N, *grid), checked against the model: exactly the mode's
    condition streams, integer arrays of one N >= 1 shaped like the stream's grid (a label stream may also be
    (N,)), every value a class of the stream ([0, vocab − 2]: [MASK] is not a class). ``UserError`` naming the
    stream and the bad value otherwise."""
    if not conds:
        raise UserError("given conditions need a mode with a condition stream (A->B); joint samples have none")
    missing = [s for s in conds if s not in given]
    extra = [s for s in given if s not in conds]
    if missing or extra:
        wrong = ([f"not given: {', '.join(missing)}"] if missing else []) + (
            [f"given but not a condition: {', '.join(extra)}"] if extra else []
        )
        raise UserError(f"the mode's condition streams are {', '.join(conds)}; {'; '.join(wrong)}")
    out: dict[str, torch.Tensor] = {}
    for s in conds:
        a = np.asarray(given[s])
        grid = tuple(model.grids[s])
        if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
            raise UserError(f"given stream {s!r} must hold integer class ids, got dtype {a.dtype}")
        if data.kinds[s] == "label" and a.ndim == 1:
            a = a.reshape(-1, *grid)
        if a.ndim != 1 + len(grid) or tuple(a.shape[1:]) != grid or len(a) < 1:
            raise UserError(
                f"given stream {s!r} has shape {tuple(a.shape)}; this model's {s!r} is (N, {', '.join(map(str, grid))})"
            )
        classes = int(model.vocab_sizes[s]) - 1
        bad = a[(a < 0) | (a >= classes)]
        if bad.size:
            raise UserError(
                f"given stream {s!r} holds class {int(bad.flat[0])}, outside the {classes} classes of this model's "
                f"{s!r} stream (0 … {classes - 1})"
            )
        out[s] = torch.from_numpy(a.astype(np.int64))
    sizes = {s: len(v) for s, v in out.items()}
    if len(set(sizes.values())) > 1:
        raise UserError(f"given streams differ in count: {', '.join(f'{s} {k}' for s, k in sizes.items())}")
    return out


def check_dataset_fits(model: Any, dataset: StreamDataset) -> None:
    """``UserError`` (a ``ValueError``) naming the first stream whose name, grid or vocabulary differs
    between model and data."""
    if set(model.stream_names) != set(dataset.names):
        raise UserError(
            f"the model's streams {sorted(model.stream_names)} are not the dataset's {sorted(dataset.names)}"
        )
    for name in model.stream_names:
        if tuple(model.grids[name]) != dataset.grids[name]:
            raise UserError(
                f"stream {name!r}: the model's grid {model.grids[name]} is not the data's {dataset.grids[name]}"
            )
        if model.vocab_sizes[name] != dataset.vocab_sizes[name]:
            raise UserError(
                f"stream {name!r}: the model has {model.vocab_sizes[name]} ids, the data {dataset.vocab_sizes[name]}"
            )


class _Kinds:
    """What ``render_streams`` needs, for renamed copies of a dataset's streams."""

    def __init__(self, dataset: StreamDataset, names: dict[str, str]) -> None:
        self.kinds = {shown: dataset.kinds[src] for shown, src in names.items()}
        self.tokenizer = dataset.tokenizer


def run_joint(
    ckpt: str | Path,
    mode: str,
    out_dir: str | Path,
    *,
    n: int = 500,
    steps: int | None = None,
    cfg: float | None = None,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    samples: int = 1,
    seed: int = 0,
    batch_size: int = 250,
    split: str = "test",
    weights: str = "ema",
    device: str = "cpu",
    fd: bool = True,
    extractor: str = "efficientnet-lite0",
    ref_n: int | None = None,
    progress: bool = False,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Sample ``mode`` on the first ``n`` examples of ``split`` and score it; returns the metrics written.

    ``steps`` defaults to the run's ``sample.steps``, or 1 when every target is a label
    stream (one call, arg-max); ``cfg``, ``temperature``, ``top_k``, ``top_p`` to the
    run's ``sample`` settings (CFG only with a condition). ``given``: the condition streams' values from the
    caller instead of the split (every condition stream of the mode, integer arrays (N, *grid) of the same N,
    a label stream also (N,); classes in [0, vocab − 2]); then N is their count and ``n`` is not used, and
    nothing is scored against a truth. Raises ``UserError`` (a ``ValueError``) for an unknown mode, a bad count,
    data that does not fit the model, or a given stream that is missing, extra, misshapen or has a class
    outside its vocabulary (naming the stream and the value).
    """
    for key, value, low in (("n", n, 1), ("samples", samples, 1), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise UserError(f"{key} must be an integer >= {low}, got {value!r}")
    try:  # the refusals of these two are about the caller's input: a checkpoint of another kind, a bad mode
        model, ck = load_multistream_model(ckpt, weights=weights, device=device)
        conds, targets = parse_mode(mode, model.stream_names)
    except ValueError as err:
        raise UserError(str(err)) from None
    if not conds and cfg is not None and cfg != 1.0:
        raise UserError(f"cfg scale {cfg} needs a condition stream; mode {mode!r} has none")
    config = ck.config
    try:
        data = get_dataset(config.data.name, split, **config.data.options())
    except ValueError as err:  # e.g. a split the dataset lacks: the message names it and the ones there are
        raise UserError(str(err)) from None
    assert isinstance(data, StreamDataset)
    check_dataset_fits(model, data)
    if given is not None:
        conditions = check_given(model, data, conds, given)
        n = len(next(iter(conditions.values())))
    elif conds and n > len(data):
        raise UserError(f"n={n} exceeds the {len(data)} examples of {config.data.name!r}/{split}")
    sc = config.sample
    only_labels = all(data.kinds[s] == "label" for s in targets)
    euler = sampler_from_settings(  # the run's sample settings; the arguments given win
        sc,
        config.path.schedule_spec(),
        "euler",
        steps=(1 if only_labels else sc.steps) if steps is None else steps,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        cfg=(sc.cfg if conds else 1.0) if cfg is None else cfg,
    )
    assert isinstance(euler, EulerSampler)
    sampler = MultiStreamSampler(mode, euler)
    count = n
    # with conditions, the first n examples: their true targets are what the samples are scored against
    truth = {k: v[:count] for k, v in data.streams.items()} if conds and given is None else None
    if given is None:
        conditions = {s: data.streams[s][:count] for s in conds}
    gen = torch.Generator(device=device).manual_seed(seed)
    drawn: dict[str, list[torch.Tensor]] = {s: [] for s in targets}
    nfe, t0 = 0, time.perf_counter()
    rounds = range(samples)
    if progress:
        from tqdm import tqdm

        rounds = tqdm(rounds, desc=f"unmask joint {mode}", unit="round")
    for _ in rounds:
        parts: dict[str, list[torch.Tensor]] = {s: [] for s in targets}
        for lo in range(0, count, batch_size):
            hi = min(count, lo + batch_size)
            held = {s: v[lo:hi] for s, v in conditions.items()}
            out = sampler.sample(model, held or None, n=None if conds else hi - lo, generator=gen, device=device)
            nfe += out.nfe
            for s in targets:
                parts[s].append(out.tokens[s].cpu())
        for s in targets:
            drawn[s].append(torch.cat(parts[s]))
    seconds = time.perf_counter() - t0
    stacked = {s: torch.stack(v).numpy() for s, v in drawn.items()}  # (K, n, *grid)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, Any] = {
        "checkpoint": str(ck.path),
        "step": ck.step,
        "dataset": config.data.name,
        "split": split,
        "given": given is not None,
        "mode": mode,
        "conditions": list(conds),
        "targets": list(targets),
        "n": count,
        "samples_per_example": samples,
        "sampler": {
            "steps": euler.steps,
            "cfg": euler.cfg,
            "temperature": euler.temperature,
            "top_k": euler.top_k,
            "top_p": euler.top_p,
            "final_argmax": euler.final_argmax,
            "schedule": euler.schedule.config(),  # type: ignore[union-attr]
        },
        "seed": seed,
        "nfe": nfe,
        "seconds": round(seconds, 1),
        "streams": {},
    }
    for s in targets:
        kind = data.kinds[s]
        k_maps = stacked[s]
        entry: dict[str, Any] = {"kind": kind}
        if kind in ("segmentation", "label") and truth is not None:  # scored against the paired truth
            classes = data.stream_classes(s)
            names = data.class_names.get(s)
            true = truth[s].numpy()
            if kind == "segmentation":
                first = seg.segmentation_scores(k_maps[0], true, classes)
                entry.update(first.to_dict(names))
                if samples > 1:
                    entry["miou_mean_over_samples"] = float(
                        np.mean([seg.segmentation_scores(k, true, classes).miou for k in k_maps])
                    )
                    voted = seg.majority_vote(k_maps, classes)
                    vote = seg.segmentation_scores(voted, true, classes)
                    entry["majority_vote"] = {"miou": vote.miou, "pixel_accuracy": vote.pixel_accuracy}
                    entropy, disagreement = seg.uncertainty_map(k_maps, classes)
                    entry["mean_pixel_entropy"] = float(entropy.mean())
                    entry["mean_pixel_disagreement"] = float(disagreement.mean())
                    entry["uncertainty_vs_error"] = {
                        "disagreement": seg.uncertainty_vs_error(disagreement, voted, true, seed=seed),
                        "entropy": seg.uncertainty_vs_error(entropy, voted, true, seed=seed),
                    }
                    _uncertainty_picture(out_dir / "uncertainty.png", data, conds, truth, s, k_maps, entropy)
            else:
                flat_pred, flat_true = k_maps[0].reshape(-1), true.reshape(-1)
                entry["accuracy"] = seg.accuracy(flat_pred, flat_true)
                scores = seg.scores_from_confusion(seg.confusion_matrix(flat_pred, flat_true, classes))
                entry["confusion"] = scores.confusion.tolist()
                if samples > 1:
                    flat = k_maps.reshape(samples, -1)
                    voted = seg.majority_vote(flat, classes)
                    entry["accuracy_majority_vote"] = seg.accuracy(voted, flat_true)
                    _, disagreement = seg.uncertainty_map(flat, classes)
                    entry["uncertainty_vs_error"] = {
                        "disagreement": seg.uncertainty_vs_error(disagreement, voted, true.reshape(-1), seed=seed)
                    }
        elif kind == "image" and fd:
            from .eval.report import evaluate_samples

            images = np.asarray(data.tokenizer.decode(torch.from_numpy(k_maps[0])))
            labels, agreement = None, False
            label_streams = [c for c in data.names if data.kinds[c] == "label"]
            if label_streams and label_streams[0] in conds:
                labels = conditions[label_streams[0]].reshape(-1).numpy()
            elif label_streams and label_streams[0] in targets:  # sampled with the image: do they agree?
                labels, agreement = stacked[label_streams[0]][0].reshape(-1), True
            ref = image_reference(config.data.name)
            if len(images) < 2:  # one given example: no distribution to compare; the judge still scores it
                report: dict[str, Any] = {"fd": None, "fd_note": "one example: FD compares at least 2 images"}
            else:
                report = evaluate_samples(
                    images,
                    labels,
                    ref,
                    extractor=extractor,
                    ref_split=split,
                    classifier=image_classifier(config.data.name) if labels is not None else False,
                    ref_n=ref_n,
                    levels=config.data.levels,
                    progress=progress,
                )
            if agreement:  # the classifier's label of each generated image against the label generated with it
                for key in [k for k in report if k.startswith("conditional_accuracy")]:
                    report[key.replace("conditional_accuracy", "label_agreement")] = report.pop(key)
            entry.update(report)
            entry.update(_judge_masks(config, data, conditions, targets, truth, stacked, k_maps[0]))
        metrics["streams"][s] = entry

    arrays: dict[str, np.ndarray] = {f"sampled_{s}": v for s, v in stacked.items()}
    if truth is not None:
        arrays.update({f"true_{s}": v.numpy() for s, v in truth.items()})
    else:
        arrays.update({f"given_{s}": v.numpy() for s, v in conditions.items()})
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(out_dir / "samples.npz", buf.getvalue())
    _grid_picture(out_dir / "grid.png", data, conditions, targets, truth, stacked)
    atomic_write_text(out_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def _grid_picture(
    path: Path,
    data: StreamDataset,
    conditions: dict[str, torch.Tensor],
    targets: tuple[str, ...],
    truth: dict[str, torch.Tensor] | None,
    stacked: dict[str, np.ndarray],
    rows: int = 32,
) -> None:
    """conditions | first samples of the targets | true targets (when known), for the first ``rows`` examples."""
    m = min(rows, next(iter(stacked.values())).shape[1])
    shown: dict[str, Any] = {}
    names: dict[str, str] = {}
    for s, v in conditions.items():
        shown[f"given_{s}"], names[f"given_{s}"] = v[:m].numpy(), s
    for s in targets:
        shown[f"sampled_{s}"], names[f"sampled_{s}"] = stacked[s][0, :m], s
    if conditions and truth is not None:
        for s in targets:
            shown[f"true_{s}"], names[f"true_{s}"] = truth[s][:m].numpy(), s
    pictures = render_streams(shown, _Kinds(data, names), gap=2)
    save_grid(pictures, path, nrow=4 if pictures.shape[2] > 2 * pictures.shape[1] else 8)


def _uncertainty_picture(
    path: Path,
    data: StreamDataset,
    conds: tuple[str, ...],
    truth: dict[str, torch.Tensor],
    stream: str,
    k_maps: np.ndarray,
    entropy: np.ndarray,
    rows: int = 8,
    shown_samples: int = 4,
) -> None:
    """Per example: the conditions, the true map, up to ``shown_samples`` sampled maps and the entropy map."""
    m = min(rows, k_maps.shape[1])
    parts: dict[str, Any] = {}
    names: dict[str, str] = {}
    for s in conds:
        parts[f"given_{s}"], names[f"given_{s}"] = truth[s][:m].numpy(), s
    parts["true"], names["true"] = truth[stream][:m].numpy(), stream
    for j in range(min(shown_samples, k_maps.shape[0])):
        parts[f"sample{j}"], names[f"sample{j}"] = k_maps[j, :m], stream
    left = render_streams(parts, _Kinds(data, names), gap=2)
    height = left.shape[1]
    heat = heatmap(entropy[:m], vmax=float(np.log(min(k_maps.shape[0], data.stream_classes(stream)))))
    factor = max(1, height // heat.shape[1])
    heat = heat.repeat(factor, axis=1).repeat(factor, axis=2)
    sep = np.full((m, height, 2, 3), 128, dtype=np.uint8)
    save_grid(np.concatenate([left, sep, heat], axis=2), path, nrow=2)
