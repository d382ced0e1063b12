"""Training a video model through the existing trainer: the checkpoint names the video backbone, loading
gives the same logits as the saved weights, and an interrupted then resumed run ends bit-identical."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from unmask.config import ConfigError, load_config
from unmask.inference import load_model
from unmask.models import VideoTransformer, VideoTransformerConfig
from unmask.training import load_checkpoint, train

pytestmark = pytest.mark.usefixtures("one_thread")

OVERRIDES = ["train.steps=4", "train.ckpt_every=2", "train.log_every=2", "optim.warmup_steps=2"]


@pytest.mark.parametrize("variant", [[], ["model.timestep=true", "loss.weighting=elbo", "loss.reduction=sum"]])
def test_interrupted_then_resumed_video_run_equals_an_uninterrupted_one(tmp_path: Path, variant: list[str]) -> None:
    overrides = [*OVERRIDES, *variant]
    train(load_config("tiny-video", overrides), tmp_path / "full", progress=False)
    part = tmp_path / "part"
    assert train(load_config("tiny-video", overrides), part, progress=False, stop_after=2).step == 2
    assert train(load_config("tiny-video", overrides), part, resume=True, progress=False).step == 4
    a = load_checkpoint(tmp_path / "full", with_state=True)
    b = load_checkpoint(part, with_state=True)
    assert a.backbone["kind"] == "video" and a.backbone["grid"] == [8, 16, 16]
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
        assert torch.equal(a.ema[key], b.ema[key]), key
    assert (tmp_path / "full" / "samples" / "step_00000004.png").is_file()


def test_loaded_video_model_gives_the_saved_weights_logits(tmp_path: Path) -> None:
    run = tmp_path / "r"
    train(load_config("tiny-video", [*OVERRIDES, "model.timestep=true"]), run, progress=False)
    model, ckpt = load_model(run, weights="raw")
    assert isinstance(model, VideoTransformer) and model.uses_time and model.num_classes == 5
    assert model.config == VideoTransformerConfig(**{**ckpt.backbone, "grid": tuple(ckpt.backbone["grid"])})
    fresh = VideoTransformer(model.config).eval()
    fresh.load_state_dict(load_file(str(ckpt.path / "model.safetensors")))
    x = torch.randint(0, model.vocab_size, (2, 8, 16, 16), generator=torch.Generator().manual_seed(0))
    t, y = torch.tensor([0.3, 0.8]), torch.tensor([1, 5])
    with torch.no_grad():
        assert torch.equal(model(x, t, y), fresh(x, t, y))


@pytest.mark.parametrize(
    "preset,overrides,needle",
    [
        ("tiny-video", ["model.size=tiny"], "is an image size"),
        ("tiny", ["model.size=video-tiny"], "is a video size"),
        ("tiny-video", ["model.subtokens=2"], "model.subtokens=2 is not supported for the video dataset"),
        ("tiny-video", ["model.causal=true"], "model.causal=True is not supported"),
        ("tiny", ["path.prefix_prob=0.5"], "path.prefix_prob=0.5 applies to video datasets only"),
        ("tiny-video", ["path.prefix_prob=1.5"], "path.prefix_prob must be in"),
    ],
)
def test_video_configs_refuse_what_does_not_apply(preset: str, overrides: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config(preset, overrides)


def test_odd_depth_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="depth must be an even number"):
        train(load_config("tiny-video", ["model.depth=3"]), tmp_path / "r", progress=False)
