"""Exact diffusion densities and scores of semantic memories (seed 002, Eq. 24).

A semantic memory is a continuous density φ on a parametric curve y(s),
s ∈ [0, 1], and the diffusion started from it has the marginal density

    p_t(x) = ∫ N(x; θ_t y, v_t I) φ(y) dy.

The curve is replaced by the polyline through y(k/K), k = 0..K, and φ by a
mixture of uniform densities on its K segments, each weighted by its length
(uniform in arc length) or by its mass ∫ φ(s) ds in the parameter; every
segment's Gaussian integral is the closed form of Eq. 23 (`assocmem.extended`).
As t → 0 the attractor set is therefore the whole polyline (within its sagitta
of the curve), not a set of points. The Gauss–Legendre version, a mixture of
point memories, is in `assocmem.quadrature`.

Score functions follow the explicit-state convention ``score_fn(state, x, t)``:
``semantic_score_fn(sde)`` returns a pure function of the polyline arrays that
``semantic_state`` builds and validates once. ``circle`` and
``circle_log_density`` give a curve with a closed-form density for tests.

As in Eq. 23, the functions here use the full Gaussian kernel rather than the
paper's ``exp(β x·y)`` (see `assocmem.extended`). All functions take one state
``x`` of shape [d]; batch with ``jax.vmap``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

from assocmem import _checks
from assocmem.sde import check_kernel_sde
from assocmem.extended import (box_mixture_log_density, box_mixture_score, check_segment_shapes,
                               theta_and_variance)

Array = jax.Array
ScoreFn = Callable[[Any, Array, Array], Array]
Curve = Callable[[Array], Array]
SemanticState = Tuple[Array, Array, Array]  # (a [K, d], b [K, d], log_weights [K])

# Default number of polyline segments of a semantic memory (Eq. 24).
DEFAULT_N_SEGMENTS = 256


# ----------------------------------------------------------------------------
# Semantic memory on a curve: polyline of segments. Seed 002, Eq. 24.
# ----------------------------------------------------------------------------


def curve_dim(curve: Curve) -> int:
  """The dimension d of ``curve: s -> [d]`` (shape-only trace, no evaluation)."""
  if not callable(curve):
    raise ValueError(f"curve must be a function s -> [d]; got {type(curve).__name__}.")
  out = jax.eval_shape(curve, jax.ShapeDtypeStruct((), jnp.result_type(float)))
  if len(out.shape) != 1:
    raise ValueError(f"curve must map a scalar s to a vector [d]; got shape {out.shape}.")
  return out.shape[0]


def semantic_state(
    curve: Curve,
    n_segments: int = DEFAULT_N_SEGMENTS,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> SemanticState:
  """Polyline state ``(a [K, d], b [K, d], log_weights [K])`` of a curve density. Seed 002, Eq. 24.

  The curve {y(s) : s ∈ [0, 1]} is replaced by the polyline through the K + 1
  points y(k/K), and φ by a mixture of uniform densities on its segments
  [a_k, b_k] = [y(k/K), y((k+1)/K)] with weights w_k (Σ w_k = 1):

  * default, φ uniform in arc length: w_k ∝ ‖b_k - a_k‖ (the segment's length);
  * with ``log_density_s``, φ(s) ∝ exp(log_density_s(s)) in the parameter s:
    w_k ∝ ∫ φ(s) ds over [k/K, (k+1)/K] ≈ φ((k + ½)/K) / K (midpoint rule).

  Each segment's diffusion density is the closed form of Eq. 23, so the
  density is exact for the polyline at every t, and as t → 0 every point of
  the polyline is a fixed point. The error against the curve is O(K⁻²) (the
  sagitta ≈ κ ℓ²/8 of a segment of length ℓ on curvature κ): choose K so that
  the sagitta is well below the kernel width √v_t / θ_t at the smallest t used.

  Args:
    curve: ``y(s)``, scalar s ∈ [0, 1] -> [d]; a closed curve has y(0) = y(1).
    n_segments: K >= 1, the number of polyline segments.
    log_density_s: optional unnormalised log-density in s (scalar -> scalar).

  Returns:
    (a [K, d], b [K, d], log_weights [K]), log_weights normalised (logsumexp 0);
    zero-length segments get weight 0 by default (point masses with log_density_s).
  """
  n_segments = _checks.check_int("n_segments", n_segments, 1)
  curve_dim(curve)
  dtype = jnp.result_type(float)
  s = jnp.linspace(0.0, 1.0, n_segments + 1, dtype=dtype)
  points = jax.vmap(curve)(s)
  _checks.check_finite("curve", points)
  a, b = points[:-1], points[1:]
  if log_density_s is None:
    lengths = jnp.linalg.norm(b - a, axis=-1)
    if _checks.is_concrete(lengths) and not float(jnp.sum(lengths)) > 0.0:
      raise ValueError("curve must have a positive length for arc-length weights; all "
                       f"{n_segments} polyline segments have length 0.")
    log_w = jnp.log(lengths)
  else:
    if not callable(log_density_s):
      raise ValueError(f"log_density_s must be a function s -> scalar; got "
                       f"{type(log_density_s).__name__}.")
    log_w = jax.vmap(log_density_s)(0.5 * (s[:-1] + s[1:]))
    if log_w.shape != (n_segments,):
      raise ValueError(f"log_density_s must map a scalar s to a scalar; got shape "
                       f"{log_w.shape[1:]}.")
    log_w = jnp.asarray(log_w, dtype)
    if _checks.is_concrete(log_w):
      if bool(jnp.any(jnp.isnan(log_w) | (log_w == jnp.inf))):
        raise ValueError("log_density_s must return finite values or -inf; got NaN or +inf.")
      if not bool(jnp.any(jnp.isfinite(log_w))):
        raise ValueError("log_density_s is -inf at every segment midpoint: no mass on the curve.")
  return a, b, log_w - logsumexp(log_w)


def _check_semantic_shapes(a: Array, b: Array, log_weights: Array) -> None:
  check_segment_shapes(a, b)
  if tuple(jnp.shape(log_weights)) != (jnp.shape(a)[0],):
    raise ValueError(f"state log_weights must have shape ({jnp.shape(a)[0]},) to match the "
                     f"segments; got {tuple(jnp.shape(log_weights))}")


def _semantic_log_density(state: SemanticState, x: Array, theta: Array, var: Array) -> Array:
  a, b, log_w = state
  return box_mixture_log_density(a, (b - a)[:, None, :], log_w, x, theta, var)


def _semantic_score(state: SemanticState, x: Array, theta: Array, var: Array) -> Array:
  a, b, log_w = state
  return box_mixture_score(a, (b - a)[:, None, :], log_w, x, theta, var)


def _semantic_inputs(curve: Curve, x: Array, t: Array, sde: Any, n_segments: int,
                     log_density_s: Optional[Callable[[Array], Array]]) -> tuple[SemanticState, Array, Array, Array]:
  """(state, x, θ_t, v_t) of a semantic memory on a curve: the checked arguments of Eq. 24."""
  x = _checks.check_state("x", x, curve_dim(curve))
  state = semantic_state(curve, n_segments, log_density_s)
  theta, var = theta_and_variance(sde, t)
  return state, x, theta, var


def semantic_log_density(
    curve: Curve,
    x: Array,
    t: Array,
    sde: Any,
    n_segments: int = DEFAULT_N_SEGMENTS,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> Array:
  """log p_t(x) = log ∫ N(x; θ_t y, v_t I) φ(y) dy for φ on a curve. Seed 002, Eq. 24.

  φ is represented on the polyline of :func:`semantic_state` (K = ``n_segments``
  segments weighted by length, or by their mass under ``log_density_s``), and

      p_t(x) = Σ_k w_k ∫_0^1 N(x; θ_t (a_k + u (b_k - a_k)), v_t I) du,

  each term in the closed form of Eq. 23 (:func:`segment_log_density`). At
  moderate t the error against the smooth curve is O(K⁻²); as t → 0 the density
  concentrates on the whole polyline, never on isolated points.

  Args:
    curve: ``y(s)``, scalar s ∈ [0, 1] -> [d].
    x: [d] one state.
    t: scalar diffusion time.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).
    n_segments: number K of polyline segments (see :func:`semantic_state`).
    log_density_s: optional unnormalised log-density in s (default: uniform in arc length).

  Returns:
    scalar log-density.
  """
  return _semantic_log_density(*_semantic_inputs(curve, x, t, sde, n_segments, log_density_s))


def semantic_score(
    curve: Curve,
    x: Array,
    t: Array,
    sde: Any,
    n_segments: int = DEFAULT_N_SEGMENTS,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> Array:
  """Closed-form score ∇_x log p_t(x) of a semantic memory on a curve. Seed 002, Eqs. 23–24.

  Σ_k π_k(x) s_k(x): the segment scores of :func:`segment_score` mixed with the
  posterior weights π_k ∝ w_k p_t,k(x). The exact gradient of
  :func:`semantic_log_density` (same polyline); its component along the
  polyline vanishes on it as t → 0. Arguments as there. Returns [d].
  """
  return _semantic_score(*_semantic_inputs(curve, x, t, sde, n_segments, log_density_s))


def semantic_energy(
    curve: Curve,
    x: Array,
    t: Array,
    sde: Any,
    n_segments: int = DEFAULT_N_SEGMENTS,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> Array:
  """Energy -log p_t(x) of a semantic memory on a curve (polyline). Seed 002, Eq. 24."""
  return -semantic_log_density(curve, x, t, sde, n_segments, log_density_s)


def semantic_score_fn(sde: Any) -> ScoreFn:
  """Score function ``score(state, x [d], t) -> [d]`` of a semantic memory. Seed 002, Eq. 24.

  ``state`` is ``(a [K, d], b [K, d], log_weights [K])`` from
  :func:`semantic_state` (build it once, pass it to the sampler; it is traced
  under jit, so another curve with the same K and d reuses the compiled code).
  Only shapes are checked per call (values: t > 0 when concrete; finite x and t > 0 under
  ``checked``).
  """
  check_kernel_sde(sde)

  def score(state: SemanticState, x: Array, t: Array) -> Array:
    a, b, log_w = state
    _check_semantic_shapes(a, b, log_w)
    _checks.check_vector_against("x", x, jnp.shape(a)[1], "the curve")
    _checks.debug_check_finite("x", x)
    theta, var = theta_and_variance(sde, t)
    return _semantic_score(state, x, theta, var)

  return score


def semantic_log_density_fn(sde: Any) -> Callable[[Any, Array, Array], Array]:
  """Log-density ``log_p(state, x [d], t) -> scalar`` of a semantic memory. Seed 002, Eq. 24.

  The companion of :func:`semantic_score_fn` (its ``jax.grad`` in x is that score), for
  energy landscapes -log p_t evaluated from one :func:`semantic_state`.
  """
  check_kernel_sde(sde)

  def log_density(state: SemanticState, x: Array, t: Array) -> Array:
    a, b, log_w = state
    _check_semantic_shapes(a, b, log_w)
    _checks.check_vector_against("x", x, jnp.shape(a)[1], "the curve")
    _checks.debug_check_finite("x", x)
    theta, var = theta_and_variance(sde, t)
    return _semantic_log_density(state, x, theta, var)

  return log_density


# ----------------------------------------------------------------------------
# A test curve with a closed form.
# ----------------------------------------------------------------------------


def circle(center: Array, radius: float) -> Curve:
  """The circle ``y(s) = center + radius (cos 2πs, sin 2πs)`` in R² (for Eq. 24)."""
  center = jnp.asarray(center)
  if center.shape != (2,):
    raise ValueError(f"center must have shape [2]; got {center.shape}.")
  if not radius > 0:
    raise ValueError(f"radius must be positive; got {radius}.")

  def curve(s: Array) -> Array:
    angle = 2.0 * jnp.pi * s
    return center + radius * jnp.stack([jnp.cos(angle), jnp.sin(angle)])

  return curve


def circle_log_density(
    center: Array, radius: float, x: Array, t: Array, sde: Any
) -> Array:
  """Exact log p_t(x) for the uniform density on a circle in R². Seed 002, Eq. 24.

  With r = x - θ_t c: p_t(x) = e^{-(‖r‖² + θ_t² R²)/2v_t} I₀(θ_t R ‖r‖ / v_t) / (2π v_t),
  written with the exponentially scaled Bessel function i0e for stability. A
  closed-form reference for :func:`semantic_log_density`.

  Args:
    center: [2] circle centre c.
    radius: circle radius R > 0.
    x: [2] one state.
    t: scalar diffusion time.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log-density.
  """
  center = _checks.as_float_array("center", center)
  if center.shape != (2,):
    raise ValueError(f"center must have shape (2,), got {tuple(center.shape)}")
  x = _checks.check_state("x", x, 2)
  theta, var = theta_and_variance(sde, t)
  r = x - theta * center
  rho = jnp.sqrt(jnp.sum(r * r))
  z = theta * radius * rho / var
  return (
      -0.5 * (rho - theta * radius) ** 2 / var
      + jnp.log(jax.scipy.special.i0e(z))
      - jnp.log(2.0 * jnp.pi * var)
  )
