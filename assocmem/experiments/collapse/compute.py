"""Collapse times of the exact score (Biroli, Bonnaire, de Bortoli & Mézard 2024, "Dynamical regimes of
diffusion models"): when does the posterior over n stored points condense onto the point a sample came from?

Data: n points y_i ~ N(0, σ² I_d), stored in a `PatternBank` (uniform weights: the empirical
distribution, seed 002 Eq. 12). Forward samples from a stored point: x_t = θ_t y_i + √v_t z with
assocmem's VP kernel θ_t = exp(−γ t / 2), v_t = 1 − θ_t² (`assocmem.VPSDE`). The exact posterior
weight of the own point (seed 002 Eq. A4),

    h_i(x_t, t) = softmax_n(−‖x_t − θ_t y_n‖² / 2 v_t)_i,

is near 1 at small t and near 1/n at large t. Biroli et al. predict the crossover (the collapse
time), for the Ornstein–Uhlenbeck process dx = −x dt + √2 dW (x_s = e^{−s} y + √(1 − e^{−2s}) z), at

    t_C^OU = ½ ln(1 + σ² / (n^{2/d} − 1)).

assocmem's VP process has θ_t = e^{−γt/2}, so OU time s corresponds to VP time t = 2 s / γ
(derivation in docs/reproduction.md). `collapse_time` returns t_C in VP time.

We measure, per (d, n), on a geometric time grid around t_C, the mean and median over samples of
h_own(t) and the mean of the largest weight max_n h_n(t), all in one jit-compiled function per cell
(vmap over samples, `lax.map` over times; streaming banks via `assocmem.mixture.Streaming` above
`chunk_size` points), and interpolate (in log t) where the mean and the median cross ½.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

import assocmem
from assocmem import mixture
from assocmem.experiments.collapse import report
from assocmem.experiments.collapse.config import CollapseConfig

Array = jax.Array


def _check(d: Any, n: Any, sigma: Any) -> None:
  if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
    raise ValueError(f"d (the data dimension) must be an integer >= 1, got {d!r}")
  if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
    raise ValueError(f"n (the number of stored points) must be an integer >= 2, got {n!r}")
  if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.number)) or not (
      math.isfinite(sigma) and sigma > 0):
    raise ValueError(f"sigma (the data standard deviation) must be a finite number > 0, got {sigma!r}")


def collapse_time_ou(d: int, n: int, sigma: float = 1.0) -> float:
  """t_C = ½ ln(1 + σ² / (n^{2/d} − 1)) in Ornstein–Uhlenbeck time (Biroli et al. 2024, Gaussian data).

  Args:
    d: data dimension >= 1.
    n: number of stored points >= 2.
    sigma: standard deviation of the data N(0, σ² I_d).
  """
  _check(d, n, sigma)
  return 0.5 * math.log1p(sigma**2 / math.expm1(2.0 * math.log(n) / d))


def collapse_time(d: int, n: int, sigma: float = 1.0, gamma: float = 0.8) -> float:
  """t_C in assocmem's VP time: t = 2 t_C^OU / γ (θ_t = e^{−γt/2} equals the OU signal e^{−s} at s = γt/2)."""
  if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.number)) or not (
      math.isfinite(gamma) and gamma > 0):
    raise ValueError(f"gamma must be a finite number > 0, got {gamma!r}")
  return 2.0 * collapse_time_ou(d, n, sigma) / gamma


def mode_for(n: int, chunk_size: int) -> mixture.Mode:
  """Dense for banks of at most `chunk_size` points, else `Streaming(chunk_size)`."""
  return mixture.DENSE if n <= chunk_size else mixture.Streaming(chunk_size)


def cell_bank(key: Array, d: int, n: int, sigma: float, chunk_size: int) -> assocmem.PatternBank:
  """n points y ~ N(0, σ² I_d) in a bank laid out for `mode_for(n, chunk_size)` (`mixture.layout_bank`)."""
  _check(d, n, sigma)
  ys = sigma * jax.random.normal(key, (n, d), jnp.float32)
  return mixture.layout_bank(assocmem.make_bank(ys), mode_for(n, chunk_size))


def own_and_max_weight(bank: assocmem.PatternBank, index: Array, x: Array, t: Array, sde: Any,
                       mode: mixture.Mode = mixture.DENSE) -> tuple[Array, Array]:
  """Posterior weight h_index(x, t) of one stored point and the largest weight max_n h_n (seed 002 Eq. A4).

  One pass over the bank (`assocmem.mixture.bank_partials`, any mode) with the exact score's logits
  ℓ_n = a qᵀ(y_n − c) + b ‖y_n − c‖² + log π_n, q = x − θ_t c, a = θ_t / v_t, b = −θ_t² / 2v_t:
  h_i = exp(ℓ_i − logsumexp ℓ) and max_n h_n = exp(max ℓ − logsumexp ℓ).
  """
  theta, var = sde.theta(t), sde.variance(t)
  q = x - theta * bank.center
  a = theta / var
  b = -0.5 * a * theta
  p = mixture.bank_partials(bank, q, a, b, mode)
  log_z = mixture.log_normalizer(p)
  own = a * jnp.dot(q, bank.centered[index]) + b * bank.sq_norms[index] + bank.log_weights[index]
  return jnp.exp(own - log_z), jnp.exp(p.max - log_z)


