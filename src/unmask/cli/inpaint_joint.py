"""unmask inpaint of a joint multi-stream model: a region of one stream regenerated, the other streams
given from a dataset item or generated (``--stream``, ``--generate``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._common import REGION_HELP, UsageError, apply_recorded_settings, sampler_from_flags, write_npz


def inpaint_joint(args: argparse.Namespace, model: Any, ckpt: Any) -> int:
    """``unmask inpaint`` of a joint model: a region of --stream (default the image stream) regenerated, the
    other streams given from the same dataset item or generated (--generate); .npz + a PNG grid."""
    import numpy as np
    import torch

    from ..data import StreamDataset, get_dataset
    from ..editing import edit_streams, encode_images, parse_item, plan_joint_edit, read_image, region_mask
    from ..joint import check_dataset_fits
    from ..samplers import FlatStreams, parse_mode
    from ..visualize import render_streams, save_grid

    names = tuple(model.stream_names)
    if args.label is not None:
        raise UsageError(
            "--label does not apply to joint models: a label is a stream, given from the dataset item "
            "or generated with --generate label"
        )
    generate = tuple(s.strip() for s in (args.generate or "").split(",") if s.strip())
    for s in (*generate, *([args.stream] if args.stream is not None else [])):
        if s not in names:
            raise UsageError(f"unknown stream {s!r}; this model's streams are {', '.join(names)}")
    if args.mask is None:
        raise UsageError(
            f"--mask is needed: the region of the stream to regenerate ({', '.join(REGION_HELP)}, or a file)"
        )
    config = ckpt.config
    item = parse_item(args.image)
    data = get_dataset(config.data.name, item[0] if item else "test", **config.data.options())
    if not isinstance(data, StreamDataset):
        raise UsageError(f"the run's dataset {config.data.name!r} holds no paired streams for this joint model")
    check_dataset_fits(model, data)
    stream = args.stream if args.stream is not None else data.image_stream
    grid = tuple(model.grids[stream])
    if len(grid) != 2:
        flat = ", ".join(s for s in names if len(model.grids[s]) == 2)
        raise UsageError(
            f"--stream {stream}: --mask regions apply to 2-D streams ({flat}); the {data.kinds[stream]} stream "
            f"{stream!r} is regenerated whole with --generate {stream}"
        )
    known: dict[str, torch.Tensor] = {}
    if item is not None:
        split, i = item
        if not 0 <= i < len(data):
            raise UsageError(f"--image {args.image!r}: the {split} split has items 0 … {len(data) - 1}")
        known = {s: data.streams[s][i : i + 1] for s in names}
    else:
        image_stream = data.image_stream
        if stream != image_stream:
            raise UsageError(
                f"--stream {stream}: {args.image!r} gives only the image stream {image_stream!r}; take every "
                "stream from a dataset item (--image test:K)"
            )
        missing = [s for s in names if s != image_stream and s not in generate]
        if missing:
            raise UsageError(
                f"{args.image!r} gives only the image stream {image_stream!r}; this joint model's other streams "
                f"({', '.join(missing)}) are unknown: take them from a dataset item (--image test:K) or generate "
                f"them (--generate {','.join(missing)})"
            )
        image = read_image(args.image)
        known = {image_stream: encode_images(data.tokenizer, image[None], tuple(model.grids[image_stream]))}
    pixels = region_mask(args.mask, (int(grid[0]), int(grid[1])))
    plan = plan_joint_edit(model, known, stream, pixels, generate=generate)
    print(plan.note, file=sys.stderr)
    recorded = None if args.defaults else apply_recorded_settings(args)
    chosen = config.sample.sampler
    sampler_name = args.sampler or (chosen if chosen in ("euler", "maskgit") else "euler")
    if sampler_name not in ("euler", "maskgit"):
        raise UsageError(
            f"the {sampler_name} sampler cannot draw from a joint multi-stream model; use --sampler euler or maskgit"
        )
    if not plan.given and args.cfg not in (None, 1.0):
        raise UsageError(f"--cfg {args.cfg} needs streams given whole (CFG drops them); this edit gives none")
    adapter = FlatStreams(model, *parse_mode(plan.mode, names))  # class-conditional when some stream is given
    sampler = sampler_from_flags(args, adapter, config, sampler_name)
    out = edit_streams(model, sampler, plan, samples=args.samples, seed=args.seed, device=args.device)
    k = args.samples
    original = {s: known[s].numpy() if s in known else np.zeros((1, *model.grids[s]), np.int64) for s in names}
    unknown = {s: np.ones((1, *model.grids[s]), bool) for s in names if s not in known}
    masked = {**{s: np.ones((1, *model.grids[s]), bool) for s in generate}, stream: plan.region.numpy()}
    rows = [
        render_streams(original, data, gap=2, grey=unknown),  # the item (unknown streams grey)
        render_streams(original, data, gap=2, grey=masked),  # what is given: the region and generated streams grey
        render_streams({s: out.tokens[s].numpy() for s in names}, data, gap=2),  # the completions
    ]
    path = Path(args.out)
    arrays: dict[str, Any] = {
        "stream": np.array(stream),
        "mode": np.array(plan.mode),
        "region": out.region.numpy(),
        "nfe": out.nfe,
    }
    for s in names:
        arrays[f"tokens_{s}"] = out.tokens[s].numpy()
        if s in known:
            arrays[f"given_{s}"] = known[s].numpy()
        if data.kinds[s] == "image":
            arrays[f"images_{s}"] = np.asarray(data.tokenizer.decode(out.tokens[s]))
    write_npz(path, **arrays)
    png = save_grid(np.concatenate(rows), path.with_suffix(".png"), nrow=2 + k)
    summary = {
        "npz": str(path),
        "png": str(png),
        "samples": k,
        "stream": stream,
        "mode": plan.mode,
        "given": list(plan.given),
        "generated": list(generate),
        "sampler": sampler_name,
        "regenerated_tokens": int(plan.region.sum()),
        "tokens": int(plan.region.numel()),
        "nfe": out.nfe,
        "settings": str(recorded) if recorded is not None else "config",
        "checkpoint": str(ckpt.path),
    }
    print(json.dumps(summary))
    return 0
