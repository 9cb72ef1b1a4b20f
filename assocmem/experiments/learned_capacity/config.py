"""Settings of the learned-capacity procedure (seed 002, App. A), its presets and validation."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from assocmem import _checks
from assocmem.experiments.score_networks import ScoreNetworkSettings

START_ROUNDINGS = ("floor", "nearest")


@dataclasses.dataclass(frozen=True)
class LearnedCapacityConfig(ScoreNetworkSettings):
  """Settings of the learned-capacity procedure (defaults: seed 002, App. A).

  The training fields (dims, hidden_per_dim, n_iterations, learning_rate, theta_min, theta_max,
  chunk_size, seed) are `ScoreNetworkSettings`'s.

  Attributes:
    dims: dimensionalities d (10, 12, 14, 16).
    repeats: independent repeats per d (8).
    margin: n_top = exact capacity + margin (4).
    start_rounding: how the real-valued exact capacity c gives the integer start n_top: "floor"
      (⌊c + margin⌋, the largest whole n not above c + margin) or "nearest" (round(c) + margin).
      The two differ only when c has a fractional part ≥ 0.5, and then only for a repeat whose walk
      would pass at round(c) + margin, i.e. whose capacity reaches the start (a lower bound either way).
    floor: smallest candidate n tried; capacity floor − 1 if none passes.
    block: candidates per repeat per round (1: sequential; None: all of n_top … floor at once).
    theta: signal level of the test cues (0.68).
    n_batches: test batches, each every training pattern corrupted once (30).
    threshold: largest passing mean Hamming error (3%).
    gamma, ode_steps, t_end: the recall ODE (VP γ = 0.8, 300 Euler steps to 1e-3).
    eval_group: test batches recalled per jitted call (a fixed grouping: results do not depend on
      `early_decision`).
    early_decision: stop testing a candidate once its verdict is settled (same verdicts; see
      `compute.evaluate_candidates`).
    exact_capacity: fixed (d, capacity) table of the exact model (used before any CSV or computation).
    exact_capacity_csv: a capacity.csv of scripts/capacity.py giving the exact model's capacity for
      the d the table lacks (None: none; d in neither are computed, `exact.exact_capacities`).
  """
  repeats: int = 8
  margin: int = 4
  start_rounding: str = "floor"
  floor: int = 1
  block: int | None = 1
  theta: float = 0.68
  n_batches: int = 30
  threshold: float = 0.03
  gamma: float = 0.8
  ode_steps: int = 300
  t_end: float = 1e-3
  eval_group: int = 5
  early_decision: bool = True
  exact_capacity: tuple[tuple[int, int], ...] = ()
  exact_capacity_csv: str | None = None

  def __post_init__(self):
    super().__post_init__()
    for name in ("repeats", "floor", "n_batches", "ode_steps", "eval_group"):
      _checks.check_int(name, getattr(self, name), 1)
    _checks.check_int("margin", self.margin, 0)
    _checks.check_choice("start_rounding", self.start_rounding, START_ROUNDINGS)
    if self.block is not None:
      _checks.check_int("block", self.block, 1)
    if not isinstance(self.early_decision, bool):
      raise ValueError(f"early_decision must be True or False, got {self.early_decision!r}")
    _checks.check_open_unit("theta", self.theta)
    _checks.check_open_unit("threshold", self.threshold)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_positive("t_end", self.t_end)
    for row in self.exact_capacity:
      if (not isinstance(row, tuple) or len(row) != 2 or not all(isinstance(v, int) for v in row)
          or row[1] < 0):
        raise ValueError(f"exact_capacity must hold (d, capacity) pairs of integers, got {row!r}")
    if self.exact_capacity_csv is not None and (not isinstance(self.exact_capacity_csv, str)
                                                or not self.exact_capacity_csv):
      raise ValueError(f"exact_capacity_csv must be None or a path, got {self.exact_capacity_csv!r}")

  def config_hash(self) -> str:
    """Identity of the settings a candidate's result depends on (not dims, repeats, block, floor,
    margin, start_rounding, the exact-capacity sources: those choose which candidates run, not what
    a candidate gives)."""
    keys = ("hidden_per_dim", "n_iterations", "learning_rate", "theta_min", "theta_max", "theta",
            "n_batches", "threshold", "gamma", "ode_steps", "t_end", "seed", "eval_group")
    blob = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


PRESETS: dict[str, LearnedCapacityConfig] = {
    # ~1 minute here: d = 6, 8; 2 repeats; 2,000 steps; every candidate of a d in one ensemble.
    # Exact capacities: the smoothed estimates of the capacity sweep at the paper's settings
    # (d = 4…16, seed 0: 1.76 at d = 6, 2.30 at d = 8), rounded.
    "quick": LearnedCapacityConfig(dims=(6, 8), repeats=2, n_iterations=2000, block=None,
                                   exact_capacity=((6, 2), (8, 2))),
    # App. A: d = 10, 12, 14, 16; 8 repeats; 5,000 steps; sequential candidates, repeats batched.
    "paper": LearnedCapacityConfig(),
}


def get_preset(name: str, **overrides: Any) -> LearnedCapacityConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return _checks.replace_fields(PRESETS[name], overrides)
