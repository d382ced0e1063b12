"""``unmask tokenizer train|eval`` and ``unmask tokenize``: outputs, resume, and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run

pytestmark = pytest.mark.usefixtures("one_thread")


def test_tokenizer_train_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "vq"
    code, stdout, _ = run(["tokenizer", "train", "tiny-vq", "train.steps=6", "--out", str(out)], capsys)
    assert code == 0
    info = json.loads(stdout)
    assert info["step"] == 6 and Path(info["tokenizer"]).is_file() and info["eval_psnr"] > 0
    code, stdout, _ = run(["tokenizer", "train", "--resume", "train.steps=8", "--out", str(out)], capsys)
    assert code == 0 and json.loads(stdout)["step"] == 8
    # resuming the finished run trains no step: the loss is null, and the line strict JSON (no NaN)
    code, stdout, _ = run(["tokenizer", "train", "--resume", "--out", str(out)], capsys)

    def no_constants(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    assert code == 0
    summary = json.loads(stdout, parse_constant=no_constants)
    assert summary["step"] == 8 and summary["loss"] is None


def test_tokenize_resume_and_train_a_latent_model(
    tiny_vq_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = tmp_path / "shards"
    args = ["tokenize", "--tokenizer", str(tiny_vq_run), "--dataset", "digits", "--out", str(shards)]
    code, stdout, _ = run([*args, "--shard-size", "1000"], capsys)
    assert code == 0
    info = json.loads(stdout)
    assert info["examples"] == {"train": 1438, "test": 359} and info["shards_encoded"] == 3
    code, stdout, _ = run([*args, "--shard-size", "1000"], capsys)
    assert code == 0 and json.loads(stdout)["shards_already_done"] == 3 and json.loads(stdout)["shards_encoded"] == 0
    code, _, err = run([*args, "--shard-size", "500"], capsys)
    assert code == 2 and "another shard_size" in err
    run_dir = tmp_path / "latent"
    code, stdout, _ = run(
        [
            "train", "tiny", "train.steps=4", "train.ckpt_every=4", "train.threads=1",
            f"data.shards={shards}", f"data.tokenizer={tiny_vq_run}", "--out", str(run_dir),
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, stdout
    samples = tmp_path / "s.npz"
    code, _, _ = run(["sample", "--ckpt", str(run_dir), "--out", str(samples), "--n", "20", "--steps", "4"], capsys)
    assert code == 0
    with np.load(samples) as d:
        assert d["tokens"].shape == (20, 4, 4) and d["images"].shape == (20, 8, 8)
        assert json.loads(str(d["tokenizer"]))["name"] == "vqvae"
    # VQ codes run up to 15, past digits' 17 grey levels' range check: that check is for pixel tokens only
    code, stdout, err = run(["eval", str(samples), "--ref", "digits", "--ref-n", "200"], capsys)
    assert code == 0, err
    rep = json.loads(stdout)
    assert rep["ref_n"] == 200 and rep["fd"] > 0
    code, stdout, _ = run(["info", str(run_dir), "--json"], capsys)
    assert json.loads(stdout)["tokenizer"]["name"] == "vqvae"
    code, stdout, _ = run(["info", str(shards), "--json"], capsys)
    info = json.loads(stdout)
    assert info["kind"] == "token shards" and info["grid"] == [4, 4] and info["vocab_size"] == 17
    assert info["splits"] == {"train": {"count": 1438, "shards": 2}, "test": {"count": 359, "shards": 1}}
    code, stdout, _ = run(["info", str(tiny_vq_run), "--json"], capsys)
    info = json.loads(stdout)
    assert info["kind"] == "tokenizer run" and info["vqvae"]["codebook_size"] == 16
    assert info["last_eval"]["step"] == 12 and len(info["tokenizer"]["sha256"]) == 64


def test_tokenizer_eval_reports_reconstruction(tiny_vq_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(
        ["tokenizer", "eval", "--tokenizer", str(tiny_vq_run), "--dataset", "digits", "--n", "40", "--ref-n", "200"],
        capsys,
    )
    assert code == 0
    rep = json.loads(stdout)
    assert rep["n"] == 40 and rep["grid"] == [4, 4] and rep["tokens_per_image"] == 16 and rep["vocab_size"] == 17
    assert rep["psnr"] > 0 and 0 < rep["usage"] <= 1 and 1 <= rep["perplexity"] <= 16
    assert rep["fd"] > 0 and rep["ref_n"] == 200
    code, stdout, _ = run(
        ["tokenizer", "eval", "--tokenizer", "pixel:17", "--dataset", "digits", "--n", "300", "--no-fd"], capsys
    )
    rep = json.loads(stdout)
    assert code == 0 and rep["psnr"] == float("inf") and "fd" not in rep  # 17 levels hold digits exactly


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["tokenizer", "train", "nosuch", "--out", "X"], "unknown tokenizer preset 'nosuch'"),
        (["tokenizer", "train", "tiny-vq", "model.downsample=5", "--out", "X"], "divisible by 2^downsample = 32"),
        (["tokenizer", "train", "tiny-vq", "data.name=nowhere", "--out", "X"], "neither a registered dataset"),
        (["tokenize", "--tokenizer", "pixel:16", "--dataset", "nope", "--out", "X"], "neither a registered dataset"),
        (["tokenize", "--tokenizer", "missing.safetensors", "--dataset", "digits", "--out", "X"], "does not exist"),
        (["tokenize", "--tokenizer", "pixel:16", "--dataset", "digits", "--out", "X", "--shard-size", "0"],
         "shard_size must be an integer >= 1, got 0"),
        (["tokenize", "--tokenizer", "pixel:16", "--dataset", "digits", "--out", "X", "--workers", "0"],
         "workers must be an integer >= 1, got 0"),
        (["tokenize", "--tokenizer", "pixel:16", "--dataset", "digits", "--out", "X", "--splits", "val"],
         "has no split 'val'"),
        # the run directory apart from the (missing) shards: the run's lock creates it while it trains
        (["train", "tiny", "data.shards=X", "data.tokenizer=pixel:16", "--out", "X-run"], "shard directory"),
    ],
)  # fmt: skip
def test_bad_input_gives_one_clear_error(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x"
    code, _, err = run([a.replace("X", str(target)) if "X" in a else a for a in args], capsys)
    assert code == 2, err
    assert needle in err and err.startswith("unmask: error:") and err.count("\n") == 1
    if args[0] in ("tokenizer", "train"):
        assert not target.exists() and not Path(f"{target}-run").exists()


def test_undecodable_image_in_a_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    (tmp_path / "imgs" / "cls").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "imgs" / "cls" / "ok.png")
    (tmp_path / "imgs" / "cls" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    args = ["tokenize", "--tokenizer", "pixel:4", "--dataset", str(tmp_path / "imgs"), "--out", str(tmp_path / "o")]
    code, _, err = run([*args, "--image-size", "8"], capsys)
    assert code == 2 and "broken.jpg" in err and "cannot decode image" in err
    code, _, err = run(args, capsys)
    assert code == 2 and "needs an image size" in err


def test_corrupted_shard_stops_training_with_the_file_name(
    tiny_vq_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = tmp_path / "sh"
    run(["tokenize", "--tokenizer", "pixel:17", "--dataset", "digits", "--out", str(shards)], capsys)
    f = shards / "train-00000.tokens.npy"
    f.write_bytes(f.read_bytes()[:-64])
    code, _, err = run(
        ["train", "tiny", f"data.shards={shards}", "data.tokenizer=pixel:17", "--out", str(tmp_path / "r")], capsys
    )
    assert code == 2 and "train-00000.tokens.npy" in err and "truncated" in err
    shutil.rmtree(shards)
