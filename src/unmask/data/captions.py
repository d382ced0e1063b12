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
``test-heldout`` (1,000, seed 4) only the held-out ones. The caption table is the full grammar, as
for ``scenes``, so a class-label model on the same labels is comparable on the seen captions.
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .._io import atomic_write_bytes
from .base import TokenDataset
from .mnist_like import _check
from .shapes import _shape_masks
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

#: scene class name → shape id of ``unmask.data.shapes`` (1 disc, 2 square, 3 triangle, 5 plus)
SCENE_CLASSES = {"circle": 1, "square": 2, "triangle": 3, "plus": 5}
SCENE_SIZES = {"small": (3.5, 4.5), "big": (6.5, 7.5)}
RELATIONS = ("left of", "right of", "above", "below")
COUNT_WORDS = {1: "a", 2: "two", 3: "three"}
SCENE_CANVAS = 32
SCENE_LEVELS = 8
SCENE_SPLITS = {"train": (10_000, 0), "test": (1_000, 1)}
MINI_SPLITS = {"train": (512, 2), "test": (128, 3)}
#: scenes-compose: split → (count, seed, caption pool)
COMPOSE_SPLITS = {"train": (10_000, 0, "seen"), "test": (1_000, 1, "seen"), "test-heldout": (1_000, 4, "heldout")}
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


def _plural(cls: str, n: int) -> str:
    return cls if n == 1 else ("pluses" if cls == "plus" else cls + "s")


def scene_captions() -> tuple[str, ...]:
    """Every caption of the scene grammar (536), in a fixed order."""
    out = []
    for n, size, cls in itertools.product((1, 2, 3), SCENE_SIZES, SCENE_CLASSES):
        out.append(f"{COUNT_WORDS[n]} {size} {_plural(cls, n)}")
    for n, sa, ca, rel, sb, cb in itertools.product(
        (1, 2), SCENE_SIZES, SCENE_CLASSES, RELATIONS, SCENE_SIZES, SCENE_CLASSES
    ):
        out.append(f"{COUNT_WORDS[n]} {sa} {_plural(ca, n)} {rel} a {sb} {cb}")
    return tuple(out)


#: (size, class) of group A → the relation held out of training with it (scenes-compose)
HELDOUT_RELATIONS: dict[tuple[str, str], str] = {
    pair: RELATIONS[i % len(RELATIONS)] for i, pair in enumerate(itertools.product(SCENE_SIZES, SCENE_CLASSES))
}


def is_heldout_caption(caption: str) -> bool:
    """Whether a caption of the scene grammar is held out of ``scenes-compose``'s training split: a
    relation caption whose group A (size, class) comes with its held-out relation. ``ValueError``
    for a caption outside the grammar."""
    spec = parse_caption(caption)
    return spec.relation is not None and HELDOUT_RELATIONS[(spec.size, spec.cls)] == spec.relation


def heldout_captions() -> tuple[str, ...]:
    """The 128 held-out captions of ``scenes-compose``, in grammar order."""
    return tuple(c for c in scene_captions() if is_heldout_caption(c))


@dataclass
class CaptionSpec:
    """A parsed scene caption: group A = ``count`` objects of (size, cls); with ``relation``, one
    (size_b, cls_b) object lies in the opposite half."""

    count: int
    size: str
    cls: str
    relation: str | None = None
    size_b: str | None = None
    cls_b: str | None = None


_SINGULAR = {"circles": "circle", "squares": "square", "triangles": "triangle", "pluses": "plus"}
_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3}


def parse_caption(caption: str) -> CaptionSpec:
    """Parse a caption of the scene grammar; ``ValueError`` naming it otherwise."""
    w = caption.strip().lower().split()
    try:
        count = _COUNTS[w[0]]
        size = w[1]
        cls = _SINGULAR.get(w[2], w[2])
        if size not in SCENE_SIZES or cls not in SCENE_CLASSES:
            raise KeyError(w[1])
        if len(w) == 3:
            return CaptionSpec(count, size, cls)
        rest = " ".join(w[3:])
        for rel in RELATIONS:
            if rest.startswith(rel + " "):
                tail = rest[len(rel) + 1 :].split()
                if len(tail) == 3 and tail[0] in ("a", "one") and tail[1] in SCENE_SIZES and tail[2] in SCENE_CLASSES:
                    return CaptionSpec(count, size, cls, rel, tail[1], tail[2])
        raise KeyError(rest)
    except (KeyError, IndexError):
        raise ValueError(
            f"caption {caption!r} is not of the scene grammar ('two small squares left of a big circle')"
        ) from None


SceneObject = tuple[str, str, float, float]


