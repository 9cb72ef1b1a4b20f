"""Energy functions: scalar functions of ONE state that `jax.grad` accepts.

Each docstring names its equation. The closed-form dynamics in `hopfield.py`
and `scores.py` are tested against `jax.grad` of these energies.
"""

from __future__ import annotations

import math

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


def classical_energy(weights: Array, x: Array) -> Array:
  """Classical Hopfield energy u_H(x) = −½ xᵀ W x (seed 000, Eq. 1; seed 002, Eq. 2).

  Seed 002 prints xᵀWx without the −½; the sign is needed for sign(Wx) to
  descend it (see docs/reproduction.md).

  Args:
    weights: (d, d) couplings.
    x: (d,) state.
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


def _raise_if_overflowed(energy: Array, z: Array, kind: str, degree: int) -> None:
  """Raises ValueError when a concrete dense energy is ±inf or NaN (finite inputs given).

  u_F = −Σ_n F(z_n) is then a number the dtype cannot hold (e.g. z^50 at z = 100 in
  float32); rather than return −inf (or inf − inf = NaN for odd degrees), say so, with
  the largest degree (or max z for F = exp) that fits.
  """
  if not (_checks.is_concrete(energy) and _checks.is_concrete(z)) or bool(jnp.isfinite(energy)):
    return
  info = jnp.finfo(z.dtype)
  log_budget = math.log(float(info.max)) - math.log(z.shape[0])
  z_max = float(jnp.max(jnp.abs(z)))
  remedy = ("use float64 (jax_enable_x64), smaller states, or dense_flip_gains / dense_step, "
            "which compare energies without overflow")
  if kind == "exp":
    raise ValueError(
        f"kind 'exp': dense_energy overflows {z.dtype}: max xᵀy_n = {float(jnp.max(z)):.6g} exceeds "
        f"log(max {z.dtype} / N) = {log_budget:.4g}, so Σ_n exp(xᵀy_n) is not representable; {remedy}")
  max_degree = math.floor(log_budget / math.log(z_max)) if z_max > 1.0 else None
  fits = f"degree <= {max_degree} fits at this max |xᵀy_n|" if max_degree is not None else ""
  raise ValueError(
      f"degree {degree} is too large for {z.dtype}: dense_energy overflows, |xᵀy_n|^{degree} at "
      f"max |xᵀy_n| = {z_max:.6g} exceeds max {z.dtype} / N = {math.exp(log_budget):.3g}, so the "
      f"energy is not representable ({fits}); {remedy}")


def dense_energy(patterns: Array, x: Array, kind: str = "exp", degree: int = 3) -> Array:
  """Dense associative memory energy u_F(x) = −Σ_n F(xᵀy_n) (seed 002, Eq. 4 with h = −id; seed 000, Eq. 2).

  F(z) = z^degree ("poly", Krotov & Hopfield 2016), max(z, 0)^degree
  ("rectified_poly"), or e^z ("exp", Demircigil et al. 2017).

  Overflow: the energy is computed as printed. When it is not representable in
  the dtype (N·max|xᵀy_n|^degree, or Σ e^{xᵀy_n}, beyond the largest float, e.g.
  degree 50 at |xᵀy| = 100 in float32) a concrete call raises ValueError naming
  `degree` (or `kind` for F = exp) and the largest degree that fits, rather than
  return −inf or NaN. No rescaling could help: the value itself does not fit.
  Under jit/grad no value can be checked and the result is ±inf or NaN. The
  retrieval dynamics never need the energy itself: `hopfield.dense_flip_gains`
  and `dense_step` compare energies in a form that cannot overflow.

  Args:
    patterns: (N, d).
    x: (d,) state.
    kind: "poly", "rectified_poly" or "exp".
    degree: polynomial degree (>= 2) for the polynomial kinds.
  Returns:
    scalar energy.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _checks.check_int("degree", degree, 2)
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  z = patterns @ x
  energy = -jnp.sum(_dense_f(z, kind, degree))
  _raise_if_overflowed(energy, z, kind, degree)
  return energy


def mhn_energy(patterns: Array, x: Array, beta: float | Array) -> Array:
  """Continuous modern Hopfield energy (seed 002, Eq. 5).

  u_MH(x, β) = −β⁻¹ log Σ_n exp(β xᵀy_n) + ½‖x‖².
  Its gradient is ∇u_MH = x − Yᵀ softmax(β Y x), so the unit-step descent
  x ← x − ∇u_MH(x) is the modern Hopfield update x ← Yᵀ softmax(β Y x)
  (seed 000, Eq. 3).

  Args:
    patterns: (N, d).
    x: (d,) state.
    beta: inverse temperature > 0.
  """
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  _checks.check_positive("beta", beta)
  return -jax.nn.logsumexp(beta * (patterns @ x)) / beta + 0.5 * x @ x


