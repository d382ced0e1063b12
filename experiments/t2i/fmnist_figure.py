"""docs/t2i_fmnist_t2i_vs_cls.png: per class (one row each, Fashion-MNIST order), the first K samples of the
text-to-image model (captions naming the class, any template) and, after a gap, the first K of the
class-conditional model, from the .npz files of experiments/t2i/fmnist.sh.

    .venv/bin/python experiments/t2i/fmnist_figure.py --cfg 2 --out docs/t2i_fmnist_t2i_vs_cls.png
"""

from __future__ import annotations

import argparse

import numpy as np

from unmask.data.captions import fashion_caption_class
from unmask.visualize import save_grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", default="runs/t2i-fmnist")
    ap.add_argument("--cfg", default="2")
    ap.add_argument("--k", type=int, default=6, help="samples per class and model")
    ap.add_argument("--out", default="docs/t2i_fmnist_t2i_vs_cls.png")
    args = ap.parse_args()
    with (
        np.load(f"{args.runs}/t2i/eval/cfg{args.cfg}.npz") as t2i,
        np.load(f"{args.runs}/cls/eval/cfg{args.cfg}.npz") as cls,
    ):
        t_img, t_cls = t2i["images"], np.asarray([fashion_caption_class(str(c)) for c in t2i["captions"]])
        c_img, c_cls = cls["images"], np.asarray(cls["labels"])
    # t2i: take the samples of each class in the order of the file, alternating its four templates
    blank = np.zeros_like(t_img[:1])
    tiles = []
    for k in range(10):
        t_sel = t_img[t_cls == k]
        t_sel = t_sel[np.argsort(np.arange(len(t_sel)) % (len(t_sel) // 4), kind="stable")][: args.k]
        tiles += [*t_sel, blank[0], *c_img[c_cls == k][: args.k]]
    save_grid(np.stack(tiles), args.out, nrow=2 * args.k + 1)
    print(args.out)


if __name__ == "__main__":
    main()
