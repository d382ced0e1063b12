"""unmask inpaint: regenerate a region of an image, chosen frames of a clip, or one stream of a joint
model, with any sampler (inpainting, outpainting, class edits, continuation)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._common import (
    REGION_HELP,
    UsageError,
    add_ckpt_flag,
    add_device_flags,
    add_sampler_flags,
    chosen_sampler,
    sampler_from_flags,
    write_npz,
)


def register(sub: Any) -> None:
    ip = sub.add_parser(
        "inpaint",
        help="regenerate a region of an image, chosen frames of a clip, or one stream of a joint model, with any "
        "sampler (inpainting, outpainting, class edits, continuation)",
    )
    add_ckpt_flag(ip, "checkpoint, run directory or zoo release")
    ip.add_argument(
        "--image",
        "--from",
        dest="image",
        required=True,
        help="a PNG / .npy of uint8 grey (video models: a .npy clip (T, H, W)), or an item of the run's data: "
        "test:17 (joint models: every stream of that item)",
    )
    ip.add_argument(
        "--mask",
        default=None,
        help="the region to regenerate: a PNG / .npy (nonzero = regenerate), or centre, border:K (outpainting), "
        "half:left|right|top|bottom, random-half:SEED; joint models: on --stream's grid; video models: within "
        "each of --frames (default: whole frames)",
    )
    ip.add_argument(
        "--frames",
        default=None,
        help="video models: the frames to regenerate, e.g. 4: (frames 4 onwards: continuation), 2,5, 1:3, all "
        "(default all, with --mask)",
    )
    ip.add_argument(
        "--stream",
        default=None,
        help="joint models: the stream --mask applies to (default the image stream); the others are given",
    )
    ip.add_argument(
        "--generate",
        default=None,
        metavar="STREAMS",
        help="joint models: other streams to generate whole instead of giving them, e.g. label or mask,label",
    )
    ip.add_argument("--out", required=True, help="output .npz (a PNG beside it: original, masked, completions)")
    ip.add_argument("--samples", type=int, default=4, help="completions of the region (variations)")
    ip.add_argument("--label", type=int, default=None, help="the class to edit towards (default: a dataset item's own)")
    ip.add_argument("--caption", default=None, help="text-to-image models: the caption to edit under")
    add_sampler_flags(ip)
    ip.add_argument("--seed", type=int, default=0)
    add_device_flags(ip)
    ip.set_defaults(func=cmd_inpaint)


def cmd_inpaint(args: argparse.Namespace) -> int:
    """Regenerate a region of an image (or a dataset item) with any sampler: .npz + a PNG grid; of chosen
    frames of a clip (video models: + a GIF); or of one stream of a joint model, the others given."""
    import numpy as np

    from ..data import get_dataset, is_stream_dataset, is_text_dataset
    from ..editing import edit, plan_edit, read_image, region_mask
    from ..inference import load_any_model
    from ..models import MultiStreamTransformer, TextTransformer, VideoTransformer
    from ..tokenizers import build_tokenizer
    from ..visualize import save_grid

    model, ckpt = load_any_model(args.ckpt, weights=args.weights, device=args.device)
    if args.samples < 1:
        raise UsageError(f"--samples must be >= 1, got {args.samples}")
    kind = (
        "joint"
        if isinstance(model, MultiStreamTransformer)
        else "video"
        if isinstance(model, VideoTransformer)
        else "image"
    )
    holds = {
        "joint": "a joint multi-stream model",
        "video": "a video model",
        "image": "a single-stream model, not a joint multi-stream one",
    }
    if kind != "joint":
        for flag, value in (("--stream", args.stream), ("--generate", args.generate)):
            if value is not None:
                raise UsageError(f"{flag} applies to joint multi-stream models; this checkpoint holds {holds[kind]}")
    if kind != "video" and args.frames is not None:
        what = "an image model" if kind == "image" else holds[kind]
        raise UsageError(f"--frames applies to video models; this checkpoint holds {what}")
    if args.caption is not None and not isinstance(model, TextTransformer):
        raise UsageError("--caption applies to text-to-image models; give a class with --label")
    if kind == "joint":
        from .inpaint_joint import inpaint_joint

        return inpaint_joint(args, model, ckpt)
    if kind == "video":
        return _inpaint_video(args, model, ckpt)
    assert not isinstance(model, MultiStreamTransformer)
    if args.mask is None:
        raise UsageError(f"--mask is needed: the region to regenerate (a PNG / .npy, or {', '.join(REGION_HELP)})")
    config = ckpt.config
    item_label = None
    splits: dict[str, Any] = {}

    def split_data(split: str) -> Any:
        if split not in splits:
            if is_stream_dataset(config.data.name) or is_text_dataset(config.data.name):
                raise UsageError(f"--image {args.image!r}: the run's dataset {config.data.name!r} holds no images")
            splits[split] = get_dataset(config.data.name, split, **config.data.options())
        return splits[split]

    def split_images(split: str) -> np.ndarray:  # a split's images, decoded by its own tokenizer
        data = split_data(split)
        return np.asarray(data.tokenizer.decode(data.tokens))

    image = read_image(args.image, dataset=split_images)
    if splits:  # a dataset item keeps its own class unless --label says otherwise
        data = next(iter(splits.values()))
        if data.labels is not None:
            item_label = int(data.labels[int(args.image.split(":", 1)[1])])
    pixels = region_mask(args.mask, image.shape)
    tokenizer = build_tokenizer(ckpt.tokenizer)
    if tokenizer.kind != "image":
        raise UsageError("unmask inpaint edits images; this checkpoint's tokens decode to text")
    sampler_name, recorded = chosen_sampler(args, model, config)
    labels = None
    edit_model: Any = model
    if isinstance(model, TextTransformer):
        if args.caption is None:
            raise UsageError("a text-to-image model edits under a caption: give --caption TEXT ('' = no caption)")
        from ..t2i import bind_captions, load_text_encoder_for

        edit_model = bind_captions(model, load_text_encoder_for(model), [args.caption])
        labels = [0]
    else:
        labels = _inpaint_labels(args, model, item_label)
    sampler = sampler_from_flags(args, edit_model, config, sampler_name)
    plan = plan_edit(edit_model, tokenizer, image[None], pixels)
    print(plan.note, file=sys.stderr)
    out = edit(
        edit_model, tokenizer, sampler, plan, samples=args.samples, labels=labels, seed=args.seed, device=args.device
    )
    original = np.asarray(tokenizer.decode(plan.tokens))
    shown = original.copy()
    grey = 128 if original.ndim == 3 else np.array([128, 128, 128], np.uint8)
    shown[plan.pixels] = grey  # the region to regenerate, greyed out
    path = Path(args.out)
    _write_edit(path, out, plan, original, labels, "images", pixel_region=plan.pixels)
    grid = save_grid(np.concatenate([original, shown, out.images]), path.with_suffix(".png"), nrow=2 + args.samples)
    summary = {
        "npz": str(path),
        "png": str(grid),
        "samples": args.samples,
        "sampler": sampler_name,
        "regenerated_tokens": int(plan.region.sum()),
        "tokens": int(plan.region.numel()),
        "label": labels[0] if labels is not None and not isinstance(model, TextTransformer) else None,
        "caption": args.caption,
        "nfe": out.nfe,
        "settings": str(recorded) if recorded is not None else "config",
        "checkpoint": str(ckpt.path),
    }
    print(json.dumps(summary))
    return 0


def _write_edit(
    path: Path, out: Any, plan: Any, original: Any, labels: list[int] | None, pixels_key: str, **extra: Any
) -> None:
    """The .npz of an edit of images or clips: the completions' tokens and pixels (under ``pixels_key``),
    the region, the given tokens and their decoding ``original``, ``extra`` (what tells the region in
    pixels or frames), the labels (−1: none) and the NFE."""
    import numpy as np

    write_npz(
        path,
        tokens=out.tokens.numpy(),
        **{pixels_key: out.images},
        region=out.region.numpy(),
        given_tokens=plan.tokens.numpy(),
        original=original,
        **extra,
        labels=np.array(labels if labels is not None else [-1]),
        nfe=out.nfe,
    )


#: The built-in regions of --mask, as the help and errors name them.
def _inpaint_labels(args: argparse.Namespace, model: Any, item_label: int | None) -> list[int] | None:
    """The class an image or clip is edited under: --label, else a dataset item's own (None: unconditional)."""
    if model.num_classes > 0:
        label = args.label if args.label is not None else item_label
        return None if label is None else [label]
    if args.label is not None:
        raise UsageError("this checkpoint's model is unconditional; drop --label")
    return None


