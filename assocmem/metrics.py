"""Recall metrics: binarisation, Hamming error and Pearson correlation (seed 002, §7)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks

Array = jax.Array


def binarize(x: Array) -> Array:
  """sign(x) with sign(0) = +1 (seed 002, §7: "binarized using the sign function")."""
  x = jnp.asarray(x)
  return jnp.where(x >= 0, 1.0, -1.0).astype(jnp.result_type(x.dtype, jnp.float32))


def hamming_error(x: Array, y: Array) -> Array:
  """Fraction of units whose signs differ, over the last axis (seed 002, §7 / App. A).

  Args:
    x, y: (..., d) states (binarised here).
  Returns:
    (...,) errors in [0, 1].
  """
  x, y = jnp.asarray(x), jnp.asarray(y)
  if x.shape != y.shape:
    raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
  return jnp.mean(binarize(x) != binarize(y), axis=-1)


def pearson(a: Array, b: Array) -> Array:
  """Pearson correlation of all entries of a and b (seed 002, Table 1).

  Raises ValueError (concrete inputs) if either input is constant, where the
  correlation is undefined; under tracing that case returns NaN.
  """
  a, b = jnp.ravel(jnp.asarray(a)), jnp.ravel(jnp.asarray(b))
  if a.shape != b.shape:
    raise ValueError(f"a and b must have the same number of entries, got {a.size} and {b.size}")
  if a.size < 2:
    raise ValueError(f"a and b need at least 2 entries, got {a.size}")
  a = a.astype(jnp.result_type(a.dtype, jnp.float32))
  b = b.astype(a.dtype)
  da, db = a - a.mean(), b - b.mean()
  sa, sb = jnp.sqrt(jnp.sum(da * da)), jnp.sqrt(jnp.sum(db * db))
  if _checks.is_concrete(sa) and _checks.is_concrete(sb):
    if float(sa) == 0.0 or float(sb) == 0.0:
      raise ValueError("pearson is undefined: a or b is constant")
  return jnp.sum(da * db) / (sa * sb)


def pearson_np(a: np.ndarray, b: np.ndarray) -> float:
  """NumPy reference of `pearson`, for the benchmarks' NumPy baselines."""
  a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
  return float(np.corrcoef(a, b)[0, 1])
