"""Where unmask keeps what it derives on this machine: the one cache directory.

The bottom layer: it imports nothing of unmask, so any module (data, eval, text-to-image)
can ask for a cache path without importing the layer that happens to use it most.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """Where derived artefacts (classifiers, statistics) are cached: ``$UNMASK_CACHE`` or ~/.cache/unmask."""
    root = os.environ.get("UNMASK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "unmask")
    return Path(root)
