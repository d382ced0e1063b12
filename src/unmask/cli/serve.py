"""unmask serve: the local web page (sample, watch the unmasking chain, paint and inpaint)."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import UsageError, add_device_flags


def register(sub: Any) -> None:
    sv = sub.add_parser("serve", help="a local web page: sample, watch the unmasking chain, paint and inpaint")
    sv.add_argument("ckpt", help="run, checkpoint or zoo release")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    sv.add_argument("--port", type=int, default=7860)
    sv.add_argument("--queue", dest="capacity", type=int, default=8, help="jobs that may wait (more are refused)")
    add_device_flags(sv, weights=False)
    sv.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.port < 0 or args.port > 65535:
        raise UsageError(f"--port must be in [0, 65535], got {args.port}")
    if args.capacity < 1:
        raise UsageError(f"--queue must be >= 1, got {args.capacity}")
    try:
        from ..serve import run_server
    except ImportError as err:
        raise UsageError(f"unmask serve needs the web extra: pip install 'unmask[serve]' ({err})") from None
    try:
        run_server(args.ckpt, host=args.host, port=args.port, device=args.device, capacity=args.capacity)
    except ImportError as err:
        raise UsageError(str(err)) from None
    return 0
