"""The real server (uvicorn on the loopback address) under 20 concurrent requests from a bounded client:
every request is answered — accepted (202) or refused cleanly (503, queue full) — nothing crashes,
every accepted job finishes, and the jobs kept in memory stay bounded."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

from unmask.serve import ModelSession, create_app  # noqa: E402


@pytest.fixture(scope="module")
def server(tiny_run: Path, serving):
    app = create_app(ModelSession(tiny_run), capacity=4, keep=6)
    with serving(app) as base:
        yield app, base


def test_twenty_concurrent_requests_are_answered_or_refused_cleanly(server) -> None:
    app, base = server

    def request(i: int) -> tuple[int, dict]:
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.post("/api/sample", json={"n": 4, "steps": 4, "seed": i})
            return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(request, range(20)))
    codes = [code for code, _ in answers]
    assert set(codes) <= {202, 503}, codes
    assert codes.count(202) >= 4  # at least the queue's capacity was taken
    for code, body in answers:
        if code == 503:
            assert body["error"].startswith("queue full")
    accepted = [body["job"]["id"] for code, body in answers if code == 202]
    with httpx.Client(base_url=base, timeout=30) as c:
        deadline = time.time() + 120
        pending = set(accepted)
        while pending and time.time() < deadline:
            for job_id in list(pending):
                r = c.get(f"/api/jobs/{job_id}")
                if r.status_code == 404:  # forgotten after finishing: bounded memory at work
                    pending.discard(job_id)
                elif r.json()["job"]["status"] in ("done", "failed", "cancelled"):
                    assert r.json()["job"]["status"] == "done"
                    pending.discard(job_id)
            time.sleep(0.1)
        assert not pending
        assert c.get("/api/info").status_code == 200  # still serving
    assert len(app.state.jobs) <= 6 + 4 + 1
