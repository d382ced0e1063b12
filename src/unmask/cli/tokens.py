"""unmask tokenizer train / eval (VQ-VAE image tokenizers) and unmask tokenize (token shards)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import (
    EXIT_INTERRUPTED,
    UsageError,
    add_progress_flag,
    add_report_flags,
    print_report,
    progress_on,
    run_config,
    train_report,
)


def register(sub: Any) -> None:
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
    add_progress_flag(tt)
    tt.set_defaults(func=cmd_tokenizer_train)
    te = tsub.add_parser("eval", help="reconstruction PSNR, codebook use and FD of reconstructions")
    te.add_argument("--tokenizer", required=True, help="pixel:L, a VQ-VAE file or run directory, or a VQModel folder")
    te.add_argument("--dataset", default="fashion-mnist", help="registered dataset")
    te.add_argument("--split", default="test", choices=("train", "test"))
    te.add_argument("--n", type=int, default=500, help="images reconstructed (outside the FD reference)")
    te.add_argument("--ref-n", dest="ref_n", type=int, default=None, help="FD reference images (default all)")
    te.add_argument("--fd", action=argparse.BooleanOptionalAction, default=True, help="also the FD of reconstructions")
    te.add_argument("--extractor", default="efficientnet-lite0")
    add_report_flags(te)
    te.set_defaults(func=cmd_tokenizer_eval)

    tz = sub.add_parser("tokenize", help="pre-tokenise a dataset into token shards (resumable, parallel)")
    tz.add_argument("--tokenizer", required=True, help="pixel:L, a VQ-VAE file or run directory, or a VQModel folder")
    tz.add_argument("--dataset", required=True, help="a registered dataset or an image folder (class = sub-folder)")
    tz.add_argument("--out", required=True, help="shard directory (rerun the same command to resume)")
    tz.add_argument("--workers", type=int, default=1, help="encoding processes (one torch thread each)")
    tz.add_argument("--shard-size", dest="shard_size", type=int, default=10_000, help="images per shard")
    tz.add_argument("--splits", default=None, help="comma-separated splits (default: all the dataset has)")
    tz.add_argument("--image-size", dest="image_size", type=int, default=None, help="image folders: crop + resize side")
    add_progress_flag(tz)
    tz.set_defaults(func=cmd_tokenize)


def cmd_tokenizer_train(args: argparse.Namespace) -> int:
    from ..config import TokenizerRunConfig, load_tokenizer_config
    from ..training import train_tokenizer

    config = run_config(args, TokenizerRunConfig, load_tokenizer_config)
    result = train_tokenizer(config, args.out, resume=args.resume, progress=args.progress)
    tokenizer = str(result.tokenizer) if result.tokenizer else None
    print(train_report(result, tokenizer=tokenizer, **{f"eval_{k}": v for k, v in result.eval.items()}))
    return EXIT_INTERRUPTED if result.interrupted else 0


def cmd_tokenizer_eval(args: argparse.Namespace) -> int:
    from ..eval.reconstruction import evaluate_tokenizer
    from ..tokenizers import load_tokenizer

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
    return print_report(args.out, {"tokenizer": tok.config(), **report})


def cmd_tokenize(args: argparse.Namespace) -> int:
    from ..data.pretokenize import tokenize_dataset

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
        progress=progress_on(args),
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
