"""Settings of the memorisation → generalisation sweep, its presets, and the capacity from learned_capacity.csv."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any

import numpy as np

from assocmem import _checks
from assocmem.experiments.learned_capacity.report import load_points
from assocmem.experiments.score_networks import ScoreNetworkSettings


@dataclasses.dataclass(frozen=True)
class MemorisationConfig(ScoreNetworkSettings):
  """Settings of the memorisation → generalisation sweep.

  The training fields (dims, hidden_per_dim, n_iterations, learning_rate, theta_min, theta_max,
  chunk_size, seed) are `ScoreNetworkSettings`'s; here θ ~ U(0.01, 1), the full noise range, so that
  the networks can sample from the prior. The seed draws the patterns as learned_capacity does with
  the same seed, and the networks and samples.

  Attributes:
    dims: dimensionalities d (10, 12).
    capacity: (d, C) table of the learned capacity that sets the N grid (N = round(r · C)).
    ratios: the multiples r of C (up to ≥ 8).
    repeats: pattern sets (networks) per (d, N).
    n_samples: samples per network.
    sample_steps, t_end, gamma: Euler–Maruyama from θ = theta_min to t_end on a geometric grid (VP, γ).
    delta_m, delta_s: classification radii (Euclidean).
    exact: also sample the exact model of the same patterns (memorisation_exact.csv).
  """
  dims: tuple[int, ...] = (10, 12)
  theta_min: float = 0.01
  capacity: tuple[tuple[int, int], ...] = ((10, 4), (12, 8))
  ratios: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
  repeats: int = 3
  n_samples: int = 256
  sample_steps: int = 300
  t_end: float = 1e-3
  gamma: float = 0.8
  delta_m: float = 1.0
  delta_s: float = 1.0
  exact: bool = True

  def __post_init__(self):
    super().__post_init__()
    caps = dict(self.capacity)
    missing = [d for d in self.dims if d not in caps]
    if missing:
      raise ValueError(f"capacity has no entry for d = {missing}")
    if any(not isinstance(c, (int, float)) or c <= 0 for c in caps.values()):
      raise ValueError(f"capacity values must be > 0, got {self.capacity}")
    if not self.ratios or any(not isinstance(r, (int, float)) or r <= 0 for r in self.ratios):
      raise ValueError(f"ratios must be positive numbers, got {self.ratios}")
    for name in ("repeats", "n_samples", "sample_steps"):
      _checks.check_int(name, getattr(self, name), 1)
    _checks.check_positive("delta_m", self.delta_m)
    _checks.check_positive("delta_s", self.delta_s)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_positive("t_end", self.t_end)
    if self.theta_min >= 1:
      raise ValueError(f"theta_min must lie in (0, 1) to sample from the prior, got {self.theta_min}")

  def n_grid(self, d: int) -> list[int]:
    """Pattern counts N = max(1, round(r · C_d)), increasing, deduplicated."""
    c = dict(self.capacity)[d]
    return sorted({max(1, int(round(r * c))) for r in self.ratios})

  def config_hash(self) -> str:
    """Identity of the settings a cell's result depends on (not dims, capacity, ratios, exact)."""
    keys = ("hidden_per_dim", "n_iterations", "learning_rate", "theta_min", "theta_max", "n_samples",
            "sample_steps", "t_end", "gamma", "delta_m", "delta_s", "seed", "repeats")
    blob = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


PRESETS: dict[str, MemorisationConfig] = {
    # About a minute here: d = 6 (C = 2), N = 1 … 32, 2 repeats, 1,500 steps, 128 samples.
    "quick": MemorisationConfig(dims=(6,), capacity=((6, 2),), repeats=2, n_iterations=1500, n_samples=128),
    # d = 10, 12 with C = the exact model's smoothed capacity (4, 8; learned ≈ exact, see
    # learned_capacity); N = 0.5 C … 16 C; 3 repeats; 5,000 steps; 256 samples per network.
    "paper": MemorisationConfig(),
}


def get_preset(name: str, **overrides: Any) -> MemorisationConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return _checks.replace_fields(PRESETS[name], overrides)


def capacity_table_from_csv(path: str) -> dict[int, int]:
  """{d: round(mean learned capacity)} from a learned_capacity.csv (at least 1)."""
  by_d: dict[int, list[int]] = {}
  for d, c in load_points(path):
    by_d.setdefault(d, []).append(c)
  return {d: max(1, int(round(float(np.mean(v))))) for d, v in by_d.items()}


def make_config(preset: str, **overrides: Any) -> MemorisationConfig:
  """The preset with `overrides` applied; `learned_capacity_csv=PATH` (a learned_capacity.csv of
  scripts/learned_capacity.py) replaces the capacity of each d it lists by its mean learned
  capacity, rounded (`capacity_table_from_csv`); the other d keep the preset's (or the `capacity`
  override's). ValueError names a bad preset, setting or CSV."""
  _checks.check_choice("preset", preset, tuple(PRESETS))
  base = PRESETS[preset]
  csv_path = overrides.pop("learned_capacity_csv", None)
  unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(base)})
  if unknown:
    raise ValueError(f"unknown memorisation settings {unknown}")
  if csv_path is not None:
    if not isinstance(csv_path, str) or not os.path.exists(csv_path):
      raise ValueError(f"learned_capacity_csv {csv_path!r} does not exist")
    table = {**dict(overrides.get("capacity", base.capacity)), **capacity_table_from_csv(csv_path)}
    overrides["capacity"] = tuple(sorted(table.items()))
  return dataclasses.replace(base, **overrides)
