"""unmask eval, adherence, nll, sweep and joint: scores of samples, checkpoints and sampler settings."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import (
    UsageError,
    add_ckpt_flag,
    add_device_flags,
    add_progress_flag,
    add_report_flags,
    print_report,
    progress_on,
)


def register(sub: Any) -> None:
    e = sub.add_parser("eval", help="Fréchet distance, precision/recall, class scores of samples vs a real dataset")
    e.add_argument("samples", help="an .npz written by unmask sample")
    e.add_argument("--ref", default="digits", help="the real dataset to compare with (its test split)")
    e.add_argument("--levels", type=int, default=None, help="grey levels of the reference images (the model's)")
    e.add_argument("--split", default="test", choices=("train", "test"), help="reference split")
    e.add_argument(
        "--extractor",
        default="efficientnet-lite0",
        help="features: efficientnet-lite0 (offline, default) or inception-v3:/path/to/pt_inception.pth",
    )
    e.add_argument(
        "--ref-n",
        dest="ref_n",
        type=int,
        default=None,
        help="reference images: a fixed subset of the split (default all)",
    )
    add_report_flags(e)
    e.set_defaults(func=cmd_eval)

    ad = sub.add_parser(
        "adherence", help="caption adherence of scene samples (class, count, size, position accuracy) and their FD"
    )
    ad.add_argument("samples", help=".npz from unmask sample (captions, or scenes class labels)")
    ad.add_argument(
        "--ref",
        default="scenes",
        help="real dataset for FD / precision / recall (default scenes); fashion-mnist: class-name captions, "
        "judged by the Fashion-MNIST classifier",
    )
    ad.add_argument(
        "--ref-split",
        dest="ref_split",
        default="test",
        help="split of --ref whose images are the FD reference (default test; e.g. test-heldout of scenes-compose)",
    )
    ad.add_argument("--no-fd", dest="no_fd", action="store_true", help="adherence only")
    ad.add_argument("--extractor", default=None, help="FD feature extractor (default: EfficientNet-Lite0)")
    ad.add_argument("--levels", type=int, default=None, help="grey levels of the reference (the model's)")
    ad.add_argument("--ref-n", dest="ref_n", type=int, default=None, help="reference images (default: all)")
    add_report_flags(ad, "also write the report (JSON) here")
    ad.set_defaults(func=cmd_adherence)

    nl = sub.add_parser("nll", help="held-out likelihood: negative ELBO (masked, Prime) or exact NLL (causal)")
    add_ckpt_flag(nl)
    nl.add_argument("--split", default="test", choices=("train", "test"), help="dataset split (test = held out)")
    nl.add_argument("--n", type=int, default=None, help="only the first N sequences / images")
    nl.add_argument("--repeats", type=int, default=1, help="passes with fresh times and masks (masked models)")
    nl.add_argument("--batch-size", dest="batch_size", type=int, default=64)
    nl.add_argument("--seed", type=int, default=0)
    add_device_flags(nl)
    add_report_flags(nl)
    nl.set_defaults(func=cmd_nll)

    w = sub.add_parser(
        "sweep",
        help="evaluate a grid of sampler settings on one checkpoint (resumable): images by FD, precision/recall "
        "and accuracy, clips by frame FD, frame-to-frame change and motion against the real clips",
    )
    add_ckpt_flag(w)
    w.add_argument("--grid", required=True, help="grid YAML file (see unmask.sweep.grid)")
    w.add_argument("--out", required=True, help="output directory: sweep.csv, sweep.json, figures")
    add_device_flags(w)
    w.add_argument("--seed", type=int, default=None, help="replace the grid seed (repeat a sweep, into another --out)")
    w.add_argument(
        "--best",
        default=None,
        metavar="METRIC",
        help="record the best cell on METRIC (fd, precision, recall, inception_score, accuracy; for a video "
        "model fd, the frame FD, or motion_ratio) as the run's sampling.json, which unmask sample then uses",
    )
    add_progress_flag(w)
    w.set_defaults(func=cmd_sweep)

    j = sub.add_parser(
        "joint", help="run a joint multi-stream model in one direction on a test split: metrics JSON + PNG grids"
    )
    add_ckpt_flag(j, "checkpoint or run directory of a joint model")
    j.add_argument(
        "--mode",
        required=True,
        help="joint (all streams from [MASK]) or A->B: streams B from streams A held fixed, "
        "e.g. image->mask, mask->image, label->image, image->label",
    )
    j.add_argument("--out", required=True, help="output directory: metrics.json, samples.npz, grid.png")
    j.add_argument("--n", type=int, default=500, help="examples (the first N of the split)")
    j.add_argument(
        "--steps", type=int, default=None, help="sampler steps (default: the run's; 1 = one call + arg-max for labels)"
    )
    j.add_argument("--cfg", type=float, default=None, help="CFG scale >= 0; the null drops the condition streams")
    j.add_argument("--temperature", type=float, default=None, help="softmax temperature > 0")
    j.add_argument("--top-k", dest="top_k", type=int, default=None, help="keep the k most likely tokens (1 = greedy)")
    j.add_argument("--top-p", dest="top_p", type=float, default=None, help="nucleus mass in (0, 1]")
    j.add_argument(
        "--samples", type=int, default=1, help="samples per example (> 1: majority vote and uncertainty maps)"
    )
    j.add_argument(
        "--split", default="test", help="the dataset split of the examples and the FD reference (default test)"
    )
    j.add_argument(
        "--given",
        action="append",
        default=None,
        metavar="STREAM=FILE",
        help="a condition stream from your own file instead of the split (e.g. mask=masks.npy for mask->image): "
        ".npy / .npz of integer class ids (N, *grid) or a PNG of ids (one example); repeat for several streams",
    )
    j.add_argument("--seed", type=int, default=0)
    j.add_argument("--batch-size", dest="batch_size", type=int, default=250)
    j.add_argument("--fd", action=argparse.BooleanOptionalAction, default=True, help="FD of generated images")
    j.add_argument("--extractor", default="efficientnet-lite0", help="features for the FD")
    j.add_argument("--ref-n", dest="ref_n", type=int, default=None, help="FD reference images (default: the split)")
    add_device_flags(j)
    add_progress_flag(j)
    j.set_defaults(func=cmd_joint)


def cmd_eval(args: argparse.Namespace) -> int:
    import numpy as np

    from ..eval.report import evaluate_samples

    path = Path(args.samples)
    if not path.is_file():
        raise UsageError(f"samples file {str(path)!r} does not exist")
    videos = None
    try:
        with np.load(path) as data:
            if "videos" in data.files:  # clips from a video model
                videos, prefix_frames = data["videos"], int(data.get("prefix_frames", 0))
    except (OSError, ValueError) as err:
        raise UsageError(f"{str(path)!r} is not an unmask samples .npz: {err}") from None
    if videos is not None:
        return print_report(args.out, {"samples": str(path), **_eval_videos(args, videos, prefix_frames)})
    try:
        with np.load(path) as data:
            images = data["images"]
            labels = data["labels"] if "labels" in data.files else None
            tokens = data["tokens"] if "tokens" in data.files else None
            tok_spec = json.loads(str(data["tokenizer"])) if "tokenizer" in data.files else {"name": "pixel"}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
        raise UsageError(
            f"{str(path)!r} is not an unmask samples .npz (needs 'images', uint8 (N, H, W)): {err}"
        ) from None
    if tokens is not None and tokens.size and tok_spec.get("name") == "pixel":
        from ..data import get_dataset

        levels = get_dataset(args.ref, args.split, args.levels).vocab_size - 1  # pixel tokens: one per grey level
        if not np.issubdtype(tokens.dtype, np.integer) or tokens.min() < 0 or tokens.max() >= levels:
            raise UsageError(
                f"tokens in {str(path)!r} span [{tokens.min()}, {tokens.max()}] ({tokens.dtype}) but {args.ref!r} at "
                f"{levels} grey levels has token ids [0, {levels - 1}]; pass --levels to match the model"
            )
    report = evaluate_samples(images, labels, args.ref, **_reference_options(args))
    return print_report(args.out, {"samples": str(path), **report})


def _reference_options(args: argparse.Namespace) -> dict[str, Any]:
    """How ``unmask eval`` compares samples with the real data, images and clips alike: the feature
    extractor, the reference's grey levels, split and size, and the progress bar."""
    return {
        "extractor": args.extractor,
        "levels": args.levels,
        "ref_split": args.split,
        "ref_n": args.ref_n,
        "progress": args.progress,
    }


