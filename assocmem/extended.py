"""Exact diffusion densities and scores of extended memories (seed 002, Eq. 23).

Seed 002 (Ambrogioni 2024) generalises point memories to memories that are
sub-spaces ("extended memories", Eq. 23). This module gives the exact marginal
density of the diffusion started from such a data distribution,

    p_t(x) = ∫ N(x; θ_t y, v_t I) φ(y) dy,

for the SDEs of assocmem.sde (``sde.theta(t)`` = θ_t, ``sde.variance(t)`` = v_t;
VP: v_t = 1 - θ_t², VE: θ_t = 1, v_t = σ²t), together with its energy ``-log p_t``
and its score ``∇_x log p_t``. φ is the uniform mixture over N memories of the
uniform density on a k-dimensional box (parallelotope with orthogonal edges)
``{o_n + Σ_j s_j e_nj : s ∈ [0, 1]^k}``. The Gaussian integral factorises along
the edges, so p_t is a product of differences of normal CDFs (closed form, with
the stable special functions of `assocmem.special`). k = 0 gives point
memories, k = 1 line segments. Semantic memories (Eq. 24, `assocmem.semantic`)
are weighted mixtures of these segments.

Score functions follow the explicit-state convention ``score_fn(state, x, t)``:
the factories ``box_score_fn(sde)`` and ``segment_score_fn(sde)`` return a pure
function of the memory's arrays, which ``box_state`` and ``segment_state`` build
and validate once. A jitted sampler then takes the state as an ordinary
(traced) argument.

Notes on the paper's formulas. Eq. 23 writes the (negative) energy with the
kernel ``exp(β x·y)``; that form drops the ``-β‖y‖²/2`` term, which is only
constant when all points of the memory have the same norm (normalised patterns,
Eq. 13). Over a segment or a box it is not constant, so the functions here use
the full Gaussian kernel, i.e. the exact ``p_t``.

All functions take one state ``x`` of shape [d]; batch with ``jax.vmap``.
"""

from __future__ import annotations

from typing import Any, Callable, Tuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from assocmem import _checks, mixture
from assocmem.sde import check_kernel_sde
from assocmem.special import LOG_2PI, normal_interval_stats

Array = jax.Array
ScoreFn = Callable[[Any, Array, Array], Array]
BoxState = Tuple[Array, Array]            # (origins [N, d], edges [N, k, d])
SegmentState = Tuple[Array, Array]        # (a [N, d], b [N, d])


# ----------------------------------------------------------------------------
# Validation helpers.
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


def theta_and_variance(sde: Any, t: Array) -> Tuple[Array, Array]:
  """θ_t and v_t of the Gaussian kernel N(x; θ_t y, v_t I) of ``sde``; checks ``sde`` and t > 0
  (a concrete t here, a traced one under ``checked``)."""
  check_kernel_sde(sde)
  _checks.check_time("t", t)
  return jnp.asarray(sde.theta(t)), jnp.asarray(sde.variance(t))


# ----------------------------------------------------------------------------
# Extended memories: boxes (k = 0 points, k = 1 segments, ...). Seed 002, Eq. 23.
# ----------------------------------------------------------------------------


def _mix(log_p: Array, values: Array) -> Array:
  """Posterior-weighted mean Σ_n softmax(log_p)_n values_n of component values [N, k].

  The shared mixture primitive (`assocmem.mixture.weighted_mean`) with per-component logits.
  """
  return mixture.weighted_mean(log_p, values)


