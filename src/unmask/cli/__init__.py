"""The ``unmask`` command: argument parsing and printing over the Python API, one module per command
group (``train``, ``sample``, ``inpaint``, ``evaluate``, ``info``, ``serve``, ``tokens``, ``zoo``,
``presets``; shared flags and the sampler-flag routing in ``_common``).

    unmask train [PRESET] [section.key=value ...] --out DIR [--resume]
    unmask sample --ckpt DIR --out FILE.npz [--n N] [--labels 0,1,…|--label K] [--steps S] ...
                  [--prefix-frames K [--prefix-from test|train|PATH]]   # video models: continue clips
                  [--mp4]                                               # video models: an .mp4 beside the .gif
                  [--captions "two squares" … | --captions-file F]      # text-to-image models
    unmask inpaint --ckpt DIR --from test:17|IMAGE.png --mask centre|border:K|… --out FILE.npz [--samples K]
                   [--stream NAME [--generate NAMES]]                  # joint models: a region of one stream
                   [--frames 4:|2,5 [--mask …]] (--from a .npy clip)    # video models: frames (4: = continuation)
    unmask eval SAMPLES.npz [--ref DATASET]
    unmask adherence SAMPLES.npz [--ref scenes|fashion-mnist] [--no-fd]  # caption adherence
    unmask sweep --ckpt DIR --grid FILE.yaml --out DIR
    unmask nll --ckpt DIR [--split test] [--repeats R]
    unmask joint --ckpt DIR --mode joint|A->B --out DIR [--n N] [--steps S] [--cfg W] [--samples K] ...
    unmask info DIR
    unmask presets
    unmask tokenizer train [PRESET] [section.key=value ...] --out DIR [--resume]
    unmask tokenizer eval --tokenizer T [--dataset D] [--n N] [--ref-n R]
    unmask tokenize --tokenizer T --dataset D --out DIR [--workers N] [--shard-size N]
    unmask zoo export --ckpt RUN --out zoo/NAME | unmask zoo list [ROOT]
    unmask serve CKPT [--port P]

Exit status: 0 on success; 2 with one line ``unmask: error: …`` for a usage error or any of the
library's user-facing errors (``user_errors()``: ``unmask.errors.UserError`` and its subclasses such
as ``ConfigError``, a missing checkpoint, dataset or file); 3 when training diverged; 1 for anything
else, which is a bug in unmask: ``unmask: internal error: …``, a request to report it, and the
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from . import evaluate, info, inpaint, presets, sample, serve, tokens, train, zoo
from ._common import UsageError

__all__ = ["main", "build_parser", "user_errors", "UsageError"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unmask", description="Discrete interpolants: train, sample, inspect.")
    sub = p.add_subparsers(dest="command", required=True)
    for module in (train, sample, inpaint, evaluate, info, serve, tokens, zoo, presets):
        module.register(sub)
    return p


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that report a problem with the user's input or environment, not a bug: exit 2."""
    from ..data import DatasetNotAvailable
    from ..errors import UserError
    from ..text_encoders.pretrained import TextEncoderUnavailable
    from ..tokenizers.text import TokenizerNotAvailable
    from ..training import CheckpointError, RunDirLocked

    return (
        UserError,  # UsageError, ConfigError, TokenizerError, data file errors, checked values (unmask._checks)
        CheckpointError,
        DatasetNotAvailable,
        RunDirLocked,
        TokenizerNotAvailable,
        TextEncoderUnavailable,
        FileNotFoundError,
        FileExistsError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ..training import TrainingDiverged

    expected = user_errors()
    # under torchrun every rank reports its own error, tagged with its rank
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    tag = f"[rank {os.environ.get('RANK', '0')}/{world}] " if world > 1 else ""
    try:
        return int(args.func(args))
    except BrokenPipeError:  # output piped into e.g. `head`
        sys.stderr.close()
        return 0
    except TrainingDiverged as err:
        parser.exit(3, f"unmask: training diverged: {tag}{err}\n")
    except expected as err:
        parser.exit(2, f"unmask: error: {tag}{err}\n")
    except Exception as err:  # noqa: BLE001 - anything else is a bug: say so, with the traceback
        print(
            f"unmask: internal error: {tag}{type(err).__name__}: {err}\n"
            "This is a bug in unmask, not a problem with what you gave it; please report it "
            "(the command and the traceback below).",
            file=sys.stderr,
        )
        traceback.print_exc(file=sys.stderr)
        return 1
    return 0