def _eval_videos(args: argparse.Namespace, videos: Any, prefix_frames: int) -> dict[str, object]:
    """``unmask eval`` of clips: frame FD and temporal consistency against a video dataset, and the motion
    measure of the dataset (bouncing-shapes, moving-fashion-mnist)."""
    from ..eval.video import evaluate_videos

    return evaluate_videos(videos, args.ref, prefix_frames=prefix_frames, **_reference_options(args))


#: --ref values of ``unmask adherence`` whose captions name one class each (read by fashion_caption_class)
CLASS_CAPTION_REFS = ("fashion-mnist", "fashion-mnist-captions")


def cmd_adherence(args: argparse.Namespace) -> int:
    from functools import partial

    import numpy as np

    from ..eval.adherence import evaluate_adherence, evaluate_class_caption_adherence

    path = Path(args.samples)
    if not path.is_file():
        raise UsageError(f"samples file {str(path)!r} does not exist")
    try:
        with np.load(path) as data:
            images = data["images"]
            captions = [str(c) for c in data["captions"]] if "captions" in data.files else None
            labels = data["labels"] if "labels" in data.files else None
    except (OSError, ValueError, KeyError) as err:
        raise UsageError(f"{str(path)!r} is not an unmask samples .npz with 'images': {err}") from None
    opts = {
        "extractor": args.extractor,
        "levels": args.levels,
        "ref_n": args.ref_n,
        "ref_split": args.ref_split,
        "progress": args.progress,
    }
    score: Callable[[Any, list[str]], dict[str, object]]
    if args.ref in CLASS_CAPTION_REFS:  # class-name captions: the dataset's classifier judges the class
        if captions is None:
            raise UsageError(f"{str(path)!r} holds no captions (unmask eval scores class-conditional samples)")
        score = partial(evaluate_class_caption_adherence, ref="fashion-mnist", fd=not args.no_fd, **opts)
    else:
        if captions is None:  # a class-conditional model of the scenes: class i is caption i
            from ..data import scene_captions

            if labels is None or (np.asarray(labels) < 0).any():
                raise UsageError(f"{str(path)!r} holds no captions and no class labels to read them from")
            table = scene_captions()
            if int(np.max(labels)) >= len(table):
                raise UsageError(f"label {int(np.max(labels))} is not a scene caption id (0 … {len(table) - 1})")
            captions = [table[int(i)] for i in labels]
        score = partial(evaluate_adherence, ref=None if args.no_fd else args.ref, **opts)
    try:
        report = score(images, captions)
    except ValueError as err:
        raise UsageError(str(err)) from None
    return print_report(args.out, {"samples": str(path), **report})


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweep import HIGHER_IS_BETTER, load_grid, read_rows, record_best, run_sweep

    if args.best is not None:  # checked before hours of sampling, not after
        from ..sweep import record_folder
        from ..training.checkpoint import is_release

        if args.best not in HIGHER_IS_BETTER:
            raise UsageError(f"unknown metric {args.best!r} for --best; choose one of {', '.join(HIGHER_IS_BETTER)}")
        if is_release(record_folder(args.ckpt)):
            raise UsageError(f"--best: {args.ckpt!r} is a release (its files are digested); sweep the run it came from")
    try:  # the grid file is the user's: its errors name the file and the key
        grid = load_grid(args.grid)
    except ValueError as err:
        raise UsageError(str(err)) from None
    csv_path = run_sweep(
        args.ckpt, grid, args.out, device=args.device, weights=args.weights, progress=args.progress, seed=args.seed
    )
    rows = read_rows(csv_path)
    summary: dict[str, Any] = {"csv": str(csv_path), "cells": len(rows), "out": str(args.out)}
    if args.best is not None:
        meta = json.loads((Path(args.out) / "sweep.json").read_text())
        recorded = record_best(csv_path, args.best, args.ckpt, meta)
        summary["best"] = json.loads(recorded.read_text())
        summary["recorded"] = str(recorded)
    print(json.dumps(summary))
    return 0


