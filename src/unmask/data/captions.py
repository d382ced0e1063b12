"""Image–caption datasets: generated scenes whose captions exercise composition, Fashion-MNIST with
class-name captions, and users' own pairs on disk.

A ``CaptionDataset`` is a ``TokenDataset`` whose ``labels`` index ``captions``, its table of
distinct captions (so ``num_classes = len(captions)``): a text model binds the table
(``unmask.models.CaptionConditioned``), and a class-conditional model of the same size trains on
the very same labels (``scenes-cls``), which is the comparison the issue asks for.

**Scenes** (``scenes``): 32×32 grey canvases of solid shapes (circle, square, triangle, plus,
drawn by the segmentation dataset's ``unmask.data.shapes`` masks) on a dark, slightly noisy
background, in two sizes (small: radius 3.5–4.5 px; big: 6.5–7.5 px), never overlapping.
Captions follow one grammar::

    "{count} {size} {class}s"                              1–3 objects anywhere
    "{count} {size} {class}s {relation} a {size} {class}"   1–2 objects in one half, one in the other

with relation ∈ {left of, right of, above, below} (the first group lies in that half of the
canvas, the last object in the opposite half). Counts are words ("a", "two", "three"). The
caption table is the full grammar (24 + 512 = 536 captions), the same for both splits, so
test captions are classes a class-conditional model knows too. Every scene keeps its objects
(class, size, centre) in ``objects`` for checking. Splits: 10,000 train (seed 0), 1,000 test
(seed 1) — ``scenes-mini``: 512 / 128 (seeds 2, 3) — NumPy legacy ``RandomState`` (identical
on every NumPy version); grey values are quantised to 8 levels (tokens 0 … 7, [MASK] 8).

**Held-out compositions** (``scenes-compose``): the point of a text encoder over a class label is
to follow captions it never saw. For each of the 8 (size, class) pairs of group A one relation is
held out (``HELDOUT_RELATIONS``: the pairs in grammar order take "left of", "right of", "above",
"below" in turn, so each relation is held out for two pairs), and every relation caption with that
group A and relation never appears in training: 128 of the 512 relation captions (25%), while every
word, every (size, class) and every relation still occurs in the training captions. Splits:
``train`` (10,000, seed 0) and ``test`` (1,000, seed 1) draw only the seen captions;
``test-heldout`` (1,000, seed 4) only the held-out ones; ``val`` (1,000, seed 5, seen) and
``val-heldout`` (1,000, seed 6, held out) are for choosing a stopping point or sampler settings,
so that the test splits are read once, by the final models. The caption table is the full grammar, as
for ``scenes``, so a class-label model on the same labels is comparable on the seen captions.

The grammar and the renderer of the scenes live in :mod:`.scene_grammar`; their names are
re-exported here.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .._io import atomic_write_bytes
from .base import TokenDataset
from .mnist_like import _check
from .scene_grammar import (
    HELDOUT_RELATIONS,
    RELATIONS,
    SCENE_CANVAS,
    SCENE_CLASSES,
    SCENE_SIZES,
    CaptionSpec,
    SceneObject,
    heldout_captions,
    is_heldout_caption,
    parse_caption,
    render_scene,
    render_scenes,
    scene_captions,
)
from .videos import _check_levels

__all__ = [
    "CaptionDataset",
    "SceneObject",
    "SCENE_CLASSES",
    "SCENE_SIZES",
    "RELATIONS",
    "scene_captions",
    "render_scene",
    "render_scenes",
    "parse_caption",
    "CaptionSpec",
    "load_scenes",
    "HELDOUT_RELATIONS",
    "heldout_captions",
    "is_heldout_caption",
    "load_fashion_mnist_captions",
    "fashion_caption_class",
    "load_caption_pairs",
    "FASHION_NAMES",
    "FASHION_TEMPLATES",
]

SCENE_LEVELS = 8
SCENE_SPLITS = {"train": (10_000, 0), "test": (1_000, 1)}
MINI_SPLITS = {"train": (512, 2), "test": (128, 3)}
#: scenes-compose: split → (count, seed, caption pool)
COMPOSE_SPLITS = {
    "train": (10_000, 0, "seen"),
    "test": (1_000, 1, "seen"),
    "test-heldout": (1_000, 4, "heldout"),
    "val": (1_000, 5, "seen"),
    "val-heldout": (1_000, 6, "heldout"),
}
_VERSION = 1


@dataclass
class CaptionDataset(TokenDataset):
    """Tokens with captions: ``labels`` (N,) index ``captions`` (the distinct captions, ``num_classes`` of them).

    ``objects`` (scenes only): per item the list of its objects as (class, size, cx, cy).
    """

    captions: tuple[str, ...] = ()
    objects: list[list[tuple[str, str, float, float]]] = field(default_factory=list)

    def item_captions(self) -> list[str]:
        """The caption of every item (N,)."""
        assert self.labels is not None
        return [self.captions[i] for i in self.labels.tolist()]


def _scenes_split(
    split: str, mini: bool = False, compose: bool = False
) -> tuple[np.ndarray, np.ndarray, list[list[SceneObject]]]:
    from ..paths import cache_dir

    if compose:
        n, seed, pool = COMPOSE_SPLITS[split]
        stem = f"scenes-compose-v{_VERSION}"
    else:
        (n, seed), pool, stem = (MINI_SPLITS if mini else SCENE_SPLITS)[split], "all", f"scenes-v{_VERSION}"
    path = cache_dir() / "datasets" / f"{stem}-{split}-n{n}-seed{seed}.npz"
    if path.is_file():
        try:
            with np.load(path) as data:
                images, ids = data["images"], data["ids"]
                objects = json.loads(bytes(data["objects"]).decode())
            if images.shape == (n, SCENE_CANVAS, SCENE_CANVAS) and len(objects) == n:
                return images, ids, [[tuple(o) for o in objs] for objs in objects]  # type: ignore[misc]
        except (OSError, ValueError, KeyError):
            pass  # unreadable: render again
    images, ids, objects = render_scenes(n, seed, pool=pool)
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images, ids=ids, objects=np.frombuffer(json.dumps(objects).encode(), np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return images, ids, objects


def load_scenes(
    split: str = "train", levels: int | None = None, mini: bool = False, compose: bool = False
) -> CaptionDataset:
    """The captioned scenes ``split`` (see the module docstring); ``mini``: the 512 / 128-scene variant
    ``scenes-mini`` (seeds 2 and 3) for tests and smoke runs; ``compose``: ``scenes-compose``, whose
    training split leaves the held-out compositions out (splits train, test, test-heldout, val,
    val-heldout)."""
    if mini and compose:
        raise ValueError("scenes: mini and compose are different datasets; choose one")
    splits = COMPOSE_SPLITS if compose else SCENE_SPLITS
    if split not in splits:
        name = "scenes-compose" if compose else "scenes"
        raise ValueError(f"{name} split must be one of {', '.join(map(repr, splits))}, got {split!r}")
    tok = _check_levels(levels, "scenes")  # default 8 grey levels, as the video scenes
    images, ids, objects = _scenes_split(split, mini, compose)
    caps = scene_captions()
    return CaptionDataset(
        name="scenes-compose" if compose else ("scenes-mini" if mini else "scenes"),
        split=split,
        tokens=tok.encode(images),
        labels=torch.as_tensor(ids, dtype=torch.long),
        num_classes=len(caps),
        tokenizer=tok,
        class_names=caps,
        captions=caps,
        objects=objects,
    )


FASHION_NAMES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")
FASHION_TEMPLATES = ("a {}", "a photo of a {}", "a grey picture of a {}", "one {} on black")


def fashion_caption_class(caption: str) -> int:
    """The Fashion-MNIST class (0 … 9) a caption of ``fashion-mnist-captions`` names, e.g. 0 for "a t-shirt".

    Matched exactly against ``FASHION_TEMPLATES`` × ``FASHION_NAMES`` after stripping and lower-casing;
    anything else raises ValueError naming the caption (its class cannot be read from it).
    """
    text = " ".join(caption.strip().lower().split())
    for cls, name in enumerate(FASHION_NAMES):
        if any(text == t.format(name) for t in FASHION_TEMPLATES):
            return cls
    raise ValueError(
        f"caption {caption!r} is not a fashion-mnist-captions caption (templates "
        f"{', '.join(repr(t) for t in FASHION_TEMPLATES)} with a class name: {', '.join(FASHION_NAMES)})"
    )


def load_fashion_mnist_captions(split: str = "train", levels: int | None = None) -> CaptionDataset:
    """Fashion-MNIST with class-name captions: item i's caption is template (hash of i and the split)
    of ``FASHION_TEMPLATES`` filled with its class name, e.g. "a photo of a sneaker"."""
    from .mnist_like import load_fashion_mnist

    base = load_fashion_mnist(split, levels)
    assert base.labels is not None
    caps = tuple(t.format(name) for name in FASHION_NAMES for t in FASHION_TEMPLATES)
    rng = np.random.RandomState({"train": 0, "test": 1}[split])
    template = torch.as_tensor(rng.randint(0, len(FASHION_TEMPLATES), size=len(base)), dtype=torch.long)
    return CaptionDataset(
        name="fashion-mnist-captions",
        split=split,
        tokens=base.tokens,
        labels=base.labels * len(FASHION_TEMPLATES) + template,
        num_classes=len(caps),
        tokenizer=base.tokenizer,
        class_names=caps,
        captions=caps,
    )


def _read_pairs(root: Path) -> list[tuple[Path, str, str]]:
    """(image file, caption, where) of a folder: ``captions.jsonl`` lines {"image", "caption"} or a
    COCO-captions ``captions*.json`` ({"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]})."""
    jsonl = root / "captions.jsonl"
    if jsonl.is_file():
        out = []
        for n, line in enumerate(jsonl.read_text().splitlines(), 1):
            if not line.strip():
                continue
            where = f"{jsonl}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: not JSON ({err.msg})") from None
            if (
                not isinstance(rec, dict)
                or not isinstance(rec.get("image"), str)
                or not isinstance(rec.get("caption"), str)
            ):
                raise ValueError(
                    f'{where}: each line must be {{"image": "file", "caption": "text"}}, got {line.strip()!r}'
                )
            out.append((root / rec["image"], rec["caption"], where))
        return out
    cocos = sorted(root.glob("captions*.json")) + sorted(root.glob("annotations/captions*.json"))
    if cocos:
        ann = cocos[0]
        try:
            data = json.loads(ann.read_text())
            files = {int(im["id"]): im["file_name"] for im in data["images"]}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{ann}: not a COCO-captions file (images with id and file_name): {err}") from None
        out = []
        for k, a in enumerate(data.get("annotations", [])):
            where = f"{ann} annotation {k}"
            if not isinstance(a, dict) or a.get("image_id") not in files or not isinstance(a.get("caption"), str):
                raise ValueError(f"{where}: needs an image_id of a listed image and a caption, got {a!r}")
            folder = ann.parent.parent / "images" if ann.parent.name == "annotations" else root / "images"
            path = folder / files[a["image_id"]]
            if not path.is_file():
                path = ann.parent / files[a["image_id"]]
            out.append((path, a["caption"], where))
        return out
    raise ValueError(f"{root}: no captions.jsonl and no COCO captions*.json found")


def load_caption_pairs(
    root: str | Path, split: str = "train", levels: int | None = None, size: int = 32, test_fraction: float = 0.1
) -> CaptionDataset:
    """Users' image–caption pairs: a folder with ``captions.jsonl`` or the COCO-captions layout.

    Images are centre-cropped, resized to ``size`` × ``size`` (bicubic) and made grey, then
    quantised to ``levels`` (default 16). A folder with ``train/`` and ``test/`` gives those splits;
    otherwise a fixed ``test_fraction`` of the pairs (seed 0) is the test split. A missing or
    undecodable image, or a malformed record, is an error naming it.
    """
    from .image_folder import load_image

    tok = _check(split, levels, "caption-pairs")  # default 16 grey levels
    base = Path(root)
    if not base.is_dir():
        raise ValueError(f"caption folder {str(base)!r} does not exist")
    sub = base / split
    pairs = _read_pairs(sub if sub.is_dir() else base)
    if not sub.is_dir():
        rng = np.random.RandomState(0)
        order = rng.permutation(len(pairs))
        n_test = int(round(test_fraction * len(pairs)))
        keep = order[:n_test] if split == "test" else order[n_test:]
        pairs = [pairs[i] for i in sorted(keep)]
    if not pairs:
        raise ValueError(f"{base}: split {split!r} has no image–caption pairs")
    images = []
    for path, _cap, where in pairs:
        if not path.is_file():
            raise ValueError(f"{where}: image {str(path)!r} does not exist")
        try:
            image = load_image(path, size, channels=1)
            images.append(image[..., 0] if image.ndim == 3 else image)
        except Exception as err:  # noqa: BLE001 - any decoding failure names the file
            raise ValueError(f"{where}: cannot read image {str(path)!r}: {err}") from None
    caps: list[str] = []
    index: dict[str, int] = {}
    labels = []
    for _p, cap, _w in pairs:
        c = cap.strip()
        if c not in index:
            index[c] = len(caps)
            caps.append(c)
        labels.append(index[c])
    return CaptionDataset(
        name="caption-pairs",
        split=split,
        tokens=tok.encode(np.stack(images)),
        labels=torch.as_tensor(labels, dtype=torch.long),
        num_classes=len(caps),
        tokenizer=tok,
        class_names=tuple(caps),
        captions=tuple(caps),
    )
