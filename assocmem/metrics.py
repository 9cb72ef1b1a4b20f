"""Recall metrics: binarisation, Hamming error and Pearson correlation (seed 002, §7)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks

Array = jax.Array


def _check_finite_values(name: str, x: Array, why: str) -> None:
  """Raises ValueError if a concrete array holds NaN or ±inf (skipped under tracing).

  The reduction runs where the array lives; one boolean comes back to the host.
  """
  if _checks.is_concrete(x) and jnp.issubdtype(x.dtype, jnp.inexact):
    with jax.ensure_compile_time_eval():   # concrete inputs inside a trace are checked too
      bad = not bool(jnp.all(jnp.isfinite(x)))
      n_nan, n_inf = (int(jnp.sum(jnp.isnan(x))), int(jnp.sum(jnp.isinf(x)))) if bad else (0, 0)
    if bad:
      raise ValueError(f"{name} must hold finite numbers ({why}); got {n_nan} NaN and {n_inf} inf "
                       f"among {x.size} entries")


def binarize(x: Array) -> Array:
  """sign(x) with sign(0) = +1 (seed 002, §7: "binarized using the sign function")."""
  _checks.as_float_array("x", x)       # a ValueError naming x for non-numeric input
  x = jnp.asarray(x)
  return jnp.where(x >= 0, 1.0, -1.0).astype(jnp.result_type(x.dtype, jnp.float32))


def hamming_error(x: Array, y: Array) -> Array:
  """Fraction of units whose signs differ, over the last axis (seed 002, §7 / App. A).

  Non-finite inputs are rejected (ValueError naming the argument) when concrete: a NaN has no
  sign, and counting it as −1 would report a plausible error (0.5 against random patterns).
  Under `jax.jit`/`vmap` no value can be checked; there a row holding a NaN gives NaN (so the
  failure propagates to any mean), and ±inf rows count by their sign.

  Args:
    x, y: (..., d) states of the same shape (binarised here).
  Returns:
    (...,) errors in [0, 1] (NaN for traced rows that hold a NaN).
  """
  x, y = jnp.asarray(x), jnp.asarray(y)
  if x.shape != y.shape:
    raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
  if x.ndim == 0:
    raise ValueError("x and y must have shape (..., d) with at least one unit axis, got scalars")
  _check_finite_values("x", x, "hamming_error compares signs")
  _check_finite_values("y", y, "hamming_error compares signs")
  err = jnp.mean(binarize(x) != binarize(y), axis=-1)
  has_nan = jnp.any(jnp.isnan(x) | jnp.isnan(y), axis=-1)
  return jnp.where(has_nan, jnp.nan, err).astype(err.dtype)


def pearson(a: Array, b: Array) -> Array:
  """Pearson correlation of all entries of a and b (seed 002, Table 1).

  Raises ValueError (concrete inputs) if either input holds NaN or inf, or is constant, where
  the correlation is undefined; under tracing no value is checked and those cases return NaN.
  """
  a, b = jnp.ravel(jnp.asarray(a)), jnp.ravel(jnp.asarray(b))
  if a.shape != b.shape:
    raise ValueError(f"a and b must have the same number of entries, got {a.size} and {b.size}")
  if a.size < 2:
    raise ValueError(f"a and b need at least 2 entries, got {a.size}")
  a = a.astype(jnp.result_type(a.dtype, jnp.float32))
  b = b.astype(a.dtype)
  _check_finite_values("a", a, "a correlation of non-finite values is undefined")
  _check_finite_values("b", b, "a correlation of non-finite values is undefined")
  da, db = a - a.mean(), b - b.mean()
  sa, sb = jnp.sqrt(jnp.sum(da * da)), jnp.sqrt(jnp.sum(db * db))
  if _checks.is_concrete(sa) and _checks.is_concrete(sb):
    if float(sa) == 0.0 or float(sb) == 0.0:
      raise ValueError("pearson is undefined: a or b is constant")
  return jnp.sum(da * db) / (sa * sb)
