"""What a model family is, and the registry the trainer, inference, the CLI and ``unmask info`` ask.

A **model family** (token grid, multi-stream, video, text-to-image, …) knows everything that used
to be a branch spread over the library: which run configs are its own (``matches``), how it builds
its backbone and training objective from a config and the data, the sampler that draws from it by
default, how a checkpoint's backbone record becomes its model again, how its preview is drawn and
how ``unmask info`` describes it. ``ModelFamily`` holds those answers; each family is one module of
``unmask.training.families`` that subclasses it, and one ``register_family`` line puts it in
``FAMILIES``. A run's family is ``family_for(config)``; a checkpoint's is ``family_of_backbone``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import torch
from torch import Tensor, nn

from ..._io import atomic_write_text
from ...config import Config
from ...losses import Objective
from ...models.initialization import with_legacy_init
from ...samplers import MultiStreamSampler, Sampler
from ...visualize import save_grid
from ..batches import AnyDataset

__all__ = [
    "AnySampler",
    "ModelFamily",
    "FAMILIES",
    "register_family",
    "unregister_family",
    "family_for",
    "family_named",
    "family_of_backbone",
    "preview_classes",
    "timestep_kind",
    "grid_backbone_fields",
]


#: What a family's default sampler is: a ``Sampler`` of one grid, or the joint sampler of streams.
AnySampler = Sampler | MultiStreamSampler


def preview_classes(num_classes: int, rows: int = 10) -> list[int]:
    """The classes shown in a preview grid: all of them, or ``rows`` evenly spaced ones (captions)."""
    if num_classes <= rows:
        return list(range(num_classes))
    return [i * num_classes // rows for i in range(rows)]


def timestep_kind(backbone: dict[str, Any]) -> str:
    """How ``unmask info`` names the time input of a backbone record: ETM or ITM."""
    return "ETM (explicit timestep)" if backbone.get("timestep") else "ITM (implicit timestep)"


def grid_backbone_fields(backbone: dict[str, Any]) -> dict[str, Any]:
    """The config fields of a grid backbone's checkpoint record (a copy): the grid as a tuple, and
    ``init="uvit"`` for a record without ``init`` (it was U-ViT-initialised)."""
    fields = with_legacy_init(dict(backbone))
    fields["grid"] = tuple(fields["grid"])
    return fields


class ModelFamily(ABC):
    """One kind of model: how a run of it is built, sampled, reloaded and described.

    Subclasses set ``name`` (unique), ``kind`` (the ``"kind"`` its backbone records carry in a
    checkpoint; None for the token grid, whose records predate the key) and override the methods
    whose default does not fit (the token grid's ``TokenGridFamily`` is the usual base: its
    objective and default sampler fit every single-grid model). The defaults here: no logged
    streams, scoring the model as it is, reloading weights as saved and the one-grid preview. ``fallback``: the
    family of every config no other family claims (the token grid; exactly one).
    """

    name: str = ""
    kind: str | None = None
    fallback: bool = False

    # -- a run ---------------------------------------------------------------------------------

    @abstractmethod
    def matches(self, config: Config) -> bool:
        """Whether ``config`` describes a run of this family."""
        raise NotImplementedError

    @abstractmethod
    def build_model(self, config: Config, dataset: AnyDataset) -> nn.Module:
        """The backbone for ``config`` on ``dataset`` (vocabulary, grid and classes from the data)."""
        raise NotImplementedError

    @abstractmethod
    def build_objective(self, config: Config, dataset: AnyDataset) -> Objective:
        """The training objective of ``config`` on ``dataset``."""
        raise NotImplementedError

    @abstractmethod
    def default_sampler(self, model: Any, config: Config, **overrides: Any) -> AnySampler:
        """The run's ``sample`` settings as a sampler that draws from ``model`` (``overrides`` win)."""
        raise NotImplementedError

    def stream_names(self, dataset: AnyDataset) -> list[str]:
        """The names of the streams whose losses are logged one by one (none: one token grid)."""
        return []

    def scored_model(self, model: Any, dataset: AnyDataset, config: Config) -> Any:
        """``model`` as held-out data is scored with it (a text model bound to ``dataset``'s captions)."""
        return model

    # -- a checkpoint --------------------------------------------------------------------------

    def owns_backbone(self, backbone: dict[str, Any]) -> bool:
        """Whether a checkpoint's backbone record (``model.config.to_dict()``) is this family's: by
        default, when its ``"kind"`` is the family's ``kind`` (None: the record has none)."""
        return backbone.get("kind") == self.kind

    @abstractmethod
    def model_from_backbone(self, backbone: dict[str, Any]) -> nn.Module:
        """The (untrained) model a checkpoint's backbone record describes."""
        raise NotImplementedError

    def checkpoint_weights(self, weights: dict[str, Tensor]) -> dict[str, Tensor]:
        """A checkpoint's saved weights as ``model_from_backbone``'s model names them."""
        return weights

    @abstractmethod
    def describe(self, backbone: dict[str, Any]) -> list[str]:
        """The lines ``unmask info`` prints about a backbone record of this family."""
        raise NotImplementedError

    # -- a preview -----------------------------------------------------------------------------

    def preview(self, model: Any, dataset: AnyDataset, config: Config, path: Path, device: torch.device) -> Path:
        """A preview of ``model`` at a checkpoint with a fixed seed and the run's sample settings.

        The default: ``sample.per_class`` samples per class (rows = classes, at most 10, evenly
        spaced), or 10 rows for an unconditional model, decoded by the data's tokenizer and handed to
        ``save_preview``; text data gives ``per_class`` samples in a .txt beside where the PNG would be.
        Returns the file written.
        """
        sc = config.sample
        sampler = cast(Sampler, self.default_sampler(model, config))  # a one-grid preview: a one-grid sampler
        gen = torch.Generator(device=device).manual_seed(0)
        text = dataset.tokenizer.kind == "text"
        if model.num_classes > 0:
            rows = preview_classes(model.num_classes)
            labels: Tensor | None = torch.tensor(rows, device=device).repeat_interleave(sc.per_class)
            out = sampler.sample(model, labels=labels, generator=gen, device=device)
        else:
            out = sampler.sample(model, sc.per_class * (1 if text else 10), generator=gen, device=device)
        decoded = dataset.tokenizer.decode(out.tokens.cpu())
        if text:
            out_path = path.with_suffix(".txt")
            out_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out_path, "\n\n".join(f"--- sample {i} ---\n{s}" for i, s in enumerate(decoded)) + "\n")
            return out_path
        return self.save_preview(np.asarray(decoded), path, config)

    def save_preview(self, decoded: np.ndarray, path: Path, config: Config) -> Path:
        """Write decoded preview samples (images: a grid, ``per_class`` to a row) to ``path``."""
        return save_grid(decoded, path, nrow=config.sample.per_class)