def cmd_nll(args: argparse.Namespace) -> int:
    from ..data import StreamDataset, get_dataset
    from ..eval import held_out_nll
    from ..inference import load_any_model
    from ..training.families import family_for

    model: Any
    model, ckpt = load_any_model(args.ckpt, weights=args.weights, device=args.device)
    config = ckpt.config
    family = family_for(config)
    dataset = get_dataset(config.data.name, args.split, **config.data.options())
    tokens: Any
    if isinstance(dataset, StreamDataset):  # a joint model: the negative ELBO over all its streams
        from ..joint import check_dataset_fits

        check_dataset_fits(model, dataset)
        tokens, labels = dataset.streams, None
    else:
        if dataset.vocab_size != model.vocab_size:
            raise UsageError(
                f"dataset {config.data.name!r} has {dataset.vocab_size} token ids but the model {model.vocab_size}"
            )
        model = family.scored_model(model, dataset, config)  # a text model: the split's own captions condition it
        tokens, labels = dataset.tokens, dataset.labels if model.num_classes > 0 else None
    objective = family.build_objective(config, dataset)
    if args.n is not None:
        if args.n < 1:
            raise UsageError(f"--n must be >= 1, got {args.n}")
        tokens = {k: v[: args.n] for k, v in tokens.items()} if isinstance(tokens, dict) else tokens[: args.n]
        labels = None if labels is None else labels[: args.n]
    report = held_out_nll(
        model,
        objective,
        tokens,
        labels,
        batch_size=args.batch_size,
        repeats=args.repeats,
        seed=args.seed,
        device=args.device,
        progress=progress_on(args),
    )
    result = {"checkpoint": str(ckpt.path), "step": ckpt.step, "split": args.split, **report.to_dict()}
    if args.out:
        from .._io import atomic_write_text

        atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


