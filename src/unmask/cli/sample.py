"""unmask sample: draw samples from a checkpoint (class labels, captions, continued clips)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._common import (
    UsageError,
    add_ckpt_flag,
    add_device_flags,
    add_progress_flag,
    add_sampler_flags,
    check_sampler,
    chosen_sampler,
    progress_on,
    sampler_from_flags,
    torch_device_type,
)


def register(sub: Any) -> None:
    s = sub.add_parser(
        "sample", help="draw samples from a checkpoint into an .npz and a PNG grid (text: .txt; clips: GIF + PNG)"
    )
    add_ckpt_flag(s)
    s.add_argument(
        "--out",
        required=True,
        help="output .npz (a .png grid is written beside it; for clips also a .gif, and with --mp4 an .mp4)",
    )
    s.add_argument(
        "--n",
        "--num-samples",
        dest="n",
        type=int,
        default=None,
        help="number of samples (default 100, or the number of --labels; under torchrun write --num-samples, "
        "which torchrun does not take for its own --nnodes / --nproc-per-node)",
    )
    s.add_argument("--labels", default=None, help="comma-separated class ids, repeated to fill --n")
    s.add_argument("--label", type=int, default=None, help="one class id for every sample")
    s.add_argument(
        "--captions",
        nargs="+",
        default=None,
        metavar="CAPTION",
        help='text-to-image models: the captions ("" = the null caption); --n samples in all, default 8 each',
    )
    s.add_argument("--captions-file", dest="captions_file", default=None, help="one caption per line")
    add_sampler_flags(s)
    s.add_argument(
        "--prefix-frames",
        dest="prefix_frames",
        type=int,
        default=None,
        help="video models: continue clips whose first K frames are given (kept exactly; 0 <= K < frames)",
    )
    s.add_argument(
        "--prefix-from",
        dest="prefix_from",
        default=None,
        help="where the given frames come from: the run's 'test' (default) or 'train' split (clips keep their "
        "labels), or a user's clips (.npy / .npz / folder of uint8 (N, T, H, W); classes from --labels/--label)",
    )
    s.add_argument(
        "--mp4",
        action="store_true",
        help="video models: also write an H.264 .mp4 of the GIF's grid beside it (needs pip install 'unmask[video]')",
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--batch-size", dest="batch_size", type=int, default=256)
    add_device_flags(s)
    add_progress_flag(s)
    s.set_defaults(func=cmd_sample)


def cmd_sample(args: argparse.Namespace) -> int:
    """Plan what to draw (n, class labels or captions, given frames), build the sampler from the flags
    (one routing for every kind of model), draw once, write the .npz and its preview, print a summary."""
    from ..inference import load_any_model
    from ..models import MultiStreamTransformer, TextTransformer
    from ..tokenizers import build_tokenizer

    model, ckpt = load_any_model(args.ckpt, weights=args.weights, device=args.device)
    if isinstance(model, MultiStreamTransformer):
        raise UsageError(
            f"{str(ckpt.path)!r} holds a joint multi-stream model (streams {', '.join(model.stream_names)}); "
            "use unmask joint --ckpt … --mode … to sample it"
        )
    _check_mp4(args, model)
    captions = _read_captions(args, model)
    if isinstance(model, TextTransformer):
        assert captions is not None
        return _sample_t2i(args, model, ckpt, captions)
    sampler_name, recorded = chosen_sampler(args, model, ckpt.config)
    tokenizer = build_tokenizer(ckpt.tokenizer)
    if captions is not None:  # a class-conditional model of a captioned dataset: caption = class
        plan = _caption_class_plan(args, ckpt, captions)
    else:
        plan = _label_plan(args, model, ckpt, tokenizer)
    if plan.labels is not None and model.num_classes == 0:
        raise UsageError("this checkpoint's model is unconditional; drop --labels/--label")
    for lab in plan.labels or ():
        if not 0 <= lab < model.num_classes:
            raise UsageError(f"label {lab} outside the classes [0, {model.num_classes - 1}]")
    sampler = sampler_from_flags(args, model, ckpt.config, sampler_name)
    gen = _generate(args, model, tokenizer, sampler, plan)
    if gen is None:  # a rank other than 0 under torchrun: rank 0 writes and reports
        return 0
    return _save_and_report(args, gen, plan, sampler_name, ckpt, recorded)


@dataclass
class SamplePlan:
    """What ``unmask sample`` draws: ``n`` samples, their class labels (None: unconditional), the given
    first frames of continued clips, the caption each sample stands for (a class-conditional model of a
    captioned dataset) and the number of samples per row of the preview grid (None: its default)."""

    n: int
    labels: list[int] | None = None
    prefix: Any = None
    captions: list[str] | None = None
    nrow: int | None = None


def _parse_labels(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        raise UsageError(f"--labels must be comma-separated integers, got {text!r}") from None


def _check_mp4(args: argparse.Namespace, model: Any) -> None:
    """--mp4 needs a video model and an MP4 writer: checked before sampling, not after it."""
    from ..models import VideoTransformer

    if not args.mp4:
        return
    if not isinstance(model, VideoTransformer):
        raise UsageError("--mp4 applies to video models; this checkpoint does not hold one")
    from ..visualize import require_mp4_writer

    try:
        require_mp4_writer()
    except ImportError as err:
        raise UsageError(str(err)) from None


def _label_plan(args: argparse.Namespace, model: Any, ckpt: Any, tokenizer: Any) -> SamplePlan:
    """n and the class labels from --n / --labels / --label (default: balanced over the classes, or a
    continued clip's own), and the given frames of --prefix-frames."""
    from ..models import VideoTransformer

    if args.labels is not None and args.label is not None:
        raise UsageError("give --labels or --label, not both")
    video = isinstance(model, VideoTransformer)
    if args.n is not None and args.n < 1:
        raise UsageError(f"--n must be >= 1, got {args.n}")
    if args.prefix_from is not None and args.prefix_frames is None:
        raise UsageError("--prefix-from needs --prefix-frames K (the number of given frames)")
    prefix, prefix_labels = None, None
    if args.prefix_frames is not None:
        if not video:
            raise UsageError("--prefix-frames applies to video models; this checkpoint holds a token-grid model")
        frames = model.config.grid[0]
        if not 0 <= args.prefix_frames < frames:
            raise UsageError(
                f"--prefix-frames {args.prefix_frames} must be in [0, {frames - 1}]: the model's clips have {frames} "
                "frames and at least one must be left to draw"
            )
        want = args.n
        if want is None:  # the n the branches below settle on
            want = len(_parse_labels(args.labels)) if args.labels is not None else 16 if args.label is not None else 20
        prefix, prefix_labels = _prefix_clips(ckpt.config, tokenizer, args.prefix_from or "test", want)
        prefix = prefix[:, : args.prefix_frames]
        if tuple(prefix.shape[2:]) != tuple(model.config.grid[1:]):  # clips of another size than the model's
            (h, w), (mh, mw) = prefix.shape[2:], model.config.grid[1:]
            raise UsageError(f"prefix frames are {h}×{w} tokens but the model's frames are {mh}×{mw}")
    n = args.n
    labels = None
    if args.labels is not None:
        labels = _parse_labels(args.labels)
        if not labels:
            raise UsageError("--labels is empty")
        if n is None:
            n = len(labels)
        elif n % len(labels):
            raise UsageError(f"--n {n} is not a multiple of the {len(labels)} labels given")
        labels = (labels * (n // len(labels)))[:n]
    elif args.label is not None:
        n = 16 if n is None else n
        labels = [args.label] * n
    elif prefix_labels is not None and model.num_classes > 0:  # continued clips keep their own classes
        n = len(prefix_labels) if n is None else n
        labels = [int(v) for v in prefix_labels[:n]]
    else:
        n = (8 if tokenizer.kind == "text" else 20 if video else 100) if n is None else n
        if model.num_classes > 0:  # balanced, in blocks: 0 0 … 1 1 … (one row per class in the grid)
            labels = [i * model.num_classes // n for i in range(n)]
    nrow = None
    if labels is not None and args.labels is None and args.label is None and n % model.num_classes == 0:
        nrow = n // model.num_classes
    elif args.labels is not None and labels is not None:
        nrow = _block_length(labels)
    return SamplePlan(n=n, labels=labels, prefix=None if prefix is None else prefix[:n], nrow=nrow)


def _generate(args: argparse.Namespace, model: Any, tokenizer: Any, sampler: Any, plan: SamplePlan) -> Any:
    """The samples of ``plan``; under torchrun each rank draws its globally indexed part and rank 0
    merges them (the other ranks get None)."""
    from ..inference import generate, generate_distributed
    from ..training.distributed import init_distributed

    common: dict[str, Any] = dict(
        n=plan.n, labels=plan.labels, seed=args.seed, batch_size=args.batch_size, device=args.device, prefix=plan.prefix
    )
    dist_ctx = init_distributed(torch_device_type(args.device))
    try:
        if dist_ctx.distributed:  # started by torchrun: globally indexed parts, merged by rank 0
            out_path = Path(args.out)
            return generate_distributed(
                model,
                tokenizer,
                sampler,
                rank=dist_ctx.rank,
                world_size=dist_ctx.world_size,
                parts_dir=out_path.with_name(f".{out_path.stem}.parts"),
                barrier=dist_ctx.barrier,
                **common,
            )
        return generate(model, tokenizer, sampler, progress=progress_on(args), **common)
    finally:
        dist_ctx.close()


def _save_and_report(
    args: argparse.Namespace, gen: Any, plan: SamplePlan, sampler_name: str, ckpt: Any, recorded: Path | None
) -> int:
    """Write the .npz and its preview (PNG grid, GIF, .txt), print text samples and the JSON summary."""
    from ..inference import save_samples

    if plan.captions is not None:  # --captions for a class-conditional model of a captioned dataset
        gen.captions = list(plan.captions)
    npz, preview = save_samples(args.out, gen, nrow=plan.nrow, mp4=args.mp4)
    if gen.texts is not None:  # text models: the samples themselves are the output
        for i, text in enumerate(gen.texts):
            print(f"--- sample {i} ---\n{text}")
    summary = {
        "npz": str(npz),
        "txt" if gen.texts is not None else "gif" if gen.video else "png": str(preview),
        "n": plan.n,
        "sampler": sampler_name,
        "nfe": gen.nfe,
        "nfe_per_sample": gen.nfe_per_sample,
        "steps": gen.steps,
        "idle_steps_per_sample": gen.idle_steps,
        "checkpoint": str(ckpt.path),
        "step": ckpt.step,
        "settings": str(recorded) if recorded is not None else "config",
    }
    if gen.video:
        summary["prefix_frames"] = gen.prefix_frames
        if args.mp4:
            summary["mp4"] = str(npz.with_suffix(".mp4"))
    print(json.dumps(summary), file=sys.stderr if gen.texts is not None else sys.stdout)
    return 0


def _block_length(labels: list[int]) -> int | None:
    """k when ``labels`` are runs of k > 1 equal labels each (--labels 0,0,0,1,1,1: one row per label in the grid),
    else None (the default layout)."""
    runs, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.append(i - start)
            start = i
    return runs[0] if len(set(runs)) == 1 and runs[0] > 1 else None


def _prefix_clips(config: Any, tokenizer: Any, source: str, n: int) -> tuple[Any, Any]:
    """The first ``n`` clips of ``source`` as tokens (n, T, H, W) and their labels (or None): a split
    ("train" / "test") of the run's dataset, or a user's clips (see ``unmask.data.read_video_files``),
    whose own labels are not used (they need not be the model's class ids; give --labels)."""
    import numpy as np

    from ..data import TokenDataset, get_dataset, is_video_dataset, read_video_files

    if source in ("train", "test"):
        if not is_video_dataset(config.data.name):
            raise UsageError(f"the run's dataset {config.data.name!r} holds no clips; give --prefix-from PATH")
        ds = get_dataset(config.data.name, source, **config.data.options())
        assert isinstance(ds, TokenDataset)
        tokens, labels = ds.tokens.numpy(), None if ds.labels is None else ds.labels.numpy()
        where = f"the {source} split of {config.data.name!r}"
    else:
        videos, _, _ = read_video_files(source)
        tokens, labels = np.asarray(tokenizer.encode(videos)), None
        where = repr(source)
    if len(tokens) < n:
        raise UsageError(f"{where} holds {len(tokens)} clips; --n {n} needs as many to continue")
    return tokens[:n], None if labels is None else labels[:n]


def _read_captions(args: argparse.Namespace, model: Any) -> list[str] | None:
    """The captions of --captions / --captions-file (None when neither is given to a model that is not
    text-to-image), with the checks every caption run shares."""
    from ..models import TextTransformer
    from ..t2i import read_captions_file

    if args.captions is None and args.captions_file is None and not isinstance(model, TextTransformer):
        return None
    if args.captions is not None and args.captions_file is not None:
        raise UsageError("give --captions or --captions-file, not both")
    if args.labels is not None or args.label is not None or args.prefix_frames is not None:
        raise UsageError(
            "a text-to-image model is conditioned on captions: use --captions, not --labels/--prefix-frames"
        )
    if args.captions_file is not None:
        try:
            captions = read_captions_file(args.captions_file)
        except (OSError, ValueError) as err:
            raise UsageError(str(err)) from None
    elif args.captions is not None:
        captions = list(args.captions)
    else:
        raise UsageError('this is a text-to-image checkpoint: give --captions "two squares" … or --captions-file F')
    n = _caption_n(args, captions)
    if n < 1 or n % len(captions):
        raise UsageError(f"--n {n} is not a positive multiple of the {len(captions)} captions given")
    return captions


def _caption_n(args: argparse.Namespace, captions: list[str]) -> int:
    """--n, by default 8 samples per caption."""
    return 8 * len(captions) if args.n is None else int(args.n)


def _caption_class_plan(args: argparse.Namespace, ckpt: Any, captions: list[str]) -> SamplePlan:
    """--captions for a class-conditional model trained on a captioned dataset (``scenes-cls``): each caption
    must be one of the dataset's captions, and its index is the class label."""
    from ..data import get_dataset, is_caption_dataset

    name = ckpt.config.data.name
    if not is_caption_dataset(name) or ckpt.config.model.text_encoder is not None:
        raise UsageError(
            "--captions / --captions-file need a text-to-image checkpoint or a class-conditional model "
            f"of a captioned dataset; this one was trained on {name!r}"
        )
    if args.prefix_from is not None:
        raise UsageError("--prefix-from needs --prefix-frames K (the number of given frames)")
    data = get_dataset(name, "train", **ckpt.config.data.options())
    table: tuple[str, ...] = getattr(data, "captions", ())
    index = {c: i for i, c in enumerate(table)}
    for c in captions:
        if c.strip() not in index:
            raise UsageError(f"caption {c!r} is not one of the {len(table)} captions (classes) of {name!r}")
    labels = getattr(data, "labels", None)
    seen = set() if labels is None else set(labels.tolist())
    for c in captions:
        if labels is not None and index[c.strip()] not in seen:  # e.g. a held-out caption of scenes-compose
            raise UsageError(
                f"caption {c!r} (class {index[c.strip()]}) occurs in no training item of {name!r}: this "
                "class-conditional model never saw its class, so its label embedding is untrained (a text-to-image "
                "model can compose it from its words)"
            )
    n = _caption_n(args, captions)
    per = n // len(captions)
    return SamplePlan(
        n=n,
        labels=[index[c.strip()] for c in captions for _ in range(per)],
        captions=[c.strip() for c in captions for _ in range(per)],
        nrow=n // len(dict.fromkeys(c.strip() for c in captions)),
    )


def _sample_t2i(args: argparse.Namespace, model: Any, ckpt: Any, captions: list[str]) -> int:
    """``unmask sample`` for a text-to-image checkpoint: CFG over captions, the sampler from the same
    flag routing as every other model (a flag its sampler does not take is refused, naming it)."""
    from ..inference import save_samples
    from ..t2i import generate_captions, load_text_encoder_for, training_words, unknown_words
    from ..tokenizers import build_tokenizer

    n = _caption_n(args, captions)
    sampler_name = args.sampler or "euler"
    check_sampler(model, sampler_name)
    if args.prefix_from is not None:
        raise UsageError("--prefix-from does not apply to a text-to-image model")
    sampler = sampler_from_flags(args, model, ckpt.config, sampler_name)
    try:
        encoder = load_text_encoder_for(model)
    except (ValueError, RuntimeError) as err:
        raise UsageError(str(err)) from None
    known = training_words(ckpt.config)
    unknown = unknown_words(captions, known, encoder) if known is not None else {}
    for word, how in unknown.items():
        print(f"warning: {word!r} occurs in no training caption; {encoder.name} encodes it as {how}", file=sys.stderr)
    gen, _ = generate_captions(
        model,
        build_tokenizer(ckpt.tokenizer),
        sampler,
        captions,
        per_caption=n // len(captions),
        seed=args.seed,
        batch_size=args.batch_size,
        device=args.device,
        encoder=encoder,
        progress=progress_on(args),
    )
    npz, png = save_samples(args.out, gen, nrow=n // len(captions))
    summary = {
        "npz": str(npz),
        "png": str(png),
        "n": n,
        "captions": len(captions),
        "unknown_words": unknown if known is not None else None,
        "sampler": sampler_name,
        "nfe": gen.nfe,
        "nfe_per_sample": gen.nfe_per_sample,
        "steps": gen.steps,
        "checkpoint": str(ckpt.path),
        "step": ckpt.step,
    }
    print(json.dumps(summary))
    return 0