@functools.partial(jax.jit, static_argnames=("mode",))
def weight_curves(bank: assocmem.PatternBank, index: Array, z: Array, ts: Array, sde: Any,
                  mode: mixture.Mode = mixture.DENSE) -> tuple[Array, Array]:
  """(K, S) own-point and largest posterior weights of S forward samples at K times.

  Sample s is x_t = θ_t y_{index[s]} + √v_t z[s] at every t (common random numbers).
  Args:
    bank: the stored points.
    index: (S,) the stored point each sample comes from.
    z: (S, d) its standard normal noise.
    ts: (K,) times (> 0).
    sde: the forward SDE (VP).
    mode: mixture mode (Dense, or Streaming for large banks).
  """
  ys = bank.patterns[index]

  def at(t):
    xs = sde.theta(t) * ys + jnp.sqrt(sde.variance(t)) * z
    return jax.vmap(lambda i, x: own_and_max_weight(bank, i, x, t, sde, mode))(index, xs)

  return jax.lax.map(at, ts)


def crossing_time(ts: np.ndarray, values: np.ndarray, level: float = 0.5) -> float:
  """The first time at which `values` (on increasing `ts`) falls below `level`, interpolated in log t.

  NaN when the curve never crosses inside the grid (it starts below or ends above the level).
  """
  ts = np.asarray(ts, np.float64)
  values = np.asarray(values, np.float64)
  if ts.ndim != 1 or ts.shape != values.shape or ts.shape[0] < 2:
    raise ValueError(f"ts and values must be 1-d arrays of the same length >= 2, got {ts.shape}, {values.shape}")
  if np.any(np.diff(ts) <= 0) or np.any(ts <= 0):
    raise ValueError("ts must be positive and increasing")
  below = np.flatnonzero(values < level)
  if below.size == 0 or below[0] == 0:
    return float("nan")
  k = below[0]
  v0, v1 = values[k - 1], values[k]
  u = (v0 - level) / (v0 - v1)
  return float(np.exp(np.log(ts[k - 1]) + u * (np.log(ts[k]) - np.log(ts[k - 1]))))


def time_grid(t_c: float, n_times: int, span: float) -> np.ndarray:
  """(n_times,) increasing geometric grid from t_c / span to t_c · span."""
  return t_c * span ** np.linspace(-1.0, 1.0, n_times)


def cell_key(key: Array, d: int, n: int) -> Array:
  """The key of cell (d, n): independent of the grid it sits in."""
  return jax.random.fold_in(jax.random.fold_in(key, d), n)


def measure_cell(cfg: CollapseConfig, key: Array, d: int, n: int) -> dict[str, Any]:
  """Curves and crossing times of one (d, n) cell."""
  sde = assocmem.VPSDE(cfg.gamma)
  k_data, k_idx, k_z = jax.random.split(cell_key(key, d, n), 3)
  bank = cell_bank(k_data, d, n, cfg.sigma, cfg.chunk_size)
  index = jax.random.randint(k_idx, (cfg.n_samples,), 0, n)
  z = jax.random.normal(k_z, (cfg.n_samples, d), jnp.float32)
  t_c = collapse_time(d, n, cfg.sigma, cfg.gamma)
  ts = time_grid(t_c, cfg.n_times, cfg.span)
  mode = mode_for(n, cfg.chunk_size)
  t0 = time.perf_counter()
  own, top = weight_curves(bank, index, z, jnp.asarray(ts, jnp.float32), sde, mode)
  own, top = np.asarray(own, np.float64), np.asarray(top, np.float64)
  seconds = time.perf_counter() - t0
  mean_own, median_own, mean_top = own.mean(axis=1), np.median(own, axis=1), top.mean(axis=1)
  t_mean, t_median = crossing_time(ts, mean_own), crossing_time(ts, median_own)
  log_ts = np.log(ts)
  return {
      "d": d, "n": n, "t_c_ou": collapse_time_ou(d, n, cfg.sigma), "t_c": t_c, "ts": ts,
      "mean_own": mean_own, "median_own": median_own, "mean_max": mean_top,
      "t_mean": t_mean, "t_median": t_median,
      "own_at_t_c": float(np.interp(np.log(t_c), log_ts, mean_own)),
      "max_at_t_c": float(np.interp(np.log(t_c), log_ts, mean_top)),
      "mode": "streaming" if isinstance(mode, mixture.Streaming) else "dense", "seconds": seconds,
  }


def compute(cfg: CollapseConfig, key: Array) -> list[dict[str, Any]]:
  """Every (d, n) cell of the grid, d-major."""
  cells = []
  for d in cfg.dims:
    for n in cfg.ns:
      cell = measure_cell(cfg, key, d, n)
      logging.info("collapse: d=%d n=%d t_C=%.4f mean crossing %.4f (%+.1f%%), median %.4f, %.2f s (%s)",
                   d, n, cell["t_c"], cell["t_mean"], 100 * (cell["t_mean"] / cell["t_c"] - 1),
                   cell["t_median"], cell["seconds"], cell["mode"])
      cells.append(cell)
  return cells


def run(cfg: CollapseConfig, out_dir: str, *, key: Array | None = None) -> dict[str, Any]:
  """Measures every cell and writes collapse.csv, curves.npz, collapse.png and summary.json."""
  if not isinstance(cfg, CollapseConfig):
    raise ValueError(f"cfg must be a CollapseConfig, got {type(cfg).__name__}")
  key = jax.random.PRNGKey(cfg.seed) if key is None else key
  t0 = time.perf_counter()
  cells = compute(cfg, key)
  return report.write_results(cfg, cells, out_dir, total_seconds=time.perf_counter() - t0)
