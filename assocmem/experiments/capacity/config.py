"""Settings of the capacity sweep (seed 002, §7 Figure 3, Appendix A): models, presets, grids."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from assocmem import _checks

MODELS = ("diffusion", "mhn", "classic")
MODEL_LABELS = {"diffusion": "exact diffusion (VP)", "mhn": "modern Hopfield (β = 5)",
                "classic": "classical Hopfield (Hebbian, zero diagonal, 10 sync updates)"}
MODEL_COLORS = {"diffusion": "tab:blue", "mhn": "tab:green", "classic": "tab:red"}
MODEL_STYLES = {"diffusion": "-", "mhn": "--", "classic": "-"}
MODEL_MARKERS = {"diffusion": "o", "mhn": "x", "classic": "s"}
CSV_HEADER = ("model", "d", "capacity", "lower", "upper")


@dataclasses.dataclass(frozen=True)
class CapacityConfig:
  """Settings of a capacity sweep (defaults: seed 002, App. A)."""
  dims: tuple[int, ...] = tuple(range(10, 17))
  models: tuple[str, ...] = MODELS
  n_max: int = 4096               # largest N tried
  per_octave: int = 4             # N grid: round(2^(k / per_octave)), deduplicated
  n_queries: int = 140
  theta: float = 0.68
  threshold: float = 0.03
  stop_error: float = 0.06        # a series stops after `patience` cells above this mean error
  patience: int = 2
  gamma: float = 0.8
  ode_steps: int = 300
  t_end: float = 1e-3
  mhn_beta: float = 5.0
  mhn_steps: int = 150
  classic_steps: int = 10
  fig_ns: tuple[int, ...] = (4, 8, 16, 32, 64, 128)   # Figure 3a: N values run at every d (diffusion)
  n_boot: int = 1000
  sigma: float = 1.5
  seed: int = 0

  def __post_init__(self):
    for m in self.models:
      if m not in MODELS:
        raise ValueError(f"unknown model {m!r}; expected one of {MODELS}")
    if not self.dims or not all(_checks.is_int(d) and d >= 1 for d in self.dims):
      raise ValueError(f"dims must be a non-empty tuple of positive integers, got {self.dims}")
    if not _checks.is_number(self.theta) or not 0 < self.theta < 1:
      raise ValueError(f"theta must be a number in (0, 1), got {self.theta!r}")
    for name in ("n_queries", "n_max", "per_octave", "patience"):
      _checks.check_int(name, getattr(self, name), 1)

  def model_settings(self, model: str) -> dict[str, Any]:
    """The settings a cell of `model` depends on (hashed into the cell's identity)."""
    common = {"theta": self.theta, "n_queries": self.n_queries, "seed": self.seed}
    if model == "diffusion":
      return {**common, "gamma": self.gamma, "steps": self.ode_steps, "t_end": self.t_end}
    if model == "mhn":
      return {**common, "beta": self.mhn_beta, "steps": self.mhn_steps}
    return {**common, "steps": self.classic_steps, "mode": "sync", "zero_diagonal": True}

  def config_hash(self, model: str) -> str:
    blob = json.dumps({"model": model, **self.model_settings(model)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


PRESETS: dict[str, CapacityConfig] = {
    # A few seconds of compute: three small d, N up to 64.
    "quick": CapacityConfig(dims=(8, 10, 12), n_max=64, fig_ns=(4, 8, 16), n_boot=300),
    # Seed 002's range d = 10..16 and beyond, up to d = 30.
    "paper": CapacityConfig(dims=tuple(range(10, 31)), n_max=16384, fig_ns=(4, 16, 64, 256, 1024)),
}


# ---------------------------------------------------------------- grids and buckets

def n_grid(n_max: int, per_octave: int = 4) -> list[int]:
  """Geometric grid of pattern counts: round(2^(k / per_octave)) for k >= 0, deduplicated, <= n_max."""
  out: list[int] = []
  k = 0
  while True:
    n = int(round(2 ** (k / per_octave)))
    if n > n_max:
      return out
    if not out or n > out[-1]:
      out.append(n)
    k += 1


def n_bucket(n: int) -> int:
  """Padded pattern count: the next power of two >= max(n, 8)."""
  return max(8, 1 << (int(n) - 1).bit_length())


def d_bucket(d: int) -> int:
  """Padded dimensionality: the next multiple of 8 >= max(d, 16)."""
  return max(16, -(-int(d) // 8) * 8)
