"""Capacity estimates from the sweep's cell records (seed 002, App. A): threshold, bootstrap, smoothing."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from assocmem import capacity as cap_lib
from assocmem.experiments.capacity.config import CapacityConfig


def errors_by_series(records: Sequence[dict]) -> dict[tuple[str, int], tuple[list[int], list[np.ndarray]]]:
  """{(model, d): (sorted N values, per-query error arrays)} from cell records."""
  table: dict[tuple[str, int], dict[int, np.ndarray]] = {}
  for r in records:
    table.setdefault((r["model"], int(r["d"])), {})[int(r["n_patterns"])] = (
        np.asarray(r["n_wrong"], dtype=float) / int(r["d"]))
  return {k: (sorted(v), [v[n] for n in sorted(v)]) for k, v in table.items()}


def estimate(records: Sequence[dict], cfg: CapacityConfig) -> list[dict]:
  """Capacity rows {model, d, capacity, lower, upper, raw_*} per (model, d), smoothed over d."""
  series = errors_by_series(records)
  rows = []
  for model in cfg.models:
    dims = [d for d in cfg.dims if (model, d) in series]
    raw = []
    for d in dims:
      ns, errs = series[(model, d)]
      raw.append(cap_lib.bootstrap_capacity(ns, errs, cfg.threshold, cfg.n_boot, seed=cfg.seed + d))
    if not raw:
      continue
    raw_arr = np.asarray(raw, dtype=float)
    smooth = [cap_lib.gaussian_smooth(dims, raw_arr[:, j], cfg.sigma) for j in range(3)]
    for i, d in enumerate(dims):
      rows.append({"model": model, "d": d, "capacity": float(smooth[0][i]), "lower": float(smooth[1][i]),
                   "upper": float(smooth[2][i]), "raw_capacity": int(raw_arr[i, 0]),
                   "raw_lower": float(raw_arr[i, 1]), "raw_upper": float(raw_arr[i, 2])})
  return rows