_F = TypeVar("_F", bound=ModelFamily)

#: name → family, in the order they were registered; ``family_for`` asks them in this order.
FAMILIES: dict[str, ModelFamily] = {}


def register_family(family: _F) -> _F:
    """Add ``family`` to ``FAMILIES`` (its ``name`` must be new); returns it.

    A family registered later is asked after the earlier ones, except that the fallback (the token
    grid) is always asked last. ``ValueError`` for a taken name or a second fallback.
    """
    if not family.name:
        raise ValueError(f"a model family needs a name, got {family!r}")
    if family.name in FAMILIES:
        raise ValueError(f"model family {family.name!r} is already registered")
    if family.fallback and any(f.fallback for f in FAMILIES.values()):
        raise ValueError(f"model family {family.name!r} cannot be a second fallback")
    FAMILIES[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove the family ``name`` from ``FAMILIES`` (``KeyError`` when it is not there)."""
    del FAMILIES[name]


def _in_order() -> list[ModelFamily]:
    """The registered families, the fallback last."""
    return sorted(FAMILIES.values(), key=lambda f: f.fallback)


def family_for(config: Config) -> ModelFamily:
    """The family of the run ``config`` describes: the first registered that matches, else the fallback."""
    for family in _in_order():
        if family.fallback or family.matches(config):
            return family
    raise LookupError("no model family matches this config and none is registered as the fallback")


def family_of_backbone(backbone: dict[str, Any]) -> ModelFamily:
    """The family a checkpoint's backbone record belongs to; ``ValueError`` for an unknown ``kind``."""
    for family in _in_order():
        if family.owns_backbone(backbone):
            return family
    raise ValueError(f"no model family knows backbones of kind {backbone.get('kind')!r}")


def family_named(name: str) -> ModelFamily:
    """The registered family ``name``; ``KeyError`` naming the registered ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; registered: {', '.join(FAMILIES)}") from None
