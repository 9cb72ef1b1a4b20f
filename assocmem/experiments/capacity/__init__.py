"""Capacity of exact diffusion models and Hopfield networks (seed 002, §7 Figure 3, Appendix A).

For every cell (model, d, N) of a grid: store N random binary patterns, recall `n_queries` (140)
denoising cues ỹ = θ y + sqrt(1 − θ²) ε (θ = 0.68) of randomly chosen stored patterns, and record
each query's Hamming error. The capacity at d is the largest N whose mean error is <= 3%, with a
bootstrap 95% interval, smoothed over d with a Gaussian kernel σ = 1.5 applied to log(1 + N)
(`assocmem.capacity`).

Models (App. A):
  diffusion  exact-score VP diffusion, γ = 0.8, 300 Euler steps of the probability-flow
             ODE from t_start = −2 log θ / γ down to t = 1e-3;
  mhn        modern Hopfield network, β = 5, 150 updates;
  classic    classical Hopfield network, Hebbian weights with ZERO diagonal (seed 002 §2.1), 10
             synchronous sign updates started from the (continuous) cue.

The grid over N is adaptive: for each (model, d) it walks a geometric grid (4 points per octave)
upwards and stops once `patience` consecutive cells have a mean error above `stop_error` (twice the
threshold). All three models see the same patterns and cues (a cell's key depends on (d, N) only).
Cells run through `assocmem.experiments.sweep` (resumable JSON lines); within a cell the queries are sharded
over all devices, and the bank's mixture runs in any `assocmem.mixture` mode.

Modules: `config` (settings, presets, grids), `compute` (cells, the sweep and `run`), `estimate`
(capacity from records), `report` (CSV, figures, REPORT.md section). The paper's stated protocol is
`assocmem.experiments.references.CAPACITY_SETTINGS`.
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.capacity.compute import (BENCHMARK_CONFIG, ID_FIELDS, benchmark_case, build_series,
                                                   cell_cost, cell_data, cell_wrong_bits, make_cell_fn, run,
                                                   run_cells)
from assocmem.experiments.capacity.config import (CSV_HEADER, MODEL_LABELS, MODELS, PRESETS, CapacityConfig,
                                                  d_bucket, n_bucket, n_grid)
from assocmem.experiments.capacity.estimate import errors_by_series, estimate
from assocmem.experiments.capacity.report import (LEARNED_CSV, TITLE, draw_figure3b_with_learned, make_figures,
                                                  plot_capacity, read_capacity_rows, report_section,
                                                  write_capacity_csv)

EXPERIMENT = Experiment(
    name="capacity",
    title=TITLE,
    config_cls=CapacityConfig,
    presets=PRESETS,
    run=run,
    report_section=report_section,
)

__all__ = [
    "BENCHMARK_CONFIG", "CSV_HEADER", "CapacityConfig", "EXPERIMENT", "ID_FIELDS", "LEARNED_CSV", "MODELS",
    "MODEL_LABELS", "PRESETS", "benchmark_case", "build_series", "cell_cost", "cell_data", "cell_wrong_bits",
    "d_bucket", "draw_figure3b_with_learned", "errors_by_series", "estimate", "make_cell_fn", "make_figures",
    "n_bucket", "n_grid", "plot_capacity", "read_capacity_rows", "report_section", "run", "run_cells",
    "write_capacity_csv",
]
