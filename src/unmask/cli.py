"""The ``unmask`` command: a thin edge over the Python API.

    unmask train [PRESET] [section.key=value ...] --out DIR [--resume]
    unmask sample --ckpt DIR --out FILE.npz [--n N] [--labels 0,1,…|--label K] [--steps S] ...
                  [--prefix-frames K [--prefix-from test|train|PATH]]   # video models: continue clips
                  [--mp4]                                               # video models: an .mp4 beside the .gif
                  [--captions "two squares" … | --captions-file F]      # text-to-image models
    unmask inpaint --ckpt DIR --from test:17|IMAGE.png --mask centre|border:K|… --out FILE.npz [--samples K]
                   [--stream NAME [--generate NAMES]]                  # joint models: a region of one stream
                   [--frames 4:|2,5 [--mask …]] (--from a .npy clip)    # video models: frames (4: = continuation)
    unmask eval SAMPLES.npz [--ref DATASET]
    unmask adherence SAMPLES.npz [--ref scenes|fashion-mnist] [--no-fd]  # caption adherence
    unmask sweep --ckpt DIR --grid FILE.yaml --out DIR
    unmask nll --ckpt DIR [--split test] [--repeats R]
    unmask joint --ckpt DIR --mode joint|A->B --out DIR [--n N] [--steps S] [--cfg W] [--samples K] ...
    unmask info DIR
    unmask presets
    unmask tokenizer train [PRESET] [section.key=value ...] --out DIR [--resume]
    unmask tokenizer eval --tokenizer T [--dataset D] [--n N] [--ref-n R]
    unmask tokenize --tokenizer T --dataset D --out DIR [--workers N] [--shard-size N]

Errors in user input print one line ``unmask: error: …`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


class UsageError(Exception):
    pass


def torch_device_type(name: str) -> str:
    """ "cuda" for CUDA device names, else "cpu" (the process-group backend follows it)."""
    return "cuda" if name.startswith("cuda") else "cpu"


def _parse_labels(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        raise UsageError(f"--labels must be comma-separated integers, got {text!r}") from None


def cmd_train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .training import train

    preset, overrides = _split_items(args.items)
    saved = Path(args.out) / "config.json"
    if args.resume and preset is None and saved.is_file():
        from .config import Config, apply_overrides

        config = apply_overrides(Config.from_dict(json.loads(saved.read_text())), overrides).validate()
    else:
        config = load_config(preset, overrides)
    result = train(config, args.out, resume=args.resume, progress=args.progress)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 reports for the job
        return 0
    print(
        json.dumps(
            {
                "run": str(result.run_dir),
                "step": result.step,
                # NaN (no step run: --resume of a finished run) is not JSON: null
                "loss": result.loss if math.isfinite(result.loss) else None,
                "seconds": round(result.seconds, 1),
                "checkpoint": str(result.checkpoint) if result.checkpoint else None,
                "reason": result.reason,
                **({"plateau": result.plateau["reason"]} if result.plateau else {}),
            }
        )
    )
    return 0


def _split_items(items: list[str]) -> tuple[str | None, list[str]]:
    preset = None
    overrides = []
    for item in items:
        if "=" in item:
            overrides.append(item)
        elif preset is None:
            preset = item
        else:
            raise UsageError(f"more than one preset given ({preset!r} and {item!r})")
    return preset, overrides


def cmd_tokenizer_train(args: argparse.Namespace) -> int:
    from .config import TokenizerRunConfig, apply_overrides, load_tokenizer_config
    from .training import train_tokenizer

    preset, overrides = _split_items(args.items)
    saved = Path(args.out) / "config.json"
    if args.resume and preset is None and saved.is_file():
        config = apply_overrides(TokenizerRunConfig.from_dict(json.loads(saved.read_text())), overrides).validate()
    else:
        config = load_tokenizer_config(preset, overrides)
    result = train_tokenizer(config, args.out, resume=args.resume, progress=args.progress)
    print(
        json.dumps(
            {
                "run": str(result.run_dir),
                "step": result.step,
                "loss": result.loss if math.isfinite(result.loss) else None,
                "seconds": round(result.seconds, 1),
                "tokenizer": str(result.tokenizer) if result.tokenizer else None,
                **{f"eval_{k}": v for k, v in result.eval.items()},
            }
        )
    )
    return 0


def cmd_tokenizer_eval(args: argparse.Namespace) -> int:
    from .eval.reconstruction import evaluate_tokenizer
    from .tokenizers import load_tokenizer

    tok = load_tokenizer(args.tokenizer)
    if args.n < 2:
        raise UsageError(f"--n must be >= 2, got {args.n}")
    report = evaluate_tokenizer(
        tok,
        args.dataset,
        split=args.split,
        n=args.n,
        ref_n=args.ref_n,
        fd=args.fd,
        extractor=args.extractor,
        progress=args.progress,
    )
    text = json.dumps({"tokenizer": tok.config(), **report}, indent=2)
    if args.out:
        from ._io import atomic_write_text

        atomic_write_text(args.out, text + "\n")
    print(text)
    return 0


def cmd_tokenize(args: argparse.Namespace) -> int:
    from .data.pretokenize import tokenize_dataset

    splits = None
    if args.splits is not None:
        splits = [x.strip() for x in args.splits.split(",") if x.strip()]
        if not splits:
            raise UsageError("--splits is empty")
    result = tokenize_dataset(
        args.tokenizer,
        args.dataset,
        args.out,
        splits=splits,
        shard_size=args.shard_size,
        workers=args.workers,
        image_size=args.image_size,
        progress=args.progress if args.progress is not None else sys.stderr.isatty(),
    )
    print(
        json.dumps(
            {
                "out": str(result.directory),
                "examples": result.examples,
                "shards_encoded": result.encoded,
                "shards_already_done": result.skipped,
                "seconds": round(result.seconds, 1),
            }
        )
    )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from .inference import check_sampler_fits, generate, load_model, save_samples
    from .models import TextTransformer, VideoTransformer
    from .tokenizers import build_tokenizer

    model, ckpt = load_model(args.ckpt, weights=args.weights, device=args.device)
    if args.mp4:
        if not isinstance(model, VideoTransformer):
            raise UsageError("--mp4 applies to video models; this checkpoint does not hold one")
        from .visualize import require_mp4_writer

        try:
            require_mp4_writer()  # before sampling, not after it
        except ImportError as err:
            raise UsageError(str(err)) from None
    if isinstance(model, TextTransformer) or args.captions is not None or args.captions_file is not None:
        return _sample_captions(args, model, ckpt)
    recorded = None if args.defaults else _apply_recorded_settings(args)
    if args.sampler is None:
        args.sampler = _configured_sampler(model, ckpt.config)
    check_sampler_fits(model, args.sampler)
    tokenizer = build_tokenizer(ckpt.tokenizer)
    labels = None
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
    n = args.n
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
    if labels is not None and model.num_classes == 0:
        raise UsageError("this checkpoint's model is unconditional; drop --labels/--label")
    if labels is not None:
        for lab in labels:
            if not 0 <= lab < model.num_classes:
                raise UsageError(f"label {lab} outside the classes [0, {model.num_classes - 1}]")
    sampler = _sampler_from_flags(args, model, ckpt.config)
    from .training.distributed import init_distributed

    dist_ctx = init_distributed(torch_device_type(args.device))
    try:
        common = dict(
            n=n,
            labels=labels,
            seed=args.seed,
            batch_size=args.batch_size,
            device=args.device,
            prefix=None if prefix is None else prefix[:n],
        )
        if dist_ctx.distributed:  # started by torchrun: globally indexed parts, merged by rank 0
            from .inference import generate_distributed

            out_path = Path(args.out)
            merged = generate_distributed(
                model,
                tokenizer,
                sampler,
                rank=dist_ctx.rank,
                world_size=dist_ctx.world_size,
                parts_dir=out_path.with_name(f".{out_path.stem}.parts"),
                barrier=dist_ctx.barrier,
                **common,  # type: ignore[arg-type]
            )
            if merged is None:
                return 0
            gen = merged
        else:
            progress = args.progress if args.progress is not None else sys.stderr.isatty()
            gen = generate(model, tokenizer, sampler, progress=progress, **common)  # type: ignore[arg-type]
    finally:
        dist_ctx.close()
    nrow = None
    if labels is not None and args.labels is None and args.label is None and n % model.num_classes == 0:
        nrow = n // model.num_classes
    caption_list = getattr(args, "caption_list", None)
    if caption_list is not None:  # --captions for a class-conditional model of a captioned dataset
        gen.captions = list(caption_list)
        nrow = n // len(dict.fromkeys(caption_list))
    npz, preview = save_samples(args.out, gen, nrow=nrow, mp4=args.mp4)
    if gen.texts is not None:  # text models: the samples themselves are the output
        for i, text in enumerate(gen.texts):
            print(f"--- sample {i} ---\n{text}")
    summary = {
        "npz": str(npz),
        "txt" if gen.texts is not None else "gif" if gen.video else "png": str(preview),
        "n": n,
        "sampler": args.sampler,
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


def _sampler_from_flags(args: argparse.Namespace, model: Any, config: Any) -> Any:
    """The sampler ``args.sampler`` with the sampler flags given (the run's ``sample`` settings for the
    others); a flag that does not apply to that sampler, or CFG for an unconditional model, is a
    usage error naming it (the same check for unmask sample, its caption path and unmask inpaint)."""
    from .inference import sampler_from_config

    cfg = args.cfg
    if model.num_classes == 0 and not _takes_captions(model):
        if cfg not in (None, 1.0):
            raise UsageError(f"--cfg {cfg} needs a class-conditional model; this one is unconditional")
        cfg = 1.0
    common = dict(
        steps=args.steps,
        cfg=cfg,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        schedule=args.schedule,
    )
    euler_only = {
        "update": args.update,
        "final_argmax": None if args.argmax is None else args.argmax == "on",
        "adaptive": args.adaptive,
        "corrector": args.corrector,
    }
    maskgit_only = {
        "gumbel": args.gumbel,
        "gumbel_temperature": args.gumbel_temperature,
        "cfg_schedule": args.cfg_schedule,
    }
    flags = {"final_argmax": "--argmax"}
    takes = {
        "euler": euler_only,
        "maskgit": maskgit_only,
        "prime": {"update": args.update, "final_argmax": euler_only["final_argmax"]},
        "autoregressive": {},
    }[args.sampler]
    if args.sampler == "autoregressive":
        for key in ("steps", "schedule"):
            if common[key] is not None:
                raise UsageError(f"--{key} does not apply to the autoregressive sampler")
            del common[key]
    for key, value in {**euler_only, **maskgit_only}.items():
        if value is not None and key not in takes:
            flag = flags.get(key, "--" + key.replace("_", "-"))
            raise UsageError(f"{flag} does not apply to the {args.sampler} sampler")
    return sampler_from_config(config, args.sampler, **common, **takes)


def _configured_sampler(model: Any, config: Any) -> str:
    """The run's ``sample.sampler`` when it fits the model, else the sampler that fits it."""
    from .inference import model_sampler

    fits = model_sampler(model)
    chosen = config.sample.sampler
    return str(chosen) if chosen is not None and (chosen == fits or {chosen, fits} <= {"euler", "maskgit"}) else fits


