"""Settings of the collapse-time experiment (Biroli, Bonnaire, de Bortoli & Mézard 2024): presets, validation."""

from __future__ import annotations

import dataclasses
from typing import Any

from assocmem import _checks
from assocmem.experiments import references

STATISTICS = ("mean", "median")


def _check_int(name: str, value: Any, minimum: int) -> None:
  if not _checks.is_int(value) or value < minimum:
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_positive(name: str, value: Any) -> None:
  if not _checks.is_number(value) or not value > 0:
    raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


@dataclasses.dataclass(frozen=True)
class CollapseConfig:
  """Settings of the collapse-time measurement.

  Attributes:
    dims: data dimensions d (each >= 1).
    ns: numbers n of stored points (each >= 2: with one point there is nothing to collapse onto).
    sigma: data standard deviation σ (points y ~ N(0, σ² I_d)).
    gamma: VP schedule γ of assocmem's forward SDE dx = −½γ x dt + √γ dW.
    n_samples: forward samples per cell, x_t = θ_t y_i + √(1 − θ_t²) z from a uniformly drawn stored
      point y_i (the same y_i and z at every t: common random numbers make the curves smooth).
    n_times: points of the time grid of each cell (geometric, centred on the predicted t_C).
    span: the grid covers [t_C / span, t_C · span] (> 1).
    chunk_size: banks with more than `chunk_size` points run in `assocmem.mixture.Streaming(chunk_size)`
      (the (samples × n) logits never materialise); smaller banks run dense.
    statistic: which statistic of the own-point weight's crossing of ½ the tolerance check uses
      ("mean": E[h_own(t)] = ½, the primary; "median" is reported beside it).
    tolerance: the target |t_cross / t_C − 1| at d >= `tolerance_min_dim` (10%).
    tolerance_min_dim: the smallest d the target applies to (100).
    seed: PRNG seed (a cell's key depends on (d, n) only, so cells do not depend on the grid).
  """
  dims: tuple[int, ...] = (20, 50, 100, 150, 200)
  ns: tuple[int, ...] = (100, 1000, 10000, 100000)
  sigma: float = 1.0
  gamma: float = 0.8
  n_samples: int = 256
  n_times: int = 33
  span: float = 4.0
  chunk_size: int = 8192
  statistic: str = "mean"
  tolerance: float = references.COLLAPSE_TARGET_TOLERANCE
  tolerance_min_dim: int = references.COLLAPSE_TARGET_MIN_DIM
  seed: int = 0

  def __post_init__(self):
    for name in ("dims", "ns"):
      value = getattr(self, name)
      if not isinstance(value, tuple) or not value:
        raise ValueError(f"{name} must be a non-empty tuple of integers, got {value!r}")
    for d in self.dims:
      _check_int("dims", d, 1)
    for n in self.ns:
      _check_int("ns", n, 2)
    _check_positive("sigma", self.sigma)
    _check_positive("gamma", self.gamma)
    _check_int("n_samples", self.n_samples, 2)
    _check_int("n_times", self.n_times, 3)
    _check_positive("span", self.span)
    if not self.span > 1:
      raise ValueError(f"span must exceed 1 (the grid is [t_C / span, t_C · span]), got {self.span!r}")
    _check_int("chunk_size", self.chunk_size, 1)
    if self.statistic not in STATISTICS:
      raise ValueError(f"statistic must be one of {STATISTICS}, got {self.statistic!r}")
    _check_positive("tolerance", self.tolerance)
    _check_int("tolerance_min_dim", self.tolerance_min_dim, 1)
    _check_int("seed", self.seed, 0)


PRESETS: dict[str, CollapseConfig] = {
    # Seconds on a CPU: d = 20, 50, 100 and n = 10², 10³, 10⁴ (dense banks).
    "quick": CollapseConfig(dims=(20, 50, 100), ns=(100, 1000, 10000), n_samples=256),
    # d = 20 … 200 and n up to 10⁵ (streaming banks above 8,192 points), 512 samples per cell.
    "paper": CollapseConfig(dims=(20, 50, 100, 150, 200), ns=(100, 1000, 10000, 100000), n_samples=512),
}

CSV_HEADER = ("d", "n", "t_c_ou", "t_c", "t_mean", "rel_err_mean", "t_median", "rel_err_median",
              "own_at_t_c", "max_at_t_c", "mode")
