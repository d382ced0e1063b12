"""Sweep grids: YAML files naming the sampler settings to evaluate on one checkpoint.

A grid file holds shared settings and one or more cartesian products::

    n: 1000            # samples per cell
    seed: 0            # the same seed in every cell
    ref_n: 5000        # reference: a fixed subset of the real test split (default: all of it)
    batch_size: 250
    grids:             # the union of these products (or one product under `grid:`)
      - sampler: [euler, maskgit]
        steps: [4, 8, 16, 32, 64]
        cfg: [2.0]
        argmax: [true, false]     # Euler only: last-step arg-max
        gumbel: [linear, none]    # MaskGIT only: choice noise
      - sampler: [euler]
        steps: [16]
        temperature: [0.6, 0.8, 1.0, 1.2]

Every key is a sampler setting (a scalar or a list of values): ``sampler`` (euler,
maskgit for masked models; prime for MDM-Prime models), ``steps``, ``temperature``,
``cfg``, ``schedule``, ``top_p``, ``top_k``, ``argmax``, ``update`` (Euler and Prime),
``adaptive``, ``corrector`` (Euler), ``gumbel``,
``gumbel_temperature``, ``cfg_schedule`` (MaskGIT). A setting that does not apply to a
cell's sampler is dropped, and cells that become identical are evaluated once. Unset
settings take the sampler's default, except ``schedule`` (the run's training schedule)
and ``cfg`` (the run's ``sample.cfg``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._checks import check_mapping
from ..samplers.settings import SETTINGS, coerce_setting

__all__ = ["Cell", "SweepSpec", "load_grid", "expand_grid", "SETTINGS"]

TOP_LEVEL = {"n", "seed", "batch_size", "grid", "grids", "ref", "ref_n", "extractor", "save_samples"}


@dataclass(frozen=True)
class Cell:
    """One sampler configuration of a sweep; ``settings`` holds only the keys that apply."""

    settings: tuple[tuple[str, Any], ...]

    @property
    def sampler(self) -> str:
        return str(dict(self.settings)["sampler"])

    def as_dict(self) -> dict[str, Any]:
        return dict(self.settings)

    @property
    def key(self) -> str:
        """A stable id of the cell's settings (12 hex digits)."""
        blob = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class SweepSpec:
    """A parsed grid file."""

    cells: list[Cell]
    n: int = 1000
    seed: int = 0
    batch_size: int = 250
    ref: str | None = None
    ref_n: int | None = None
    extractor: str = "efficientnet-lite0"
    save_samples: bool = False
    source: dict[str, Any] = field(default_factory=dict)


def _coerce(key: str, value: Any) -> Any:
    return coerce_setting(key, value, "grid setting")


def expand_grid(product: dict[str, Any]) -> list[Cell]:
    """The cells of one product (settings that do not apply to a cell's sampler dropped)."""
    if not isinstance(product, dict) or not product:
        raise ValueError(f"a grid must be a non-empty mapping of settings, got {product!r}")
    for key in product:
        if key not in SETTINGS:
            raise ValueError(f"unknown grid setting {key!r}; valid settings: {', '.join(SETTINGS)}")
    keys = list(product)
    values = [v if isinstance(v, list) else [v] for v in product.values()]
    for key, vals in zip(keys, values, strict=True):
        if not vals:
            raise ValueError(f"grid setting {key} has an empty list of values")
    cells: list[Cell] = []
    seen: set[Cell] = set()
    for combo in itertools.product(*values):
        settings = {k: _coerce(k, v) for k, v in zip(keys, combo, strict=True)}
        sampler = settings.setdefault("sampler", "euler")
        if sampler not in SETTINGS["sampler"][0]:
            raise ValueError(f"unknown sampler {sampler!r} in grid; choose one of {', '.join(SETTINGS['sampler'][0])}")
        kept = tuple(sorted((k, v) for k, v in settings.items() if sampler in SETTINGS[k][0]))
        cell = Cell(kept)
        if cell not in seen:
            seen.add(cell)
            cells.append(cell)
    return cells


def check_int(what: str, value: Any, minimum: int) -> int:
    """``value`` if it is an integer (not a bool) >= ``minimum``, else ``ValueError`` naming ``what`` and the value."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


def load_grid(path: str | Path) -> SweepSpec:
    """Parse and validate a grid YAML file."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"grid file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"grid file {str(p)!r} is not valid YAML: {err}") from None
    data = check_mapping(data, TOP_LEVEL, f"grid file {str(p)!r}", "a mapping")
    if ("grid" in data) == ("grids" in data):
        raise ValueError("a grid file needs exactly one of 'grid' (one product) or 'grids' (a list of products)")
    products = [data["grid"]] if "grid" in data else data["grids"]
    if not isinstance(products, list) or not products:
        raise ValueError("'grids' must be a non-empty list of products")
    cells: list[Cell] = []
    seen: set[Cell] = set()
    for product in products:
        for cell in expand_grid(product):
            if cell not in seen:
                seen.add(cell)
                cells.append(cell)
    spec = SweepSpec(cells=cells, source=data)
    for key, minimum in (("n", 1), ("seed", 0), ("batch_size", 1)):
        if key in data:
            setattr(spec, key, check_int(f"grid file {key}", data[key], minimum))
    if spec.n < 2:
        raise ValueError(f"grid file n must be >= 2 (Fréchet distance needs a covariance), got {spec.n}")
    if "ref_n" in data:
        spec.ref_n = check_int("grid file ref_n", data["ref_n"], 2)
    for key in ("ref", "extractor"):
        if key in data:
            if not isinstance(data[key], str):
                raise ValueError(f"grid file {key} must be a string, got {data[key]!r}")
            setattr(spec, key, data[key])
    if "save_samples" in data:
        if not isinstance(data["save_samples"], bool):
            raise ValueError(f"grid file save_samples must be true or false, got {data['save_samples']!r}")
        spec.save_samples = data["save_samples"]
    return spec