def _takes_captions(model: Any) -> bool:
    from .models import TextTransformer

    return isinstance(model, TextTransformer)


def _apply_recorded_settings(args: argparse.Namespace) -> Path | None:
    """Fill the sampler flags the user did not give from the checkpoint's recorded ``sampling.json``
    (``unmask sweep --best``), when it exists and is for the sampler asked for (or none was asked
    for); returns the file used, or None. A flag given on the command line always wins."""
    from .samplers import read_sampling, sampling_file

    path = sampling_file(args.ckpt)
    if path is None:
        return None
    record = read_sampling(path)
    settings = dict(record["settings"])
    if args.sampler is not None and args.sampler != settings["sampler"]:
        print(
            f"note: {path} records settings for the {settings['sampler']} sampler; drawing with "
            f"--sampler {args.sampler} and the run's config instead",
            file=sys.stderr,
        )
        return None
    for key, value in settings.items():
        if getattr(args, key, None) is None:
            setattr(args, key, ("on" if value else "off") if key == "argmax" else value)
    given = ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))
    print(
        f"sampler settings from {path} (best {record.get('metric')} = {record.get('value')}): {given}; "
        "flags override them, --defaults ignores them",
        file=sys.stderr,
    )
    return path


def _prefix_clips(config: Any, tokenizer: Any, source: str, n: int) -> tuple[Any, Any]:
    """The first ``n`` clips of ``source`` as tokens (n, T, H, W) and their labels (or None): a split
    ("train" / "test") of the run's dataset, or a user's clips (see ``unmask.data.read_video_files``),
    whose own labels are not used (they need not be the model's class ids; give --labels)."""
    import numpy as np

    from .data import TokenDataset, get_dataset, is_video_dataset, read_video_files

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


