"""The FID Inception-v3: pytorch-fid's names and shapes, loading, input handling, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unmask.eval.features import InceptionV3Extractor, file_digest, get_extractor
from unmask.eval.features.inception import FIDInceptionV3, _avg_pool_3x3, load_fid_inception

pytestmark = pytest.mark.usefixtures("one_thread")

# Keys and shapes of pytorch-fid's pt_inception-2015-12-05-6726825d.pth (torchvision's
# Inception3(num_classes=1008, aux_logits=False) with the FID blocks swapped in).
EXPECTED = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_1a_3x3.bn.running_var": (32,),
    "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
    "Mixed_5b.branch1x1.conv.weight": (64, 192, 1, 1),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
    "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
    "Mixed_7b.branch3x3_2b.conv.weight": (384, 384, 3, 1),
    "Mixed_7c.branch3x3dbl_3a.conv.weight": (384, 384, 1, 3),
    "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    state = FIDInceptionV3().state_dict()
    path = tmp_path_factory.mktemp("fid") / "pt_inception-random.pth"
    torch.save(state, path)
    return path, state


def test_names_and_shapes_are_pytorch_fids() -> None:
    model = FIDInceptionV3()
    state = model.state_dict()
    for key, shape in EXPECTED.items():
        assert tuple(state[key].shape) == shape, key
    assert not any(k.startswith("AuxLogits") for k in state)
    assert len(state) == 94 * 6 + 2  # 94 conv+BN units (weight, bias, mean, var, count, conv) + fc
    assert sum(p.numel() for p in model.parameters()) == 23_850_960
    assert (model.Mixed_7b.pool, model.Mixed_7c.pool) == ("avg", "max")


def test_load_round_trip(weights: tuple[Path, dict[str, torch.Tensor]]) -> None:
    path, state = weights
    model = load_fid_inception(path)
    loaded = model.state_dict()
    assert list(loaded) == list(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    assert model.training is False


def test_file_without_batch_counters_loads(tmp_path: Path, weights: tuple[Path, dict[str, torch.Tensor]]) -> None:
    _, state = weights
    old = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "old.pth"
    torch.save(old, path)
    model = load_fid_inception(path)
    assert torch.equal(model.fc.weight, state["fc.weight"])


def test_extractor_features_and_input_handling(weights: tuple[Path, dict[str, torch.Tensor]]) -> None:
    path, _ = weights
    ext = get_extractor(f"inception-v3:{path}")
    assert isinstance(ext, InceptionV3Extractor)
    assert ext.dim == 2048 and ext.input_size == 299
    assert ext.name == f"inception-v3-fid-{file_digest(path)}"
    images = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8), dtype=np.uint8)
    feats = ext(images)
    assert feats.shape == (2, 2048) and feats.dtype == np.float64 and np.isfinite(feats).all()
    # pytorch-fid: [0, 1] → bilinear 299×299 (align_corners=False) → 2x − 1 → pool3
    x = torch.from_numpy(images).float()[:, None].repeat(1, 3, 1, 1) / 255.0
    x = 2 * F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) - 1
    with torch.inference_mode():
        manual = ext.net.features(x).double().numpy()
    np.testing.assert_allclose(feats, manual, rtol=1e-4, atol=1e-5 * np.abs(manual).max())


def test_folding_the_batch_norms_keeps_the_function() -> None:
    """fuse_batch_norms_ folds all 94 batch norms (with non-trivial statistics here) into their convolutions: the
    same features and logits to float rounding, no batch norm left, bad calls refused."""
    torch.manual_seed(1)
    plain = FIDInceptionV3()
    for m in plain.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # statistics and affine parameters far from the identity
            m.running_mean.uniform_(-0.5, 0.5)  # type: ignore[union-attr]
            m.running_var.uniform_(0.5, 2.0)  # type: ignore[union-attr]
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    plain.eval()
    fused = FIDInceptionV3()
    fused.load_state_dict(plain.state_dict())
    fused.eval().fuse_batch_norms_()
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules()) == 94
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules()) and fused.fused
    x = 2 * torch.rand(2, 3, 75, 75, generator=torch.Generator().manual_seed(0)) - 1
    with torch.inference_mode():
        a, b = plain(x), fused(x)
    assert (a - b).norm() <= 1e-5 * a.norm(), ((a - b).norm() / a.norm()).item()
    with pytest.raises(ValueError, match="already fused"):
        fused.fuse_batch_norms_()
    with pytest.raises(ValueError, match="eval mode"):
        FIDInceptionV3().fuse_batch_norms_()  # a new module is in training mode


def test_tensorflow_style_average_pool() -> None:
    """The FID blocks' 3×3 average pool ignores padding: a constant map stays constant at the border."""
    out = _avg_pool_3x3(torch.ones(1, 1, 4, 4))
    assert torch.allclose(out, torch.ones_like(out))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.pth"):
        load_fid_inception(tmp_path / "absent.pth")


def test_garbage_and_truncated_files(tmp_path: Path, weights: tuple[Path, dict[str, torch.Tensor]]) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00\x01 this is not a state dict" * 10)
    with pytest.raises(ValueError, match="garbage.pth"):
        load_fid_inception(garbage)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(weights[0].read_bytes()[:100_000])
    with pytest.raises(ValueError, match="truncated.pth"):
        load_fid_inception(truncated)
    not_a_dict = tmp_path / "list.pth"
    torch.save([1, 2, 3], not_a_dict)
    with pytest.raises(ValueError, match="list.pth.*state_dict"):
        load_fid_inception(not_a_dict)


def test_mismatching_file_names_first_keys(tmp_path: Path, weights: tuple[Path, dict[str, torch.Tensor]]) -> None:
    _, state = weights
    renamed = dict(state)
    renamed["Mixed_5b.branch1x1.conv.kernel"] = renamed.pop("Mixed_5b.branch1x1.conv.weight")
    path = tmp_path / "renamed.pth"
    torch.save(renamed, path)
    with pytest.raises(ValueError) as err:
        load_fid_inception(path)
    msg = str(err.value)
    assert "renamed.pth" in msg
    assert "missing keys: Mixed_5b.branch1x1.conv.weight" in msg
    assert "unexpected keys: Mixed_5b.branch1x1.conv.kernel" in msg

    wrong = dict(state)
    wrong["fc.weight"] = torch.zeros(1000, 2048)
    wrong["fc.bias"] = torch.zeros(1000)
    path = tmp_path / "torchvision-like.pth"
    torch.save(wrong, path)
    with pytest.raises(ValueError, match=r"shape mismatches: fc.weight: file \(1000, 2048\) vs model \(1008, 2048\)"):
        load_fid_inception(path)
