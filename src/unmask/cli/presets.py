"""unmask presets: the run presets and model sizes."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    pr = sub.add_parser("presets", help="list run presets and model sizes")
    pr.set_defaults(func=cmd_presets)


def cmd_presets(args: argparse.Namespace) -> int:
    from ..config import preset_names
    from ..models import MODEL_PRESETS, VIDEO_PRESETS

    print("run presets:", ", ".join(preset_names()))
    print("model sizes:", ", ".join(sorted(MODEL_PRESETS)))
    print("video model sizes:", ", ".join(sorted(VIDEO_PRESETS)))
    return 0
