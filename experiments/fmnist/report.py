"""Turn the Fashion-MNIST sweep CSVs and baselines into the Markdown tables of docs/results.md,
and (with --figure) one three-panel figure in the form of the paper's Figure 2.

.venv/bin/python experiments/fmnist/report.py --runs runs --figure docs/fmnist_sweeps.png > /tmp/fmnist-tables.md

Other sweeps of the same grid shape (experiments/ablations/grid.yaml on plateaued models) are named
with --sweep MODEL=DIR (repeatable; a second seed's sweep as MODEL@1=DIR adds its cells in
brackets) and --baselines FILE, and then no training-ablation table is printed:

.venv/bin/python experiments/fmnist/report.py --sweep ITM=runs/ablate-digits-itm-s0 \
    --sweep ETM=runs/ablate-digits-etm-s0 --sweep ITM@1=runs/ablate-digits-itm-s1 \
    --sweep ETM@1=runs/ablate-digits-etm-s1 --samples 1000 --figure docs/digits_ablations.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unmask.sweep import read_rows

COLS = ("fd", "precision", "recall", "accuracy", "nfe_per_sample")


def fmt(row: dict[str, str], key: str) -> str:
    """A table entry; an FD with a second seed's FD for the same cell (key "fd@1") reads "a / b"."""
    v = row.get(key, "")
    if v == "":
        return "–"
    x = float(v)
    if key == "fd" and row.get("fd@1"):
        return f"{x:.2f} / {float(row['fd@1']):.2f}"
    return f"{x:.1f}" if key == "nfe_per_sample" else (f"{x:.2f}" if key == "fd" else f"{x:.3f}")


# The setting the NFE axis is read at, and the fixed other axis of the temperature and CFG axes:
# the grid's defaults, replaced by --base-temperature / --base-cfg for a grid centred elsewhere.
BASE = {"temperature": "1.0", "cfg": "2.0"}


def pick(rows: list[dict[str, str]], **where: str) -> list[dict[str, str]]:
    return [r for r in rows if all(r.get(k) == v for k, v in where.items())]


def nfe_table(sweeps: dict[str, list[dict[str, str]]]) -> str:
    """FD per sampler variant (rows) and steps (columns), temperature 1, default CFG."""
    steps = sorted({int(r["steps"]) for rows in sweeps.values() for r in rows})
    out = ["| model | sampler | " + " | ".join(f"{s} steps" for s in steps) + " |", "|---|---|" + "---:|" * len(steps)]
    for model, rows in sweeps.items():
        base = [
            r
            for r in rows
            if r["temperature"] == BASE["temperature"] and r["cfg"] == BASE["cfg"] and r["top_p"] == "1.0"
        ]
        variants: dict[str, dict[int, str]] = {}
        for r in base:
            if r["sampler"] == "euler":
                name = f"Euler, argmax {'on' if r['argmax'] == 'True' else 'off'}"
            else:
                name = f"MaskGIT, Gumbel {r['gumbel']}"
            variants.setdefault(name, {})[int(r["steps"])] = fmt(r, "fd")
        for name, by_step in sorted(variants.items()):
            if len(by_step) < 2:
                continue
            out.append(f"| {model} | {name} | " + " | ".join(by_step.get(s, "–") for s in steps) + " |")
    return "\n".join(out)


def axis_table(sweeps: dict[str, list[dict[str, str]]], axis: str) -> str:
    """FD against temperature or CFG at 16 steps."""
    other = {"temperature": ("cfg", BASE["cfg"]), "cfg": ("temperature", BASE["temperature"])}[axis]
    values = sorted({float(r[axis]) for rows in sweeps.values() for r in rows if r["steps"] == "16"})
    out = [
        "| model | sampler | " + " | ".join(f"{axis} {v:g}" for v in values) + " |",
        "|---|---|" + "---:|" * len(values),
    ]
    for model, rows in sweeps.items():
        for sampler, extra in (("euler", {"argmax": "True"}), ("maskgit", {"gumbel": "linear"})):
            sel = pick(rows, sampler=sampler, steps="16", **{other[0]: other[1]}, **extra)
            by = {float(r[axis]): fmt(r, "fd") for r in sel}
            if len(by) < 2:
                continue
            label = "Euler, argmax on" if sampler == "euler" else "MaskGIT, Gumbel linear"
            out.append(f"| {model} | {label} | " + " | ".join(by.get(v, "–") for v in values) + " |")
    return "\n".join(out)


