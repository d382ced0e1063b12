"""Sweeps over sampler settings on one checkpoint: grids, a resumable runner, Figure-2-style plots."""

from .best import HIGHER_IS_BETTER, best_row, record_best, record_folder, row_settings
from .grid import SETTINGS, Cell, SweepSpec, expand_grid, load_grid
from .plots import plot_sweep, series
from .runner import COLUMNS, read_rows, run_sweep

__all__ = [
    "Cell",
    "SweepSpec",
    "SETTINGS",
    "expand_grid",
    "load_grid",
    "run_sweep",
    "read_rows",
    "COLUMNS",
    "plot_sweep",
    "series",
    "HIGHER_IS_BETTER",
    "best_row",
    "row_settings",
    "record_best",
    "record_folder",
]