def _sample_captions(args: argparse.Namespace, model: Any, ckpt: Any) -> int:
    """``unmask sample`` for a text-to-image checkpoint: --captions / --captions-file, CFG over captions."""
    from .inference import check_sampler_fits, save_samples
    from .models import TextTransformer
    from .t2i import generate_captions, load_text_encoder_for, read_captions_file
    from .tokenizers import build_tokenizer

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
    n = 8 * len(captions) if args.n is None else args.n
    if n < 1 or n % len(captions):
        raise UsageError(f"--n {n} is not a positive multiple of the {len(captions)} captions given")
    if not isinstance(model, TextTransformer):  # a class-conditional model of a captioned dataset: caption = class
        return _sample_caption_classes(args, ckpt, captions, n)
    args.sampler = args.sampler or "euler"
    check_sampler_fits(model, args.sampler)
    for flag, value in (("--prefix-from", args.prefix_from),):
        if value is not None:
            raise UsageError(f"{flag} does not apply to a text-to-image model")
    sampler = _sampler_from_flags(args, model, ckpt.config)  # the same flag checks as unmask sample
    try:
        encoder = load_text_encoder_for(model)
    except (ValueError, RuntimeError) as err:
        raise UsageError(str(err)) from None
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
        progress=args.progress if args.progress is not None else sys.stderr.isatty(),
    )
    npz, png = save_samples(args.out, gen, nrow=n // len(captions))
    summary = {
        "npz": str(npz),
        "png": str(png),
        "n": n,
        "captions": len(captions),
        "sampler": args.sampler,
        "nfe": gen.nfe,
        "nfe_per_sample": gen.nfe_per_sample,
        "steps": gen.steps,
        "checkpoint": str(ckpt.path),
        "step": ckpt.step,
    }
    print(json.dumps(summary))
    return 0


def _sample_caption_classes(args: argparse.Namespace, ckpt: Any, captions: list[str], n: int) -> int:
    """--captions for a class-conditional model trained on a captioned dataset (``scenes-cls``): each caption
    must be one of the dataset's captions, and its index is the class label."""
    from .data import get_dataset, is_caption_dataset

    name = ckpt.config.data.name
    if not is_caption_dataset(name) or ckpt.config.model.text_encoder is not None:
        raise UsageError(
            "--captions / --captions-file need a text-to-image checkpoint or a class-conditional model "
            f"of a captioned dataset; this one was trained on {name!r}"
        )
    data = get_dataset(name, "train", **ckpt.config.data.options())
    table: tuple[str, ...] = getattr(data, "captions", ())
    index = {c: i for i, c in enumerate(table)}
    for c in captions:
        if c.strip() not in index:
            raise UsageError(f"caption {c!r} is not one of the {len(table)} captions (classes) of {name!r}")
    per = n // len(captions)
    labels = ",".join(str(index[c.strip()]) for c in captions for _ in range(per))
    args.labels, args.captions, args.captions_file = labels, None, None
    args.caption_list = [c.strip() for c in captions for _ in range(per)]
    return cmd_sample(args)


#: --ref values of ``unmask adherence`` whose captions name one class each (read by fashion_caption_class)
CLASS_CAPTION_REFS = ("fashion-mnist", "fashion-mnist-captions")


def cmd_adherence(args: argparse.Namespace) -> int:
    from functools import partial

    import numpy as np

    from .eval.adherence import evaluate_adherence, evaluate_class_caption_adherence

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
    opts = {"extractor": args.extractor, "levels": args.levels, "ref_n": args.ref_n, "progress": args.progress}
    score: Callable[[Any, list[str]], dict[str, object]]
    if args.ref in CLASS_CAPTION_REFS:  # class-name captions: the dataset's classifier judges the class
        if captions is None:
            raise UsageError(f"{str(path)!r} holds no captions (unmask eval scores class-conditional samples)")
        score = partial(evaluate_class_caption_adherence, ref="fashion-mnist", fd=not args.no_fd, **opts)
    else:
        if captions is None:  # a class-conditional model of the scenes: class i is caption i
            from .data import scene_captions

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
    return _print_report(args.out, {"samples": str(path), **report})


def cmd_info(args: argparse.Namespace) -> int:
    from .training.checkpoint import CheckpointError, list_checkpoints, load_checkpoint

    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"{str(path)!r} does not exist")
    special = _shards_or_tokenizer_info(path)
    if special is not None:
        if args.json:
            print(json.dumps(special, indent=2))
        else:
            for key, value in special.items():
                print(f"{key}: {value}" if key == "kind" else f"  {key}: {value}")
        return 0
    info: dict[str, object] = {"path": str(path)}
    ckpts = list_checkpoints(path)
    if ckpts:
        info["kind"] = "run"
        info["checkpoints"] = [p.name for p in ckpts]
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as err:
        if not ckpts and not (path / "config.json").is_file():
            raise
        info["checkpoint_error"] = str(err)
        ckpt = None
    if ckpt is not None:
        info.setdefault("kind", "checkpoint")
        info["checkpoint"] = str(ckpt.path)
        info["step"] = ckpt.step
        info["parameters"] = sum(v.numel() for v in ckpt.model.values())
        info["backbone"] = ckpt.backbone
        info["tokenizer"] = ckpt.tokenizer
        info["config"] = ckpt.config.to_dict()
        try:
            from .inference import load_any_model

            model, _ = load_any_model(ckpt.path)
            info["input_norms"] = model.input_norms()
        except Exception as err:  # noqa: BLE001 - info reports what it can; the checkpoint itself loaded
            info["input_norms_error"] = f"{type(err).__name__}: {err}"
    elif (path / "config.json").is_file():
        info["config"] = json.loads((path / "config.json").read_text())
    metrics = path / "metrics.jsonl"
    if metrics.is_file():
        lines = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
        evals = [r for r in lines if r.get("event") == "checkpoint"]
        trains = [r for r in lines if r.get("event") == "train"]
        starts = [r for r in lines if r.get("event") == "start" and "input_norms" in r]
        if starts:
            info["input_norms_at_init"] = starts[0]["input_norms"]
        if trains:
            info["last_train"] = trains[-1]
        if evals:
            info["last_eval"] = {k: v for k, v in evals[-1].items() if k != "event"}
        from .training.curves import read_learning_curve

        curve = read_learning_curve(path)
        if curve.held_out:
            info["plateau"] = curve.status().to_dict()
        if curve.end_reason is not None:
            info["ended"] = curve.end_reason
        if args.curve:
            if not curve.held_out:
                raise UsageError(f"--curve: run {str(path)!r} has no held-out evaluation to draw")
            from .training.curves import plot_learning_curves

            info["curve"] = str(plot_learning_curves({path.name: curve}, args.curve, x=args.x))
    elif args.curve:
        raise UsageError(f"--curve: {str(path)!r} is not a training run (no metrics.jsonl)")
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_info(info)
    return 0


