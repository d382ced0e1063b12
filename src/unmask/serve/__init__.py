"""``unmask serve``: a local web page to sample, watch the unmasking and inpaint (``unmask[serve]``).

``jobs`` holds the bounded one-worker queue, ``session`` the loaded checkpoint and its work,
``app`` the Starlette application and ``run_server``; the page itself is ``static/``.
"""

from .app import create_app, run_server
from .jobs import Job, JobCancelled, JobQueue, QueueFull
from .session import ModelSession, SamplerRequest

__all__ = [
    "create_app",
    "run_server",
    "Job",
    "JobQueue",
    "JobCancelled",
    "QueueFull",
    "ModelSession",
    "SamplerRequest",
]
