"""Clips as MP4 (``save_mp4``): the GIF's grid layout, an ffmpeg-friendly frame size, a real MP4 that reads
back with the right frames, atomic writes, a clear error without imageio-ffmpeg or for bad input."""

from __future__ import annotations

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