def _half(rel: str | None, first: bool, size: int) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) region of group A (``first``) or B for a relation; the whole canvas without."""
    full = (0.0, float(size), 0.0, float(size))
    h = size / 2
    if rel is None:
        return full
    a = {
        "left of": (0.0, h, 0.0, size),
        "right of": (h, size, 0.0, size),
        "above": (0.0, size, 0.0, h),
        "below": (0.0, size, h, size),
    }[rel]
    b = {
        "left of": (h, size, 0.0, size),
        "right of": (0.0, h, 0.0, size),
        "above": (0.0, size, h, size),
        "below": (0.0, size, 0.0, h),
    }[rel]
    return tuple(float(v) for v in (a if first else b))  # type: ignore[return-value]


def render_scene(
    spec: CaptionSpec, rng: np.random.RandomState, size: int = SCENE_CANVAS
) -> tuple[np.ndarray, list[SceneObject]]:
    """One (size, size) uint8 canvas drawn for a caption, and its objects (class, size, cx, cy).

    Objects are placed by rejection sampling inside their region (centre at least a radius from
    the region's outer edges, no two objects closer than the sum of their radii + 1 px).
    """
    groups = [(spec.count, spec.size, spec.cls, True)]
    if spec.relation is not None:
        assert spec.size_b is not None and spec.cls_b is not None
        groups.append((1, spec.size_b, spec.cls_b, False))
    placed: list[tuple[str, str, float, float, float]] = []
    for _attempt in range(200):
        placed = []
        ok = True
        for n, sz, cls, first in groups:
            x0, x1, y0, y1 = _half(spec.relation, first, size)
            for _ in range(n):
                lo, hi = SCENE_SIZES[sz]
                r = rng.uniform(lo, hi)
                for _try in range(50):
                    cx = rng.uniform(x0 + r, x1 - r)
                    cy = rng.uniform(y0 + r, y1 - r)
                    if all((cx - px) ** 2 + (cy - py) ** 2 > (r + pr + 1) ** 2 for _, _, px, py, pr in placed):
                        placed.append((cls, sz, cx, cy, r))
                        break
                else:
                    ok = False
                    break
            if not ok:
                break
        if ok:
            break
    else:  # pragma: no cover - every grammar caption fits
        raise RuntimeError(f"could not place the objects of {spec}")
    grid = np.arange(size, dtype=np.float64) + 0.5
    ys, xs = np.meshgrid(grid, grid, indexing="ij")
    img = rng.uniform(10.0, 50.0) + rng.normal(0.0, 6.0, (size, size))
    for cls, _sz, cx, cy, r in placed:
        orient = np.array([[[rng.randint(0, 4)]]])
        inside = _shape_masks(
            np.array([SCENE_CLASSES[cls]]), (xs - cx)[None], (ys - cy)[None], np.array([[[r]]]), orient
        )[0]
        img = np.where(inside, rng.uniform(170.0, 250.0) + rng.normal(0.0, 6.0, (size, size)), img)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), [(c, s, x, y) for c, s, x, y, _ in placed]


def render_scenes(
    n: int, seed: int, size: int = SCENE_CANVAS, pool: str = "all"
) -> tuple[np.ndarray, np.ndarray, list[list[SceneObject]]]:
    """``n`` scenes, deterministic in ``seed``: images (n, size, size) uint8, caption ids (n,) into
    ``scene_captions()`` (half the scenes single-group, half with a relation), and their objects.

    ``pool``: "all" captions; "seen": the single-group and the relation captions that are not held
    out (``is_heldout_caption``), half and half as for "all"; "heldout": only the held-out ones.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if pool not in ("all", "seen", "heldout"):
        raise ValueError(f"pool must be 'all', 'seen' or 'heldout', got {pool!r}")
    caps = scene_captions()
    n_single = 24
    held = [k for k in range(n_single, len(caps)) if is_heldout_caption(caps[k])]
    held_set = set(held)
    seen = [k for k in range(n_single, len(caps)) if k not in held_set]
    rng = np.random.RandomState(seed)
    images = np.empty((n, size, size), dtype=np.uint8)
    ids = np.empty(n, dtype=np.int64)
    objects = []
    for i in range(n):
        if pool == "all":  # the original draw: identical scenes for the same seed
            k = rng.randint(0, n_single) if rng.rand() < 0.5 else rng.randint(n_single, len(caps))
        elif pool == "seen":
            k = rng.randint(0, n_single) if rng.rand() < 0.5 else seen[rng.randint(0, len(seen))]
        else:
            k = held[rng.randint(0, len(held))]
        images[i], objs = render_scene(parse_caption(caps[k]), rng, size)
        ids[i] = k
        objects.append(objs)
    return images, ids, objects


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
    training split leaves the held-out compositions out (splits train, test, test-heldout)."""
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
