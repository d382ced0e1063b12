"""The arrows between unmask's layers point one way, and no module imports itself in a loop.

Every module under ``src/unmask`` is parsed with ``ast``; every import counts, at any depth
(a function-level import runs sooner or later, and it creates the same dependency). Importing
``unmask.a.b`` also runs ``unmask/a/__init__.py``, so that package counts as imported too.

A module may import its own package and any layer *strictly below* its own. Layers on one rank
are siblings that know nothing of each other (``schedules`` and ``models``: a model knows no
schedule). The order follows ARCHITECTURE.md and docs/design.md ("Layers and arrows"):

    base (errors; then _checks, _io, _lock, paths)
    schedules, models                        models import nothing else of unmask
    interpolants
    prime
    losses
    samplers, tokenizers, text_encoders
    data
    eval, visualize
    config                                   reads choices from the library to check them
    training
    inference                                task code: load a checkpoint, generate
    t2i, editing, joint                      task code on top of generation
    sweep, serve, zoo
    cli
    __main__
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Top-level name under ``unmask`` → rank; a module may import only lower ranks (or its own package).
LAYERS: dict[str, int] = {
    # the error base every module may raise (it imports nothing)
    "errors": -1,
    # the root package and helpers that import nothing of unmask above them
    "": 0,
    "_checks": 0,
    "_io": 0,
    "_lock": 0,
    "paths": 0,
    # core: pure functions of t; backbones that know tensors only
    "schedules": 1,
    "models": 1,
    "interpolants": 2,
    "prime": 3,
    "losses": 4,
    # sampling, and turning raw inputs into tokens / model inputs
    "samplers": 5,
    "tokenizers": 5,
    "text_encoders": 5,
    "data": 6,
    "eval": 7,
    "visualize": 7,
    "config": 8,
    "training": 9,
    # task code, above the library
    "inference": 10,
    "t2i": 11,
    "editing": 11,
    "joint": 11,
    "sweep": 12,
    "serve": 12,
    "zoo": 12,
    # the edge
    "cli": 13,
    "__main__": 14,
}

#: Imports that break the rules today, each with why it stays: (importer, imported module).
#: Keep this short; an entry that no longer occurs fails the test, so it cannot go stale.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()

Edges = Mapping[str, Mapping[str, int]]


def package_modules(src: Path = SRC, package: str = "unmask") -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is a package ``__init__``) for every module of ``package``."""
    out: dict[str, tuple[Path, bool]] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts.pop()
        out[".".join(parts)] = (path, is_pkg)
    return out


def _targets(module: str, is_pkg: bool, node: ast.Import | ast.ImportFrom, known: Iterable[str]) -> list[str]:
    """The modules of the package that one import statement names (``from a import b``: ``a.b`` if a module)."""
    known = set(known)
    root = module.split(".")[0]
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".") if is_pkg else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        names = [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]
    out = []
    for name in names:
        if name.split(".")[0] != root:
            continue
        while name not in known and "." in name:  # an attribute of a module, not a module
            name = name.rsplit(".", 1)[0]
        out.append(name)
    return out


