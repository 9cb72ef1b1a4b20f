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

Modules: `config` (settings, presets, grids), `compute` (cells and the sweep), `estimate`
(capacity from records), `report` (CSV, figures, REPORT.md section).
"""

from __future__ import annotations

import os
import time
from typing import Callable, Sequence

import dataclasses

import jax

from assocmem import files, mixture
from assocmem.experiments.capacity.compute import (BENCHMARK_CONFIG, ID_FIELDS, benchmark_case, build_series,
                                                   cell_cost, cell_data, cell_wrong_bits, make_cell_fn,
                                                   run_cells)
from assocmem.experiments.capacity.config import (CSV_HEADER, MODEL_LABELS, MODELS, PRESETS, CapacityConfig,
                                                  d_bucket, n_bucket, n_grid)
from assocmem.experiments.capacity.estimate import errors_by_series, estimate
from assocmem.experiments.capacity.report import (capacity_report_section, make_figures, plot_capacity,
                                                  read_capacity_rows, write_capacity_csv)


def run(cfg: CapacityConfig, out_dir: str, devices: Sequence | None = None, figures: bool = True,
        on_record: Callable | None = None, mode: mixture.Mode = mixture.DENSE) -> dict:
  """Sweep (resumable), estimate, write cells.jsonl, capacity.csv and the figures; returns a summary."""
  t0 = time.perf_counter()
  records, stats = run_cells(cfg, out_dir, devices, on_record, mode)
  t_cells = time.perf_counter() - t0
  rows = estimate(records, cfg)
  write_capacity_csv(rows, out_dir)
  paths = make_figures(records, rows, cfg, out_dir) if figures else []
  summary = {"cells": len(records), "computed": stats.computed, "reused": stats.reused,
             "sweep_seconds": round(t_cells, 3), "compute_seconds": round(stats.compute_seconds, 3),
             "total_seconds": round(time.perf_counter() - t0, 3), "devices": len(devices or jax.devices()),
             "figures": [os.path.basename(p) for p in paths]}
  files.write_json(os.path.join(out_dir, "summary.json"), {"config": dataclasses.asdict(cfg), **summary})
  return summary
