"""Does a conditional scenes model use its condition? Held-out masked CE with the true vs the null condition.

For each run (a text-to-image model on captions, or a class-conditional one on caption ids), the first
N test scenes are corrupted at a revealed fraction t (t = 0: every pixel [MASK]) with one fixed draw,
and the cross-entropy of the masked pixels is computed twice: with each scene's own caption (or caption
id) and with the null condition. The difference, in nats per masked pixel, is what the condition buys;
0 means the model ignores it.

    .venv/bin/python experiments/t2i/condition_gain.py runs/scenes-t2i runs/scenes-cls \\
        --out runs/t2i/condition_gain.json
"""

from __future__ import annotations

import argparse
import json

import torch

from unmask.data import get_dataset
from unmask.inference import load_any_model
from unmask.models.text import TextTransformer
from unmask.t2i import bind_captions, load_text_encoder_for


def condition_gain(
    run: str, n: int, times: list[float], seed: int, dataset: str = "scenes", rows: torch.Tensor | None = None
) -> dict[str, dict[str, float]]:
    """CE with the true and the null condition at each t, on the first ``n`` test scenes of ``dataset``
    (or on the test scenes ``rows``)."""
    model, ckpt = load_any_model(run)
    test = get_dataset(dataset, "test", levels=ckpt.config.data.levels or 8)  # the run's grey levels
    pick = torch.arange(min(n, len(test))) if rows is None else rows[:n]
    x1 = test.tokens[pick].long()
    if isinstance(model, TextTransformer):
        caps = test.item_captions()
        m = bind_captions(model, load_text_encoder_for(model), [caps[i] for i in pick.tolist()])
        labels = torch.arange(len(x1))
    else:
        m, labels = model, test.labels[pick].long()
    g = torch.Generator().manual_seed(seed)
    out: dict[str, dict[str, float]] = {}
    for t in times:
        keep = torch.rand(x1.shape, generator=g) < t
        xt = torch.where(keep, x1, torch.full_like(x1, m.mask_id))
        tt = torch.full((len(x1),), t)
        ce: dict[str, float] = {}
        with torch.no_grad():
            for name, lab in (("true", labels), ("null", torch.full_like(labels, m.null_label))):
                logits = m(xt, tt if m.uses_time else None, lab).float()
                per = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), x1.reshape(-1), reduction="none"
                ).reshape(x1.shape)
                ce[name] = float(per[~keep].mean())
        ce["gain"] = ce["null"] - ce["true"]
        out[f"{t:g}"] = ce
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--n", type=int, default=512, help="test scenes")
    ap.add_argument("--t", type=float, nargs="+", default=[0.0, 0.05, 0.25, 0.5])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    report = {run: condition_gain(run, args.n, args.t, args.seed) for run in args.runs}
    for run, rows in report.items():
        for t, ce in rows.items():
            print(f"{run}  t={t}: CE true {ce['true']:.4f}  null {ce['null']:.4f}  gain {ce['gain']:+.4f} nats/pixel")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