def _shards_or_tokenizer_info(path: Path) -> dict[str, object] | None:
    """What a shard directory or a tokenizer run holds (None for anything else)."""
    from .data.shards import MANIFEST_FILE, PLAN_FILE, read_manifest

    if (path / MANIFEST_FILE).is_file() and '"unmask-token-shards"' in (path / MANIFEST_FILE).read_text():
        m = read_manifest(path)
        return {
            "kind": "token shards",
            "path": str(path),
            "dataset": m["dataset"],
            "tokenizer": m["tokenizer"],
            "grid": m["grid"],
            "vocab_size": m["vocab_size"],
            "num_classes": m["num_classes"],
            "splits": {k: {"count": v["count"], "shards": len(v["shards"])} for k, v in m["splits"].items()},
        }
    if (path / PLAN_FILE).is_file():
        plan = json.loads((path / PLAN_FILE).read_text())
        return {"kind": "token shards (unfinished: rerun unmask tokenize to complete)", "path": str(path), **plan}
    cfg_path = path / "config.json"
    if cfg_path.is_file():
        cfg = json.loads(cfg_path.read_text())
        if isinstance(cfg.get("model"), dict) and "codebook_size" in cfg["model"]:
            info: dict[str, object] = {"kind": "tokenizer run", "path": str(path), "vqvae": cfg["model"]}
            tok = path / "tokenizer.safetensors"
            if tok.is_file():
                from .tokenizers import file_sha256

                info["tokenizer"] = {"file": str(tok), "sha256": file_sha256(tok)}
            metrics = path / "metrics.jsonl"
            if metrics.is_file():
                lines = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
                for event, key in (("train", "last_train"), ("checkpoint", "last_eval")):
                    recs = [r for r in lines if r.get("event") == event]
                    if recs:
                        info[key] = {k: v for k, v in recs[-1].items() if k != "event"}
            return info
    return None


def _print_info(info: dict[str, object]) -> None:
    print(f"{info.get('kind', 'path')}: {info['path']}")
    for key in ("checkpoint", "step", "parameters"):
        if key in info:
            value = info[key]
            print(f"  {key}: {value:,}" if isinstance(value, int) else f"  {key}: {value}")
    if "checkpoints" in info:
        print(f"  checkpoints: {', '.join(info['checkpoints'])}")  # type: ignore[arg-type]
    if "checkpoint_error" in info:
        print(f"  checkpoint error: {info['checkpoint_error']}")
    bb = info.get("backbone")
    if isinstance(bb, dict) and bb.get("kind") == "multistream":
        kind = "ETM (explicit timestep)" if bb.get("timestep") else "ITM (implicit timestep)"
        streams = "; ".join(
            f"{s['name']} grid {s['grid']} patch {s['patch']} vocab {s['vocab_size']}" for s in bb["streams"]
        )
        times = (", " + ("separate" if bb.get("separate_times") else "shared") + " times") if bb.get("timestep") else ""
        print(
            f"  model: joint {kind}{times}, streams: {streams} (vocab incl. [MASK]), "
            f"dim {bb['dim']}, depth {bb['depth']}"
        )
    elif isinstance(bb, dict) and bb.get("kind") == "text":
        trunk = bb["backbone"]
        kind = "ETM (explicit timestep)" if trunk.get("timestep") else "ITM (implicit timestep)"
        enc = bb["encoder"]
        weights = f"weights sha256 {enc['sha256'][:12]}…" if "sha256" in enc else "trained with the model"
        print(
            f"  model: text-to-image {kind}, grid {trunk['grid']}, patch {trunk['patch']}, vocab {trunk['vocab_size']} "
            f"(incl. [MASK]), dim {trunk['dim']}, depth {trunk['depth']}, heads {trunk['heads']}; captions of up to "
            f"{bb['text_len']} tokens in context"
        )
        print(f"  text encoder: {enc['name']} ({weights}), token width {bb['text_dim']}")
    elif isinstance(bb, dict) and bb.get("kind") == "video":
        kind = "ETM (explicit timestep)" if bb.get("timestep") else "ITM (implicit timestep)"
        frames, height, width = bb["grid"]
        print(
            f"  model: video {kind}, factorised space / time attention, {frames} frames of {height}×{width} tokens, "
            f"patch {bb['patch']}, vocab {bb['vocab_size']} (incl. [MASK]), dim {bb['dim']}, depth {bb['depth']} "
            f"(spatial + temporal), heads {bb['heads']}, classes {bb['num_classes']}"
        )
    elif isinstance(bb, dict):
        kind = "ETM (explicit timestep)" if bb.get("timestep") else "ITM (implicit timestep)"
        print(
            f"  model: {kind}, grid {bb['grid']}, patch {bb['patch']}, vocab {bb['vocab_size']} (incl. [MASK]), "
            f"dim {bb['dim']}, depth {bb['depth']}, heads {bb['heads']}, classes {bb['num_classes']}"
        )
    for key, when in (("input_norms_at_init", "at init"), ("input_norms", "now, EMA weights")):
        norms = info.get(key)
        if isinstance(norms, dict):
            for stream, n in norms.items():
                print(
                    f"  input sizes {when}, {stream}: content {n['content']:.3g} (varying {n['content_varying']:.3g}), "
                    f"position {n['position']:.3g} (varying {n['position_varying']:.3g})"
                )
    cfg = info.get("config")
    if isinstance(cfg, dict):
        print(f"  preset: {cfg.get('preset')}")
        for section in ("data", "path", "loss", "optim", "train", "sample"):
            if section in cfg:
                items = ", ".join(f"{k}={v}" for k, v in cfg[section].items())
                print(f"  {section}: {items}")
    for key in ("last_train", "last_eval"):
        if key in info:
            rec = info[key]
            assert isinstance(rec, dict)
            items = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items())
            print(f"  {key}: {items}")
    plateau = info.get("plateau")
    if isinstance(plateau, dict):
        state = "reached" if plateau["reached"] else "not reached"
        print(f"  plateau: {state} — {plateau['reason']}")
    if "ended" in info:
        print(f"  ended: {info['ended']}")
    if "curve" in info:
        print(f"  learning curve: {info['curve']}")


