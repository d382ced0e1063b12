"""unmask info: what a run, checkpoint, release, tokenizer run or shard directory holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ._common import UsageError


def register(sub: Any) -> None:
    i = sub.add_parser("info", help="describe a run or checkpoint")
    i.add_argument("path")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.add_argument(
        "--curve",
        default=None,
        metavar="PNG",
        help="draw the run's learning curve (held-out and training loss, the plateau window) into PNG",
    )
    i.add_argument(
        "--x",
        choices=("step", "seconds", "flops"),
        default="step",
        help="x axis of --curve (flops: steps × the run's counted FLOPs per training step; needs its data)",
    )
    i.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    from ..training.checkpoint import CheckpointError, list_checkpoints, load_checkpoint

    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"{str(path)!r} does not exist")
    special = _shards_or_tokenizer_info(path)
    if special is not None:
        if args.json:
            print(json.dumps(special, indent=2))
        else:
            for key, value in special.items():
                print(f"{key}: {value}" if key == "kind" else f"  {key}: {value}")
        return 0
    info: dict[str, object] = {"path": str(path)}
    ckpts = list_checkpoints(path)
    if ckpts:
        info["kind"] = "run"
        info["checkpoints"] = [p.name for p in ckpts]
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as err:
        if not ckpts and not (path / "config.json").is_file():
            raise
        info["checkpoint_error"] = str(err)
        ckpt = None
    if ckpt is not None:
        info.setdefault("kind", "checkpoint")
        info["checkpoint"] = str(ckpt.path)
        info["step"] = ckpt.step
        info["parameters"] = sum(v.numel() for v in ckpt.model.values())
        info["backbone"] = ckpt.backbone
        info["tokenizer"] = ckpt.tokenizer
        info["config"] = ckpt.config.to_dict()
        try:
            from ..inference import load_any_model

            model, _ = load_any_model(ckpt.path)
            info["input_norms"] = model.input_norms()
        except Exception as err:  # noqa: BLE001 - info reports what it can; the checkpoint itself loaded
            info["input_norms_error"] = f"{type(err).__name__}: {err}"
    elif (path / "config.json").is_file():
        info["config"] = json.loads((path / "config.json").read_text())
    metrics = path / "metrics.jsonl"
    if metrics.is_file():
        lines = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
        evals = [r for r in lines if r.get("event") == "checkpoint"]
        trains = [r for r in lines if r.get("event") == "train"]
        starts = [r for r in lines if r.get("event") == "start" and "input_norms" in r]
        if starts:
            info["input_norms_at_init"] = starts[0]["input_norms"]
        if trains:
            info["last_train"] = trains[-1]
        if evals:
            info["last_eval"] = {k: v for k, v in evals[-1].items() if k != "event"}
        from ..training.curves import read_learning_curve

        curve = read_learning_curve(path)
        if curve.held_out:
            info["plateau"] = curve.status().to_dict()
        if curve.end_reason is not None:
            info["ended"] = curve.end_reason
        if args.curve:
            if not curve.held_out:
                raise UsageError(f"--curve: run {str(path)!r} has no held-out evaluation to draw")
            from ..training.curves import plot_learning_curves

            flops = None
            if args.x == "flops":
                from ..config import Config
                from ..training.flops import training_step_flops

                config = info.get("config")
                if not isinstance(config, dict):
                    raise UsageError(f"--x flops: run {str(path)!r} has no config.json to count a step of")
                flops = {path.name: float(training_step_flops(Config.from_dict(config)))}
                info["flops_per_step"] = flops[path.name]
            info["curve"] = str(plot_learning_curves({path.name: curve}, args.curve, x=args.x, flops_per_step=flops))
    elif args.curve:
        raise UsageError(f"--curve: {str(path)!r} is not a training run (no metrics.jsonl)")
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_info(info)
    return 0


def _shards_or_tokenizer_info(path: Path) -> dict[str, object] | None:
    """What a shard directory or a tokenizer run holds (None for anything else)."""
    from ..data.shards import MANIFEST_FILE, PLAN_FILE, read_manifest

    if (path / MANIFEST_FILE).is_file() and '"unmask-token-shards"' in (path / MANIFEST_FILE).read_text():
        m = read_manifest(path)
        return {
            "kind": "token shards",
            "path": str(path),
            "dataset": m["dataset"],
            "tokenizer": m["tokenizer"],
            "grid": m["grid"],
            "vocab_size": m["vocab_size"],
            "num_classes": m["num_classes"],
            "splits": {k: {"count": v["count"], "shards": len(v["shards"])} for k, v in m["splits"].items()},
        }
    if (path / PLAN_FILE).is_file():
        plan = json.loads((path / PLAN_FILE).read_text())
        return {"kind": "token shards (unfinished: rerun unmask tokenize to complete)", "path": str(path), **plan}
    cfg_path = path / "config.json"
    if cfg_path.is_file():
        cfg = json.loads(cfg_path.read_text())
        if isinstance(cfg.get("model"), dict) and "codebook_size" in cfg["model"]:
            info: dict[str, object] = {"kind": "tokenizer run", "path": str(path), "vqvae": cfg["model"]}
            tok = path / "tokenizer.safetensors"
            if tok.is_file():
                from ..tokenizers import file_sha256

                info["tokenizer"] = {"file": str(tok), "sha256": file_sha256(tok)}
            metrics = path / "metrics.jsonl"
            if metrics.is_file():
                lines = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
                for event, key in (("train", "last_train"), ("checkpoint", "last_eval")):
                    recs = [r for r in lines if r.get("event") == event]
                    if recs:
                        info[key] = {k: v for k, v in recs[-1].items() if k != "event"}
            return info
    return None


def _print_info(info: dict[str, object]) -> None:
    print(f"{info.get('kind', 'path')}: {info['path']}")
    for key in ("checkpoint", "step", "parameters"):
        if key in info:
            value = info[key]
            print(f"  {key}: {value:,}" if isinstance(value, int) else f"  {key}: {value}")
    if "checkpoints" in info:
        print(f"  checkpoints: {', '.join(info['checkpoints'])}")  # type: ignore[arg-type]
    if "checkpoint_error" in info:
        print(f"  checkpoint error: {info['checkpoint_error']}")
    bb = info.get("backbone")
    if isinstance(bb, dict):
        from ..training.families import family_of_backbone

        try:
            lines = family_of_backbone(bb).describe(bb)
        except ValueError as err:  # a kind no registered family knows: say so, print the rest
            lines = [f"model: not described ({type(err).__name__}: {err})"]
        for line in lines:
            print(f"  {line}")
    for key, when in (("input_norms_at_init", "at init"), ("input_norms", "now, EMA weights")):
        norms = info.get(key)
        if isinstance(norms, dict):
            for stream, n in norms.items():
                print(
                    f"  input sizes {when}, {stream}: content {n['content']:.3g} (varying {n['content_varying']:.3g}), "
                    f"position {n['position']:.3g} (varying {n['position_varying']:.3g})"
                )
    cfg = info.get("config")
    if isinstance(cfg, dict):
        print(f"  preset: {cfg.get('preset')}")
        for section in ("data", "path", "loss", "optim", "train", "sample"):
            if section in cfg:
                items = ", ".join(f"{k}={v}" for k, v in cfg[section].items())
                print(f"  {section}: {items}")
    for key in ("last_train", "last_eval"):
        if key in info:
            rec = info[key]
            assert isinstance(rec, dict)
            items = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items())
            print(f"  {key}: {items}")
    plateau = info.get("plateau")
    if isinstance(plateau, dict):
        state = "reached" if plateau["reached"] else "not reached"
        print(f"  plateau: {state} — {plateau['reason']}")
    if "ended" in info:
        print(f"  ended: {info['ended']}")
    if "curve" in info:
        print(f"  learning curve: {info['curve']}")
