"""Write docs/bouncing_shapes.gif: the first ten test clips of bouncing-shapes (8 grey levels), two of each class.

.venv/bin/python experiments/video/data_gif.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unmask.data import get_dataset
from unmask.visualize import save_gif

ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    ds = get_dataset("bouncing-shapes", "test", levels=8)
    assert ds.labels is not None
    labels = ds.labels.numpy()
    pick = np.concatenate([np.flatnonzero(labels == c)[:2] for c in range(ds.num_classes)])
    clips = np.asarray(ds.tokenizer.decode(ds.tokens[pick]))
    print(save_gif(clips, ROOT / "docs" / "bouncing_shapes.gif", nrow=5, fps=4))
