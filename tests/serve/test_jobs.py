"""The job queue: one worker, a bounded queue that refuses when full, cancellation, bounded memory."""

from __future__ import annotations

import threading
import time

import pytest

from unmask.serve.jobs import JobQueue, QueueFull


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_jobs_run_in_order_and_a_full_queue_refuses() -> None:
    gate = threading.Event()
    order: list[int] = []
    q = JobQueue(capacity=2, keep=10)
    first = q.submit("x", lambda report: gate.wait(10) and order.append(0))
    wait_for(lambda: first.status == "running")
    a = q.submit("x", lambda report: order.append(1))
    b = q.submit("x", lambda report: order.append(2))
    with pytest.raises(QueueFull, match="2 jobs are waiting"):
        q.submit("x", lambda report: None)
    gate.set()
    wait_for(lambda: b.status == "done")
    assert order == [0, 1, 2] and a.status == "done" and a.progress == 1.0
    q.close()


def test_cancel_a_running_and_a_queued_job() -> None:
    started = threading.Event()

    def long(report) -> None:
        started.set()
        for i in range(1000):
            report(i / 1000)
            time.sleep(0.005)

    q = JobQueue(capacity=3)
    running = q.submit("long", long)
    queued = q.submit("long", long)
    started.wait(5)
    wait_for(lambda: running.progress > 0)
    q.cancel(queued.id)
    assert queued.status == "cancelled"
    q.cancel(running.id)
    wait_for(lambda: running.status == "cancelled")
    assert 0 < running.progress < 1
    q.close()


def test_failures_are_reported_and_memory_stays_bounded() -> None:
    q = JobQueue(capacity=50, keep=5)

    def bad(report) -> None:
        raise ValueError("steps must be >= 1, got 0")

    def bug(report) -> None:
        raise KeyError("oops")

    j1, j2 = q.submit("x", bad), q.submit("x", bug)
    wait_for(lambda: j2.status == "failed")
    assert j1.error == "steps must be >= 1, got 0" and j2.error == "KeyError: 'oops'"
    for _ in range(40):
        q.submit("x", lambda report: 1)
    wait_for(lambda: all(j.status == "done" for j in list(q._jobs.values())))
    assert len(q) <= 5 + 1  # the finished jobs kept, whatever came before
    q.close()
