"""Shared fixtures: an isolated cache, and one tiny trained run reused by several tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Derived artefacts (classifiers) go to a per-session directory, not ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("UNMASK_CACHE", str(tmp_path_factory.mktemp("unmask-cache")))
    yield
    mp.undo()


def _load_script(path: Path, name: str) -> ModuleType:
    """The module of a script that is not in a package (experiments/, benchmarks/), run as ``python path``
    would see it: its own folder on ``sys.path`` while it loads."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


@pytest.fixture(scope="session")
def load_script() -> Callable[[Path, str], ModuleType]:
    """``load_script(path, name)``: a script of experiments/ or benchmarks/ as a module (``_load_script``)."""
    return _load_script


@pytest.fixture(scope="module")
def one_thread() -> None:
    """For modules of tiny-tensor tests (``pytestmark = pytest.mark.usefixtures("one_thread")``):
    one intra-op thread is as fast there and far less sensitive to other work on a
    shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20-step run of the 'tiny' preset (checkpoints at steps 10 and 20)."""
    from unmask.config import load_config
    from unmask.training import train

    out = tmp_path_factory.mktemp("tiny-run") / "run"
    train(load_config("tiny"), out, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_vq_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-step ``tiny-vq`` tokenizer run on digits (8×8 → 4×4 codes of 16); holds tokenizer.safetensors."""
    from unmask.config import load_tokenizer_config
    from unmask.training import train_tokenizer

    out = tmp_path_factory.mktemp("tiny-vq") / "run"
    train_tokenizer(load_tokenizer_config("tiny-vq"), out, progress=False)
    return out


@pytest.fixture(scope="session")
def digit_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Digits through the pixel tokenizer at 17 levels (the in-memory digits tokens), shards of 500.
    Shared: tests that change shards work on a copy."""
    from unmask.data.pretokenize import tokenize_dataset

    out = tmp_path_factory.mktemp("shards") / "digits-pixel"
    tokenize_dataset("pixel:17", "digits", out, shard_size=500)
    return out


@pytest.fixture()
def run_cli(capsys: pytest.CaptureFixture[str]):
    """``run_cli(args) -> (exit status, stdout, stderr)`` of ``unmask ARGS`` run in-process (an argparse
    ``SystemExit`` counts as its code)."""
    from unmask.cli import main

    def run(args: list[str]) -> tuple[int, str, str]:
        try:
            code = main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


#: a 2-step run of any preset on the tiny backbone, batch 8, with its checkpoint at step 2
TINY_RUN = (
    "model.size=tiny",
    "train.steps=2",
    "train.ckpt_every=2",
    "train.log_every=1",
    "train.batch_size=8",
    "train.eval_batches=1",
    "optim.warmup_steps=1",
    "sample.steps=2",
)


@pytest.fixture(scope="session")
def tiny_overrides() -> list[str]:
    """``TINY_RUN``: the overrides that make any preset's run take seconds."""
    return list(TINY_RUN)


@pytest.fixture(scope="module")
def shapes_sizes() -> Iterator[Callable[..., None]]:
    """``shapes_sizes(train=64, test=16)`` shrinks the shapes splits for the module (each size has its own
    cache file, so the renders take a second); undone when the module ends."""
    from unmask.data import shapes as shapes_module

    mp = pytest.MonkeyPatch()

    def shrink(**sizes: int) -> None:
        for split, n in sizes.items():
            mp.setitem(shapes_module.SPLIT_SIZES, split, n)

    yield shrink
    mp.undo()