def import_graph(
    modules: Mapping[str, tuple[Path, bool]], sources: Mapping[str, str] | None = None
) -> dict[str, dict[str, int]]:
    """Importer → {imported module: line of the first import} over imports at any depth.

    ``sources`` (module → code) replaces reading the files; the tests of the checker use it.
    Importing ``p.q.r`` also imports the packages ``p.q`` (its ``__init__``), except the
    importer's own enclosing packages (those are already being imported).
    """
    graph: dict[str, dict[str, int]] = {}
    for module, (path, is_pkg) in modules.items():
        code = sources[module] if sources is not None else path.read_text(encoding="utf-8")
        own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 2)}
        for node in ast.walk(ast.parse(code, filename=str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(module, is_pkg, node, modules):
                parts = target.split(".")
                for i in range(2, len(parts) + 1):
                    dep = ".".join(parts[:i])
                    if dep in modules and dep not in own:
                        graph.setdefault(module, {}).setdefault(dep, node.lineno)
    return graph


def layer_name(module: str) -> str:
    """``unmask.samplers.euler`` → ``samplers``; ``unmask`` → ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: Edges, layers: Mapping[str, int] = LAYERS) -> list[str]:
    """One line per import of a layer not strictly below the importer's own (its own package is fine)."""
    bad = []
    for module, deps in sorted(graph.items()):
        own = layer_name(module)
        for dep, line in sorted(deps.items()):
            other = layer_name(dep)
            if other == own:
                continue
            if own not in layers or other not in layers:
                missing = own if own not in layers else other
                bad.append(f"{module}:{line} imports {dep}: layer {missing!r} is not in the layer table")
            elif layers[other] >= layers[own]:
                how = "above" if layers[other] > layers[own] else "beside"
                bad.append(
                    f"{module}:{line} imports {dep}: {other!r} (rank {layers[other]}) is {how} "
                    f"{own or 'unmask'!r} (rank {layers[own]})"
                )
    return bad


def import_cycles(graph: Edges) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def describe_cycle(graph: Edges, component: list[str]) -> str:
    """The imports that hold a cycle together, ``a:line -> b`` each."""
    inside = set(component)
    arrows = [f"{a}:{line} -> {b}" for a in component for b, line in sorted(graph.get(a, {}).items()) if b in inside]
    return "import cycle between " + ", ".join(component) + "\n    " + "\n    ".join(arrows)


def violations(
    graph: Edges, layers: Mapping[str, int] = LAYERS, known: set[tuple[str, str]] = KNOWN_EXCEPTIONS
) -> list[str]:
    """Every upward import not in ``known`` and every import cycle (after dropping ``known`` edges)."""
    kept = {a: {b: n for b, n in deps.items() if (a, b) not in known} for a, deps in graph.items()}
    return upward_imports(kept, layers) + [describe_cycle(kept, c) for c in import_cycles(kept)]


# --------------------------------------------------------------------------- the real package


def test_no_module_imports_a_layer_above_it_and_there_are_no_cycles() -> None:
    graph = import_graph(package_modules())
    problems = violations(graph)
    assert not problems, "import direction broken:\n  " + "\n  ".join(problems)


def test_every_layer_is_in_the_table() -> None:
    names = {layer_name(m) for m in package_modules()}
    assert names <= set(LAYERS), f"add {sorted(names - set(LAYERS))} to LAYERS"
    assert set(LAYERS) <= names, f"LAYERS names layers that do not exist: {sorted(set(LAYERS) - names)}"


def test_known_exceptions_still_occur() -> None:
    graph = import_graph(package_modules())
    stale = sorted((a, b) for a, b in KNOWN_EXCEPTIONS if b not in graph.get(a, {}))
    assert not stale, f"KNOWN_EXCEPTIONS entries that no longer occur (remove them): {stale}"


def test_the_graph_sees_function_level_imports() -> None:
    graph = import_graph(package_modules())
    # data/captions.py asks for the cache directory inside the function that caches
    assert "unmask.paths" in graph["unmask.data.captions"]
    # importing unmask.training.checkpoint runs unmask/training/__init__.py as well
    assert {"unmask.training.checkpoint", "unmask.training"} <= set(graph["unmask.inference"])


# --------------------------------------------------------------------------- the checker can fail


def _fake(files: dict[str, str]) -> dict[str, dict[str, int]]:
    """A package ``unmask`` of modules given by name → code (names ending in ``/`` are packages)."""
    modules: dict[str, tuple[Path, bool]] = {}
    sources: dict[str, str] = {}
    for name, code in files.items():
        is_pkg = name.endswith("/")
        dotted = name.rstrip("/")
        modules[dotted] = (Path(dotted.replace(".", "/")) / ("__init__.py" if is_pkg else ""), is_pkg)
        sources[dotted] = code
    return import_graph(modules, sources=sources)


def test_an_upward_import_inside_a_function_is_reported() -> None:
    graph = _fake(
        {
            "unmask/": "",
            "unmask.schedules/": "",
            "unmask.schedules.linear": "def f():\n    from ..samplers.euler import EulerSampler\n",
            "unmask.samplers/": "",
            "unmask.samplers.euler": "from ..schedules.linear import f\n",
        }
    )
    problems = violations(graph, known=set())
    assert problems == [
        "unmask.schedules.linear:2 imports unmask.samplers: 'samplers' (rank 5) is above 'schedules' (rank 1)",
        "unmask.schedules.linear:2 imports unmask.samplers.euler: 'samplers' (rank 5) is above 'schedules' (rank 1)",
        "import cycle between unmask.samplers.euler, unmask.schedules.linear\n"
        "    unmask.samplers.euler:1 -> unmask.schedules.linear\n"
        "    unmask.schedules.linear:2 -> unmask.samplers.euler",
    ]


def test_a_sibling_import_is_reported() -> None:
    graph = _fake({"unmask/": "", "unmask.models/": "", "unmask.schedules": "import unmask.models\n"})
    assert violations(graph, known=set()) == [
        "unmask.schedules:1 imports unmask.models: 'models' (rank 1) is beside 'schedules' (rank 1)"
    ]


def test_a_cycle_inside_one_layer_is_reported() -> None:
    graph = _fake(
        {
            "unmask/": "",
            "unmask.sweep/": "",
            "unmask.sweep.runner": "from .plots import plot\n",
            "unmask.sweep.plots": "def plot():\n    from . import runner\n",
        }
    )
    problems = violations(graph, known=set())
    assert len(problems) == 1 and problems[0].startswith("import cycle between unmask.sweep.plots, unmask.sweep.runner")
    assert "unmask.sweep.plots:2 -> unmask.sweep.runner" in problems[0]


def test_importing_a_submodule_counts_its_package() -> None:
    # training/__init__ imports the trainer, which imports t2i: ``from unmask.training.checkpoint
    # import x`` in inference closes the loop although checkpoint.py itself imports nothing
    graph = _fake(
        {
            "unmask/": "",
            "unmask.training/": "from .trainer import train\n",
            "unmask.training.checkpoint": "",
            "unmask.training.trainer": "def train():\n    from unmask.inference import generate\n",
            "unmask.inference": "from unmask.training.checkpoint import load\n",
        }
    )
    cycles = import_cycles(graph)
    assert cycles == [["unmask.inference", "unmask.training", "unmask.training.trainer"]]


def test_an_unknown_layer_is_reported() -> None:
    graph = _fake({"unmask/": "", "unmask.newthing": "from unmask import _io\n", "unmask._io": ""})
    assert violations(graph, known=set()) == [
        "unmask.newthing:1 imports unmask._io: layer 'newthing' is not in the layer table"
    ]


def test_known_exceptions_silence_exactly_their_import() -> None:
    graph = _fake({"unmask/": "", "unmask.data": "from unmask import eval\n", "unmask.eval": "import unmask.data\n"})
    assert len(violations(graph, known=set())) == 2  # the upward import and the cycle
    assert violations(graph, known={("unmask.data", "unmask.eval")}) == []


@pytest.mark.parametrize("statement", ["import os\n", "from torch import nn\n", "from . import helpers\n"])
def test_imports_from_outside_or_within_are_not_arrows(statement: str) -> None:
    graph = _fake({"unmask/": "", "unmask.models/": "", "unmask.models.helpers": "", "unmask.models.x": statement})
    assert violations(graph, known=set()) == []
