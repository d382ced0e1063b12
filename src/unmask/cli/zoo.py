"""unmask zoo export / list: releases of trained models (EMA weights, fp16) that ship in zoo/."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._common import add_ckpt_flag


def register(sub: Any) -> None:
    zo = sub.add_parser("zoo", help="releases of trained models (EMA weights, fp16) that ship in zoo/")
    zsub = zo.add_subparsers(dest="zoo_command", required=True)
    zx = zsub.add_parser("export", help="write a run's EMA weights, config and sampling.json as a release")
    add_ckpt_flag(zx, "run or checkpoint directory")
    zx.add_argument("--out", required=True, help="the release folder, e.g. zoo/fmnist")
    zx.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    zx.add_argument("--note", default=None, help="what result the release backs (kept in its manifest)")
    zx.add_argument("--overwrite", action="store_true", help="replace an existing release")
    zx.set_defaults(func=cmd_zoo_export)
    zl = zsub.add_parser("list", help="the releases in a folder, verified (sizes and SHA-256)")
    zl.add_argument("root", nargs="?", default="zoo")
    zl.set_defaults(func=cmd_zoo_list)


def cmd_zoo_export(args: argparse.Namespace) -> int:
    from ..training.checkpoint import save_release
    from ..zoo import ZOO_BUDGET_BYTES, zoo_bytes

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
    from ..zoo import list_zoo, zoo_bytes

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
