"""Run configuration: dataclasses, named YAML presets and ``section.key=value`` overrides.

A run is described by one ``Config``. Presets are YAML files in ``unmask/configs/``
(``unmask train digits-etm``) or any YAML path; they hold a partial mapping
``{section: {key: value}}`` applied over the dataclass defaults. Overrides on the
command line use dotted keys (``train.steps=500 model.timestep=true``); values are
parsed as YAML scalars. Unknown sections or keys and values of the wrong type are
errors that name the offending key. The resolved config (every value concrete) is
what runs save as JSON next to their checkpoints.

The modules, each with one job:

* ``schema``: the sections of a run config (fields, types, defaults; fixed choices as ``Literal``);
* ``run``: ``Config``, the sections together, with ``resolve`` (fill derived values) and ``validate``;
* ``rules``: what a config must satisfy beyond its types, one check per concern and model family;
* ``overrides``: typed merging of mappings and override strings, for any config of dataclass sections;
* ``presets``: the preset folders and the one loader of run and tokenizer configs;
* ``tokenizer``: the run config of ``unmask tokenizer train``;
* ``errors``: ``ConfigError``.
"""

from __future__ import annotations

from .errors import ConfigError
from .overrides import apply_overrides
from .presets import load_config, load_saved, load_tokenizer_config, preset_names, tokenizer_preset_names
from .run import DEFAULT_PRESET, Config
from .schema import DataConfig, LossConfig, ModelConfig, OptimConfig, PathConfig, SampleConfig, TrainConfig
from .tokenizer import TokenizerDataConfig, TokenizerRunConfig, TokenizerTrainConfig

__all__ = [
    "Config",
    "DataConfig",
    "ModelConfig",
    "PathConfig",
    "LossConfig",
    "OptimConfig",
    "TrainConfig",
    "SampleConfig",
    "ConfigError",
    "load_config",
    "preset_names",
    "apply_overrides",
    "DEFAULT_PRESET",
    "TokenizerRunConfig",
    "TokenizerDataConfig",
    "TokenizerTrainConfig",
    "load_tokenizer_config",
    "tokenizer_preset_names",
    "load_saved",
]
