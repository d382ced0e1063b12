"""What the text models' samples are worth (issue 22, item 2): for each masked run (MDM, MDM-Prime) at
each number of sampling steps, and for the autoregressive run's own samples, the exact NLL of the
samples under the autoregressive judge (generative perplexity; bits per byte for byte tokens) and the
samples' unigram/bigram entropies and distinct-2/3, beside the same statistics of real validation text.

    .venv/bin/python experiments/prime/text_quality.py --judge runs/kjv-ar \\
        --ckpt runs/kjv runs/kjv-prime2 runs/kjv-prime4 --steps 128 1024 --n 256 --out runs/text-quality.json
    .venv/bin/python experiments/prime/text_quality.py --out runs/text-quality.json --report

Every model samples with its run's own settings (``default_sampler``: Euler for MDM, the carry-over
Prime sampler for sub-token models, ancestral for the causal one) at temperature 1 unless ``--temperature``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch


def score_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    from unmask.data import get_dataset
    from unmask.eval.text_quality import text_sample_report
    from unmask.inference import load_model
    from unmask.training import build_objective, default_sampler

    torch.set_num_threads(args.threads)
    judge_model, judge_info = load_model(args.judge)
    if not judge_model.config.causal:
        raise SystemExit(f"--judge {args.judge!r} is not an autoregressive (causal) run")
    cfg = judge_info.config
    val = get_dataset(cfg.data.name, "test", **cfg.data.options())
    judge = (judge_model, build_objective(cfg, val.vocab_size))
    reference = val.tokens[: args.n]
    ref = text_sample_report(reference, judge=judge, batch_size=args.batch_size).to_dict()
    rows: list[dict[str, Any]] = [{"model": "real validation text", "steps": None, **_flat(ref)}]
    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    for ckpt in [*args.ckpt, args.judge]:
        model, info = load_model(ckpt)
        causal = bool(model.config.causal)
        for steps in [None] if causal else args.steps:
            overrides: dict[str, Any] = {"temperature": args.temperature}
            if steps is not None:
                overrides["steps"] = steps
            sampler = default_sampler(model, info.config, **overrides)
            t0 = time.perf_counter()
            parts = []
            for start in range(0, args.n, args.batch_size):
                count = min(args.batch_size, args.n - start)
                gen = torch.Generator().manual_seed(args.seed + start)
                parts.append(sampler.sample(model, count, generator=gen).tokens.reshape(count, -1))
            samples = torch.cat(parts)
            seconds = time.perf_counter() - t0
            rep = text_sample_report(samples, judge=judge, batch_size=args.batch_size).to_dict()
            row = {"model": ckpt, "steps": steps, "sampling_seconds": round(seconds, 1), **_flat(rep)}
            if hasattr(val, "tokenizer"):  # the first sample, as text
                text = val.tokenizer.decode(samples[:1])
                row["example"] = (text[0] if isinstance(text, list) else str(text))[:160]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def _flat(rep: dict[str, Any]) -> dict[str, Any]:
    s, j = rep["samples"], rep.get("judge", {})
    return {
        "n": s["sequences"],
        "judge_bits_per_token": j.get("bits_per_token"),
        "judge_stderr_bits": None if j.get("stderr_nats") is None else j["stderr_nats"] / 0.6931471805599453,
        "generative_perplexity": j.get("generative_perplexity"),
        "unigram_entropy_bits": s["unigram_entropy_bits"],
        "bigram_entropy_bits": s["bigram_entropy_bits"],
        "distinct_2": s["distinct_2"],
        "distinct_3": s["distinct_3"],
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| samples | steps | judge NLL (bits / token ± s.e.) | generative perplexity | unigram H (bits) "
        "| bigram H (bits) | distinct-2 | distinct-3 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        steps = "–" if r["steps"] is None else f"{r['steps']:,}"
        lines.append(
            f"| {r['model']} | {steps} | {r['judge_bits_per_token']:.3f} ± {r['judge_stderr_bits']:.3f} "
            f"| {r['generative_perplexity']:.2f} | {r['unigram_entropy_bits']:.3f} | {r['bigram_entropy_bits']:.3f} "
            f"| {r['distinct_2']:.3f} | {r['distinct_3']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--judge", help="the autoregressive run that scores every sample")
    ap.add_argument("--ckpt", nargs="*", default=[], help="masked runs (MDM, MDM-Prime)")
    ap.add_argument("--steps", nargs="+", type=int, default=[128, 1024])
    ap.add_argument("--n", type=int, default=256, help="samples per model and steps (and real sequences)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True, help="JSON of the rows")
    ap.add_argument("--report", action="store_true", help="print the table of an earlier run")
    args = ap.parse_args()
    out = Path(args.out)
    if not args.report:
        if not args.judge:
            ap.error("--judge is required unless --report")
        rows = score_rows(args)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"judge": args.judge, "n": args.n, "seed": args.seed, "rows": rows}, indent=2))
    print(table(json.loads(out.read_text())["rows"]))


if __name__ == "__main__":
    main()