def _inpaint_video(args: argparse.Namespace, model: Any, ckpt: Any) -> int:
    """``unmask inpaint`` of a video model: the frames --frames selects (default all), whole or within
    --mask, of a dataset clip or a .npy (T, H, W); .npz + a PNG of frame strips + a GIF."""
    import numpy as np

    from ..data import get_dataset, is_video_dataset
    from ..editing import edit, parse_frames, plan_video_edit, read_clip, region_mask
    from ..tokenizers import build_tokenizer
    from ..visualize import save_gif, save_video_grid

    config = ckpt.config
    if args.frames is None and args.mask is None:
        raise UsageError(
            "give --frames (which frames to regenerate, e.g. 4: continues clips from frame 4) and/or --mask "
            "(a region within the frames)"
        )
    t = int(model.config.grid[0])
    frames = parse_frames(args.frames, t) if args.frames is not None else tuple(range(t))
    splits: dict[str, Any] = {}

    def split_clips(split: str) -> np.ndarray:  # a split's clips, decoded by its own tokenizer
        if not is_video_dataset(config.data.name):
            raise UsageError(
                f"--image {args.image!r}: the run's dataset {config.data.name!r} holds no clips; give a .npy (T, H, W)"
            )
        splits[split] = get_dataset(config.data.name, split, **config.data.options())
        return np.asarray(splits[split].tokenizer.decode(splits[split].tokens))

    clip = read_clip(args.image, dataset=split_clips)
    item_label = None
    if splits:  # a dataset clip keeps its own class unless --label says otherwise
        data = next(iter(splits.values()))
        if data.labels is not None:
            item_label = int(data.labels[int(args.image.split(":", 1)[1])])
    pixels = None if args.mask is None else region_mask(args.mask, (int(clip.shape[1]), int(clip.shape[2])))
    tokenizer = build_tokenizer(ckpt.tokenizer)
    sampler_name, recorded = chosen_sampler(args, model, config)
    labels = _inpaint_labels(args, model, item_label)
    sampler = sampler_from_flags(args, model, config, sampler_name)
    plan = plan_video_edit(model, tokenizer, clip[None], frames, pixels)
    print(plan.note, file=sys.stderr)
    out = edit(model, tokenizer, sampler, plan, samples=args.samples, labels=labels, seed=args.seed, device=args.device)
    original = np.asarray(tokenizer.decode(plan.tokens))  # (1, T, H, W)
    shown = original.copy()
    shown[plan.pixels] = 128  # the region to regenerate, greyed out
    path = Path(args.out)
    _write_edit(path, out, plan, original, labels, "videos", frames=np.asarray(frames, dtype=np.int64))
    every = np.concatenate([original, shown, out.images])  # original | masked | completions
    png = save_video_grid(every, path.with_suffix(".png"))
    gif = save_gif(every, path.with_suffix(".gif"), nrow=2 + args.samples)
    summary = {
        "npz": str(path),
        "gif": str(gif),
        "png": str(png),
        "samples": args.samples,
        "frames": list(frames),
        "sampler": sampler_name,
        "regenerated_tokens": int(plan.region.sum()),
        "tokens": int(plan.region.numel()),
        "label": labels[0] if labels is not None else None,
        "nfe": out.nfe,
        "settings": str(recorded) if recorded is not None else "config",
        "checkpoint": str(ckpt.path),
    }
    print(json.dumps(summary))
    return 0