def cmd_inpaint(args: argparse.Namespace) -> int:
    """Regenerate a region of an image (or a dataset item) with any sampler: .npz + a PNG grid; of chosen
    frames of a clip (video models: + a GIF); or of one stream of a joint model, the others given."""
    import numpy as np

    from .data import get_dataset, is_stream_dataset, is_text_dataset
    from .editing import edit, plan_edit, read_image, region_mask
    from .inference import check_sampler_fits, load_any_model
    from .models import MultiStreamTransformer, TextTransformer, VideoTransformer
    from .tokenizers import build_tokenizer
    from .visualize import save_grid

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
        return _inpaint_joint(args, model, ckpt)
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
    recorded = None if args.defaults else _apply_recorded_settings(args)
    if args.sampler is None:
        args.sampler = _configured_sampler(model, config)
    check_sampler_fits(model, args.sampler)
    labels = None
    edit_model: Any = model
    if isinstance(model, TextTransformer):
        if args.caption is None:
            raise UsageError("a text-to-image model edits under a caption: give --caption TEXT ('' = no caption)")
        from .t2i import bind_captions, load_text_encoder_for

        edit_model = bind_captions(model, load_text_encoder_for(model), [args.caption])
        labels = [0]
    else:
        labels = _inpaint_labels(args, model, item_label)
    sampler = _sampler_from_flags(args, edit_model, config)
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
    _write_npz(
        path,
        tokens=out.tokens.numpy(),
        images=out.images,
        region=out.region.numpy(),
        given_tokens=plan.tokens.numpy(),
        original=original,
        pixel_region=plan.pixels,
        labels=np.array(labels if labels is not None else [-1]),
        nfe=out.nfe,
    )
    grid = save_grid(np.concatenate([original, shown, out.images]), path.with_suffix(".png"), nrow=2 + args.samples)
    summary = {
        "npz": str(path),
        "png": str(grid),
        "samples": args.samples,
        "sampler": args.sampler,
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


#: The built-in regions of --mask, as the help and errors name them.
REGION_HELP = ("centre", "border:K", "half:left|right|top|bottom", "random-half:SEED")


def _write_npz(path: Path, **arrays: Any) -> None:
    """``arrays`` as an .npz at ``path``, atomically (its folder made)."""
    import io

    import numpy as np

    from ._io import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


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

    from .data import get_dataset, is_video_dataset
    from .editing import edit, parse_frames, plan_video_edit, read_clip, region_mask
    from .inference import check_sampler_fits
    from .tokenizers import build_tokenizer
    from .visualize import save_gif, save_video_grid

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
    recorded = None if args.defaults else _apply_recorded_settings(args)
    if args.sampler is None:
        args.sampler = _configured_sampler(model, config)
    check_sampler_fits(model, args.sampler)
    labels = _inpaint_labels(args, model, item_label)
    sampler = _sampler_from_flags(args, model, config)
    plan = plan_video_edit(model, tokenizer, clip[None], frames, pixels)
    print(plan.note, file=sys.stderr)
    out = edit(model, tokenizer, sampler, plan, samples=args.samples, labels=labels, seed=args.seed, device=args.device)
    original = np.asarray(tokenizer.decode(plan.tokens))  # (1, T, H, W)
    shown = original.copy()
    shown[plan.pixels] = 128  # the region to regenerate, greyed out
    path = Path(args.out)
    _write_npz(
        path,
        tokens=out.tokens.numpy(),
        videos=out.images,
        region=out.region.numpy(),
        given_tokens=plan.tokens.numpy(),
        original=original,
        frames=np.asarray(frames, dtype=np.int64),
        labels=np.array(labels if labels is not None else [-1]),
        nfe=out.nfe,
    )
    every = np.concatenate([original, shown, out.images])  # original | masked | completions
    png = save_video_grid(every, path.with_suffix(".png"))
    gif = save_gif(every, path.with_suffix(".gif"), nrow=2 + args.samples)
    summary = {
        "npz": str(path),
        "gif": str(gif),
        "png": str(png),
        "samples": args.samples,
        "frames": list(frames),
        "sampler": args.sampler,
        "regenerated_tokens": int(plan.region.sum()),
        "tokens": int(plan.region.numel()),
        "label": labels[0] if labels is not None else None,
        "nfe": out.nfe,
        "settings": str(recorded) if recorded is not None else "config",
        "checkpoint": str(ckpt.path),
    }
    print(json.dumps(summary))
    return 0


def _inpaint_joint(args: argparse.Namespace, model: Any, ckpt: Any) -> int:
    """``unmask inpaint`` of a joint model: a region of --stream (default the image stream) regenerated, the
    other streams given from the same dataset item or generated (--generate); .npz + a PNG grid."""
    import numpy as np
    import torch

    from .data import StreamDataset, get_dataset
    from .editing import edit_streams, encode_images, parse_item, plan_joint_edit, read_image, region_mask
    from .joint import check_dataset_fits
    from .samplers import FlatStreams, parse_mode
    from .visualize import render_streams, save_grid

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
    recorded = None if args.defaults else _apply_recorded_settings(args)
    if args.sampler is None:
        chosen = config.sample.sampler
        args.sampler = chosen if chosen in ("euler", "maskgit") else "euler"
    if args.sampler not in ("euler", "maskgit"):
        raise UsageError(
            f"the {args.sampler} sampler cannot draw from a joint multi-stream model; use --sampler euler or maskgit"
        )
    if not plan.given and args.cfg not in (None, 1.0):
        raise UsageError(f"--cfg {args.cfg} needs streams given whole (CFG drops them); this edit gives none")
    adapter = FlatStreams(model, *parse_mode(plan.mode, names))  # class-conditional when some stream is given
    sampler = _sampler_from_flags(args, adapter, config)
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
    _write_npz(path, **arrays)
    png = save_grid(np.concatenate(rows), path.with_suffix(".png"), nrow=2 + k)
    summary = {
        "npz": str(path),
        "png": str(png),
        "samples": k,
        "stream": stream,
        "mode": plan.mode,
        "given": list(plan.given),
        "generated": list(generate),
        "sampler": args.sampler,
        "regenerated_tokens": int(plan.region.sum()),
        "tokens": int(plan.region.numel()),
        "nfe": out.nfe,
        "settings": str(recorded) if recorded is not None else "config",
        "checkpoint": str(ckpt.path),
    }
    print(json.dumps(summary))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.port < 0 or args.port > 65535:
        raise UsageError(f"--port must be in [0, 65535], got {args.port}")
    if args.capacity < 1:
        raise UsageError(f"--queue must be >= 1, got {args.capacity}")
    try:
        from .serve import run_server
    except ImportError as err:
        raise UsageError(f"unmask serve needs the web extra: pip install 'unmask[serve]' ({err})") from None
    try:
        run_server(args.ckpt, host=args.host, port=args.port, device=args.device, capacity=args.capacity)
    except ImportError as err:
        raise UsageError(str(err)) from None
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import numpy as np

    from .eval.report import evaluate_samples

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
        return _print_report(args.out, {"samples": str(path), **_eval_videos(args, videos, prefix_frames)})
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
        from .data import get_dataset

        levels = get_dataset(args.ref, args.split, args.levels).vocab_size - 1  # pixel tokens: one per grey level
        if not np.issubdtype(tokens.dtype, np.integer) or tokens.min() < 0 or tokens.max() >= levels:
            raise UsageError(
                f"tokens in {str(path)!r} span [{tokens.min()}, {tokens.max()}] ({tokens.dtype}) but {args.ref!r} at "
                f"{levels} grey levels has token ids [0, {levels - 1}]; pass --levels to match the model"
            )
    report = evaluate_samples(
        images,
        labels,
        args.ref,
        extractor=args.extractor,
        levels=args.levels,
        ref_split=args.split,
        ref_n=args.ref_n,
        progress=args.progress,
    )
    return _print_report(args.out, {"samples": str(path), **report})


def _print_report(out: str | None, report: dict[str, Any]) -> int:
    """Print ``report`` as indented JSON and, with ``out``, also write it there (atomically)."""
    text = json.dumps(report, indent=2)
    if out:
        from ._io import atomic_write_text

        atomic_write_text(out, text + "\n")
    print(text)
    return 0


def _eval_videos(args: argparse.Namespace, videos: Any, prefix_frames: int) -> dict[str, object]:
    """``unmask eval`` of clips: frame FD and temporal consistency against a video dataset."""
    from .eval.video import evaluate_videos

    return evaluate_videos(
        videos,
        args.ref,
        extractor=args.extractor,
        ref_split=args.split,
        ref_n=args.ref_n,
        levels=args.levels,
        prefix_frames=prefix_frames,
        progress=args.progress,
    )


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import HIGHER_IS_BETTER, read_rows, record_best, run_sweep

    if args.best is not None:  # checked before hours of sampling, not after
        from .sweep import record_folder
        from .training.checkpoint import is_release

        if args.best not in HIGHER_IS_BETTER:
            raise UsageError(f"unknown metric {args.best!r} for --best; choose one of {', '.join(HIGHER_IS_BETTER)}")
        if is_release(record_folder(args.ckpt)):
            raise UsageError(f"--best: {args.ckpt!r} is a release (its files are digested); sweep the run it came from")
    csv_path = run_sweep(
        args.ckpt, args.grid, args.out, device=args.device, weights=args.weights, progress=args.progress, seed=args.seed
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
    from .data import StreamDataset, get_dataset
    from .eval import held_out_nll
    from .inference import load_any_model
    from .models import TextTransformer
    from .training import build_objective, stream_specs

    model: Any
    model, ckpt = load_any_model(args.ckpt, weights=args.weights, device=args.device)
    config = ckpt.config
    dataset = get_dataset(config.data.name, args.split, **config.data.options())
    tokens: Any
    if isinstance(dataset, StreamDataset):  # a joint model: the negative ELBO over all its streams
        from .joint import check_dataset_fits

        check_dataset_fits(model, dataset)
        tokens, labels = dataset.streams, None
        objective = build_objective(config, dataset.vocab_size, stream_specs(config, dataset))
    else:
        if dataset.vocab_size != model.vocab_size:
            raise UsageError(
                f"dataset {config.data.name!r} has {dataset.vocab_size} token ids but the model {model.vocab_size}"
            )
        if isinstance(model, TextTransformer):  # the split's own captions condition its images
            from .t2i import bind_captions, load_text_encoder_for

            model = bind_captions(model, load_text_encoder_for(model), getattr(dataset, "captions", ()))
        tokens, labels = dataset.tokens, dataset.labels if model.num_classes > 0 else None
        objective = build_objective(config, dataset.vocab_size)
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
        progress=args.progress if args.progress is not None else sys.stderr.isatty(),
    )
    result = {"checkpoint": str(ckpt.path), "step": ckpt.step, "split": args.split, **report.to_dict()}
    if args.out:
        from ._io import atomic_write_text

        atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


def cmd_joint(args: argparse.Namespace) -> int:
    from .joint import run_joint

    for flag, value, low in (("--n", args.n, 1), ("--samples", args.samples, 1), ("--steps", args.steps, 1)):
        if value is not None and value < low:
            raise UsageError(f"{flag} must be >= {low}, got {value}")
    if args.cfg is not None and args.cfg < 0:
        raise UsageError(f"--cfg must be >= 0, got {args.cfg}")
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
        progress=args.progress if args.progress is not None else sys.stderr.isatty(),
    )
    summary: dict[str, object] = {
        "mode": metrics["mode"],
        "n": metrics["n"],
        "nfe": metrics["nfe"],
        "out": str(args.out),
    }
    for name, entry in metrics["streams"].items():
        for key in ("miou", "pixel_accuracy", "accuracy", "fd", "conditional_accuracy", "mean_pixel_entropy"):
            if entry.get(key) is not None:
                summary[f"{name}_{key}"] = entry[key]
    print(json.dumps(summary))
    return 0


