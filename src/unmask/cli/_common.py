"""What the commands share: the usage error, the flags several commands take (sampler flags,
device / weights, progress) and the one routing of sampler flags to a sampler."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import UserError

__all__ = [
    "UsageError",
    "run_config",
    "SAMPLER_FLAGS",
    "add_device_flags",
    "add_progress_flag",
    "add_sampler_flags",
    "apply_recorded_settings",
    "check_sampler",
    "chosen_sampler",
    "configured_sampler",
    "print_report",
    "progress_on",
    "sampler_from_flags",
    "split_items",
    "torch_device_type",
]


class UsageError(UserError):
    """Bad input on the command line: ``unmask: error: …`` and exit status 2."""


def torch_device_type(name: str) -> str:
    """ "cuda" for CUDA device names, else "cpu" (the process-group backend follows it)."""
    return "cuda" if name.startswith("cuda") else "cpu"


def split_items(items: list[str]) -> tuple[str | None, list[str]]:
    """``[PRESET] [section.key=value ...]`` as (preset or None, overrides)."""
    preset = None
    overrides = []
    for item in items:
        if "=" in item:
            overrides.append(item)
        elif preset is None:
            preset = item
        else:
            raise UsageError(f"more than one preset given ({preset!r} and {item!r})")
    return preset, overrides


def progress_on(args: argparse.Namespace) -> bool:
    """--progress / --no-progress, by default on when stderr is a terminal."""
    return bool(args.progress) if args.progress is not None else sys.stderr.isatty()


def print_report(out: str | None, report: dict[str, Any]) -> int:
    """Print ``report`` as indented JSON and, with ``out``, also write it there (atomically)."""
    text = json.dumps(report, indent=2)
    if out:
        from .._io import atomic_write_text

        atomic_write_text(out, text + "\n")
    print(text)
    return 0


def add_progress_flag(p: argparse.ArgumentParser, help: str | None = None) -> None:
    """--progress / --no-progress (read by ``progress_on``)."""
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help=help)


def add_report_flags(p: argparse.ArgumentParser, help: str = "also write the JSON report here") -> None:
    """--out (where ``print_report`` also writes the report) and --progress, for the commands that print
    a JSON report."""
    p.add_argument("--out", default=None, help=help)
    add_progress_flag(p)


def add_ckpt_flag(p: argparse.ArgumentParser, help: str = "checkpoint or run directory") -> None:
    """--ckpt, required: what a command that loads a trained model loads it from."""
    p.add_argument("--ckpt", required=True, help=help)


def add_device_flags(p: argparse.ArgumentParser, *, weights: bool = True) -> None:
    """--weights (EMA or raw) and --device, for the commands that load a model."""
    if weights:
        p.add_argument("--weights", choices=("ema", "raw"), default="ema")
    p.add_argument("--device", default="cpu")


def add_sampler_flags(p: argparse.ArgumentParser) -> None:
    """The sampler flags of unmask sample and unmask inpaint (checked by ``sampler_from_flags``)."""
    p.add_argument(
        "--defaults",
        action="store_true",
        help="ignore the run's recorded sampler settings (sampling.json from unmask sweep --best): "
        "use the run's config",
    )
    p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the run's sample.steps)")
    p.add_argument("--cfg", type=float, default=None, help="classifier-free guidance scale >= 0")
    p.add_argument("--temperature", type=float, default=None, help="softmax temperature > 0 (logits / T)")
    p.add_argument("--top-p", dest="top_p", type=float, default=None, help="nucleus mass in (0, 1]")
    p.add_argument("--top-k", dest="top_k", type=int, default=None, help="keep the k most likely tokens (0 = off)")
    p.add_argument(
        "--sampler",
        choices=("euler", "maskgit", "prime", "autoregressive"),
        default=None,
        help="Euler (Algorithm 1) or MaskGIT-style for masked models; prime for MDM-Prime models, "
        "autoregressive for causal ones (default: the one that fits the model)",
    )
    p.add_argument(
        "--schedule",
        default=None,
        help="Euler: sampling schedule (default: the training one); MaskGIT: unmask-count schedule (default: cosine)",
    )
    p.add_argument("--update", choices=("exact", "euler"), default=None, help="Euler step rule (see EulerSampler)")
    p.add_argument(
        "--argmax", choices=("on", "off"), default=None, help="Euler: last-step argmax for tokens still masked"
    )
    p.add_argument("--adaptive", action="store_true", default=None, help="Euler: adaptive step h = min(1/S, (1-κ)/κ̇)")
    p.add_argument("--corrector", type=float, default=None, help="Euler: re-masking strength η >= 0 (0 = off)")
    p.add_argument("--gumbel", choices=("linear", "warmup", "none"), default=None, help="MaskGIT: choice noise")
    p.add_argument(
        "--gumbel-temperature",
        dest="gumbel_temperature",
        type=float,
        default=None,
        help="MaskGIT: initial Gumbel scale (default 4.5)",
    )
    p.add_argument(
        "--cfg-schedule",
        dest="cfg_schedule",
        choices=("constant", "linear"),
        default=None,
        help="MaskGIT: constant CFG or a ramp from 1 to --cfg",
    )


#: sampler flag (its argparse dest) → the sampler option it sets (``unmask.samplers.sampler_options``)
SAMPLER_FLAGS = {
    "steps": "steps",
    "cfg": "cfg",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "schedule": "schedule",
    "update": "update",
    "argmax": "final_argmax",
    "adaptive": "adaptive",
    "corrector": "corrector",
    "gumbel": "gumbel",
    "gumbel_temperature": "gumbel_temperature",
    "cfg_schedule": "cfg_schedule",
}


def sampler_from_flags(args: argparse.Namespace, model: Any, config: Any, sampler: str) -> Any:
    """The sampler ``sampler`` with the sampler flags given (the run's ``sample`` settings for the
    others). A flag given to a sampler without that option (``sampler_options``), or CFG for an
    unconditional model, is a usage error naming the flag; so is a value the sampler refuses. The one
    routing of unmask sample (class labels, captions) and unmask inpaint."""
    from ..inference import sampler_from_config
    from ..models import TextTransformer
    from ..samplers import sampler_options

    given = {dest: getattr(args, dest) for dest in SAMPLER_FLAGS if getattr(args, dest) is not None}
    if "argmax" in given:
        given["argmax"] = given["argmax"] == "on"
    if model.num_classes == 0 and not isinstance(model, TextTransformer):
        if given.get("cfg", 1.0) != 1.0:
            raise UsageError(f"--cfg {given['cfg']} needs a class-conditional model; this one is unconditional")
        given["cfg"] = 1.0
    takes = sampler_options(sampler)
    for dest in given:
        if SAMPLER_FLAGS[dest] not in takes:
            raise UsageError(f"--{dest.replace('_', '-')} does not apply to the {sampler} sampler")
    try:
        return sampler_from_config(config, sampler, **{SAMPLER_FLAGS[k]: v for k, v in given.items()})
    except ValueError as err:  # a value the sampler refuses (e.g. --temperature 0)
        raise UsageError(str(err)) from None


def check_sampler(model: Any, sampler: str) -> None:
    """A usage error when the sampler asked for cannot draw from ``model`` (``check_sampler_fits``)."""
    from ..inference import check_sampler_fits

    try:
        check_sampler_fits(model, sampler)
    except ValueError as err:  # names the sampler that fits: --sampler is the user's choice
        raise UsageError(str(err)) from None


def configured_sampler(model: Any, config: Any) -> str:
    """The run's ``sample.sampler`` when it fits the model, else the sampler that fits it."""
    from ..inference import model_sampler

    fits = model_sampler(model)
    chosen = config.sample.sampler
    return str(chosen) if chosen is not None and (chosen == fits or {chosen, fits} <= {"euler", "maskgit"}) else fits


