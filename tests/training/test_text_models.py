"""Training, resuming and sampling MDM-Prime and autoregressive models, on text and images."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.cli import main
from unmask.config import ConfigError, load_config
from unmask.inference import load_model
from unmask.samplers import AutoregressiveSampler
from unmask.training import load_checkpoint, train

pytestmark = pytest.mark.usefixtures("one_thread")

TEXT = ["data.name=kjv", "data.seq_len=16", "model.patch=1"]


def _last(run: Path, event: str) -> dict:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r["event"] == event][-1]


@pytest.mark.parametrize(
    "extra", [["model.subtokens=2"], ["model.subtokens=4", "model.timestep=true"], ["model.causal=true"]]
)
def test_text_models_resume_exactly(tmp_path: Path, extra: list[str]) -> None:
    overrides = [*TEXT, *extra, "train.steps=8", "train.ckpt_every=4", "train.log_every=4", "optim.warmup_steps=2"]
    train(load_config("tiny", overrides), tmp_path / "full", progress=False)
    part = tmp_path / "part"
    train(load_config("tiny", overrides), part, progress=False, stop_after=4)
    train(load_config("tiny", overrides), part, resume=True, progress=False)
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(part)
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
    ev = _last(tmp_path / "full", "checkpoint")
    assert math.isfinite(ev["eval_nll"]) and ev["eval_bits_per_token"] == pytest.approx(ev["eval_nll"] / math.log(2))
    assert Path(ev["samples"]).suffix == ".txt" and "--- sample 0 ---" in Path(ev["samples"]).read_text()


def test_resume_with_another_subtoken_length_names_the_value(tmp_path: Path) -> None:
    overrides = [*TEXT, "model.subtokens=2", "train.steps=4", "train.ckpt_every=2"]
    train(load_config("tiny", overrides), tmp_path / "run", progress=False, stop_after=2)
    other = load_config("tiny", [*TEXT, "model.subtokens=4", "train.steps=4", "train.ckpt_every=2"])
    with pytest.raises(ConfigError, match="model.subtokens was 2, now 4"):
        train(other, tmp_path / "run", resume=True, progress=False)


@pytest.mark.parametrize(
    "overrides,match",
    [
        (["model.subtokens=0"], r"model.subtokens \(ℓ\) must be >= 1"),
        (["model.subtokens=9"], "model.subtokens=9: subtoken length ℓ=9 is too long for V=256"),
        (["model.causal=true", "model.subtokens=2"], "model.causal=true takes plain tokens"),
        (["model.causal=true", "model.timestep=true"], "has no time input"),
        (["model.causal=true", "model.patch=2"], "needs model.patch=1, got 2"),
        (["data.levels=16"], "data.levels does not apply to dataset 'kjv'"),
        (["data.tokenizer=bpe"], "data.tokenizer='bpe' is not one of bytes, chars, gpt2"),
        (["data.seq_len=1"], "data.seq_len must be >= 2, got 1"),
    ],
)
def test_bad_text_and_prime_configs(tmp_path: Path, overrides: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        cfg = load_config("tiny", [*TEXT, *overrides])
        train(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_prime_on_images_and_its_unsupported_options(tmp_path: Path) -> None:
    cfg = load_config("tiny", ["data.name=mnist5k", "data.levels=256", "model.subtokens=2", "model.patch=4"])
    result = train(cfg, tmp_path / "img", progress=False)
    assert result.step == 20
    model, _ = load_model(tmp_path / "img")
    assert model.subtokens == 2 and model.config.subtoken_vocab == 17
    for bad in (["path.smoothing=0.1"], ["loss.masked=false"]):
        with pytest.raises(ConfigError, match="model.subtokens > 1|MDM-Prime"):
            train(load_config("tiny", ["model.subtokens=2", *bad]), tmp_path / f"bad{len(bad[0])}", progress=False)


def test_cli_samples_text_from_prime_and_ar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, extra in (("prime", ["model.subtokens=2"]), ("ar", ["model.causal=true"])):
        run = tmp_path / name
        assert main(["train", "tiny", *TEXT, *extra, "--out", str(run)]) == 0
        capsys.readouterr()
        assert main(["sample", "--ckpt", str(run), "--out", str(tmp_path / f"{name}.npz"), "--n", "3"]) == 0
        out = capsys.readouterr()
        assert out.out.count("--- sample") == 3
        summary = json.loads(out.err.strip().splitlines()[-1])
        assert summary["sampler"] == {"prime": "prime", "ar": "autoregressive"}[name]
        data = np.load(tmp_path / f"{name}.npz")
        assert data["tokens"].shape == (3, 16) and data["texts"].shape == (3,)
        assert "images" not in data
        assert (tmp_path / f"{name}.txt").read_text().count("--- sample") == 3
    # the wrong sampler for the model is one clear error
    for ckpt, sampler, kind in (("prime", "euler", "an MDM-Prime model"), ("ar", "prime", "a causal model")):
        with pytest.raises(SystemExit) as err:
            main(["sample", "--ckpt", str(tmp_path / ckpt), "--out", str(tmp_path / "x.npz"), "--sampler", sampler])
        assert err.value.code == 2
        assert f"the {sampler} sampler cannot draw from {kind}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sample", "--ckpt", str(tmp_path / "ar"), "--out", str(tmp_path / "y.npz"), "--steps", "4"])
    assert "--steps does not apply to the autoregressive sampler" in capsys.readouterr().err


def test_autoregressive_sampler_keeps_prompt_and_counts_one_call_per_position(tmp_path: Path) -> None:
    train(load_config("tiny", [*TEXT, "model.causal=true"]), tmp_path / "ar", progress=False)
    model, _ = load_model(tmp_path / "ar")
    prompt = torch.full((2, 16), 256)
    prompt[:, :5] = torch.tensor([73, 110, 32, 116, 104])  # "In th"
    g = torch.Generator().manual_seed(0)
    out = AutoregressiveSampler(temperature=0.9).sample(model, x_init=prompt, generator=g)
    assert torch.equal(out.tokens[:, :5], prompt[:, :5]) and int(out.tokens.max()) < 256
    assert out.nfe == 11 and out.steps == 16
    g2 = torch.Generator().manual_seed(0)
    again = AutoregressiveSampler(temperature=0.9).sample(model, x_init=prompt, generator=g2)
    assert torch.equal(out.tokens, again.tokens)
    masked_model, _ = load_model(tmp_path / "ar")
    masked_model.config.causal = False
    with pytest.raises(ValueError, match="needs a causal model"):
        AutoregressiveSampler().sample(masked_model, 2, generator=g)


def test_cli_nll_reports_bounds_and_exact_likelihoods(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = {}
    for name, extra in (("mdm", []), ("prime", ["model.subtokens=4"]), ("ar", ["model.causal=true"])):
        run = tmp_path / name
        assert main(["train", "tiny", *TEXT, *extra, "--out", str(run)]) == 0
        capsys.readouterr()
        args = ["nll", "--ckpt", str(run), "--n", "40", "--batch-size", "16", "--repeats", "2"]
        assert main([*args, "--out", str(tmp_path / f"{name}.json")]) == 0
        r = json.loads(capsys.readouterr().out)
        assert r == json.loads((tmp_path / f"{name}.json").read_text())
        assert r["sequences"] == 40 and r["tokens_per_sequence"] == 16
        assert r["bits_per_token"] == pytest.approx(r["nats_per_token"] / math.log(2))
        assert r["perplexity"] == pytest.approx(math.exp(r["nats_per_token"]))
        # barely trained byte models: close to (and for the bound, above) uniform's 8 bits
        assert 5.0 < r["bits_per_token"] < 9.0
        assert main(args) == 0  # same seed, same estimate
        assert json.loads(capsys.readouterr().out)["nats_per_token"] == r["nats_per_token"]
        results[name] = r
    assert results["ar"]["kind"] == "exact NLL" and results["ar"]["repeats"] == 1
    assert results["mdm"]["kind"].startswith("negative ELBO")
    with pytest.raises(SystemExit):
        main(["nll", "--ckpt", str(tmp_path / "ar"), "--n", "0"])
    assert "--n must be >= 1, got 0" in capsys.readouterr().err
