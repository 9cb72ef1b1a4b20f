"""The exact diffusion model's capacity per d, where the learned walk starts (seed 002, App. A).

App. A: "n_d is the estimated capacity of the exact score model plus 4". The estimate comes from
the config's fixed table, from a capacity.csv of scripts/capacity.py, or from the capacity sweep
(`assocmem.experiments.capacity`) run here; `integer_capacity` turns it into a whole number.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
from typing import Any, Sequence

import numpy as np

from assocmem import _checks
from assocmem.experiments.learned_capacity.config import START_ROUNDINGS, LearnedCapacityConfig


def read_exact_capacity_csv(path: str) -> dict[int, float]:
  """{d: smoothed capacity} of the exact diffusion model from a capacity.csv of scripts/capacity.py."""
  if not os.path.exists(path):
    raise ValueError(f"exact_capacity_csv {path!r} does not exist")
  with open(path) as f:
    rows = list(csv.DictReader(f))
  if not rows or not {"model", "d", "capacity"} <= set(rows[0]):
    raise ValueError(f"exact_capacity_csv {path!r} must have the columns model,d,capacity (capacity.csv)")
  return {int(r["d"]): float(r["capacity"]) for r in rows if r["model"] == "diffusion"}


def compute_exact_capacity(dims: Sequence[int], work_dir: str) -> dict[int, float]:
  """{d: smoothed capacity} of the exact model at the paper's settings (`assocmem.experiments.capacity`).

  The sweep runs over d = 4 … 20, widened to min − 4 … max + 4 when the requested d reach past
  it: a fixed range, so that a d gets the same smoothed value (Gaussian, σ = 1.5) whichever subset
  of dims is asked for, and no requested d is a boundary value. Its cells are kept in `work_dir`
  (resumable). Values (seed 0): d = 6, 8, 10, 12, 14, 16 → 1.76, 2.30, 3.95, 7.58, 15.6, 27.9.
  """
  from assocmem.experiments import capacity  # pylint: disable=import-outside-toplevel
  lo, hi = max(2, min(4, min(dims) - 4)), max(20, max(dims) + 4)
  cfg = dataclasses.replace(capacity.PRESETS["paper"], dims=tuple(range(lo, hi + 1)), models=("diffusion",))
  records, _ = capacity.run_cells(cfg, work_dir)
  return {int(r["d"]): float(r["capacity"]) for r in capacity.estimate(records, cfg)}


def integer_capacity(value: float, rounding: str = "floor") -> int:
  """The whole number of patterns an estimated capacity `value` stands for when the walk starts
  (seed 002, App. A: "n_d is the estimated capacity of the exact score model plus 4"):
  ⌊value⌋ ("floor"; so ⌊value⌋ + margin never exceeds value + margin) or round(value) ("nearest").

  A value within 1e-9 of an integer counts as that integer (a float64 estimate of exactly 7 is 7).
  """
  _checks.check_choice("rounding", rounding, START_ROUNDINGS)
  if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value) or value < 0:
    raise ValueError(f"value (an estimated capacity) must be a finite number >= 0, got {value!r}")
  nearest = int(round(float(value)))
  if rounding == "nearest" or abs(float(value) - nearest) <= 1e-9:
    return nearest
  return int(math.floor(float(value)))


def exact_capacities(cfg: LearnedCapacityConfig, csv_path: str | None = None,
                     work_dir: str | None = None) -> dict[int, dict[str, Any]]:
  """{d: {"capacity": int, "value": float, "source": str}} for every d of cfg.

  Sources in order: the config's fixed table, the CSV (`csv_path`, default
  `cfg.exact_capacity_csv`: a capacity.csv of scripts/capacity.py), a computation with
  `compute_exact_capacity` (in work_dir) for the rest. "value" is the estimate, "capacity" the
  whole number the walk starts from (n_top = capacity + margin), made from the value by
  `cfg.start_rounding` (`integer_capacity`).
  """
  csv_path = csv_path if csv_path is not None else cfg.exact_capacity_csv
  out: dict[int, dict[str, Any]] = {}
  for d, c in cfg.exact_capacity:
    if d in cfg.dims:
      out[d] = {"capacity": int(c), "value": float(c), "source": "table"}
  if csv_path:
    table = read_exact_capacity_csv(csv_path)
    for d in cfg.dims:
      if d not in out and d in table:
        out[d] = {"capacity": integer_capacity(table[d], cfg.start_rounding), "value": table[d],
                  "source": os.path.basename(csv_path)}
  missing = [d for d in cfg.dims if d not in out]
  if missing:
    if work_dir is None:
      raise ValueError(f"no exact capacity for d = {missing}: give exact_capacity_csv or a work_dir")
    computed = compute_exact_capacity(missing, work_dir)
    for d in missing:
      out[d] = {"capacity": integer_capacity(computed[d], cfg.start_rounding), "value": computed[d],
                "source": "computed"}
  return out
