"""Thread-count control for the evaluation code.

On a small CPU shared with other jobs (this project's machine: 2 cores, training runs beside
it), multi-threaded kernels lose badly: every operation ends at a barrier where a thread
waits for one the OS has descheduled. Measured there under load: EfficientNet-Lite0 ran 3–20×
faster with one torch thread than with two, and a 1280×1280 symmetric eigendecomposition took
7.6 s with two BLAS threads against 0.35 s with one. The evaluation code therefore runs its
torch work with one thread unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["torch_threads", "DEFAULT_THREADS"]

DEFAULT_THREADS: int | None = 1


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` intra-op torch threads (None: leave the setting alone), then restore it."""
    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