def chosen_sampler(args: argparse.Namespace, model: Any, config: Any) -> tuple[str, Path | None]:
    """The sampler of unmask sample and unmask inpaint: --sampler, else the run's when it fits ``model``
    (``configured_sampler``), checked to fit; and the recorded ``sampling.json`` that filled the
    sampler flags not given (``apply_recorded_settings``; None with --defaults or none recorded)."""
    recorded = None if args.defaults else apply_recorded_settings(args)
    sampler_name = args.sampler or configured_sampler(model, config)
    check_sampler(model, sampler_name)
    return sampler_name, recorded


def apply_recorded_settings(args: argparse.Namespace) -> Path | None:
    """Fill the sampler flags the user did not give from the checkpoint's recorded ``sampling.json``
    (``unmask sweep --best``), when it exists and is for the sampler asked for (or none was asked
    for); returns the file used, or None. A flag given on the command line always wins."""
    from ..samplers import read_sampling, sampling_file

    path = sampling_file(args.ckpt)
    if path is None:
        return None
    try:
        record = read_sampling(path)
    except ValueError as err:  # a hand-edited or stale sampling.json: named in the message
        raise UsageError(str(err)) from None
    settings = dict(record["settings"])
    if args.sampler is not None and args.sampler != settings["sampler"]:
        print(
            f"note: {path} records settings for the {settings['sampler']} sampler; drawing with "
            f"--sampler {args.sampler} and the run's config instead",
            file=sys.stderr,
        )
        return None
    for key, value in settings.items():
        if getattr(args, key, None) is None:
            setattr(args, key, ("on" if value else "off") if key == "argmax" else value)
    given = ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))
    print(
        f"sampler settings from {path} (best {record.get('metric')} = {record.get('value')}): {given}; "
        "flags override them, --defaults ignores them",
        file=sys.stderr,
    )
    return path


