"""The web app's API in-process (Starlette's test client): sampling, chains, inpainting, cancel, and
bad input answered with the library's messages while the server keeps running."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from unmask.serve import ModelSession, create_app  # noqa: E402


def png_url(array: np.ndarray, mode: str | None = None) -> str:
    buf = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def client(tiny_run: Path):
    app = create_app(ModelSession(tiny_run), capacity=4, keep=8)
    with TestClient(app) as c:
        yield c


def wait(client: TestClient, job: dict, timeout: float = 60.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = client.get(f"/api/jobs/{job['id']}").json()
        if out["job"]["status"] in ("done", "failed", "cancelled"):
            return out
        time.sleep(0.05)
    raise AssertionError(f"job {job} did not finish")


def test_page_and_info(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "<title>unmask</title>" in page.text
    assert client.get("/static/app.js").status_code == 200
    info = client.get("/api/info").json()
    assert info["kind"] == "image" and info["classes"] == [str(i) for i in range(10)]
    assert info["samplers"] == ["euler", "maskgit"] and info["editable"]


def test_sample_then_both_chains(client: TestClient) -> None:
    started = client.post("/api/sample", json={"n": 10, "steps": 6, "seed": 3, "sampler": "euler"})
    assert started.status_code == 202
    done = wait(client, started.json()["job"])
    assert done["job"]["status"] == "done" and done["job"]["progress"] == 1.0
    result = done["result"]
    assert len(result["images"]) == 10 and result["images"][0].startswith("data:image/png;base64,")
    assert result["labels"] == list(range(10)) and "_out" not in result
    chain = client.post("/api/chain", json={"job": started.json()["job"]["id"], "index": 4, "other": True})
    assert chain.status_code == 202
    chains = wait(client, chain.json()["job"])["result"]["chains"]
    assert [c["sampler"] for c in chains] == ["EulerSampler", "MaskGITSampler"]
    for c in chains:
        assert c["revealed"][0] == 0.0 and c["revealed"][-1] == 1.0  # from all [MASK] to the sample
        assert len(c["frames"]) == len(c["steps"]) and c["gif"].startswith("data:image/gif;base64,")


def test_inpaint_keeps_the_unpainted_region(client: TestClient) -> None:
    image = np.zeros((64, 64), np.uint8)
    image[16:48, 24:40] = 255
    paint = np.zeros((256, 256, 4), np.uint8)
    paint[:128, :, 3] = 153  # the page paints with alpha 0.6: the top half is to regenerate
    body = {"image": png_url(image), "mask": png_url(paint, "RGBA"), "samples": 3, "steps": 4, "label": 1}
    started = client.post("/api/inpaint", json=body)
    assert started.status_code == 202, started.text
    result = wait(client, started.json()["job"])["result"]
    assert result["given_unchanged"] is True and len(result["images"]) == 3
    assert result["regenerated_tokens"] == 32  # the top half of the 8×8 token grid


@pytest.mark.parametrize(
    "path,body,message",
    [
        ("/api/sample", {"steps": 0}, "steps"),
        ("/api/sample", {"n": 0}, "number of samples must be an integer in [1, 100], got 0"),
        ("/api/sample", {"labels": [10]}, "label 10 outside the classes [0, 9]"),
        ("/api/sample", {"sampler": "euler", "gumbel": "linear"}, "gumbel does not apply to the euler sampler"),
        ("/api/sample", {"sampler": "prime"}, "the prime sampler cannot draw from a masked model"),
        ("/api/sample", {"temperature": "hot"}, "temperature must be a float, got 'hot'"),
        ("/api/sample", {"caption": "a dog"}, "captions apply to text-to-image models"),
        ("/api/inpaint", {"image": "data:image/png;base64,aGVsbG8=", "mask": ""}, "image is not an image file"),
        ("/api/inpaint", {"image": 7}, "image: expected an image"),
        ("/api/chain", {"job": "999"}, "no sample job '999'"),
    ],
)
def test_bad_input_is_a_clear_400_and_the_server_keeps_running(
    client: TestClient, path: str, body: dict, message: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code in (400, 404) and message in response.json()["error"], response.text
    assert client.get("/api/info").status_code == 200


def test_an_empty_mask_fails_its_job_with_the_message(client: TestClient) -> None:
    image = png_url(np.zeros((8, 8), np.uint8))
    empty = png_url(np.zeros((8, 8, 4), np.uint8), "RGBA")
    started = client.post("/api/inpaint", json={"image": image, "mask": empty, "steps": 2})
    out = wait(client, started.json()["job"])
    assert out["job"]["status"] == "failed" and "marks no pixel to regenerate" in out["job"]["error"]


def test_not_json_and_unknown_jobs(client: TestClient) -> None:
    response = client.post("/api/sample", content=b"steps=4", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "must be JSON" in response.json()["error"]
    assert client.get("/api/jobs/424242").status_code == 404
    assert client.post("/api/jobs/424242/cancel").status_code == 404
