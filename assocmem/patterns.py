"""Random binary patterns and corrupted cues (seed 002, §7 and Appendix A)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from assocmem import _checks


def random_binary_patterns(key: jax.Array, n_patterns: int, dim: int,
                           dtype: jnp.dtype = jnp.float32) -> jax.Array:
  """N binary patterns y = sign(g), g ~ N(0, I) (seed 002, App. A).

  Args:
    key: PRNG key.
    n_patterns: N >= 1.
    dim: d >= 1.
  Returns:
    (N, d) array with entries in {-1, +1}.
  """
  _checks.check_key("key", key)
  _checks.check_int("n_patterns", n_patterns)
  _checks.check_int("dim", dim)
  g = jax.random.normal(key, (n_patterns, dim), dtype)
  return jnp.where(g >= 0, 1.0, -1.0).astype(dtype)


def denoising_cue(key: jax.Array, y: jax.Array, theta: float | jax.Array) -> jax.Array:
  """Denoising cue ỹ = θ y + sqrt(1 − θ²) ε, ε ~ N(0, I) (seed 002, §7 / App. A).

  Args:
    key: PRNG key.
    y: (d,) pattern.
    theta: signal level in (0, 1).
  Returns:
    (d,) cue.
  """
  _checks.check_key("key", key)
  y = _checks.as_float_array("y", y)
  _checks.check_ndim("y", y, 1, "(dim,)")
  _checks.check_finite("y", y)
  _checks.debug_check_finite("y", y)
  _checks.check_open_unit("theta", theta)
  eps = jax.random.normal(key, y.shape, y.dtype)
  return theta * y + jnp.sqrt(1.0 - theta**2) * eps


def completion_cue(key: jax.Array, y: jax.Array, p: float | jax.Array = 0.5) -> jax.Array:
  """Completion cue: y with each unit zeroed with probability p (seed 002, §7, p = 0.5).

  Args:
    key: PRNG key.
    y: (d,) pattern.
    p: masking probability in [0, 1].
  Returns:
    (d,) cue, y * m with m ~ Bernoulli(1 − p).
  """
  _checks.check_key("key", key)
  y = _checks.as_float_array("y", y)
  _checks.check_ndim("y", y, 1, "(dim,)")
  _checks.check_finite("y", y)
  _checks.debug_check_finite("y", y)
  _checks.check_unit_closed("p", p)
  keep = jax.random.bernoulli(key, 1.0 - p, y.shape)
  return jnp.where(keep, y, 0.0).astype(y.dtype)


def uniform_noise(key: jax.Array, shape: tuple[int, ...], low: float = -1.0, high: float = 1.0,
                  dtype: jnp.dtype = jnp.float32) -> jax.Array:
  """U(low, high) noise states: the replay seeds of seed 000's hippocampus (§A.2.2 / authors' code)."""
  _checks.check_key("key", key)
  if not low < high:
    raise ValueError(f"low must be below high, got low={low}, high={high}")
  return jax.random.uniform(key, shape, dtype, low, high)
