"""Print the model-size tables of docs/presets.md (parameter counts computed, not typed).

.venv/bin/python scripts/preset_table.py > /tmp/t.md   # tests/docs checks docs/presets.md matches
"""

from __future__ import annotations

import torch

from unmask.models import (
    MODEL_PRESETS,
    VIDEO_PRESETS,
    Transformer,
    TransformerConfig,
    VideoTransformer,
    VideoTransformerConfig,
)

DATA = [("digits 8×8, 17 levels", (8, 8), 18), ("28×28, 256 levels", (28, 28), 257), ("text, 128 bytes", (128,), 257)]


def table() -> str:
    head = "| size | dim | depth | heads | patch | " + " | ".join(f"params, {d[0]} (positions)" for d in DATA) + " |"
    lines = [head, "|---|---:|---:|---:|---:|" + "---:|" * len(DATA)]
    for name, p in MODEL_PRESETS.items():
        cells = []
        for _, grid, vocab in DATA:
            with torch.device("meta"):
                m = Transformer(TransformerConfig(vocab_size=vocab, grid=grid, num_classes=10, timestep=False, **p))
            cells.append(f"{m.num_parameters() / 1e6:.2f} M ({m.config.num_positions})")
        lines.append(
            f"| {name} | {p['dim']} | {p['depth']} | {p['heads']} | {p['patch']} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


VIDEO_DATA = [("bouncing-shapes 8×16×16, 8 levels", (8, 16, 16), 9), ("16×32×32, 256 levels", (16, 32, 32), 257)]


def video_table() -> str:
    """The video sizes: class-conditional ITMs (5 classes) on clips (T, H, W)."""
    head = (
        "| size | dim | depth | heads | patch | " + " | ".join(f"params, {d[0]} (positions)" for d in VIDEO_DATA) + " |"
    )
    lines = [head, "|---|---:|---:|---:|---:|" + "---:|" * len(VIDEO_DATA)]
    for name, p in VIDEO_PRESETS.items():
        cells = []
        for _, grid, vocab in VIDEO_DATA:
            with torch.device("meta"):
                cfg = VideoTransformerConfig(vocab_size=vocab, grid=grid, num_classes=5, timestep=False, **p)
                m = VideoTransformer(cfg)
            cells.append(f"{m.num_parameters() / 1e6:.2f} M ({cfg.frames} × {cfg.positions_per_frame})")
        lines.append(
            f"| {name} | {p['dim']} | {p['depth']} | {p['heads']} | {p['patch']} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
    print()
    print(video_table())
