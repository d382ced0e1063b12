"""Training FLOPs per step (unmask.training.flops): counted on the run's own step, linear in the batch,
the patch's saving on text as the presets' comment states, and the FLOPs axis of learning curves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unmask.config import load_config
from unmask.training import training_step_flops
from unmask.training.curves import plot_learning_curves, read_learning_curve


def test_linear_in_the_batch_and_positive() -> None:
    one = training_step_flops(load_config("tiny", ["train.batch_size=4"]))
    two = training_step_flops(load_config("tiny", ["train.batch_size=8"]))
    assert one > 0
    assert two == 2 * one


def test_two_more_blocks_cost_what_the_arithmetic_says() -> None:
    """Two more blocks of the tiny U-ViT (one in, one out, and the out block's skip projection) add,
    per token of the batch, written out by hand: forward linear layers 2·(q, k, v 6d² + output 2d² +
    MLP 2·2·d·(2d)) + skip 2·2d·d, three times that with the backward (input and weight gradients);
    attention 2 blocks × 2 products × 2·n·d forward, and 5 such products in the backward (the scores
    recomputed, then the gradients of scores, values, queries and keys). On the CPU the attention part
    is only counted because ``flop_counter_mode`` gives torch's CPU attention op its formula."""
    cfg = load_config("tiny")
    d, batch = cfg.model.dim, cfg.train.batch_size
    n = 8 * 8 + 1  # the digits' 64 positions and the label token
    assert cfg.model.mlp_ratio == 2.0 and cfg.model.patch == 1 and cfg.model.class_conditional
    linear = 2 * (6 * d * d + 2 * d * d + 2 * 2 * d * (2 * d)) + 2 * 2 * d * d
    attention = 2 * 2 * 2 * n * d
    per_token = 3 * linear + attention + 2.5 * attention
    d2, d4, d6 = (training_step_flops(load_config("tiny", [f"model.depth={k}"])) for k in (2, 4, 6))
    assert d6 - d4 == d4 - d2 == int(per_token * batch * n)


def test_the_text_presets_are_at_equal_training_flops() -> None:
    """kjv, kjv-prime2 and kjv-prime4 (patch 4: 9.11 GFLOP per step) and kjv-ar (patch 1, causal: 38.25)
    get equal training FLOPs from their step counts, as their comments say (within half a step's worth)."""
    masked = {p: load_config(p) for p in ("kjv", "kjv-prime2", "kjv-prime4")}
    ar = load_config("kjv-ar")
    ar_total = training_step_flops(ar) * ar.train.steps
    assert training_step_flops(ar) == pytest.approx(38.25e9, rel=0.01)
    for name, cfg in masked.items():
        per_step = training_step_flops(cfg)
        assert per_step == pytest.approx(9.11e9, rel=0.01), name
        assert abs(per_step * cfg.train.steps - ar_total) <= per_step / 2, name


def test_flops_axis_scales_each_curve_by_its_cost(tmp_path: Path) -> None:
    def run(name: str) -> Path:
        root = tmp_path / name
        root.mkdir()
        recs = [{"event": "start", "step": 0}]
        for step, loss in ((100, 2.0), (200, 1.8), (300, 1.7), (400, 1.69)):
            recs += [
                {"event": "train", "step": step, "loss": loss, "elapsed_s": step},
                {"event": "checkpoint", "step": step, "eval_loss": loss, "train_s": step},
            ]
        (root / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
        return root

    curves = {"a": read_learning_curve(run("a")), "b": read_learning_curve(run("b"))}
    out = plot_learning_curves(curves, tmp_path / "c.png", x="flops", flops_per_step={"a": 1e9, "b": 4e9})
    assert out.is_file() and out.stat().st_size > 1000
    with pytest.raises(ValueError, match="missing: b"):
        plot_learning_curves(curves, tmp_path / "d.png", x="flops", flops_per_step={"a": 1e9})
    with pytest.raises(ValueError, match="missing: a, b"):
        plot_learning_curves(curves, tmp_path / "d.png", x="flops")
    assert not (tmp_path / "d.png").exists()


def test_info_draws_a_run_against_its_flops(tiny_run: Path, tmp_path: Path, run_cli) -> None:
    code, out, err = run_cli(["info", str(tiny_run), "--json", "--curve", str(tmp_path / "f.png"), "--x", "flops"])
    assert code == 0, err
    info = json.loads(out)
    assert info["flops_per_step"] == training_step_flops(load_config("tiny"))
    assert (tmp_path / "f.png").is_file()