def cmd_zoo_export(args: argparse.Namespace) -> int:
    from .training.checkpoint import save_release
    from .zoo import ZOO_BUDGET_BYTES, zoo_bytes

    out = save_release(args.ckpt, args.out, dtype=args.dtype, note=args.note or "", overwrite=args.overwrite)
    root = Path(args.out).parent
    total = zoo_bytes(root)
    print(json.dumps({"release": str(out), "bytes": zoo_bytes(out), "folder_bytes": total}))
    if total > ZOO_BUDGET_BYTES:
        print(
            f"warning: {root} now holds {total / 2**20:.1f} MB, over the zoo's {ZOO_BUDGET_BYTES / 2**20:.0f} MB",
            file=sys.stderr,
        )
    return 0


def cmd_zoo_list(args: argparse.Namespace) -> int:
    from .zoo import list_zoo, zoo_bytes

    entries = list_zoo(args.root)
    rows = []
    for e in entries:
        best = e.sampling or {}
        rows.append(
            {
                "name": e.path.name,
                "preset": e.preset,
                "step": e.step,
                "parameters": e.parameters,
                "mb": round(e.bytes / 2**20, 2),
                "best": {"metric": best.get("metric"), "value": best.get("value")} if best else None,
                "note": e.note,
            }
        )
    print(json.dumps({"root": str(args.root), "mb": round(zoo_bytes(args.root) / 2**20, 2), "entries": rows}, indent=2))
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .config import preset_names
    from .models import MODEL_PRESETS, VIDEO_PRESETS

    print("run presets:", ", ".join(preset_names()))
    print("model sizes:", ", ".join(sorted(MODEL_PRESETS)))
    print("video model sizes:", ", ".join(sorted(VIDEO_PRESETS)))
    return 0


