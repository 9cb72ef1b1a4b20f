"""Exact log-densities and scores of diffusion models of a finite (weighted) pattern set.

p_t(x) = Σ_n π_n N(x; θ_t y_n, v_t I), with θ_t, v_t from any SDE of the `assocmem.sde`
protocol and π_n the bank's mixture weights (uniform by default: seed 002, Eqs. 8, 12 and
App. A, Eqs. A3–A4). Everything goes through the one mixture primitive of
`assocmem.mixture`, in the centred form that is stable in float32 for continuous data, and in
any of its modes (dense, streaming, sharded).

Score functions follow the explicit-state convention `score_fn(state, x, t)`: `exact_score_fn(sde)`
returns one whose state is a `PatternBank`, so a jitted sampler takes the bank as an argument
(no constant folding, no recompilation for a new bank of the same shape, gradients w.r.t. it).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp

from assocmem import _checks, mixture
from assocmem.bank import PatternBank, as_bank
from assocmem.sde import check_sde

Array = jax.Array
ScoreFn = Callable[[Any, Array, Array], Array]


def _kernel(sde, t: Array) -> tuple[Array, Array]:
  _checks.check_time("t", t)
  return sde.theta(t), sde.variance(t)


def _bank_logits_scalars(bank: PatternBank, x: Array, theta: Array, var: Array):
  """q = x − θc, a = θ/v, b = −θ²/2v: −‖x − θy_n‖²/2v = a qᵀ(y_n − c) + b‖y_n − c‖² − ‖q‖²/2v."""
  q = x - theta * bank.center
  a = theta / var
  return q, a, -0.5 * a * theta


def bank_score(bank: PatternBank, x: Array, t: Array, sde, mode: mixture.Mode = mixture.DENSE) -> Array:
  """Exact score of one state, no validation (the hot path).

  Seed 002, App. A, Eqs. A3–A4 (corrected, see docs/reproduction.md):
    ∇ log p_t(x) = (θ_t Σ_n h_n y_n − x) / v_t,  h = softmax_n(log π_n − ‖x − θ_t y_n‖² / 2v_t),
  computed as (θ_t Σ h_n (y_n − c) − (x − θ_t c)) / v_t.
  """
  _checks.debug_check_finite("x", x)
  theta, var = _kernel(sde, t)
  q, a, b = _bank_logits_scalars(bank, x, theta, var)
  p = mixture.bank_partials(bank, q, a, b, mode)
  return (theta * mixture.mean(p) - q) / var


def bank_log_density(bank: PatternBank, x: Array, t: Array, sde,
                     mode: mixture.Mode = mixture.DENSE) -> Array:
  """log p_t(x) of one state, no validation (seed 002 Eqs. 8/12; VP kernel of App. A)."""
  _checks.debug_check_finite("x", x)
  theta, var = _kernel(sde, t)
  q, a, b = _bank_logits_scalars(bank, x, theta, var)
  p = mixture.bank_partials(bank, q, a, b, mode)
  d = x.shape[-1]
  log_norm_w = jax.nn.logsumexp(bank.log_weights)
  return (mixture.log_normalizer(p) - 0.5 * jnp.sum(q * q) / var - log_norm_w
          - 0.5 * d * (math.log(2 * math.pi) + jnp.log(var)))


def _prepare(x: Any, t: Any, patterns: Any, sde: Any, mode: Any) -> tuple[Array, PatternBank]:
  check_sde(sde)
  mixture.check_mode(mode)
  bank = as_bank(patterns)
  x = _checks.check_state("x", x, bank.dim)
  _checks.check_positive("t", t)
  return x, bank


def log_density(patterns: Array | PatternBank, x: Array, t: Array, sde,
                mode: mixture.Mode = mixture.DENSE) -> Array:
  """log p_t(x) for one state x (d,) (seed 002, Eqs. 8/12; VP: App. A).

  Args:
    patterns: (N, d) stored patterns, or a `PatternBank` (weights and empty slots honoured).
    x: (d,) state.
    t: scalar time > 0.
    sde: any SDE of the `assocmem.sde` protocol.
    mode: mixture mode (Dense, Streaming, Sharded).
  Returns:
    scalar log Σ_n π_n N(x; θ_t y_n, v_t I), normalisation included.
  """
  x, bank = _prepare(x, t, patterns, sde, mode)
  return bank_log_density(bank, x, t, sde, mode)


def score(patterns: Array | PatternBank, x: Array, t: Array, sde,
          mode: mixture.Mode = mixture.DENSE) -> Array:
  """Exact score ∇_x log p_t(x) of one state x (d,) (seed 002, Eqs. A3–A4).

  Args:
    patterns: (N, d) stored patterns, or a `PatternBank`.
    x: (d,) state.
    t: scalar time > 0.
    sde: any SDE of the `assocmem.sde` protocol.
    mode: mixture mode.
  Returns:
    (d,) score.
  """
  x, bank = _prepare(x, t, patterns, sde, mode)
  return bank_score(bank, x, t, sde, mode)


def exact_score_fn(sde, mode: mixture.Mode = mixture.DENSE) -> ScoreFn:
  """The exact score as an explicit-state score function `score_fn(bank, x, t)` (seed 002, App. A).

  The state is a `PatternBank` (`assocmem.make_bank(patterns)`); pass it to the samplers
  beside the function. Safe to jit, vmap (over x, t or a stack of banks) and differentiate
  (w.r.t. x, t and the bank). `sde` and `mode` are static settings of the function.
  """
  check_sde(sde)
  mixture.check_mode(mode)

  def score_fn(bank: PatternBank, x: Array, t: Array) -> Array:
    if not isinstance(bank, PatternBank):
      raise ValueError(f"the state of exact_score_fn must be a PatternBank (assocmem.make_bank), "
                       f"got {type(bank).__name__}")
    _checks.check_vector_against("x", x, bank.dim, "the bank")
    return bank_score(bank, x, t, sde, mode)

  return score_fn


def denoiser(patterns: Array | PatternBank, x: Array, t: Array, sde,
             mode: mixture.Mode = mixture.DENSE) -> Array:
  """Posterior mean E[θ_t y | x_t = x] = x + v_t ∇log p_t(x) (Tweedie), for one state."""
  x, bank = _prepare(x, t, patterns, sde, mode)
  return x + sde.variance(t) * bank_score(bank, x, t, sde, mode)


def posterior(patterns: Array | PatternBank, x: Array, t: Array, sde) -> Array:
  """(N,) posterior weights h_n(x) = P(y = y_n | x_t = x) of Eq. A4 (dense; for analysis and tests)."""
  x, bank = _prepare(x, t, patterns, sde, mixture.DENSE)
  theta, var = _kernel(sde, t)
  q, a, b = _bank_logits_scalars(bank, x, theta, var)
  logits = a * (q @ bank.centered.T) + b * bank.sq_norms + bank.log_weights
  return jax.nn.softmax(logits)