def best_table(sweeps: dict[str, list[dict[str, str]]], baselines: dict) -> str:
    out = [
        "| samples | FD ↓ | precision ↑ | recall ↑ | accuracy ↑ | evals / sample |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for model, rows in sweeps.items():
        best = min(rows, key=lambda r: float(r["fd"]))
        desc = f"{model}: {best['sampler']}, {best['steps']} steps, T={best['temperature']}, CFG {best['cfg']}" + (
            f", argmax {best['argmax']}" if best["sampler"] == "euler" else f", Gumbel {best['gumbel']}"
        )
        out.append(f"| {desc} | " + " | ".join(fmt(best, k) for k in COLS) + " |")
    for name in ("held-out real half (floor)", "per-class independent pixels (naive)"):
        if name in baselines:
            b = {k: ("" if v is None else str(v)) for k, v in baselines[name].items()}
            b["accuracy"] = b.get("conditional_accuracy", "")
            out.append(f"| {name} | " + " | ".join(fmt(b, k) for k in COLS[:4]) + " | – |")
    return "\n".join(out)


def ablation_table(runs: Path, names: list[str]) -> str:
    out = [
        "| training | 8 steps: FD | 32 steps: FD | precision | recall | accuracy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        rows = read_rows(runs / f"sweep-abl-{name}" / "sweep.csv")
        if not rows:
            continue
        by = {r["steps"]: r for r in rows}
        r32 = by.get("32", {})
        out.append(
            f"| {name} | {fmt(by.get('8', {}), 'fd')} | {fmt(r32, 'fd')} | {fmt(r32, 'precision')} | "
            f"{fmt(r32, 'recall')} | {fmt(r32, 'accuracy')} |"
        )
    return "\n".join(out)


def figure(sweeps: dict[str, list[dict[str, str]]], baselines: dict, path: str, samples: int = 250) -> None:
    """FD vs NFE (every sampler variant of both models), vs temperature and vs CFG (16 steps),
    with the held-out real floor as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=120)
    for model, rows in sweeps.items():
        style = "-" if model == "ITM" else "--"
        base = [
            r
            for r in rows
            if r["temperature"] == BASE["temperature"] and r["cfg"] == BASE["cfg"] and r["top_p"] == "1.0"
        ]
        variants: dict[str, list[tuple[int, float]]] = {}
        for r in base:
            if r["sampler"] == "euler":
                name = f"{model} Euler" + ("" if r["argmax"] == "True" else ", no last-step argmax")
            else:
                name = f"{model} MaskGIT, Gumbel {r['gumbel']}"
            variants.setdefault(name, []).append((int(r["steps"]), float(r["fd"])))
        for name, pts in sorted(variants.items()):
            if len(pts) >= 2:
                pts.sort()
                axes[0].plot([p[0] for p in pts], [p[1] for p in pts], style, marker="o", ms=3, label=name)
        for ax, axis, other in (
            (axes[1], "temperature", ("cfg", BASE["cfg"])),
            (axes[2], "cfg", ("temperature", BASE["temperature"])),
        ):
            sel = [r for r in pick(rows, sampler="euler", steps="16", argmax="True") if r[other[0]] == other[1]]
            pts = sorted((float(r[axis]), float(r["fd"])) for r in sel)
            if len(pts) >= 2:
                ax.plot(
                    [p[0] for p in pts], [p[1] for p in pts], style, marker="o", ms=3, label=f"{model} Euler, 16 steps"
                )
    floor = baselines.get("held-out real half (floor)", {}).get("fd")
    for ax, xlabel in zip(
        axes,
        ("sampling steps (NFE)", f"softmax temperature (CFG {BASE['cfg']})", f"CFG scale (T = {BASE['temperature']})"),
        strict=True,
    ):
        if floor is not None:
            ax.axhline(floor, color="grey", ls=":", lw=1, label="held-out real images")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"FD (EfficientNet-Lite0), {samples} samples")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    axes[0].set_xscale("log", base=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def with_repeats(rows: list[dict[str, str]], repeat: list[dict[str, str]]) -> list[dict[str, str]]:
    """rows, each given the FD of the same cell (same settings, another seed) in `repeat` as "fd@1"."""
    again = {r["cell"]: r["fd"] for r in repeat}
    return [{**r, "fd@1": again.get(r["cell"], "")} for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs")
    ap.add_argument("--figure", default=None, help="also write the three-panel figure here (PNG)")
    ap.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="MODEL=DIR",
        help="a sweep folder to report as MODEL (repeatable); MODEL@1=DIR is the same model under a second seed",
    )
    ap.add_argument(
        "--baselines", default=None, help="references JSON (baselines.py); default RUNS/fmnist-baselines.json"
    )
    ap.add_argument("--samples", type=int, default=250, help="samples per cell, for the figure's axis label")
    ap.add_argument("--base-temperature", type=float, default=1.0, help="temperature of the NFE and CFG axes")
    ap.add_argument("--base-cfg", type=float, default=2.0, help="CFG scale of the NFE and temperature axes")
    args = ap.parse_args()
    BASE.update(temperature=str(args.base_temperature), cfg=str(args.base_cfg))  # as the sweep CSVs spell them
    runs = Path(args.runs)
    if args.sweep:
        named = dict(s.split("=", 1) for s in args.sweep)
        sweeps = {m: read_rows(Path(d) / "sweep.csv") for m, d in named.items() if "@" not in m}
        for m, d in named.items():
            if "@" in m:
                sweeps[m.split("@")[0]] = with_repeats(sweeps[m.split("@")[0]], read_rows(Path(d) / "sweep.csv"))
    else:
        sweeps = {m: read_rows(runs / f"sweep-{m.lower()}" / "sweep.csv") for m in ("ITM", "ETM")}
    sweeps = {k: v for k, v in sweeps.items() if v}
    base_path = Path(args.baselines) if args.baselines else runs / "fmnist-baselines.json"
    baselines = json.loads(base_path.read_text()) if base_path.is_file() else {}
    print("### FD vs NFE\n\n" + nfe_table(sweeps) + "\n")
    print("### FD vs temperature (16 steps)\n\n" + axis_table(sweeps, "temperature") + "\n")
    print("### FD vs CFG (16 steps)\n\n" + axis_table(sweeps, "cfg") + "\n")
    print("### Best configuration and references\n\n" + best_table(sweeps, baselines) + "\n")
    if not args.sweep:
        print("### Training ablation\n\n" + ablation_table(runs, ["linear", "cosine", "cubic", "unmasked"]))
    if args.figure:
        figure(sweeps, baselines, args.figure, args.samples)


if __name__ == "__main__":
    main()
