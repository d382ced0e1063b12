"""What a backbone's first block sees at initialisation, per preset family and stream: the size of the
token content against the size of the position vectors, under U-ViT's init and the balanced one.

For each preset the dataset is loaded (for its vocabulary, grid and classes), the model is built
with ``model.init=uvit`` and ``model.init=balanced`` (seed 0), and ``model.input_norms()`` is
printed as a Markdown table: mean per-position norms of the content and of the position vectors,
each also with its mean removed ("varying": what tells tokens, or positions, apart).

    .venv/bin/python benchmarks/input_norms.py                 # every family of learning_speed.py
    .venv/bin/python benchmarks/input_norms.py digits video    # some presets
"""

from __future__ import annotations

import argparse

import torch

PRESETS = ("digits", "fmnist", "digits-joint", "digits-cls-disc", "shapes-seg-disc", "video", "scenes-t2i", "kjv")


def norms(preset: str, init: str) -> dict[str, dict[str, float]]:
    """``input_norms()`` of ``preset``'s model built with ``model.init=init`` (seed 0)."""
    from unmask.config import load_config
    from unmask.data import get_dataset
    from unmask.training.factories import build_model

    config = load_config(preset, [f"model.init={init}"])
    torch.manual_seed(0)
    model = build_model(config, get_dataset(config.data.name, "train", **config.data.options()))
    return model.input_norms()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="*", default=list(PRESETS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| preset | stream | init | content | content, varying | position | position, varying |")
    print("|---|---|---|---:|---:|---:|---:|")
    for preset in args.presets:
        for init in ("uvit", "balanced"):
            for stream, n in norms(preset, init).items():
                print(
                    f"| {preset} | {stream} | {init} | {n['content']:.3g} | {n['content_varying']:.3g} "
                    f"| {n['position']:.3g} | {n['position_varying']:.3g} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
