"""A bounded job queue with one worker thread: what the web app runs sampling on.

Sampling is CPU- or GPU-bound and a model is not safe to call from several threads at once, so
jobs run one at a time on a single worker thread, in arrival order. The queue is bounded: a
submission that finds ``capacity`` jobs waiting is refused at once (``QueueFull``) instead of
piling up memory and latency. A job reports progress (0 … 1) through the callback it is given and
can be cancelled: the next progress report of a cancelled job raises ``JobCancelled`` inside the
job, which ends it. Finished jobs are kept for ``keep`` more submissions, then forgotten, so memory
stays bounded however long the server runs.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Job", "JobQueue", "JobCancelled", "QueueFull"]

#: A job's work: called with a progress callback (fraction done in [0, 1]); returns the result.
Work = Callable[[Callable[[float], None]], Any]


class QueueFull(RuntimeError):
    """The queue holds ``capacity`` waiting jobs; try again later."""


class JobCancelled(Exception):
    """Raised inside a job's work at its next progress report after ``JobQueue.cancel``."""


@dataclass
class Job:
    """One submitted piece of work and what became of it.

    ``status`` is "queued", "running", "done", "failed" or "cancelled"; ``error`` the message of a
    failed job (a ``ValueError`` keeps its own message: bad input named as the CLI names it).
    """

    id: str
    kind: str
    work: Work
    status: str = "queued"
    progress: float = 0.0
    result: Any = None
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_requested: bool = False

    def public(self) -> dict[str, Any]:
        """What a client may see (no result: it is served separately)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 4),
            "error": self.error,
        }


class JobQueue:
    """Jobs run one at a time on a worker thread; at most ``capacity`` wait (see the module docstring)."""

    def __init__(self, capacity: int = 8, keep: int = 32) -> None:
        if capacity < 1 or keep < 1:
            raise ValueError(f"capacity and keep must be >= 1, got {capacity} and {keep}")
        self.capacity = capacity
        self.keep = keep
        self._waiting: queue.Queue[Job | None] = queue.Queue()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._worker = threading.Thread(target=self._run, name="unmask-jobs", daemon=True)
        self._worker.start()

    def submit(self, kind: str, work: Work) -> Job:
        """Queue ``work``; ``QueueFull`` when ``capacity`` jobs are already waiting."""
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.status == "queued")
            if waiting >= self.capacity:
                raise QueueFull(f"{waiting} jobs are waiting (the queue holds {self.capacity}); try again shortly")
            job = Job(id=f"{next(self._ids)}", kind=kind, work=work)
            self._jobs[job.id] = job
            self._forget_old()
        self._waiting.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Ask a job to stop: a queued job is dropped, a running one stops at its next progress report."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.cancel_requested = True
            if job.status == "queued":
                job.status = "cancelled"
                job.finished = time.time()
            return job

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after the running job (queued ones are cancelled)."""
        with self._lock:
            for job in self._jobs.values():
                if job.status == "queued":
                    job.status, job.cancel_requested = "cancelled", True
        self._waiting.put(None)
        self._worker.join(timeout)

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)

    def _forget_old(self) -> None:
        """Drop the oldest finished jobs beyond ``keep`` (called with the lock held)."""
        done = [k for k, j in self._jobs.items() if j.status in ("done", "failed", "cancelled")]
        for key in done[: max(0, len(done) - self.keep)]:
            del self._jobs[key]

    def _run(self) -> None:
        while True:
            job = self._waiting.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":  # cancelled while waiting
                    continue
                job.status = "running"

            def report(fraction: float, job: Job = job) -> None:
                if job.cancel_requested:
                    raise JobCancelled(job.id)
                job.progress = min(1.0, max(job.progress, float(fraction)))

            try:
                result = job.work(report)
                status, error = "done", None
            except JobCancelled:
                status, error, result = "cancelled", None, None
            except ValueError as err:  # bad input: its own message, as the CLI prints it
                status, error, result = "failed", str(err), None
            except Exception as err:  # noqa: BLE001 - a bug must not kill the worker; it is reported
                status, error, result = "failed", f"{type(err).__name__}: {err}", None
                traceback.print_exc()
            with self._lock:
                job.status, job.error, job.result = status, error, result
                job.progress = 1.0 if status == "done" else job.progress
                job.finished = time.time()
                self._forget_old()
