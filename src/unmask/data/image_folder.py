"""Images from users: a folder of image files, one sub-folder per class.

Layout (ImageNet-style)::

    ROOT/
      cat/ 0001.jpg 0002.png …      class 0 = "cat" (sub-folders sorted by name)
      dog/ a.jpg nested/b.jpg …     class 1 = "dog" (files found recursively)

or, unlabelled, the image files directly in ROOT. A ROOT holding ``train/`` and ``test/``
folders (each laid out as above) gives two splits; otherwise the whole folder is the
"train" split. Every image is **center-cropped to its largest square and resized** to
``image_size`` (the paper, appendix C.3: "each image is center-cropped and resized"), then
converted to grey (1 channel) or RGB (3). A file that cannot be decoded is an error naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError

__all__ = [
    "ImageFolder",
    "ImageDecodeError",
    "IMAGE_EXTENSIONS",
    "center_crop_resize",
    "load_image",
    "folder_splits",
]

#: File name endings read as images (case-insensitive); other files are ignored.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm")


class ImageDecodeError(UserError):
    """An image file cannot be read or decoded."""


def center_crop_resize(image: np.ndarray, size: int) -> np.ndarray:
    """The central square of ``image`` (H, W) or (H, W, C) uint8, resized to ``size``×``size``.

    The square has side min(H, W) and starts at ((H − s) // 2, (W − s) // 2). Resizing uses
    Pillow's bicubic filter, which low-pass filters when shrinking (no aliasing); an image that
    is already ``size``×``size`` is returned unchanged.
    """
    from PIL import Image

    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be an integer >= 1, got {size!r}")
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim not in (2, 3):
        raise ValueError(f"image must be uint8 (H, W) or (H, W, C), got {a.dtype} {a.shape}")
    h, w = a.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    square = a[top : top + s, left : left + s]
    if s == size:
        return np.ascontiguousarray(square)
    channels = square.shape[2] if square.ndim == 3 else 0
    if channels not in (0, 1, 3):
        raise ValueError(f"image must have 1 or 3 channels, got {channels}")
    src = np.ascontiguousarray(square[..., 0] if channels == 1 else square)
    out = np.asarray(Image.fromarray(src).resize((size, size), Image.Resampling.BICUBIC))
    return out[..., None] if channels == 1 else out


def load_image(path: str | Path, size: int, channels: int) -> np.ndarray:
    """Decode ``path``, convert to grey (``channels`` 1 → (size, size)) or RGB (3 → (size, size, 3)) and
    center-crop + resize. Raises ``ImageDecodeError`` naming the file if it cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    try:
        with Image.open(path) as img:
            img.load()
            converted = img.convert("L" if channels == 1 else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageDecodeError(f"cannot decode image {str(path)!r}: {err}") from None
    return center_crop_resize(np.asarray(converted), size)


def _is_image(p: Path) -> bool:
    return p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS


def _images_under(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if _is_image(p) and not any(part.startswith(".") for part in p.parts[-2:-1])
    )


class ImageFolder:
    """Image files of one folder (a split), with labels from class sub-folders.

    Attributes:
        root: the folder.
        files: the image files, sorted by class then path.
        labels: (N,) int64 class ids, or None when the folder has no class sub-folders.
        class_names: the sub-folder names in id order (given ``class_names`` fixes the order, e.g. the
            train split's for a test split).
    """

    def __init__(
        self, root: str | Path, image_size: int, channels: int = 3, class_names: tuple[str, ...] | None = None
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder {str(self.root)!r} does not exist")
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
            raise ValueError(f"image_size must be an integer >= 1, got {image_size!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.image_size = image_size
        self.channels = channels
        subdirs = sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        loose = sorted(p for p in self.root.iterdir() if _is_image(p))
        classes = [d for d in subdirs if _images_under(d)]
        if classes and loose:
            raise ValueError(
                f"image folder {str(self.root)!r} mixes image files ({loose[0].name}, …) with class sub-folders "
                f"({classes[0].name}, …): put every image in a class folder, or use no class folders"
            )
        if classes:
            names = tuple(d.name for d in classes)
            if class_names is not None:
                unknown = sorted(set(names) - set(class_names))
                if unknown:
                    raise ValueError(
                        f"image folder {str(self.root)!r} has classes {unknown} that the train split lacks "
                        f"(classes: {', '.join(class_names)})"
                    )
                names = tuple(class_names)
            index = {n: i for i, n in enumerate(names)}
            files: list[Path] = []
            labels: list[int] = []
            for d in classes:
                found = _images_under(d)
                files += found
                labels += [index[d.name]] * len(found)
            self.files = files
            self.labels: np.ndarray | None = np.asarray(labels, dtype=np.int64)
            self.class_names = names
        else:
            self.files = loose
            self.labels = None
            self.class_names = ()
        if not self.files:
            raise ValueError(f"image folder {str(self.root)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)})")

    def __len__(self) -> int:
        return len(self.files)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Images ``start:stop`` as uint8 (n, S, S) (grey) or (n, S, S, 3)."""
        stop = len(self) if stop is None else stop
        shape = (self.image_size, self.image_size) + ((3,) if self.channels == 3 else ())
        out = np.empty((max(0, stop - start), *shape), dtype=np.uint8)
        for i, path in enumerate(self.files[start:stop]):
            out[i] = load_image(path, self.image_size, self.channels)
        return out


def folder_splits(root: str | Path, image_size: int, channels: int = 3) -> dict[str, ImageFolder]:
    """``{"train": …, "test": …}`` when ROOT holds train/ and test/ folders, else ``{"train": ImageFolder(ROOT)}``."""
    root = Path(root)
    if (root / "train").is_dir() and (root / "test").is_dir():
        train = ImageFolder(root / "train", image_size, channels)
        test = ImageFolder(root / "test", image_size, channels, class_names=train.class_names or None)
        if (train.labels is None) != (test.labels is None):
            raise ValueError(f"{str(root)!r}: train/ and test/ must both have class folders, or neither")
        return {"train": train, "test": test}
    return {"train": ImageFolder(root, image_size, channels)}
