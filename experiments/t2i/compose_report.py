"""The table of ``compose_plateau.sh`` (issue 20, text-to-image on held-out compositions): per model and caption
split, the scene detector's adherence and FD against the real scenes of the same split, beside the real
scenes' own scores and the issue's goals on the held-out captions (class >= 0.8, count >= 0.7, all >= 0.5);
and each run's step, stopping reason and wall time.

Each model's sampler is chosen on validation captions (val-heldout; val for the class-label model, which
cannot take a held-out caption) by the detector's "all", the ties going to the first sampler listed (the
preset's); the goals are read on the test captions with that sampler, and every sampler's test rows are
printed.

    .venv/bin/python experiments/t2i/compose_report.py runs/t2i-compose [--cfg 2] [--samplers "euler32 maskgit32"]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unmask.training.curves import read_run_summary

GOALS = {"class": 0.8, "count": 0.7, "all": 0.5}  # on the held-out captions
MODELS = ("scenes-t2i", "scenes-t2i-minilm", "scenes-cls")
COLUMNS = ("class", "count", "size", "position", "all")


def row(name: str, report: dict) -> str:  # type: ignore[type-arg]
    a, d = report["adherence"], report.get("distribution") or {}
    cells = [f"{a[c]:.3f}" if a.get(c) is not None else "–" for c in COLUMNS]
    fd = f"{d['fd']:.1f}" if "fd" in d else "–"
    prec = f"{d['precision']:.3f}" if "precision" in d else "–"
    return f"| {name} | {report['n']} | " + " | ".join(cells) + f" | {fd} | {prec} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="compose_plateau.sh's OUT")
    ap.add_argument("--cfg", default="2")
    ap.add_argument("--samplers", default="euler32 maskgit32", help="compose_plateau.sh's sampler tags, in order")
    args = ap.parse_args()
    out: Path = args.out
    tags: list[str] = args.samplers.split()
    ladder = out / "ladder.json"
    if ladder.is_file():
        r = json.loads(ladder.read_text())
        (run, ce), *_ = r["runs"].items()
        print(
            f"ladder ({read_run_summary(run).describe()}), single-group captions at t = 0 (nats/pixel): "
            f"the caption lowers "
            f"the CE by {ce['gain']:.4f} against the null caption and by {ce['gain_vs_histogram']:.4f} against "
            f"the per-pixel histogram; the caption-conditioned histogram "
            f"{r['references']['caption_histogram_gain']:.4f}, the bound {r['bound']['bound_gain']:.4f}\n"
        )
    for m in MODELS:
        print(f"{m}: {read_run_summary(out / m).describe()}")
    header = "| samples | n | " + " | ".join(COLUMNS) + " | FD | precision |"
    rule = "|---|---:|" + "---:|" * (len(COLUMNS) + 2)

    def report(m: str, name: str, tag: str) -> dict | None:  # type: ignore[type-arg]
        path = out / m / "eval" / f"{name}-cfg{args.cfg}-{tag}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    print(f"\nthe sampler, chosen on validation captions (seed 1; CFG {args.cfg})\n\n{header}\n{rule}")
    chosen: dict[str, str] = {}
    for m in MODELS:
        name = "val-seen" if m == "scenes-cls" else "val-heldout"
        scored = [(tag, r) for tag in tags if (r := report(m, name, tag)) is not None]
        for tag, r in scored:
            print(row(f"{m}, {name}, {tag}", r))
        if scored:
            chosen[m] = max(scored, key=lambda tr: tr[1]["adherence"]["all"])[0]  # the first of equals
    if chosen:
        print("\nchosen: " + ", ".join(f"{m} {tag}" for m, tag in chosen.items()))
    for split, title in (("heldout", "held-out captions"), ("seen", "seen captions")):
        print(f"\n{title} (CFG {args.cfg}, seed 0; * the sampler chosen on validation)\n\n{header}\n{rule}")
        if (out / "real.json").is_file() and split == "seen":
            print(row("real scenes (train split) vs their captions", json.loads((out / "real.json").read_text())))
        verdicts = []
        for m in MODELS:
            if m == "scenes-cls" and split == "heldout":
                continue  # a class label cannot name an unseen caption
            for tag in tags:
                r = report(m, split, tag)
                if r is None:
                    continue
                star = " *" if chosen.get(m) == tag else ""
                print(row(f"{m}, {tag}{star}", r))
                if split == "heldout" and star:
                    a = r["adherence"]
                    met = [f"{k} {a[k]:.3f} {'>=' if a[k] >= g else '<'} {g}" for k, g in GOALS.items()]
                    ok = all(a[k] >= g for k, g in GOALS.items())
                    verdicts.append(f"{m} ({tag}): {'meets' if ok else 'misses'} the goals ({'; '.join(met)})")
        if verdicts:
            print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    main()
