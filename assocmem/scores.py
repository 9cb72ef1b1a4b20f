"""Exact log-densities and scores of diffusion models trained on a finite pattern set.

p_t(x) = (1/N) Σ_n N(x; θ_t y_n, v_t I), with θ_t, v_t from the SDE (seed 002,
Eqs. 8, 12 and App. A, Eqs. A3–A4). The score is computed with two matmuls and a
softmax over patterns, so a vmapped batch of B states costs two (B×d)·(d×N)-shaped
matmuls and one B×N softmax, never a B×N×d broadcast.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from assocmem import _checks
from assocmem.sde import SDE, VESDE, VPSDE

Array = jax.Array
ScoreFn = Callable[[Array, Array], Array]


def _theta_and_variance(sde: SDE, t: Array) -> tuple[Array, Array]:
  return sde.theta(t), sde.variance(t)


def log_density(x: Array, t: Array, patterns: Array, sde: SDE) -> Array:
  """log p_t(x) for one state x (d,), patterns (N, d) (seed 002, Eqs. 8/12; VP: App. A).

  Returns:
    scalar log (1/N) Σ_n N(x; θ_t y_n, v_t I), normalisation included.
  """
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  _checks.check_positive("t", t)
  theta, var = _theta_and_variance(sde, t)
  d = patterns.shape[1]
  sq = jnp.sum((x[None, :] - theta * patterns) ** 2, axis=-1)
  return (jax.nn.logsumexp(-sq / (2 * var)) - jnp.log(patterns.shape[0])
          - 0.5 * d * jnp.log(2 * jnp.pi * var))


def _softmax_mean(logits: Array, patterns: Array) -> Array:
  """Σ_n softmax(logits)_n y_n, normalising after the matmul (d divides, not N)."""
  m = jnp.max(logits)
  e = jnp.exp(logits - jax.lax.stop_gradient(m))
  return (e @ patterns) / jnp.sum(e)


def score_with_norms(x: Array, t: Array, patterns: Array, sq_norms: Array, sde: SDE) -> Array:
  """Exact score with precomputed ‖y_n‖²; no validation (the hot path).

  Seed 002, App. A, Eqs. A3–A4 (corrected, see docs/reproduction.md):
    ∇ log p_t(x) = (θ_t Σ_n h_n y_n − x) / v_t,
    h = softmax_n(−‖x − θ_t y_n‖² / 2v_t) = softmax_n((θ_t xᵀy_n − θ_t²‖y_n‖²/2) / v_t).
  """
  theta, var = _theta_and_variance(sde, t)
  a = theta / var
  logits = patterns @ (a * x) - (0.5 * a * theta) * sq_norms
  mean = _softmax_mean(logits, patterns)
  return (theta * mean - x) / var


def score(x: Array, t: Array, patterns: Array, sde: SDE) -> Array:
  """Exact score ∇_x log p_t(x) of one state x (d,) (seed 002, Eqs. A3–A4).

  Args:
    x: (d,) state.
    t: scalar time > 0.
    patterns: (N, d) stored patterns.
    sde: VPSDE or VESDE.
  Returns:
    (d,) score.
  """
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  _checks.check_positive("t", t)
  return score_with_norms(x, t, patterns, jnp.sum(patterns**2, axis=-1), sde)


def exact_score(sde: SDE, patterns: Array) -> ScoreFn:
  """Score function `score(x, t)` of the exact diffusion model of `patterns` (seed 002, App. A).

  The returned function takes one state (d,) and a scalar time and is safe to
  jit, vmap and differentiate; it is the drop-in analogue of a learned score net.
  """
  if not isinstance(sde, (VPSDE, VESDE)):
    raise ValueError(f"sde must be a VPSDE or VESDE, got {type(sde).__name__}")
  patterns = _checks.check_patterns("patterns", patterns)
  sq_norms = jnp.sum(patterns**2, axis=-1)
  d = patterns.shape[1]

  def score_fn(x: Array, t: Array) -> Array:
    if x.shape != (d,):
      raise ValueError(f"x must have shape ({d},) to match the patterns, got {tuple(x.shape)}")
    return score_with_norms(x, t, patterns, sq_norms, sde)

  return score_fn


def denoiser(x: Array, t: Array, patterns: Array, sde: SDE) -> Array:
  """Posterior mean E[θ_t y | x_t = x] = x + v_t ∇log p_t(x) (Tweedie), for one state."""
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  return x + sde.variance(t) * score(x, t, patterns, sde)