#: the named regions of ``--mask`` (unmask inpaint, image and joint models)
REGION_HELP = ("centre", "border:K", "half:left|right|top|bottom", "random-half:SEED")


def write_npz(path: Path, **arrays: Any) -> None:
    """``arrays`` as an .npz at ``path``, atomically (its folder made)."""
    import io

    import numpy as np

    from .._io import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


#: The exit status of ``unmask train`` and ``unmask tokenizer train`` when a stop signal (Ctrl-C, SIGTERM) ended the
#: run: its checkpoint is saved and ``--resume`` goes on, but it is not finished, so a script under ``set -e`` (or an
#: ``&&`` chain) stops there instead of evaluating a half-trained model. 128 + SIGINT, as a shell reports Ctrl-C.
EXIT_INTERRUPTED = 130


def train_report(result: Any, **extra: Any) -> str:
    """The JSON line ``unmask train`` and ``unmask tokenizer train`` print: the run, its step, the last
    loss (null when no step ran: NaN is not JSON), the seconds, then ``extra``."""
    loss = result.loss if math.isfinite(result.loss) else None
    report = {"run": str(result.run_dir), "step": result.step, "loss": loss, "seconds": round(result.seconds, 1)}
    return json.dumps({**report, **extra})


def run_config(args: argparse.Namespace, config_cls: Any, load_preset: Any) -> Any:
    """The config of ``unmask train`` / ``unmask tokenizer train``: on ``--resume`` without a preset, the
    run's saved config.json with the command's overrides (``config_cls.from_dict``), else
    ``load_preset(preset, overrides)``."""
    from ..config import load_saved

    preset, overrides = split_items(args.items)
    saved = Path(args.out) / "config.json"
    if args.resume and preset is None and saved.is_file():
        return load_saved(config_cls, json.loads(saved.read_text()), overrides)
    return load_preset(preset, overrides)
