"""Named YAML presets and the one loader of run and tokenizer configs.

A preset is a YAML file in ``unmask/configs/`` (run configs) or ``unmask/configs/tokenizers/``
(tokenizer runs), or any YAML path; it holds a partial mapping ``{section: {key: value}}``
applied over the dataclass defaults. Loading is the same for both kinds of config:
defaults ← preset ← overrides (``unmask.config.overrides``), then ``resolve`` (fill derived
values), then ``validate`` (check, change nothing).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from .errors import ConfigError
from .overrides import apply_overrides, merge
from .run import DEFAULT_PRESET, Config
from .tokenizer import DEFAULT_TOKENIZER_PRESET, TokenizerRunConfig

__all__ = ["preset_names", "tokenizer_preset_names", "load_config", "load_tokenizer_config", "load_saved"]


class _Loadable(Protocol):
    """What the loader needs of a config class's instances."""

    preset: str

    def resolve(self) -> Any: ...

    def validate(self) -> Any: ...


L = TypeVar("L", bound=_Loadable)


def _preset_dir(kind: str = "") -> Path:
    """The folder of the shipped presets of ``kind`` ("" for run configs, "tokenizers")."""
    return Path(str(resources.files("unmask") / "configs")) / kind


def _names(kind: str) -> list[str]:
    """The names of the shipped presets of ``kind``, sorted."""
    return sorted(p.stem for p in _preset_dir(kind).glob("*.yaml"))


def preset_names() -> list[str]:
    """Names of the presets shipped in ``unmask/configs``."""
    return _names("")


def tokenizer_preset_names() -> list[str]:
    """Names of the tokenizer-training presets shipped in ``unmask/configs/tokenizers``."""
    return _names("tokenizers")


def _load(cfg: L, name: str, kind: str, what: str, overrides: list[str] | None) -> L:
    """``cfg`` (the defaults) ← preset ``name`` (a shipped preset of ``kind`` or a YAML path) ←
    overrides, resolved and validated; ``what`` names the kind of preset in errors."""
    path = Path(name)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = _preset_dir(kind) / f"{name}.yaml"
        if not path.is_file():
            choices = ", ".join(_names(kind))
            raise ConfigError(f"unknown {what} {name!r}; choose one of {choices} or give a YAML file")
    with open(path) as fh:
        data = yaml.safe_load(fh) or {}
    merge(cfg, data)
    cfg.preset = name
    apply_overrides(cfg, overrides or [])
    cfg.resolve()
    cfg.validate()
    return cfg


def load_config(preset: str | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults ← preset (name or YAML path) ← overrides, resolved (``Config.resolve``) and validated."""
    return _load(Config(), preset or DEFAULT_PRESET, "", "preset", overrides)


def load_tokenizer_config(preset: str | None = None, overrides: list[str] | None = None) -> TokenizerRunConfig:
    """Defaults ← tokenizer preset (name or YAML path; default ``fmnist-vq``) ← overrides, validated."""
    return _load(TokenizerRunConfig(), preset or DEFAULT_TOKENIZER_PRESET, "tokenizers", "tokenizer preset", overrides)


def load_saved(config_cls: Any, data: dict[str, Any], overrides: list[str] | None = None) -> Any:
    """A saved config (the dict of a run's ``config.json``, rebuilt by ``config_cls.from_dict``) with
    ``overrides`` applied, resolved and validated: the loader of ``--resume`` without a preset."""
    cfg = apply_overrides(config_cls.from_dict(data), overrides or [])
    cfg.resolve()
    return cfg.validate()
