"""Turn the video runs of experiments/video/run_all.sh into the Markdown table of docs/results.md.

    .venv/bin/python experiments/video/report.py --runs runs [--docs docs]

With --docs, the GIFs of generated and continued clips (written by `unmask sample` beside
runs/video-{itm,etm}/eval/show*.npz) are copied to docs/video_{itm,etm}{,_continued}.gif.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from unmask.training.curves import read_run_events, read_run_summary


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _row(label: str, rep: dict[str, Any] | None) -> str:
    if rep is None:
        return f"| {label} | – | – | – | – | – |"
    tc = rep["temporal"]
    return (
        f"| {label} | {rep['n']} | {rep['frames_scored']} | **{rep['frame_fd']:.2f}** | "
        f"{tc['change']:.4f} ({tc['ratio']:.2f}×) | {tc['w1']:.4f} |"
    )


def table(runs: Path) -> str:
    out = [
        "| clips | n | frames scored / clip | frame FD | frame-to-frame change (× real) | W1 of per-clip change |",
        "|---|---:|---:|---:|---:|---:|",
        _row("real (train split)", _load(runs / "video-real-floor.json")),
    ]
    for kind in ("itm", "etm"):
        ev = runs / f"video-{kind}" / "eval"
        out.append(_row(f"{kind.upper()}, generated", _load(ev / "clips.json")))
        out.append(_row(f"{kind.upper()}, continued from 4 frames", _load(ev / "continued.json")))
    return "\n".join(out)


def training(runs: Path) -> str:
    out = [
        "| run | parameters | steps × batch | wall time | held-out masked CE (last checkpoint) |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in ("itm", "etm"):
        run = runs / f"video-{kind}"
        if not (run / "metrics.jsonl").is_file():
            continue
        summary = read_run_summary(run)
        ckpts = [c for c in read_run_events(run, "checkpoint") if "eval_loss" in c]
        cfg = json.loads((run / "config.json").read_text())
        wall = f"{summary.seconds / 60:.0f} min" if summary.segments else "–"
        ce = f"{ckpts[-1]['eval_loss']:.4f} (step {ckpts[-1]['step']:,})" if ckpts else "–"
        steps = summary.step if summary.step is not None else ckpts[-1]["step"] if ckpts else 0
        out.append(
            f"| video-{kind} | {(summary.parameters or 0) / 1e6:.2f} M | {steps:,} × {cfg['train']['batch_size']} | "
            f"{wall} | {ce} |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs")
    ap.add_argument("--docs", default=None, help="copy the GIFs into this folder")
    args = ap.parse_args()
    runs = Path(args.runs)
    print("### Training\n\n" + training(runs) + "\n")
    print("### Frame FD and temporal consistency\n\n" + table(runs))
    if args.docs:
        for kind in ("itm", "etm"):
            for stem, suffix in (("show", ""), ("show-continued", "_continued")):
                gif = runs / f"video-{kind}" / "eval" / f"{stem}.gif"
                if gif.is_file():
                    shutil.copyfile(gif, Path(args.docs) / f"video_{kind}{suffix}.gif")


if __name__ == "__main__":
    main()
