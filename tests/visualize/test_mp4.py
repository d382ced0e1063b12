"""Clips as MP4 (``save_mp4``): the GIF's grid layout, an ffmpeg-friendly frame size, a real MP4 that reads
back with the right frames, atomic writes, a clear error without imageio-ffmpeg or for bad input; and
``unmask sample --mp4`` on a video checkpoint (an untrained model: no training run)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unmask.visualize import MP4_BLOCK, clip_grid_frames, mp4_frames, save_gif, save_mp4

pytestmark = pytest.mark.usefixtures("one_thread")


def clips(n: int = 3, t: int = 5, h: int = 8, w: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, size=(n, t, h, w)).astype(np.uint8)


def read_back(path: Path) -> tuple[dict, np.ndarray]:
    """(ffmpeg's metadata, the decoded grey frames (T, H, W)) of an MP4."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="gray", bits_per_pixel=8)
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(f, dtype=np.uint8).reshape(h, w) for f in reader]
    return meta, np.stack(frames)


def test_mp4_is_written_and_reads_back_with_every_frame(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    v = clips()  # 3 clips of 5 frames of 8×8: a 2×2 grid at scale 8, gaps of 2 px → 134×134, padded to 144×144
    path = save_mp4(v, tmp_path / "out" / "s.mp4", fps=4)
    assert path == tmp_path / "out" / "s.mp4" and path.is_file()
    data = path.read_bytes()
    assert len(data) > 100 and data[4:8] == b"ftyp"  # an ISO-BMFF file opens with its ftyp box
    meta, frames = read_back(path)
    assert meta["size"] == (144, 144) and meta["fps"] == 4.0
    assert frames.shape == (5, 144, 144)
    expected = mp4_frames(v)
    assert expected.shape == frames.shape
    assert np.abs(frames.astype(int) - expected).mean() < 3  # H.264 at quality 8: near lossless
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.mp4"]  # no temporary file left


def test_mp4_frames_are_the_gif_grid_upscaled_and_padded_to_macroblocks(tmp_path: Path) -> None:
    v = clips(n=5, t=3, h=6, w=4)
    grid = clip_grid_frames(v, nrow=3)  # the GIF's frames
    save_gif(v, tmp_path / "s.gif", nrow=3)
    gif = Image.open(tmp_path / "s.gif")
    assert gif.n_frames == 3
    for i in range(3):
        gif.seek(i)
        assert np.array_equal(np.asarray(gif.convert("L")), grid[i])
    out = mp4_frames(v, nrow=3)
    _, h, w = out.shape
    assert h % MP4_BLOCK == 0 and w % MP4_BLOCK == 0 and h >= grid.shape[1] and w >= grid.shape[2]
    gh, gw = grid.shape[1:]
    top, left = (h - gh) // 2, (w - gw) // 2
    assert np.array_equal(out[:, top : top + gh, left : left + gw], grid)  # min side already >= 64: no upscale
    assert (out[:, :top] == 128).all() and (out[:, top + gh :] == 128).all()  # grey padding


def test_tiny_frames_are_nearest_upscaled() -> None:
    v = clips(n=1, t=2, h=2, w=2)
    grid = clip_grid_frames(v, scale=1)  # 4×4: one clip of 2×2 with 1 px gaps
    assert grid.shape == (2, 4, 4)
    out = mp4_frames(v, scale=1)
    assert out.shape == (2, 64, 64)  # ×16 reaches the 64 px minimum side, already a multiple of 16
    assert np.array_equal(out, grid.repeat(16, axis=1).repeat(16, axis=2))


def test_missing_imageio_ffmpeg_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # ``import imageio_ffmpeg`` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'unmask\[video\]'"):
        save_mp4(clips(), tmp_path / "s.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "videos,needle",
    [
        (np.zeros((5, 8, 8), dtype=np.uint8), r"\(5, 8, 8\)"),  # one clip without the N axis
        (np.zeros((2, 3, 8, 8, 3), dtype=np.uint8), r"\(2, 3, 8, 8, 3\)"),  # colour frames
        (np.zeros((2, 3, 8, 8), dtype=np.float32), r"float32 \(2, 3, 8, 8\)"),
        (np.zeros((2, 0, 8, 8), dtype=np.uint8), r"\(2, 0, 8, 8\)"),
    ],
)
def test_bad_videos_name_their_shape(tmp_path: Path, videos: np.ndarray, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        save_mp4(videos, tmp_path / "s.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs,needle", [({"fps": 0}, "fps must be > 0, got 0"), ({"quality": 11}, r"quality .* \[1, 10\], got 11")]
)
def test_bad_options_are_named(tmp_path: Path, kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        save_mp4(clips(), tmp_path / "s.mp4", **kwargs)


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ffmpeg dying half-way leaves neither a partial file nor a temporary one; an existing file is kept."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

    def dying_writer(path: str, size: tuple[int, int], **kwargs: object):
        Path(path).write_bytes(b"\0\0\0\x18ftyp-partial")
        yield
        raise OSError("ffmpeg died")

    monkeypatch.setattr(imageio_ffmpeg, "write_frames", dying_writer)
    (tmp_path / "s.mp4").write_bytes(b"old")
    with pytest.raises(OSError, match="ffmpeg died"):
        save_mp4(clips(), tmp_path / "s.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["s.mp4"] and (tmp_path / "s.mp4").read_bytes() == b"old"


# -- unmask sample --mp4 -------------------------------------------------------------------------


def save_untrained(run: Path, model, config, tokenizer: dict) -> Path:
    """Save ``model`` (untrained; also as its EMA) as a step-0 checkpoint in ``run``."""
    from unmask.training.checkpoint import save_checkpoint

    save_checkpoint(
        run,
        step=0,
        model=model,
        ema=model,
        config=config,
        state={},
        backbone=model.config.to_dict(),
        tokenizer=tokenizer,
    )
    return run


@pytest.fixture(scope="module")
def untrained_video_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of an untrained ``tiny-video`` model (4 grey levels, 8 frames of 16×16, 5 classes)."""
    import torch

    from unmask.config import load_config
    from unmask.models import VideoTransformer
    from unmask.tokenizers import PixelQuantizer

    config = load_config("tiny-video")
    tok = PixelQuantizer(levels=4, max_value=255.0)
    torch.manual_seed(0)
    model = VideoTransformer(config.model.video_backbone(tok.vocab_size, (8, 16, 16), 5))
    return save_untrained(tmp_path_factory.mktemp("untrained-video") / "run", model, config, tok.config())


def sample(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from unmask.cli import main

    try:
        code = main(["sample", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_sample_mp4_writes_an_mp4_beside_the_gif(untrained_video_ckpt: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "s.npz"
    args = ["--ckpt", str(untrained_video_ckpt), "--out", str(out), "--steps", "2", "--n", "2", "--mp4"]
    code, stdout, err = sample(args, capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["mp4"] == str(out.with_suffix(".mp4")) and summary["gif"] == str(out.with_suffix(".gif"))
    meta, frames = read_back(out.with_suffix(".mp4"))
    assert frames.shape[0] == 8 and meta["size"][0] % 16 == 0 and meta["size"][1] % 16 == 0
    with np.load(out) as d:
        assert np.abs(frames.astype(int) - mp4_frames(d["videos"])).mean() < 3


def test_sample_without_mp4_writes_no_mp4(untrained_video_ckpt: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.npz"
    code, stdout, err = sample(
        ["--ckpt", str(untrained_video_ckpt), "--out", str(out), "--steps", "1", "--n", "1"], capsys
    )
    assert code == 0, err
    assert "mp4" not in json.loads(stdout) and out.with_suffix(".gif").is_file()
    assert not out.with_suffix(".mp4").exists()


def test_sample_mp4_without_imageio_ffmpeg_fails_before_sampling(
    untrained_video_ckpt: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    out = tmp_path / "s.npz"
    code, _, err = sample(["--ckpt", str(untrained_video_ckpt), "--out", str(out), "--mp4"], capsys)
    assert code == 2 and err.startswith("unmask: error:") and err.count("\n") == 1
    assert "pip install 'unmask[video]'" in err
    assert not out.exists()


def test_sample_mp4_of_an_image_model_is_refused(tmp_path: Path, capsys) -> None:
    from unmask.config import load_config
    from unmask.data import get_dataset
    from unmask.models import Transformer

    config = load_config("tiny")
    ds = get_dataset(config.data.name, "test")
    model = Transformer(config.model.backbone(ds.vocab_size, ds.grid, ds.num_classes))
    run = save_untrained(tmp_path / "run", model, config, ds.tokenizer.config())
    out = tmp_path / "s.npz"
    code, _, err = sample(["--ckpt", str(run), "--out", str(out), "--mp4"], capsys)
    assert code == 2 and "--mp4 applies to video models" in err and err.count("\n") == 1
    assert not out.exists()


def test_save_samples_refuses_an_mp4_of_images(tmp_path: Path) -> None:
    from unmask.inference import Generated, save_samples

    images = np.zeros((2, 8, 8), dtype=np.uint8)
    gen = Generated(
        tokens=np.zeros((2, 8, 8), np.int64), labels=np.zeros(2, np.int64), images=images, nfe=1, nfe_per_sample=1.0
    )
    with pytest.raises(ValueError, match="an MP4 needs clips"):
        save_samples(tmp_path / "s.npz", gen, mp4=True)
    assert list(tmp_path.iterdir()) == []
