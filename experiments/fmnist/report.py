"""Turn the Fashion-MNIST sweep CSVs and baselines into the Markdown tables of docs/results.md,
and (with --figure) one three-panel figure in the form of the paper's Figure 2.

.venv/bin/python experiments/fmnist/report.py --runs runs --figure docs/fmnist_sweeps.png > /tmp/fmnist-tables.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unmask.sweep import read_rows

COLS = ("fd", "precision", "recall", "accuracy", "nfe_per_sample")


def fmt(row: dict[str, str], key: str) -> str:
    v = row.get(key, "")
    if v == "":
        return "–"
    x = float(v)
    return f"{x:.1f}" if key == "nfe_per_sample" else (f"{x:.2f}" if key == "fd" else f"{x:.3f}")


def pick(rows: list[dict[str, str]], **where: str) -> list[dict[str, str]]:
    return [r for r in rows if all(r.get(k) == v for k, v in where.items())]


def nfe_table(sweeps: dict[str, list[dict[str, str]]]) -> str:
    """FD per sampler variant (rows) and steps (columns), temperature 1, default CFG."""
    steps = sorted({int(r["steps"]) for rows in sweeps.values() for r in rows})
    out = ["| model | sampler | " + " | ".join(f"{s} steps" for s in steps) + " |", "|---|---|" + "---:|" * len(steps)]
    for model, rows in sweeps.items():
        base = [r for r in rows if r["temperature"] == "1.0" and r["cfg"] == "2.0" and r["top_p"] == "1.0"]
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
    other = {"temperature": ("cfg", "2.0"), "cfg": ("temperature", "1.0")}[axis]
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


def figure(sweeps: dict[str, list[dict[str, str]]], baselines: dict, path: str) -> None:
    """FD vs NFE (every sampler variant of both models), vs temperature and vs CFG (16 steps),
    with the held-out real floor as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=120)
    for model, rows in sweeps.items():
        style = "-" if model == "ITM" else "--"
        base = [r for r in rows if r["temperature"] == "1.0" and r["cfg"] == "2.0" and r["top_p"] == "1.0"]
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
        for ax, axis, other in ((axes[1], "temperature", ("cfg", "2.0")), (axes[2], "cfg", ("temperature", "1.0"))):
            sel = [r for r in pick(rows, sampler="euler", steps="16", argmax="True") if r[other[0]] == other[1]]
            pts = sorted((float(r[axis]), float(r["fd"])) for r in sel)
            if len(pts) >= 2:
                ax.plot(
                    [p[0] for p in pts], [p[1] for p in pts], style, marker="o", ms=3, label=f"{model} Euler, 16 steps"
                )
    floor = baselines.get("held-out real half (floor)", {}).get("fd")
    for ax, xlabel in zip(
        axes, ("sampling steps (NFE)", "softmax temperature (CFG 2)", "CFG scale (T = 1)"), strict=True
    ):
        if floor is not None:
            ax.axhline(floor, color="grey", ls=":", lw=1, label="held-out real images")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("FD (EfficientNet-Lite0), 250 samples")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    axes[0].set_xscale("log", base=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs")
    ap.add_argument("--figure", default=None, help="also write the three-panel figure here (PNG)")
    args = ap.parse_args()
    runs = Path(args.runs)
    sweeps = {m: read_rows(runs / f"sweep-{m.lower()}" / "sweep.csv") for m in ("ITM", "ETM")}
    sweeps = {k: v for k, v in sweeps.items() if v}
    base_path = runs / "fmnist-baselines.json"
    baselines = json.loads(base_path.read_text()) if base_path.is_file() else {}
    print("### FD vs NFE\n\n" + nfe_table(sweeps) + "\n")
    print("### FD vs temperature (16 steps)\n\n" + axis_table(sweeps, "temperature") + "\n")
    print("### FD vs CFG (16 steps)\n\n" + axis_table(sweeps, "cfg") + "\n")
    print("### Best configuration and references\n\n" + best_table(sweeps, baselines) + "\n")
    print("### Training ablation\n\n" + ablation_table(runs, ["linear", "cosine", "cubic", "unmasked"]))
    if args.figure:
        figure(sweeps, baselines, args.figure)


if __name__ == "__main__":
    main()