def read_given(spec: str) -> tuple[str, Any]:
    """``--given STREAM=FILE``: (stream, the file's class ids as an array). A .npy; a .npz (its one array, or the
    one named like the stream); a PNG / other image PIL reads, as one example of ids (1, H, W). ``UsageError``
    for a spec without ``=``, a missing or unreadable file."""
    import numpy as np

    stream, sep, name = spec.partition("=")
    if not sep or not stream or not name:
        raise UsageError(f"--given {spec!r}: write STREAM=FILE, e.g. mask=masks.npy")
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"--given {spec!r}: file {name!r} does not exist")
    try:
        if path.suffix == ".npy":
            return stream, np.load(path, allow_pickle=False)
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                keys = [stream] if stream in data.files else data.files
                if len(keys) != 1:
                    raise UsageError(
                        f"--given {spec!r}: {name!r} holds arrays {', '.join(data.files)}; name one {stream!r} "
                        "or keep one"
                    )
                return stream, data[keys[0]]
        from PIL import Image

        with Image.open(path) as img:
            if img.mode not in ("L", "P", "I", "I;16"):
                raise UsageError(
                    f"--given {spec!r}: {name!r} is a {img.mode} image; class ids need one channel (L, P or I)"
                )
            return stream, np.asarray(img)[None].astype(np.int64)
    except UsageError:
        raise
    except Exception as err:  # noqa: BLE001 - an unreadable file of any kind: say which
        raise UsageError(f"--given {spec!r}: cannot read {name!r}: {err}") from None


def cmd_joint(args: argparse.Namespace) -> int:
    from ..joint import run_joint

    for flag, value, low in (("--n", args.n, 1), ("--samples", args.samples, 1), ("--steps", args.steps, 1)):
        if value is not None and value < low:
            raise UsageError(f"{flag} must be >= {low}, got {value}")
    if args.cfg is not None and args.cfg < 0:
        raise UsageError(f"--cfg must be >= 0, got {args.cfg}")
    given = None if args.given is None else dict(read_given(spec) for spec in args.given)
    metrics = run_joint(
        args.ckpt,
        args.mode,
        args.out,
        n=args.n,
        steps=args.steps,
        cfg=args.cfg,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        samples=args.samples,
        seed=args.seed,
        batch_size=args.batch_size,
        split=args.split,
        weights=args.weights,
        device=args.device,
        fd=args.fd,
        extractor=args.extractor,
        ref_n=args.ref_n,
        progress=progress_on(args),
        given=given,
    )
    summary: dict[str, object] = {
        "mode": metrics["mode"],
        "n": metrics["n"],
        "nfe": metrics["nfe"],
        "out": str(args.out),
    }
    for name, entry in metrics["streams"].items():
        for key in (
            "miou",
            "pixel_accuracy",
            "accuracy",
            "fd",
            "conditional_accuracy",
            "label_agreement",
            "cycle_miou",
            "agreement_miou",
            "mean_pixel_entropy",
        ):
            if entry.get(key) is not None:
                summary[f"{name}_{key}"] = entry[key]
    print(json.dumps(summary))
    return 0
