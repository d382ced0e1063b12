"""The local web app: a Starlette application over a ``ModelSession`` and a ``JobQueue``.

Why Starlette + uvicorn and a small hand-written page, not Gradio: the page must work with no
network (Gradio's front end fetches web fonts and reports analytics unless configured not to, and
pulls a large dependency tree), the unmasking chain needs a custom view (a scrubbable animation of
which tokens are revealed when, two samplers side by side), and the JSON endpoints the page uses are
a small API a user can also script. Starlette is the ASGI toolkit FastAPI is built on; uvicorn its
usual server.

Endpoints (JSON unless said):

* ``GET /`` the page; ``GET /static/…`` its script and style;
* ``GET /api/info`` what the loaded model is and takes (classes, samplers, recorded defaults);
* ``POST /api/sample`` {n, labels | caption, sampler, steps, cfg, temperature, top_p, top_k,
  gumbel, gumbel_temperature, seed} → 202 {job};
* ``POST /api/chain`` {job, index, other: bool} → 202 {job}: sample ``index`` of a finished
  sample job as a chain of frames; with ``other`` also a fresh draw of the same class with the other
  sampler (Euler ↔ MaskGIT) and its chain, for the side-by-side view;
* ``POST /api/inpaint`` {image, mask (data URLs), samples, label | caption, sampler settings…, seed}
  → 202 {job};
* ``GET /api/jobs/{id}`` {status, progress, error, result when done}; ``POST /api/jobs/{id}/cancel``.

Bad input is a 400 with the library's message; a full queue a 503 ("queue full"), a job the
server no longer holds a 404. The server binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from .jobs import JobQueue, QueueFull
from .session import MAX_SAMPLES, ModelSession, SamplerRequest, decode_data_url

__all__ = ["create_app", "run_server", "STATIC"]

STATIC = Path(__file__).with_name("static")


def _int(body: dict[str, Any], key: str, default: int | None) -> int | None:
    value = body.get(key, default)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be an integer, got {value!r}") from None
    if number != int(number):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    return int(number)


def create_app(session: ModelSession, *, capacity: int = 8, keep: int = 32) -> Any:
    """The Starlette app serving ``session`` (needs ``unmask[serve]``)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    jobs = JobQueue(capacity=capacity, keep=keep)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError("the request body must be JSON") from None
        if not isinstance(body, dict):
            raise ValueError("the request body must be a JSON object")
        return body

    def submit(kind: str, work: Any) -> JSONResponse:
        try:
            job = jobs.submit(kind, work)
        except QueueFull as err:
            return error(503, f"queue full: {err}")
        return JSONResponse({"job": job.public()}, status_code=202)

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def info(request: Request) -> JSONResponse:
        return JSONResponse(session.info())

    async def sample(request: Request) -> JSONResponse:
        try:
            body = await body_of(request)
            req = SamplerRequest.from_json(body)
            session.sampler(req)  # refuse bad settings now, not after the queue
            n = _int(body, "n", 20)
            seed = _int(body, "seed", 0)
            labels = body.get("labels")
            if labels is not None and (
                not isinstance(labels, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in labels)
            ):
                raise ValueError(f"labels must be a list of class ids, got {labels!r}")
            caption = body.get("caption")
            if caption is not None and not isinstance(caption, str):
                raise ValueError(f"caption must be text, got {caption!r}")
            if n is None or not 1 <= n <= MAX_SAMPLES:
                raise ValueError(f"number of samples must be an integer in [1, {MAX_SAMPLES}], got {n!r}")
            session._conditioned(labels or None, caption, 1)  # labels / caption checked before queueing
        except ValueError as err:
            return error(400, str(err))

        def work(report: Any) -> Any:
            return session.sample(req, n=n or 0, labels=labels or None, caption=caption, seed=seed or 0, report=report)

        return submit("sample", work)

    async def chain(request: Request) -> JSONResponse:
        try:
            body = await body_of(request)
            source = jobs.get(str(body.get("job")))
            if source is None or source.kind != "sample":
                return error(404, f"no sample job {body.get('job')!r} on this server (it may have been forgotten)")
            if source.status != "done":
                raise ValueError(f"sample job {source.id} is {source.status}, not done")
            index = _int(body, "index", 0)
            other = bool(body.get("other", False))
            result = source.result
        except ValueError as err:
            return error(400, str(err))

        def work(report: Any) -> Any:
            own = session.chain(result["_out"], index or 0)
            own["sampler"] = result["_sampler"]
            out: dict[str, Any] = {"chains": [own]}
            if other and "euler" in session.info()["samplers"]:
                name = "maskgit" if result["_sampler"] == "EulerSampler" else "euler"
                labels = None if result["labels"] is None else [result["labels"][index or 0]]
                req = SamplerRequest(sampler=name, steps=result["_out"].steps if name == "maskgit" else None)
                drawn = session.sample(req, n=1, labels=labels, caption=None, seed=index or 0, report=report)
                again = session.chain(drawn["_out"], 0)
                again["sampler"] = drawn["_sampler"]
                out["chains"].append(again)
            report(1.0)
            return out

        return submit("chain", work)

    async def inpaint(request: Request) -> JSONResponse:
        try:
            body = await body_of(request)
            req = SamplerRequest.from_json(body)
            session.sampler(req)
            image = decode_data_url(body.get("image"), "image")
            mask = decode_data_url(body.get("mask"), "mask")
            samples = _int(body, "samples", 4)
            label = _int(body, "label", None)
            caption = body.get("caption")
            seed = _int(body, "seed", 0)
            if label is not None:
                session._conditioned([label], None, 1)
        except ValueError as err:
            return error(400, str(err))

        def work(report: Any) -> Any:
            return session.inpaint(
                req,
                image=image,
                mask=mask,
                samples=samples or 0,
                label=label,
                caption=caption,
                seed=seed or 0,
                report=report,
            )

        return submit("inpaint", work)

    async def job_status(request: Request) -> JSONResponse:
        job = jobs.get(request.path_params["job_id"])
        if job is None:
            return error(404, f"no job {request.path_params['job_id']!r} on this server")
        out: dict[str, Any] = {"job": job.public()}
        if job.status == "done":
            out["result"] = {k: v for k, v in job.result.items() if not k.startswith("_")}
        return JSONResponse(out)

    async def cancel(request: Request) -> JSONResponse:
        job = jobs.cancel(request.path_params["job_id"])
        if job is None:
            return error(404, f"no job {request.path_params['job_id']!r} on this server")
        return JSONResponse({"job": job.public()})

    routes = [
        Route("/", index),
        Route("/api/info", info),
        Route("/api/sample", sample, methods=["POST"]),
        Route("/api/chain", chain, methods=["POST"]),
        Route("/api/inpaint", inpaint, methods=["POST"]),
        Route("/api/jobs/{job_id}", job_status),
        Route("/api/jobs/{job_id}/cancel", cancel, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        jobs.close()  # the running job finishes; queued ones are cancelled

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.jobs = jobs
    app.state.session = session
    return app


def run_server(ckpt: str, host: str = "127.0.0.1", port: int = 7860, device: str = "cpu", capacity: int = 8) -> None:
    """Load ``ckpt`` and serve the page until interrupted (``unmask serve``)."""
    try:
        import uvicorn
    except ImportError:
        raise ImportError("unmask serve needs the web extra: pip install 'unmask[serve]'") from None
    session = ModelSession(ckpt, device=device)
    app = create_app(session, capacity=capacity)
    print(f"unmask: serving {session.checkpoint.path} on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