def _add_sampler_flags(p: argparse.ArgumentParser) -> None:
    """The sampler flags of unmask sample and unmask inpaint (checked by ``_sampler_from_flags``)."""
    p.add_argument(
        "--defaults",
        action="store_true",
        help="ignore the run's recorded sampler settings (sampling.json from unmask sweep --best): "
        "use the run's config",
    )
    p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the run's sample.steps)")
    p.add_argument("--cfg", type=float, default=None, help="classifier-free guidance scale >= 0")
    p.add_argument("--temperature", type=float, default=None, help="softmax temperature > 0 (logits / T)")
    p.add_argument("--top-p", dest="top_p", type=float, default=None, help="nucleus mass in (0, 1]")
    p.add_argument("--top-k", dest="top_k", type=int, default=None, help="keep the k most likely tokens (0 = off)")
    p.add_argument(
        "--sampler",
        choices=("euler", "maskgit", "prime", "autoregressive"),
        default=None,
        help="Euler (Algorithm 1) or MaskGIT-style for masked models; prime for MDM-Prime models, "
        "autoregressive for causal ones (default: the one that fits the model)",
    )
    p.add_argument(
        "--schedule",
        default=None,
        help="Euler: sampling schedule (default: the training one); MaskGIT: unmask-count schedule (default: cosine)",
    )
    p.add_argument("--update", choices=("exact", "euler"), default=None, help="Euler step rule (see EulerSampler)")
    p.add_argument(
        "--argmax", choices=("on", "off"), default=None, help="Euler: last-step argmax for tokens still masked"
    )
    p.add_argument("--adaptive", action="store_true", default=None, help="Euler: adaptive step h = min(1/S, (1-κ)/κ̇)")
    p.add_argument("--corrector", type=float, default=None, help="Euler: re-masking strength η >= 0 (0 = off)")
    p.add_argument("--gumbel", choices=("linear", "warmup", "none"), default=None, help="MaskGIT: choice noise")
    p.add_argument(
        "--gumbel-temperature",
        dest="gumbel_temperature",
        type=float,
        default=None,
        help="MaskGIT: initial Gumbel scale (default 4.5)",
    )
    p.add_argument(
        "--cfg-schedule",
        dest="cfg_schedule",
        choices=("constant", "linear"),
        default=None,
        help="MaskGIT: constant CFG or a ramp from 1 to --cfg",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unmask", description="Discrete interpolants: train, sample, inspect.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model (default preset: class-conditional ITM on digits)")
    t.add_argument(
        "items", nargs="*", metavar="[PRESET] [section.key=value]", help="a preset name or YAML file, then overrides"
    )
    t.add_argument("--out", required=True, help="run directory")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    t.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)"
    )
    t.set_defaults(func=cmd_train)

    s = sub.add_parser(
        "sample", help="draw samples from a checkpoint into an .npz and a PNG grid (text: .txt; clips: GIF + PNG)"
    )
    s.add_argument("--ckpt", required=True, help="checkpoint or run directory")
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
    _add_sampler_flags(s)
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
    s.add_argument("--weights", choices=("ema", "raw"), default="ema")
    s.add_argument("--device", default="cpu")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    s.set_defaults(func=cmd_sample)

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
    ad.add_argument("--no-fd", dest="no_fd", action="store_true", help="adherence only")
    ad.add_argument("--extractor", default=None, help="FD feature extractor (default: EfficientNet-Lite0)")
    ad.add_argument("--levels", type=int, default=None, help="grey levels of the reference (the model's)")
    ad.add_argument("--ref-n", dest="ref_n", type=int, default=None, help="reference images (default: all)")
    ad.add_argument("--out", default=None, help="also write the report (JSON) here")
    ad.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    ad.set_defaults(func=cmd_adherence)

    i = sub.add_parser("info", help="describe a run or checkpoint")
    i.add_argument("path")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.add_argument(
        "--curve",
        default=None,
        metavar="PNG",
        help="draw the run's learning curve (held-out and training loss, the plateau window) into PNG",
    )
    i.add_argument("--x", choices=("step", "seconds"), default="step", help="x axis of --curve")
    i.set_defaults(func=cmd_info)

    ip = sub.add_parser(
        "inpaint",
        help="regenerate a region of an image, chosen frames of a clip, or one stream of a joint model, with any "
        "sampler (inpainting, outpainting, class edits, continuation)",
    )
    ip.add_argument("--ckpt", required=True, help="checkpoint, run directory or zoo release")
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
    _add_sampler_flags(ip)
    ip.add_argument("--seed", type=int, default=0)
    ip.add_argument("--weights", choices=("ema", "raw"), default="ema")
    ip.add_argument("--device", default="cpu")
    ip.set_defaults(func=cmd_inpaint)

    sv = sub.add_parser("serve", help="a local web page: sample, watch the unmasking chain, paint and inpaint")
    sv.add_argument("ckpt", help="run, checkpoint or zoo release")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    sv.add_argument("--port", type=int, default=7860)
    sv.add_argument("--queue", dest="capacity", type=int, default=8, help="jobs that may wait (more are refused)")
    sv.add_argument("--device", default="cpu")
    sv.set_defaults(func=cmd_serve)

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
    e.add_argument("--out", default=None, help="also write the JSON report here")
    e.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    e.set_defaults(func=cmd_eval)

    tk = sub.add_parser("tokenizer", help="train or evaluate a VQ-VAE image tokenizer")
    tsub = tk.add_subparsers(dest="tokenizer_command", required=True)
    tt = tsub.add_parser("train", help="train a VQ-VAE (default preset: fmnist-vq, 28×28 → 7×7 codes of 512)")
    tt.add_argument(
        "items",
        nargs="*",
        metavar="[PRESET] [section.key=value]",
        help="a tokenizer preset or YAML file, then overrides",
    )
    tt.add_argument("--out", required=True, help="run directory (holds tokenizer.safetensors)")
    tt.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    tt.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    tt.set_defaults(func=cmd_tokenizer_train)
    te = tsub.add_parser("eval", help="reconstruction PSNR, codebook use and FD of reconstructions")
    te.add_argument("--tokenizer", required=True, help="pixel:L, a VQ-VAE file or run directory, or a VQModel folder")
    te.add_argument("--dataset", default="fashion-mnist", help="registered dataset")
    te.add_argument("--split", default="test", choices=("train", "test"))
    te.add_argument("--n", type=int, default=500, help="images reconstructed (outside the FD reference)")
    te.add_argument("--ref-n", dest="ref_n", type=int, default=None, help="FD reference images (default all)")
    te.add_argument("--fd", action=argparse.BooleanOptionalAction, default=True, help="also the FD of reconstructions")
    te.add_argument("--extractor", default="efficientnet-lite0")
    te.add_argument("--out", default=None, help="also write the JSON report here")
    te.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    te.set_defaults(func=cmd_tokenizer_eval)

    tz = sub.add_parser("tokenize", help="pre-tokenise a dataset into token shards (resumable, parallel)")
    tz.add_argument("--tokenizer", required=True, help="pixel:L, a VQ-VAE file or run directory, or a VQModel folder")
    tz.add_argument("--dataset", required=True, help="a registered dataset or an image folder (class = sub-folder)")
    tz.add_argument("--out", required=True, help="shard directory (rerun the same command to resume)")
    tz.add_argument("--workers", type=int, default=1, help="encoding processes (one torch thread each)")
    tz.add_argument("--shard-size", dest="shard_size", type=int, default=10_000, help="images per shard")
    tz.add_argument("--splits", default=None, help="comma-separated splits (default: all the dataset has)")
    tz.add_argument("--image-size", dest="image_size", type=int, default=None, help="image folders: crop + resize side")
    tz.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    tz.set_defaults(func=cmd_tokenize)

    zo = sub.add_parser("zoo", help="releases of trained models (EMA weights, fp16) that ship in zoo/")
    zsub = zo.add_subparsers(dest="zoo_command", required=True)
    zx = zsub.add_parser("export", help="write a run's EMA weights, config and sampling.json as a release")
    zx.add_argument("--ckpt", required=True, help="run or checkpoint directory")
    zx.add_argument("--out", required=True, help="the release folder, e.g. zoo/fmnist")
    zx.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    zx.add_argument("--note", default=None, help="what result the release backs (kept in its manifest)")
    zx.add_argument("--overwrite", action="store_true", help="replace an existing release")
    zx.set_defaults(func=cmd_zoo_export)
    zl = zsub.add_parser("list", help="the releases in a folder, verified (sizes and SHA-256)")
    zl.add_argument("root", nargs="?", default="zoo")
    zl.set_defaults(func=cmd_zoo_list)

    w = sub.add_parser("sweep", help="evaluate a grid of sampler settings on one checkpoint (resumable)")
    w.add_argument("--ckpt", required=True, help="checkpoint or run directory")
    w.add_argument("--grid", required=True, help="grid YAML file (see unmask.sweep.grid)")
    w.add_argument("--out", required=True, help="output directory: sweep.csv, sweep.json, figures")
    w.add_argument("--device", default="cpu")
    w.add_argument("--weights", choices=("ema", "raw"), default="ema")
    w.add_argument("--seed", type=int, default=None, help="replace the grid seed (repeat a sweep, into another --out)")
    w.add_argument(
        "--best",
        default=None,
        metavar="METRIC",
        help="record the best cell on METRIC (fd, precision, recall, inception_score, accuracy) as the run's "
        "sampling.json, which unmask sample then uses",
    )
    w.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    w.set_defaults(func=cmd_sweep)

    nl = sub.add_parser("nll", help="held-out likelihood: negative ELBO (masked, Prime) or exact NLL (causal)")
    nl.add_argument("--ckpt", required=True, help="checkpoint or run directory")
    nl.add_argument("--split", default="test", choices=("train", "test"), help="dataset split (test = held out)")
    nl.add_argument("--n", type=int, default=None, help="only the first N sequences / images")
    nl.add_argument("--repeats", type=int, default=1, help="passes with fresh times and masks (masked models)")
    nl.add_argument("--batch-size", dest="batch_size", type=int, default=64)
    nl.add_argument("--seed", type=int, default=0)
    nl.add_argument("--weights", choices=("ema", "raw"), default="ema")
    nl.add_argument("--device", default="cpu")
    nl.add_argument("--out", default=None, help="also write the JSON report here")
    nl.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    nl.set_defaults(func=cmd_nll)

    j = sub.add_parser(
        "joint", help="run a joint multi-stream model in one direction on a test split: metrics JSON + PNG grids"
    )
    j.add_argument("--ckpt", required=True, help="checkpoint or run directory of a joint model")
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
    j.add_argument("--split", default="test", choices=("train", "test"))
    j.add_argument("--seed", type=int, default=0)
    j.add_argument("--batch-size", dest="batch_size", type=int, default=250)
    j.add_argument("--fd", action=argparse.BooleanOptionalAction, default=True, help="FD of generated images")
    j.add_argument("--extractor", default="efficientnet-lite0", help="features for the FD")
    j.add_argument("--ref-n", dest="ref_n", type=int, default=None, help="FD reference images (default: the split)")
    j.add_argument("--weights", choices=("ema", "raw"), default="ema")
    j.add_argument("--device", default="cpu")
    j.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    j.set_defaults(func=cmd_joint)

    pr = sub.add_parser("presets", help="list run presets and model sizes")
    pr.set_defaults(func=cmd_presets)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .data import DatasetNotAvailable
    from .training import CheckpointError, RunDirLocked, TrainingDiverged

    # under torchrun every rank reports its own error, tagged with its rank
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    tag = f"[rank {os.environ.get('RANK', '0')}/{world}] " if world > 1 else ""
    try:
        return int(args.func(args))
    except BrokenPipeError:  # output piped into e.g. `head`
        sys.stderr.close()
        return 0
    except (UsageError, ValueError, CheckpointError, DatasetNotAvailable, RunDirLocked) as err:
        parser.exit(2, f"unmask: error: {tag}{err}\n")
    except TrainingDiverged as err:
        parser.exit(3, f"unmask: training diverged: {tag}{err}\n")
    except FileNotFoundError as err:
        parser.exit(2, f"unmask: error: {tag}{err}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
