"""The generated scenes of ``unmask.data.captions`` (``scenes``, ``scenes-compose``): their caption
grammar (``scene_captions``, ``"{count} {size} {class}s [relation a {size} {class}]"``), the held-out
compositions (``HELDOUT_RELATIONS``, ``heldout_captions``, ``is_heldout_caption``), reading a caption
back into what it asks for (``parse_caption`` → ``CaptionSpec``), and drawing a canvas for a caption
(``render_scene``, ``render_scenes``) with the segmentation dataset's shape masks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .shapes import _shape_masks

__all__ = [
    "SceneObject",
    "SCENE_CLASSES",
    "SCENE_SIZES",
    "RELATIONS",
    "COUNT_WORDS",
    "SCENE_CANVAS",
    "scene_captions",
    "render_scene",
    "render_scenes",
    "parse_caption",
    "CaptionSpec",
    "HELDOUT_RELATIONS",
    "heldout_captions",
    "is_heldout_caption",
]

#: scene class name → shape id of ``unmask.data.shapes`` (1 disc, 2 square, 3 triangle, 5 plus)
SCENE_CLASSES = {"circle": 1, "square": 2, "triangle": 3, "plus": 5}
SCENE_SIZES = {"small": (3.5, 4.5), "big": (6.5, 7.5)}
RELATIONS = ("left of", "right of", "above", "below")
COUNT_WORDS = {1: "a", 2: "two", 3: "three"}
SCENE_CANVAS = 32


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
