"""Exact diffusion densities and scores of extended and semantic memories.

Seed 002 (Ambrogioni 2024) generalises point memories to memories that are
sub-spaces ("extended memories", Eq. 23) and to continuous densities over a
manifold ("semantic memory", Eq. 24). This module gives the exact marginal
density of the diffusion started from such a data distribution,

    p_t(x) = ∫ N(x; θ_t y, v_t I) φ(y) dy,

for the SDEs of assocmem.sde (``sde.theta(t)`` = θ_t, ``sde.variance(t)`` = v_t;
VP: v_t = 1 - θ_t², VE: θ_t = 1, v_t = σ²t), together with its energy ``-log p_t`` and its score ``∇_x log p_t``.

* Extended memories (Eq. 23): φ is the uniform mixture over N memories of the
  uniform density on a k-dimensional box (parallelotope with orthogonal
  edges) ``{o_n + Σ_j s_j e_nj : s ∈ [0, 1]^k}``. The Gaussian integral
  factorises along the edges, so p_t is a product of differences of normal
  CDFs (closed form). k = 0 gives point memories, k = 1 line segments.
* Semantic memory (Eq. 24): φ is a density on a parametric curve y(s),
  s ∈ [0, 1]. The curve is replaced by the polyline through y(k/K),
  k = 0..K, and φ by a mixture of uniform densities on its K segments, each
  weighted by its length (uniform in arc length) or by its mass ∫ φ(s) ds in
  the parameter; every segment's Gaussian integral is the closed form of Eq. 23.
  As t → 0 the attractor set is therefore the whole polyline (within its
  sagitta of the curve), not a set of points. The Gauss–Legendre version
  (``semantic_*_quadrature``, ``curve_quadrature``) is kept: it converges
  spectrally at moderate t, but as t → 0 it becomes a mixture of point
  memories, one attractor per node.

Score functions follow the explicit-state convention ``score_fn(state, x, t)``:
the factories ``box_score_fn(sde)``, ``segment_score_fn(sde)`` and
``semantic_score_fn(sde)`` return a pure function of the memory's arrays, which
``box_state``, ``segment_state`` and ``semantic_state`` build and validate once.
A jitted sampler then takes the state as an ordinary (traced) argument.

Notes on the paper's formulas. Eqs. 23 and 24 write the (negative) energy
with the kernel ``exp(β x·y)``; that form drops the ``-β‖y‖²/2`` term, which is
only constant when all points of the memory have the same norm (normalised
patterns, Eq. 13). Over a segment or a box it is not constant, so the
functions here use the full Gaussian kernel, i.e. the exact ``p_t``.

All functions take one state ``x`` of shape [d]; batch with ``jax.vmap``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erfc, logsumexp

from assocmem import _checks, mixture, scores
from assocmem.bank import make_bank

Array = jax.Array
ScoreFn = Callable[[Any, Array, Array], Array]
Curve = Callable[[Array], Array]
BoxState = Tuple[Array, Array]            # (origins [N, d], edges [N, k, d])
SegmentState = Tuple[Array, Array]        # (a [N, d], b [N, d])
SemanticState = Tuple[Array, Array, Array]  # (a [K, d], b [K, d], log_weights [K])

_LOG_2PI = math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_ERFCX_SWITCH = 8.0
_ERFCX_TERMS = 16
# Below this value of (interval width) * (1 + |interval centre|) the normal
# mass of an interval is computed by its Taylor expansion around the centre.
_NARROW = 1e-3
# Default number of polyline segments of a semantic memory (Eq. 24).
DEFAULT_N_SEGMENTS = 256


# ----------------------------------------------------------------------------
# Validation helpers (private).
# ----------------------------------------------------------------------------


def _as_boxes(origins: Array, edges: Array) -> Tuple[Array, Array]:
  """Validates box memories; returns origins [N, d] and edges [N, k, d]."""
  origins = _checks.as_float_array("origins", origins)
  edges = _checks.as_float_array("edges", edges)
  if origins.ndim == 1:
    origins = origins[None]
    if edges.ndim == 2:
      edges = edges[None]
  if origins.ndim != 2:
    raise ValueError(f"origins must have shape [N, d] or [d]; got {origins.shape}.")
  if edges.ndim != 3:
    raise ValueError(f"edges must have shape [N, k, d] (or [k, d]); got {edges.shape}.")
  if edges.shape[0] != origins.shape[0]:
    raise ValueError(
        f"edges holds {edges.shape[0]} memories but origins holds {origins.shape[0]}."
    )
  if edges.shape[2] != origins.shape[1]:
    raise ValueError(
        f"edges vectors have dimension {edges.shape[2]} but origins has dimension "
        f"{origins.shape[1]}."
    )
  if edges.shape[1] > origins.shape[1]:
    raise ValueError(
        f"edges: a box of {edges.shape[1]} orthogonal edges cannot live in dimension "
        f"{origins.shape[1]}."
    )
  if _checks.is_concrete(edges) and edges.shape[1] > 0:
    e = np.asarray(edges, dtype=np.float64)
    norms = np.linalg.norm(e, axis=-1)
    if np.any(norms <= 0.0):
      raise ValueError("edges must have positive length (a zero edge is not a box side).")
    gram = np.einsum("nid,njd->nij", e, e) / (norms[:, :, None] * norms[:, None, :])
    off = gram - np.eye(e.shape[1])[None]
    if np.max(np.abs(off)) > 1e-6:
      raise ValueError(
          "edges of each box must be mutually orthogonal; max |cos| between edges is "
          f"{np.max(np.abs(off)):.3g}."
      )
  return origins, edges


def _theta_and_variance(sde: Any, t: Array) -> Tuple[Array, Array]:
  """θ_t and v_t of the Gaussian kernel N(x; θ_t y, v_t I) of ``sde``."""
  _checks.check_positive("t", t)
  return jnp.asarray(sde.theta(t)), jnp.asarray(sde.variance(t))


# ----------------------------------------------------------------------------
# Stable normal-CDF differences (private).
# ----------------------------------------------------------------------------


def _log1mexp(u: Array) -> Array:
  """log(1 - exp(u)) for u < 0, accurate for all u."""
  return jnp.where(u > -math.log(2.0), jnp.log(-jnp.expm1(u)), jnp.log1p(-jnp.exp(u)))


def _erfcx(x: Array) -> Array:
  """Scaled complementary error function e^{x²} erfc(x) for x >= 0.

  Direct product below x = 8 (both factors are normal floats in float32 there),
  asymptotic series (1/(x√π)) Σ_k (−1)^k (2k−1)!! / (2x²)^k with 16 terms above
  (truncation error < 1e-16). Not jax.scipy.special.erfcx: it is missing from
  older jax versions and returns spurious zeros for x in [9.19, 9.42] (float32)
  and [26.54, 26.64] (float64) in jax 0.10 (jax-ml/jax#38607).
  """
  big = x >= _ERFCX_SWITCH
  x_small = jnp.where(big, 0.0, x)
  x_big = jnp.where(big, x, _ERFCX_SWITCH)
  u = 0.5 / (x_big * x_big)
  acc = jnp.ones_like(x_big)
  for k in range(_ERFCX_TERMS, 0, -1):
    acc = 1.0 - (2 * k - 1) * u * acc
  series = acc / (x_big * math.sqrt(math.pi))
  return jnp.where(big, series, jnp.exp(x_small * x_small) * erfc(x_small))


def _log_normal_pdf(z: Array) -> Array:
  return -0.5 * z * z - 0.5 * _LOG_2PI


def _interval_stats(lo: Array, hi: Array) -> Tuple[Array, Array]:
  """Log-mean normal density on [lo, hi] and its derivative under a shift.

  Returns ``(log((Φ(hi) - Φ(lo)) / (hi - lo)), (φ(hi) - φ(lo)) / (Φ(hi) - Φ(lo)))``
  for lo < hi. The second value is ``d/dc log(Φ(hi + c) - Φ(lo + c))`` at c = 0,
  i.e. minus the mean of the standard normal truncated to [lo, hi].

  The interval is first mirrored so that its centre m is <= 0 (no cancellation
  of Φ near 1); then one of three branches is used:
    * narrow (width (1 + |m|) < 1e-3): Taylor expansion in the width, which keeps
      the log-density finite as θ_t → 0 or for degenerate boxes;
    * tail (both ends <= 0): Φ(z) = ½ e^{-z²/2} erfcx(-z/√2), so that
      log Φ(a) - log Φ(b) = w m + log erfcx(-a/√2) - log erfcx(-b/√2) and the
      Mills ratios φ/Φ = √(2/π) / erfcx(-z/√2) keep full relative precision
      arbitrarily far in the tail (as t → 0 or far from the memory);
    * central (upper end > 0): Z = 1 - Φ(-b) - Φ(a), both tails <= 1/2, so Z
      is small only for narrow intervals, which the first branch takes.
  All branches see safe inputs where they are not selected, so gradients are
  NaN-free.
  """
  width = hi - lo
  centre = 0.5 * (lo + hi)
  flip = centre > 0
  a = jnp.where(flip, -hi, lo)
  b = jnp.where(flip, -lo, hi)
  m = jnp.where(flip, -centre, centre)
  narrow = width * (1.0 + jnp.abs(m)) < _NARROW
  tail = jnp.logical_and(~narrow, b <= 0)
  central = jnp.logical_and(~narrow, b > 0)

  # Tail branch: a < b <= 0.
  a_t = jnp.where(tail, a, -2.0)
  b_t = jnp.where(tail, b, -1.0)
  w_t, m_t = b_t - a_t, 0.5 * (a_t + b_t)
  ex_a = _erfcx(-a_t / _SQRT2)
  ex_b = _erfcx(-b_t / _SQRT2)
  delta = w_t * m_t + jnp.log(ex_a) - jnp.log(ex_b)  # log Φ(a) - log Φ(b) < 0
  log_z_t = -0.5 * b_t * b_t + jnp.log(0.5 * ex_b) + _log1mexp(delta)
  log_mean_t = log_z_t - jnp.log(w_t)
  mills_a, mills_b = _SQRT_2_OVER_PI / ex_a, _SQRT_2_OVER_PI / ex_b  # φ/Φ at a and b
  slope_t = (mills_b - jnp.exp(delta) * mills_a) / -jnp.expm1(delta)

  # Central branch: a <= -b < 0 < b, Z = 1 - Φ(-b) - Φ(a) with both tails <= 1/2.
  a_c = jnp.where(central, a, -1.0)
  b_c = jnp.where(central, b, 1.0)
  z_c = 1.0 - 0.5 * (erfc(b_c / _SQRT2) + erfc(-a_c / _SQRT2))
  log_mean_c = jnp.log(z_c) - jnp.log(b_c - a_c)
  slope_c = (jnp.exp(_log_normal_pdf(b_c)) - jnp.exp(_log_normal_pdf(a_c))) / z_c

  # Narrow branch: Z = h φ(m) (1 + (m² - 1) h² / 24 + O(h⁴)).
  h = jnp.where(narrow, width, 0.0)
  m_n = jnp.where(narrow, m, 0.0)
  corr = (m_n * m_n - 1.0) * h * h / 24.0
  log_mean_n = _log_normal_pdf(m_n) + jnp.log1p(corr)
  slope_n = -m_n + (m_n * h * h / 12.0) / (1.0 + corr)

  log_mean = jnp.where(narrow, log_mean_n, jnp.where(tail, log_mean_t, log_mean_c))
  slope = jnp.where(narrow, slope_n, jnp.where(tail, slope_t, slope_c))
  # Mirroring reverses the sign of the shift derivative.
  return log_mean, jnp.where(flip, -slope, slope)




# ----------------------------------------------------------------------------
# Extended memories: boxes (k = 0 points, k = 1 segments, ...). Seed 002, Eq. 23.
# ----------------------------------------------------------------------------


def _mix(log_p: Array, values: Array) -> Array:
  """Posterior-weighted mean Σ_n softmax(log_p)_n values_n of component values [N, k].

  The shared mixture primitive (`assocmem.mixture.weighted_mean`) with per-component logits.
  """
  return mixture.weighted_mean(log_p, values)


def _box_components(
    x: Array, theta: Array, var: Array, origins: Array, edges: Array
) -> Tuple[Array, Array]:
  """Per-memory log-densities [N] and scores [N, d] at one state x [d]."""
  dim = origins.shape[1]
  k = edges.shape[1]
  std = jnp.sqrt(var)
  lengths = jnp.linalg.norm(edges, axis=-1)  # [N, k]
  safe_lengths = jnp.where(lengths > 0, lengths, 1.0)
  units = edges / safe_lengths[..., None]  # [N, k, d]
  r = x[None, :] - theta * origins  # [N, d]
  c = jnp.einsum("nkd,nd->nk", units, r)  # coordinates along the edges
  r_perp = r - jnp.einsum("nk,nkd->nd", c, units)
  lo = -c / std
  hi = (theta * lengths - c) / std
  log_mean, slope = _interval_stats(lo, hi)  # [N, k]
  log_p = (
      -0.5 * dim * (_LOG_2PI + jnp.log(var))
      + 0.5 * k * _LOG_2PI
      - 0.5 * jnp.sum(r_perp * r_perp, axis=-1) / var
      + jnp.sum(log_mean, axis=-1)
  )
  score = -r_perp / var - jnp.einsum("nk,nkd->nd", slope, units) / std
  return log_p, score


def _mixture_log_density(
    x: Array, theta: Array, var: Array, origins: Array, edges: Array, log_weights: Array
) -> Array:
  """log Σ_n w_n p_t,n(x) of box components with normalised log-weights [N] (no validation)."""
  log_p, _ = _box_components(x, theta, var, origins, edges)
  return logsumexp(log_weights + log_p)


def _mixture_score(
    x: Array, theta: Array, var: Array, origins: Array, edges: Array, log_weights: Array
) -> Array:
  """Σ_n π_n(x) ∇log p_t,n(x), π = softmax(log w + log p_t,n) (no validation)."""
  log_p, scores = _box_components(x, theta, var, origins, edges)
  return _mix(log_weights + log_p, scores)


def _check_box_shapes(origins: Array, edges: Array, name: str = "state") -> None:
  """Static shape check of box arrays (traced code included)."""
  if jnp.ndim(origins) != 2 or jnp.ndim(edges) != 3:
    raise ValueError(f"{name} must be (origins [N, d], edges [N, k, d]); got shapes "
                     f"{tuple(jnp.shape(origins))} and {tuple(jnp.shape(edges))}")
  if jnp.shape(edges)[0] != jnp.shape(origins)[0] or jnp.shape(edges)[2] != jnp.shape(origins)[1]:
    raise ValueError(f"{name}: edges {tuple(jnp.shape(edges))} do not match origins "
                     f"{tuple(jnp.shape(origins))}")


def box_log_density(x: Array, t: Array, origins: Array, edges: Array, sde: Any) -> Array:
  """Exact log p_t(x) for a uniform mixture of uniform boxes. Seed 002, Eq. 23.

  p_t(x) = (1/N) Σ_n ∫_{[0,1]^k} N(x; θ_t (o_n + Σ_j s_j e_nj), v_t I) ds, a
  product over edges of normal-CDF differences (closed form).

  Args:
    x: [d] one state.
    t: scalar diffusion time.
    origins: [N, d] box corners o_n (or [d] for one box).
    edges: [N, k, d] mutually orthogonal edge vectors e_nj of each box (or
      [k, d] for one box); k = 0 gives point memories, k = 1 segments.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log-density.
  """
  origins, edges = _as_boxes(origins, edges)
  x = _checks.check_state("x", x, origins.shape[1])
  theta, var = _theta_and_variance(sde, t)
  log_p, _ = _box_components(x, theta, var, origins, edges)
  return logsumexp(log_p) - jnp.log(log_p.shape[0])


def box_score(x: Array, t: Array, origins: Array, edges: Array, sde: Any) -> Array:
  """Closed-form score ∇_x log p_t(x) of box memories. Seed 002, Eq. 23.

  Each box contributes ``-r⊥/v_t - Σ_j ê_j g_j / √v_t`` (r = x - θ_t o, r⊥ its part
  orthogonal to the box, g_j = (φ(hi_j) - φ(lo_j)) / (Φ(hi_j) - Φ(lo_j))), and the
  components are mixed with their posterior weights softmax(log p_t,n(x)).
  Arguments as in :func:`box_log_density`. Returns the score, shape [d].
  """
  origins, edges = _as_boxes(origins, edges)
  x = _checks.check_state("x", x, origins.shape[1])
  theta, var = _theta_and_variance(sde, t)
  log_p, scores = _box_components(x, theta, var, origins, edges)
  return _mix(log_p, scores)


def box_energy(x: Array, t: Array, origins: Array, edges: Array, sde: Any) -> Array:
  """Energy -log p_t(x) of box memories (sign of a Hopfield energy). Seed 002, Eq. 23."""
  return -box_log_density(x, t, origins, edges, sde)


def box_state(origins: Array, edges: Array) -> BoxState:
  """Validated state ``(origins [N, d], edges [N, k, d])`` of box memories. Seed 002, Eq. 23.

  Checks shapes, and (concrete arrays) positive and mutually orthogonal edges,
  once; the score function of :func:`box_score_fn` then only checks shapes.
  Arguments as in :func:`box_log_density` ([d] / [k, d] for one box).
  """
  return _as_boxes(origins, edges)


def box_score_fn(sde: Any) -> ScoreFn:
  """Score function ``score(state, x [d], t) -> [d]`` of box memories. Seed 002, Eq. 23.

  ``state`` is ``(origins [N, d], edges [N, k, d])`` from :func:`box_state`; it is
  an ordinary argument (traced under jit, so a new set of boxes of the same
  shapes reuses the compiled sampler). Only shapes are checked per call.
  """

  def score(state: BoxState, x: Array, t: Array) -> Array:
    origins, edges = state
    _check_box_shapes(origins, edges)
    _checks.check_vector_against("x", x, jnp.shape(origins)[1], "the boxes")
    theta, var = _theta_and_variance(sde, t)
    log_p, scores = _box_components(x, theta, var, origins, edges)
    return _mix(log_p, scores)

  return score


def _segments_as_boxes(a: Array, b: Array) -> Tuple[Array, Array]:
  a, b = segment_state(a, b)
  return a, (b - a)[:, None, :]


def segment_state(a: Array, b: Array) -> SegmentState:
  """Validated state ``(a [N, d], b [N, d])`` of segment memories [a_n, b_n]. Seed 002, Eq. 23.

  Accepts one segment as [d] arrays. Checks shapes and (concrete arrays) that
  every segment has a positive length.
  """
  a = _checks.as_float_array("a", a)
  b = _checks.as_float_array("b", b)
  if a.ndim not in (1, 2):
    raise ValueError(f"a must have shape [N, d] or [d]; got {a.shape}.")
  if b.shape != a.shape:
    raise ValueError(f"b must have the shape of a {a.shape}; got {b.shape}.")
  if a.ndim == 1:
    a, b = a[None], b[None]
  _checks.check_finite("a", a)
  _checks.check_finite("b", b)
  if _checks.is_concrete(a) and _checks.is_concrete(b):
    if np.any(np.linalg.norm(np.asarray(b) - np.asarray(a), axis=-1) <= 0.0):
      raise ValueError("b must differ from a (segments need a positive length).")
  return a, b


def segment_log_density(x: Array, t: Array, a: Array, b: Array, sde: Any) -> Array:
  """Exact log p_t(x) of N segment memories [a_n, b_n]. Seed 002, Eq. 23.

  p_t(x) = (1/N) Σ_n ∫_0^1 N(x; θ_t (a_n + s (b_n - a_n)), v_t I) ds
         = (1/N) Σ_n (2π v_t)^{-(d-1)/2} e^{-‖r⊥‖²/2v_t} (Φ(hi) - Φ(lo)) / (θ_t ‖b_n - a_n‖),
  evaluated in log space with erfc / scaled-erfc forms that stay accurate in the far tails.

  Args:
    x: [d] one state.
    t: scalar diffusion time.
    a: [N, d] segment starts (or [d] for one segment).
    b: [N, d] segment ends.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log-density.
  """
  origins, edges = _segments_as_boxes(a, b)
  return box_log_density(x, t, origins, edges, sde)


def segment_score(x: Array, t: Array, a: Array, b: Array, sde: Any) -> Array:
  """Closed-form score of segment memories [a_n, b_n]. Seed 002, Eq. 23.

  For one segment with unit direction û, r = x - θ_t a, lo = -r·û/√v_t and
  hi = (θ_t ‖b - a‖ - r·û)/√v_t, the score is
  ``-(r - (r·û) û)/v_t - û (φ(hi) - φ(lo)) / (√v_t (Φ(hi) - Φ(lo)))``;
  segments are mixed with their posterior weights. Returns shape [d].
  """
  origins, edges = _segments_as_boxes(a, b)
  return box_score(x, t, origins, edges, sde)


def segment_energy(x: Array, t: Array, a: Array, b: Array, sde: Any) -> Array:
  """Energy -log p_t(x) of segment memories. Seed 002, Eq. 23."""
  return -segment_log_density(x, t, a, b, sde)


def _check_segment_shapes(a: Array, b: Array, name: str = "state") -> None:
  if jnp.ndim(a) != 2 or jnp.shape(b) != jnp.shape(a):
    raise ValueError(f"{name} must be (a [N, d], b [N, d]); got shapes {tuple(jnp.shape(a))} "
                     f"and {tuple(jnp.shape(b))}")


def segment_score_fn(sde: Any) -> ScoreFn:
  """Score function ``score(state, x [d], t) -> [d]`` of segment memories. Seed 002, Eq. 23.

  ``state`` is ``(a [N, d], b [N, d])`` from :func:`segment_state` (traced under
  jit; only shapes are checked per call).
  """

  def score(state: SegmentState, x: Array, t: Array) -> Array:
    a, b = state
    _check_segment_shapes(a, b)
    _checks.check_vector_against("x", x, jnp.shape(a)[1], "the segments")
    theta, var = _theta_and_variance(sde, t)
    log_p, scores = _box_components(x, theta, var, a, (b - a)[:, None, :])
    return _mix(log_p, scores)

  return score


# ----------------------------------------------------------------------------
# Semantic memory on a curve: polyline of segments. Seed 002, Eq. 24.
# ----------------------------------------------------------------------------


def _curve_dim(curve: Curve) -> int:
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
  _curve_dim(curve)
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
  _check_segment_shapes(a, b)
  if tuple(jnp.shape(log_weights)) != (jnp.shape(a)[0],):
    raise ValueError(f"state log_weights must have shape ({jnp.shape(a)[0]},) to match the "
                     f"segments; got {tuple(jnp.shape(log_weights))}")


def _semantic_log_density(state: SemanticState, x: Array, theta: Array, var: Array) -> Array:
  a, b, log_w = state
  return _mixture_log_density(x, theta, var, a, (b - a)[:, None, :], log_w)


def _semantic_score(state: SemanticState, x: Array, theta: Array, var: Array) -> Array:
  a, b, log_w = state
  return _mixture_score(x, theta, var, a, (b - a)[:, None, :], log_w)


def _semantic_inputs(x: Array, t: Array, curve: Curve, sde: Any, n_segments: int,
                     log_density_s: Optional[Callable[[Array], Array]]) -> tuple[SemanticState, Array, Array, Array]:
  """(state, x, θ_t, v_t) of a semantic memory on a curve: the checked arguments of Eq. 24."""
  x = _checks.check_state("x", x, _curve_dim(curve))
  state = semantic_state(curve, n_segments, log_density_s)
  theta, var = _theta_and_variance(sde, t)
  return state, x, theta, var


def semantic_log_density(
    x: Array,
    t: Array,
    curve: Curve,
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
    x: [d] one state.
    t: scalar diffusion time.
    curve: ``y(s)``, scalar s ∈ [0, 1] -> [d].
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).
    n_segments: number K of polyline segments (see :func:`semantic_state`).
    log_density_s: optional unnormalised log-density in s (default: uniform in arc length).

  Returns:
    scalar log-density.
  """
  return _semantic_log_density(*_semantic_inputs(x, t, curve, sde, n_segments, log_density_s))


def semantic_score(
    x: Array,
    t: Array,
    curve: Curve,
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
  return _semantic_score(*_semantic_inputs(x, t, curve, sde, n_segments, log_density_s))


def semantic_energy(
    x: Array,
    t: Array,
    curve: Curve,
    sde: Any,
    n_segments: int = DEFAULT_N_SEGMENTS,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> Array:
  """Energy -log p_t(x) of a semantic memory on a curve (polyline). Seed 002, Eq. 24."""
  return -semantic_log_density(x, t, curve, sde, n_segments, log_density_s)


def semantic_score_fn(sde: Any) -> ScoreFn:
  """Score function ``score(state, x [d], t) -> [d]`` of a semantic memory. Seed 002, Eq. 24.

  ``state`` is ``(a [K, d], b [K, d], log_weights [K])`` from
  :func:`semantic_state` (build it once, pass it to the sampler; it is traced
  under jit, so another curve with the same K and d reuses the compiled code).
  Only shapes are checked per call.
  """

  def score(state: SemanticState, x: Array, t: Array) -> Array:
    a, b, log_w = state
    _check_semantic_shapes(a, b, log_w)
    _checks.check_vector_against("x", x, jnp.shape(a)[1], "the curve")
    theta, var = _theta_and_variance(sde, t)
    return _semantic_score(state, x, theta, var)

  return score


def semantic_log_density_fn(sde: Any) -> Callable[[Any, Array, Array], Array]:
  """Log-density ``log_p(state, x [d], t) -> scalar`` of a semantic memory. Seed 002, Eq. 24.

  The companion of :func:`semantic_score_fn` (its ``jax.grad`` in x is that score), for
  energy landscapes -log p_t evaluated from one :func:`semantic_state`.
  """

  def log_density(state: SemanticState, x: Array, t: Array) -> Array:
    a, b, log_w = state
    _check_semantic_shapes(a, b, log_w)
    _checks.check_vector_against("x", x, jnp.shape(a)[1], "the curve")
    theta, var = _theta_and_variance(sde, t)
    return _semantic_log_density(state, x, theta, var)

  return log_density


# ----------------------------------------------------------------------------
# Semantic memory by Gauss–Legendre quadrature (point mixture). Seed 002, Eq. 24.
# ----------------------------------------------------------------------------


def gauss_legendre(n_nodes: int, n_panels: int = 1) -> Tuple[np.ndarray, np.ndarray]:
  """Composite Gauss–Legendre rule on [0, 1].

  Args:
    n_nodes: nodes per panel (>= 1).
    n_panels: number of equal sub-intervals of [0, 1] (>= 1).

  Returns:
    (nodes [n_panels * n_nodes], weights [n_panels * n_nodes]) as NumPy float64
    arrays; the weights sum to 1.
  """
  n_nodes = _checks.check_int("n_nodes", n_nodes, 1)
  n_panels = _checks.check_int("n_panels", n_panels, 1)
  z, w = np.polynomial.legendre.leggauss(int(n_nodes))
  left = np.arange(n_panels, dtype=np.float64)[:, None] / n_panels
  nodes = left + (z[None, :] + 1.0) / (2.0 * n_panels)
  weights = np.broadcast_to(w[None, :] / (2.0 * n_panels), nodes.shape)
  return nodes.reshape(-1), np.array(weights).reshape(-1)


def curve_quadrature(
    curve: Curve,
    n_nodes: int = 64,
    n_panels: int = 1,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> Tuple[Array, Array]:
  """Quadrature points and log-weights of a density on a curve. Seed 002, Eq. 24.

  Discretises φ(y) dy on the curve {y(s) : s ∈ [0, 1]} as Σ_i w_i δ(y - y(s_i)).
  By default φ is uniform in arc length, w_i ∝ ω_i ‖y'(s_i)‖ (ω_i Gauss–Legendre
  weights, y' by forward-mode autodiff); with ``log_density_s`` the density is
  ``exp(log_density_s(s))`` in the parameter s, w_i ∝ ω_i exp(log_density_s(s_i)).
  The weights are normalised by the rule itself so that Σ w_i = 1.

  Args:
    curve: ``y(s)``, scalar s -> [d]; differentiable when arc-length weights are used.
    n_nodes: Gauss–Legendre nodes per panel.
    n_panels: number of panels of the composite rule.
    log_density_s: optional unnormalised log-density in s (scalar -> scalar).

  Returns:
    (points [M, d], log_weights [M]) with M = n_nodes * n_panels.
  """
  nodes, weights = gauss_legendre(n_nodes, n_panels)
  s = jnp.asarray(nodes, dtype=jnp.result_type(float))
  points = jax.vmap(curve)(s)
  if points.ndim != 2:
    raise ValueError(f"curve must map a scalar s to a vector [d]; got shape {points.shape[1:]}.")
  log_w = jnp.log(jnp.asarray(weights, dtype=s.dtype))
  if log_density_s is None:
    speed = jnp.linalg.norm(jax.vmap(jax.jacfwd(curve))(s), axis=-1)
    log_w = log_w + jnp.log(speed)
  else:
    log_phi = jax.vmap(log_density_s)(s)
    if log_phi.shape != s.shape:
      raise ValueError(
          f"log_density_s must map a scalar s to a scalar; got shape {log_phi.shape[1:]}."
      )
    log_w = log_w + log_phi
  return points, log_w - logsumexp(log_w)




def _check_weighted_points(
    x: Array, points: Array, log_weights: Array
) -> Tuple[Array, Array, Array]:
  points = _checks.as_float_array("points", points)
  log_weights = _checks.as_float_array("log_weights", log_weights)
  if points.ndim != 2:
    raise ValueError(f"points must have shape [M, d]; got {points.shape}.")
  if log_weights.shape != points.shape[:1]:
    raise ValueError(
        f"log_weights must have shape [{points.shape[0]}] to match points; "
        f"got {log_weights.shape}."
    )
  return _checks.check_state("x", x, points.shape[1]), points, log_weights


def weighted_points_log_density(
    x: Array, t: Array, points: Array, log_weights: Array, sde: Any
) -> Array:
  """log p_t(x) of a weighted point mixture Σ_i w_i δ(y - y_i). Seed 002, Eqs. 12 and 24.

  Args:
    x: [d] one state.
    t: scalar diffusion time.
    points: [M, d] points y_i.
    log_weights: [M] log w_i, normalised (logsumexp = 0).
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log Σ_i w_i N(x; θ_t y_i, v_t I).
  """
  x, points, log_weights = _check_weighted_points(x, points, log_weights)
  _theta_and_variance(sde, t)
  # A weighted bank (seed 002 Eq. 12 with weights): the shared, centred mixture primitive.
  bank = make_bank(points, log_weights=log_weights)
  return scores.bank_log_density(bank, x, t, sde) + logsumexp(log_weights)


def weighted_points_score(
    x: Array, t: Array, points: Array, log_weights: Array, sde: Any
) -> Array:
  """Closed-form score Σ_i π_i(x) (θ_t y_i - x)/v_t of a weighted point mixture.

  Seed 002, Eqs. 12 and 24; π_i(x) is the posterior softmax weight. Arguments as
  in :func:`weighted_points_log_density`. Returns shape [d].
  """
  x, points, log_weights = _check_weighted_points(x, points, log_weights)
  _theta_and_variance(sde, t)
  return scores.bank_score(make_bank(points, log_weights=log_weights), x, t, sde)




def _check_curve_state(x: Array, curve: Curve) -> None:
  """Checks x against the curve's dimension before any quadrature work (shape-only trace)."""
  _checks.check_state("x", x, _curve_dim(curve))


def semantic_log_density_quadrature(
    x: Array,
    t: Array,
    curve: Curve,
    sde: Any,
    n_nodes: int = 64,
    n_panels: int = 1,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> Array:
  """log p_t(x) of a curve density by Gauss–Legendre quadrature. Seed 002, Eq. 24.

  The integral over the curve parameter is a weighted sum over the nodes (see
  :func:`curve_quadrature`), i.e. a mixture of point memories. Spectrally
  accurate while the node spacing along the curve is well below the kernel
  width √v_t/θ_t; as t → 0 it is not: each node becomes a point attractor. Use
  :func:`semantic_log_density` (polyline, exact per segment) for small t.

  Args:
    x: [d] one state.
    t: scalar diffusion time.
    curve: ``y(s)``, scalar s ∈ [0, 1] -> [d].
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).
    n_nodes, n_panels, log_density_s: see :func:`curve_quadrature`.

  Returns:
    scalar log-density.
  """
  _check_curve_state(x, curve)
  points, log_w = curve_quadrature(curve, n_nodes, n_panels, log_density_s)
  return weighted_points_log_density(x, t, points, log_w, sde)


def semantic_score_quadrature(
    x: Array,
    t: Array,
    curve: Curve,
    sde: Any,
    n_nodes: int = 64,
    n_panels: int = 1,
    log_density_s: Optional[Callable[[Array], Array]] = None,
) -> Array:
  """Score of :func:`semantic_log_density_quadrature` (its exact gradient). Seed 002, Eq. 24.

  Returns [d].
  """
  _check_curve_state(x, curve)
  points, log_w = curve_quadrature(curve, n_nodes, n_panels, log_density_s)
  return weighted_points_score(x, t, points, log_w, sde)


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
    x: Array, t: Array, center: Array, radius: float, sde: Any
) -> Array:
  """Exact log p_t(x) for the uniform density on a circle in R². Seed 002, Eq. 24.

  With r = x - θ_t c: p_t(x) = e^{-(‖r‖² + θ_t² R²)/2v_t} I₀(θ_t R ‖r‖ / v_t) / (2π v_t),
  written with the exponentially scaled Bessel function i0e for stability. A
  closed-form reference for :func:`semantic_log_density`.

  Args:
    x: [2] one state.
    t: scalar diffusion time.
    center: [2] circle centre c.
    radius: circle radius R > 0.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log-density.
  """
  center = _checks.as_float_array("center", center)
  if center.shape != (2,):
    raise ValueError(f"center must have shape (2,), got {tuple(center.shape)}")
  x = _checks.check_state("x", x, 2)
  theta, var = _theta_and_variance(sde, t)
  r = x - theta * center
  rho = jnp.sqrt(jnp.sum(r * r))
  z = theta * radius * rho / var
  return (
      -0.5 * (rho - theta * radius) ** 2 / var
      + jnp.log(jax.scipy.special.i0e(z))
      - jnp.log(2.0 * jnp.pi * var)
  )
