"""Energy functions: scalar functions of ONE state that `jax.grad` accepts.

Each docstring names its equation. The closed-form dynamics in `hopfield.py`
and `scores.py` are tested against `jax.grad` of these energies.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from assocmem import _checks
from assocmem import scores as _scores
from assocmem.sde import SDE, VESDE, VPSDE

Array = jax.Array

DENSE_KINDS = ("poly", "rectified_poly", "exp")


def hebbian_weights(patterns: Array, zero_diagonal: bool = True) -> Array:
  """Hebbian couplings W = Σ_n y_n y_nᵀ (seed 002, Eq. 3; seed 000, Eq. 1's T).

  Args:
    patterns: (N, d).
    zero_diagonal: set W_jj = 0, as seed 002 §2.1 requires.
  Returns:
    (d, d) symmetric weights.
  """
  patterns = _checks.check_patterns("patterns", patterns)
  w = patterns.T @ patterns
  if zero_diagonal:
    w = w * (1.0 - jnp.eye(w.shape[0], dtype=w.dtype))
  return w


def classical_energy(x: Array, weights: Array) -> Array:
  """Classical Hopfield energy u_H(x) = −½ xᵀ W x (seed 000, Eq. 1; seed 002, Eq. 2).

  Seed 002 prints xᵀWx without the −½; the sign is needed for sign(Wx) to
  descend it (see docs/reproduction.md).

  Args:
    x: (d,) state.
    weights: (d, d) couplings.
  """
  weights = _checks.as_float_array("weights", weights)
  _checks.check_ndim("weights", weights, 2, "(dim, dim)")
  if weights.shape[0] != weights.shape[1]:
    raise ValueError(f"weights must be square (dim, dim), got shape {tuple(weights.shape)}")
  x = _checks.check_state("x", x, weights.shape[0])
  return -0.5 * x @ weights @ x


def _dense_f(z: Array, kind: str, degree: int) -> Array:
  if kind == "poly":
    return z**degree
  if kind == "rectified_poly":
    return jnp.where(z > 0, z, 0.0) ** degree
  return jnp.exp(z)


def dense_energy(x: Array, patterns: Array, kind: str = "exp", degree: int = 3) -> Array:
  """Dense associative memory energy u_F(x) = −Σ_n F(xᵀy_n) (seed 002, Eq. 4 with h = −id; seed 000, Eq. 2).

  F(z) = z^degree ("poly", Krotov & Hopfield 2016), max(z, 0)^degree
  ("rectified_poly"), or e^z ("exp", Demircigil et al. 2017).

  Args:
    x: (d,) state.
    patterns: (N, d).
    kind: "poly", "rectified_poly" or "exp".
    degree: polynomial degree (>= 2) for the polynomial kinds.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _checks.check_int("degree", degree, 2)
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  return -jnp.sum(_dense_f(patterns @ x, kind, degree))


def mhn_energy(x: Array, patterns: Array, beta: float | Array) -> Array:
  """Continuous modern Hopfield energy (seed 002, Eq. 5).

  u_MH(x, β) = −β⁻¹ log Σ_n exp(β xᵀy_n) + ½‖x‖².
  Its gradient is ∇u_MH = x − Yᵀ softmax(β Y x), so the unit-step descent
  x ← x − ∇u_MH(x) is the modern Hopfield update x ← Yᵀ softmax(β Y x)
  (seed 000, Eq. 3).

  Args:
    x: (d,) state.
    patterns: (N, d).
    beta: inverse temperature > 0.
  """
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  _checks.check_positive("beta", beta)
  return -jax.nn.logsumexp(beta * (patterns @ x)) / beta + 0.5 * x @ x


def ve_energy(x: Array, t: Array, patterns: Array, sigma: float = 1.0) -> Array:
  """VE diffusion energy u_DM(x, t) = −σ² log((1/N) Σ_n exp(−‖x − y_n‖² / 2σ²t)) (seed 002, Eq. 12).

  Seed 002 writes (T − t) for our forward time t. The drift of the reverse
  dynamics is −∇u_DM = σ² ∇ log p_t.

  Args:
    x: (d,) state.
    t: forward time > 0 (noise variance σ²t).
    patterns: (N, d).
    sigma: diffusion coefficient.
  """
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  _checks.check_positive("sigma", sigma)
  _checks.check_positive("t", t)
  var = sigma**2 * t
  sq = jnp.sum((x[None, :] - patterns) ** 2, axis=-1)
  return -(sigma**2) * (jax.nn.logsumexp(-sq / (2 * var)) - jnp.log(patterns.shape[0]))


def vp_energy(x: Array, t: Array, patterns: Array, gamma: float = 0.8) -> Array:
  """VP diffusion energy u(x, t) = −γ log p_t(x) (seed 002, Eq. 11 with σ² = γ; Eq. 18 for the VP kernel).

  p_t is the exact marginal of the VP SDE started on the patterns (App. A), so
  −∇u/γ is the exact score of Eqs. A3–A4.

  Args:
    x: (d,) state.
    t: forward time > 0.
    patterns: (N, d).
    gamma: VP schedule γ.
  """
  return -gamma * _scores.log_density(x, t, patterns, VPSDE(gamma))


def diffusion_energy(x: Array, t: Array, patterns: Array, sde: SDE) -> Array:
  """−g² log p_t(x) for either SDE (seed 002, Eqs. 11, 12, 18)."""
  if isinstance(sde, VPSDE):
    return vp_energy(x, t, patterns, sde.gamma)
  if isinstance(sde, VESDE):
    return ve_energy(x, t, patterns, sde.sigma)
  raise ValueError(f"sde must be a VPSDE or VESDE, got {type(sde).__name__}")
