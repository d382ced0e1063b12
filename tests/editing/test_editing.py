"""Editing: regions, images, the token region of pixel and VQ tokenizers, and completions that keep
every given token, for every sampler, ETM and ITM, with and without guidance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unmask.editing import edit, plan_edit, read_image, region_mask, token_region
from unmask.models import Transformer, TransformerConfig
from unmask.samplers import EulerSampler, MaskGITSampler, PrimeSampler
from unmask.tokenizers import PixelQuantizer, load_tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")


def test_built_in_regions() -> None:
    centre = region_mask("centre", (8, 8))
    assert centre.sum() == 16 and centre[2:6, 2:6].all()
    border = region_mask("border:2", (8, 8))
    assert border.sum() == 64 - 16 and not border[2:6, 2:6].any()
    assert region_mask("half:left", (8, 6))[:, :3].all() and region_mask("half:left", (8, 6)).sum() == 24
    assert region_mask("half:bottom", (8, 6))[4:].all()
    a, b = region_mask("random-half:3", (8, 8)), region_mask("random-half:3", (8, 8))
    assert a.sum() == 32 and np.array_equal(a, b) and not np.array_equal(a, region_mask("random-half:4", (8, 8)))


@pytest.mark.parametrize(
    "spec,message",
    [
        ("border:x", "border:K with an integer K"),
        ("border:4", r"K must be in \[1, 3\]"),
        ("half:middle", "the side must be one of left, right, top, bottom"),
        ("random-half:a", "integer seed"),
        ("nowhere.png", "neither a file nor a region"),
    ],
)
def test_bad_regions_are_named(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        region_mask(spec, (8, 8))


def test_region_files_are_resized_and_an_empty_region_refused(tmp_path: Path) -> None:
    m = np.zeros((16, 16), np.uint8)
    m[:8, :8] = 255
    Image.fromarray(m).save(tmp_path / "m.png")
    assert region_mask(str(tmp_path / "m.png"), (8, 8)).sum() == 16
    np.save(tmp_path / "m.npy", (m > 0).astype(np.int64))
    assert region_mask(str(tmp_path / "m.npy"), (16, 16)).sum() == 64
    np.save(tmp_path / "empty.npy", np.zeros((8, 8)))
    with pytest.raises(ValueError, match="marks no pixel to regenerate"):
        region_mask(str(tmp_path / "empty.npy"), (8, 8))
    (tmp_path / "bad.png").write_text("not a png")
    with pytest.raises(ValueError, match="not an image file"):
        region_mask(str(tmp_path / "bad.png"), (8, 8))


def test_read_image_from_files_and_dataset_items(tmp_path: Path) -> None:
    img = (np.arange(64, dtype=np.uint8) * 4).reshape(8, 8)
    Image.fromarray(img).save(tmp_path / "a.png")
    np.save(tmp_path / "a.npy", img)
    assert np.array_equal(read_image(str(tmp_path / "a.png")), img)
    assert np.array_equal(read_image(str(tmp_path / "a.npy")), img)
    split = {"test": np.stack([img, img[::-1]])}
    assert np.array_equal(read_image("test:1", dataset=split.__getitem__), img[::-1])
    with pytest.raises(ValueError, match="the test split has items 0 … 1"):
        read_image("test:2", dataset=split.__getitem__)
    with pytest.raises(ValueError, match="must be an integer"):
        read_image("test:x", dataset=split.__getitem__)
    np.save(tmp_path / "f.npy", img.astype(np.float32))
    with pytest.raises(ValueError, match="must be uint8"):
        read_image(str(tmp_path / "f.npy"))
    with pytest.raises(ValueError, match="does not exist"):
        read_image(str(tmp_path / "none.png"))


def test_vq_codes_whose_cell_the_region_touches(tiny_vq_run: Path) -> None:
    tok = load_tokenizer(str(tiny_vq_run))  # 8×8 digits → 4×4 codes: cells of 2×2 pixels
    pixels = np.zeros((1, 8, 8), bool)
    pixels[0, 0, 0] = True  # one pixel: its code only
    pixels[0, 5, 6] = True
    region, note = token_region(tok, pixels, (4, 4))
    assert region.sum() == 2 and region[0, 0, 0] and region[0, 2, 3]
    assert "2×2-pixel cell" in note and "receptive field" in note
    region, note = token_region(PixelQuantizer(17, 16.0), pixels, (8, 8))
    assert torch.equal(region, torch.as_tensor(pixels)) and "exactly the marked pixels" in note


def _model(timestep: bool, num_classes: int = 0, subtokens: int = 0) -> Transformer:
    torch.manual_seed(0)
    prime = {"subtokens": 2, "subtoken_vocab": 5} if subtokens else {}
    cfg = TransformerConfig(
        vocab_size=17,
        grid=(8, 8),
        patch=2,
        dim=32,
        depth=2,
        heads=2,
        timestep=timestep,
        num_classes=num_classes,
        **prime,
    )
    model = Transformer(cfg).eval()
    with torch.no_grad():
        model.head.weight.normal_(0, 0.5)  # not the uniform prediction: draws depend on the input
    return model


SAMPLERS = {
    "euler": lambda cfg: EulerSampler(steps=6, cfg=cfg),
    "euler-adaptive": lambda cfg: EulerSampler(steps=6, cfg=cfg, adaptive=True),
    "euler-corrector": lambda cfg: EulerSampler(steps=6, cfg=cfg, corrector=0.2),
    "maskgit": lambda cfg: MaskGITSampler(steps=6, cfg=cfg),
    "prime": lambda cfg: PrimeSampler(steps=6, cfg=cfg),
}


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("timestep", [False, True])
@pytest.mark.parametrize("guided", [False, True])
def test_given_tokens_never_change(sampler: str, timestep: bool, guided: bool) -> None:
    model = _model(timestep, num_classes=10 if guided else 0, subtokens=int(sampler == "prime"))
    tok = PixelQuantizer(16, 255.0)
    images = np.random.default_rng(0).integers(0, 256, (3, 8, 8)).astype(np.uint8)
    plan = plan_edit(model, tok, images, region_mask("centre", (8, 8)))
    assert "exactly the marked pixels" in plan.note
    labels = [1, 5, 9] if guided else None
    out = edit(model, tok, SAMPLERS[sampler](2.0 if guided else 1.0), plan, samples=2, labels=labels, seed=1)
    given = ~out.region
    original = plan.tokens.repeat_interleave(2, dim=0)
    assert torch.equal(out.tokens[given], original[given])
    assert int(out.tokens.max()) < 16  # no [MASK] left
    assert out.images.shape == (6, 8, 8) and out.images.dtype == np.uint8
    assert torch.equal(out.source, torch.tensor([0, 0, 1, 1, 2, 2]))
    # the region was drawn: two samples of one image differ somewhere inside it
    assert not torch.equal(out.tokens[0][out.region[0]], out.tokens[1][out.region[1]])


def test_edit_refuses_bad_labels_and_samples() -> None:
    model, tok = _model(False, num_classes=10), PixelQuantizer(16, 255.0)
    plan = plan_edit(model, tok, np.zeros((2, 8, 8), np.uint8), region_mask("centre", (8, 8)))
    with pytest.raises(ValueError, match="1 labels for 2 images"):
        edit(model, tok, EulerSampler(steps=2), plan, labels=[1])
    with pytest.raises(ValueError, match=r"label 10 outside the classes \[0, 9\]"):
        edit(model, tok, EulerSampler(steps=2), plan, labels=[1, 10])
    with pytest.raises(ValueError, match="samples must be >= 1"):
        edit(model, tok, EulerSampler(steps=2), plan, samples=0)
