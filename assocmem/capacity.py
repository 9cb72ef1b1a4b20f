"""Capacity estimation from recall-error tables (seed 002, §7 and Appendix A).

For one model and dimensionality d, an *error table* lists, for each pattern
count N on a grid, the per-query Hamming errors of recalling corrupted cues.
The capacity is the largest N whose mean error is at most the threshold (3%);
95% intervals come from bootstrap resampling of the per-query errors; the
capacity curves (point estimate and both bounds) are smoothed over d with a
Gaussian kernel, σ = 1.5 (App. A). Everything here is NumPy and pure.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

DEFAULT_THRESHOLD = 0.03
DEFAULT_SIGMA = 1.5


def _as_table(n_values: Sequence[int], values: Sequence) -> tuple[np.ndarray, list]:
  n = np.asarray(n_values)
  if n.ndim != 1 or len(n) != len(values):
    raise ValueError(f"n_values and the table must have the same length, got {len(n)} and {len(values)}")
  if len(n) and np.any(np.diff(n) <= 0):
    raise ValueError(f"n_values must be strictly increasing, got {n.tolist()}")
  return n, list(values)


def capacity_from_errors(n_values: Sequence[int], mean_errors: Sequence[float],
                         threshold: float = DEFAULT_THRESHOLD) -> int:
  """Largest N whose mean error is <= threshold (seed 002, §7 / App. A); 0 if none.

  Args:
    n_values: (K,) strictly increasing pattern counts.
    mean_errors: (K,) mean Hamming error at each count (N not on the grid count as failing).
    threshold: error threshold (3% in the paper).
  """
  n, err = _as_table(n_values, mean_errors)
  err = np.asarray(err, dtype=float)
  ok = err <= threshold
  return int(n[ok].max()) if ok.any() else 0


def bootstrap_mean_errors(errors: Sequence[Sequence[float]], n_boot: int,
                          rng: np.random.Generator) -> np.ndarray:
  """(n_boot, K) means of bootstrap resamples (with replacement) of each cell's per-query errors."""
  out = np.empty((n_boot, len(errors)))
  for k, e in enumerate(errors):
    e = np.asarray(e, dtype=float)
    if e.ndim != 1 or e.size == 0:
      raise ValueError(f"cell {k} needs a non-empty 1-d array of per-query errors, got shape {e.shape}")
    idx = rng.integers(0, e.size, size=(n_boot, e.size))
    out[:, k] = e[idx].mean(axis=1)
  return out


def bootstrap_capacity(n_values: Sequence[int], errors: Sequence[Sequence[float]],
                       threshold: float = DEFAULT_THRESHOLD, n_boot: int = 1000,
                       level: float = 0.95, seed: int = 0) -> tuple[int, float, float]:
  """Capacity and its bootstrap percentile interval (seed 002, App. A).

  Each replicate resamples every cell's per-query errors with replacement and
  recomputes the capacity; the interval is the central `level` range of the
  replicates.

  Args:
    n_values: (K,) strictly increasing pattern counts.
    errors: K arrays of per-query Hamming errors.
    threshold: error threshold.
    n_boot: number of bootstrap replicates.
    level: interval coverage.
    seed: seed of the resampling (NumPy Generator).
  Returns:
    (capacity, lower, upper).
  """
  n, errors = _as_table(n_values, errors)
  if not 0 < level < 1:
    raise ValueError(f"level must lie in (0, 1), got {level}")
  point = capacity_from_errors(n, [np.mean(e) for e in errors], threshold)
  if len(n) == 0:
    return 0, 0.0, 0.0
  boot = bootstrap_mean_errors(errors, n_boot, np.random.default_rng(seed))
  ok = boot <= threshold
  caps = np.where(ok.any(axis=1), np.max(np.where(ok, n[None, :], 0), axis=1), 0)
  alpha = 0.5 * (1 - level)
  lo, hi = np.quantile(caps, [alpha, 1 - alpha])
  return point, float(lo), float(hi)


def bootstrap_mean_interval(errors: Sequence[float], n_boot: int = 1000, level: float = 0.95,
                            seed: int = 0) -> tuple[float, float, float]:
  """(median, lower, upper) of the bootstrap distribution of one cell's mean error."""
  boot = bootstrap_mean_errors([errors], n_boot, np.random.default_rng(seed))[:, 0]
  alpha = 0.5 * (1 - level)
  lo, med, hi = np.quantile(boot, [alpha, 0.5, 1 - alpha])
  return float(med), float(lo), float(hi)


def gaussian_smooth(xs: Sequence[float], values: Sequence[float], sigma: float = DEFAULT_SIGMA,
                    log: bool = True) -> np.ndarray:
  """Gaussian-kernel smoothing of a curve over x (seed 002, App. A: σ = 1.5).

  The kernel exp(−(x_i − x_j)² / 2σ²) is renormalised at every x_i over the grid
  points present, so the ends of the curve are not pulled towards zero and an
  irregular grid is handled. With `log=True` (default) the curve is smoothed in
  log space, as log(1 + v), which leaves an exponential curve (nearly)
  unchanged where linear smoothing would inflate it, and keeps zeros finite.
  """
  x = np.asarray(xs, dtype=float)
  v = np.asarray(values, dtype=float)
  if x.shape != v.shape or x.ndim != 1:
    raise ValueError(f"xs and values must be 1-d and of equal length, got {x.shape} and {v.shape}")
  if sigma < 0:
    raise ValueError(f"sigma must be >= 0, got {sigma}")
  if sigma == 0 or x.size == 0:
    return v.copy()
  w = np.exp(-0.5 * ((x[:, None] - x[None, :]) / sigma) ** 2)
  w /= w.sum(axis=1, keepdims=True)
  if log:
    return np.expm1(w @ np.log1p(np.maximum(v, 0.0)))
  return w @ v