def ve_energy(patterns: Array, x: Array, t: Array, sigma: float = 1.0) -> Array:
  """VE diffusion energy u_DM(x, t) = −σ² log((1/N) Σ_n exp(−‖x − y_n‖² / 2σ²t)) (seed 002, Eq. 12).

  Exactly Eq. 12 (seed 002 writes (T − t) for our forward time t): the Gaussian
  normalisation is dropped, so u_DM = −σ² log p_t(x) − (dσ²/2) log(2πσ²t), an
  x-independent shift of −σ² log p_t. The VE SDE has no drift (v = 0 in Eq. 18),
  so −∇u_DM = σ² ∇ log p_t is the reverse-SDE drift (Eq. 16).

  Args:
    patterns: (N, d).
    x: (d,) state.
    t: forward time > 0 (noise variance σ²t).
    sigma: diffusion coefficient.
  Returns:
    scalar energy.
  """
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  _checks.check_positive("sigma", sigma)
  _checks.check_positive("t", t)
  var = sigma**2 * t
  sq = jnp.sum((x[None, :] - patterns) ** 2, axis=-1)
  return -(sigma**2) * (jax.nn.logsumexp(-sq / (2 * var)) - jnp.log(patterns.shape[0]))


def vp_energy(patterns: Array, x: Array, t: Array, gamma: float = 0.8) -> Array:
  """VP diffusion energy u_vDM(x, t) = −γ log p_t(x) − γ‖x‖²/4 (seed 002, Eq. 18 for the VP SDE).

  Eq. 18 is u = −σ²(t) log Σ_n e^{ψ(x, t; y_n)} + v(x), with v the potential of the
  noising dynamics of Eq. 15, x(t − dt) = x(t) + ∇v(x) dt + σ√dt δ. The VP SDE
  dx = −½γx dt + √γ dW (App. A, Eq. A1) has σ² = γ and noising drift ∇v = −½γx,
  so v(x) = −γ‖x‖²/4 (negative: with Eq. 15's +∇v convention the potential of
  a drift towards 0 is concave). p_t is the exact, normalised marginal of the
  VP SDE started on the patterns (App. A), i.e. Σ_n e^ψ / N with ψ the log of
  the VP kernel N(x; θ_t y_n, (1 − θ_t²) I).

  −∇u = γ ∇log p_t + γx/2 is the reverse-SDE drift of Eq. 16 (the drift of the
  Euler–Maruyama sampler, in reverse time). Without v, −∇(−γ log p_t)/γ would be
  the score alone (Eqs. A3–A4), not the dynamics.

  Args:
    patterns: (N, d).
    x: (d,) state.
    t: forward time > 0.
    gamma: VP schedule γ.
  Returns:
    scalar energy.
  """
  log_p = _scores.log_density(patterns, x, t, VPSDE(gamma))   # validates x, t, patterns, gamma
  x = jnp.asarray(x, log_p.dtype)
  return -gamma * log_p - 0.25 * gamma * jnp.sum(x * x)


def diffusion_energy(patterns: Array, x: Array, t: Array, sde: SDE) -> Array:
  """Eq. 18 energy u(x, t) = −g² log p̃_t(x) + v(x) of either SDE (seed 002, Eqs. 12, 18).

  Its negative gradient is the reverse-SDE drift of Eq. 16, −∇u = g² ∇log p_t − f
  (f = ∇v the forward drift), for both SDEs. Exactly:
    VPSDE: `vp_energy` = −γ log p_t(x) − γ‖x‖²/4, p_t normalised;
    VESDE: `ve_energy` = Eq. 12 = −σ² log p_t(x) − (dσ²/2) log(2πσ²t) (v = 0; the
      Gaussian normalisation of p_t is dropped, an x-independent shift).
  """
  if isinstance(sde, VPSDE):
    return vp_energy(patterns, x, t, sde.gamma)
  if isinstance(sde, VESDE):
    return ve_energy(patterns, x, t, sde.sigma)
  raise ValueError(f"sde must be a VPSDE or VESDE, got {type(sde).__name__}")