def box_components(
    origins: Array, edges: Array, x: Array, theta: Array, var: Array
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
  log_mean, slope = normal_interval_stats(lo, hi)  # [N, k]
  log_p = (
      -0.5 * dim * (LOG_2PI + jnp.log(var))
      + 0.5 * k * LOG_2PI
      - 0.5 * jnp.sum(r_perp * r_perp, axis=-1) / var
      + jnp.sum(log_mean, axis=-1)
  )
  score = -r_perp / var - jnp.einsum("nk,nkd->nd", slope, units) / std
  return log_p, score


def box_mixture_log_density(
    origins: Array, edges: Array, log_weights: Array, x: Array, theta: Array, var: Array
) -> Array:
  """log Σ_n w_n p_t,n(x) of box components with normalised log-weights [N] (no validation)."""
  log_p, _ = box_components(origins, edges, x, theta, var)
  return logsumexp(log_weights + log_p)


def box_mixture_score(
    origins: Array, edges: Array, log_weights: Array, x: Array, theta: Array, var: Array
) -> Array:
  """Σ_n π_n(x) ∇log p_t,n(x), π = softmax(log w + log p_t,n) (no validation)."""
  log_p, scores = box_components(origins, edges, x, theta, var)
  return _mix(log_weights + log_p, scores)


def _check_box_shapes(origins: Array, edges: Array, name: str = "state") -> None:
  """Static shape check of box arrays (traced code included)."""
  if jnp.ndim(origins) != 2 or jnp.ndim(edges) != 3:
    raise ValueError(f"{name} must be (origins [N, d], edges [N, k, d]); got shapes "
                     f"{tuple(jnp.shape(origins))} and {tuple(jnp.shape(edges))}")
  if jnp.shape(edges)[0] != jnp.shape(origins)[0] or jnp.shape(edges)[2] != jnp.shape(origins)[1]:
    raise ValueError(f"{name}: edges {tuple(jnp.shape(edges))} do not match origins "
                     f"{tuple(jnp.shape(origins))}")


def box_log_density(origins: Array, edges: Array, x: Array, t: Array, sde: Any) -> Array:
  """Exact log p_t(x) for a uniform mixture of uniform boxes. Seed 002, Eq. 23.

  p_t(x) = (1/N) Σ_n ∫_{[0,1]^k} N(x; θ_t (o_n + Σ_j s_j e_nj), v_t I) ds, a
  product over edges of normal-CDF differences (closed form).

  Args:
    origins: [N, d] box corners o_n (or [d] for one box).
    edges: [N, k, d] mutually orthogonal edge vectors e_nj of each box (or
      [k, d] for one box); k = 0 gives point memories, k = 1 segments.
    x: [d] one state.
    t: scalar diffusion time.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log-density.
  """
  origins, edges = _as_boxes(origins, edges)
  x = _checks.check_state("x", x, origins.shape[1])
  theta, var = theta_and_variance(sde, t)
  log_p, _ = box_components(origins, edges, x, theta, var)
  return logsumexp(log_p) - jnp.log(log_p.shape[0])


def box_score(origins: Array, edges: Array, x: Array, t: Array, sde: Any) -> Array:
  """Closed-form score ∇_x log p_t(x) of box memories. Seed 002, Eq. 23.

  Each box contributes ``-r⊥/v_t - Σ_j ê_j g_j / √v_t`` (r = x - θ_t o, r⊥ its part
  orthogonal to the box, g_j = (φ(hi_j) - φ(lo_j)) / (Φ(hi_j) - Φ(lo_j))), and the
  components are mixed with their posterior weights softmax(log p_t,n(x)).
  Arguments as in :func:`box_log_density`. Returns the score, shape [d].
  """
  origins, edges = _as_boxes(origins, edges)
  x = _checks.check_state("x", x, origins.shape[1])
  theta, var = theta_and_variance(sde, t)
  log_p, scores = box_components(origins, edges, x, theta, var)
  return _mix(log_p, scores)


def box_energy(origins: Array, edges: Array, x: Array, t: Array, sde: Any) -> Array:
  """Energy -log p_t(x) of box memories (sign of a Hopfield energy). Seed 002, Eq. 23."""
  return -box_log_density(origins, edges, x, t, sde)


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
  shapes reuses the compiled sampler). Only shapes are checked per call (values: t > 0 when
  concrete; finite x and t > 0 under ``checked``).
  """
  check_kernel_sde(sde)

  def score(state: BoxState, x: Array, t: Array) -> Array:
    origins, edges = state
    _check_box_shapes(origins, edges)
    _checks.check_vector_against("x", x, jnp.shape(origins)[1], "the boxes")
    _checks.debug_check_finite("x", x)
    theta, var = theta_and_variance(sde, t)
    log_p, scores = box_components(origins, edges, x, theta, var)
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


def segment_log_density(a: Array, b: Array, x: Array, t: Array, sde: Any) -> Array:
  """Exact log p_t(x) of N segment memories [a_n, b_n]. Seed 002, Eq. 23.

  p_t(x) = (1/N) Σ_n ∫_0^1 N(x; θ_t (a_n + s (b_n - a_n)), v_t I) ds
         = (1/N) Σ_n (2π v_t)^{-(d-1)/2} e^{-‖r⊥‖²/2v_t} (Φ(hi) - Φ(lo)) / (θ_t ‖b_n - a_n‖),
  evaluated in log space with erfc / scaled-erfc forms that stay accurate in the far tails.

  Args:
    a: [N, d] segment starts (or [d] for one segment).
    b: [N, d] segment ends.
    x: [d] one state.
    t: scalar diffusion time.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log-density.
  """
  origins, edges = _segments_as_boxes(a, b)
  return box_log_density(origins, edges, x, t, sde)


def segment_score(a: Array, b: Array, x: Array, t: Array, sde: Any) -> Array:
  """Closed-form score of segment memories [a_n, b_n]. Seed 002, Eq. 23.

  For one segment with unit direction û, r = x - θ_t a, lo = -r·û/√v_t and
  hi = (θ_t ‖b - a‖ - r·û)/√v_t, the score is
  ``-(r - (r·û) û)/v_t - û (φ(hi) - φ(lo)) / (√v_t (Φ(hi) - Φ(lo)))``;
  segments are mixed with their posterior weights. Returns shape [d].
  """
  origins, edges = _segments_as_boxes(a, b)
  return box_score(origins, edges, x, t, sde)


def segment_energy(a: Array, b: Array, x: Array, t: Array, sde: Any) -> Array:
  """Energy -log p_t(x) of segment memories. Seed 002, Eq. 23."""
  return -segment_log_density(a, b, x, t, sde)


def check_segment_shapes(a: Array, b: Array, name: str = "state") -> None:
  if jnp.ndim(a) != 2 or jnp.shape(b) != jnp.shape(a):
    raise ValueError(f"{name} must be (a [N, d], b [N, d]); got shapes {tuple(jnp.shape(a))} "
                     f"and {tuple(jnp.shape(b))}")


def segment_score_fn(sde: Any) -> ScoreFn:
  """Score function ``score(state, x [d], t) -> [d]`` of segment memories. Seed 002, Eq. 23.

  ``state`` is ``(a [N, d], b [N, d])`` from :func:`segment_state` (traced under
  jit; only shapes are checked per call, values as in :func:`box_score_fn`).
  """
  check_kernel_sde(sde)

  def score(state: SegmentState, x: Array, t: Array) -> Array:
    a, b = state
    check_segment_shapes(a, b)
    _checks.check_vector_against("x", x, jnp.shape(a)[1], "the segments")
    _checks.debug_check_finite("x", x)
    theta, var = theta_and_variance(sde, t)
    log_p, scores = box_components(a, (b - a)[:, None, :], x, theta, var)
    return _mix(log_p, scores)

  return score
