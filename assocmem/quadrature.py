"""Semantic memories by Gauss–Legendre quadrature: weighted point mixtures (seed 002, Eq. 24).

The integral of the diffusion kernel over a curve density is replaced by a
composite Gauss–Legendre sum over the curve parameter, i.e. a weighted mixture
of point memories (seed 002, Eq. 12 with weights). It converges spectrally while
the node spacing along the curve is well below the kernel width √v_t / θ_t, but
as t → 0 every node becomes a point attractor; `assocmem.semantic` (polyline,
exact per segment) keeps the whole curve as the attractor set.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from assocmem import _checks, scores
from assocmem.bank import make_bank
from assocmem.extended import theta_and_variance
from assocmem.semantic import Curve, curve_dim

Array = jax.Array


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
    points: Array, log_weights: Array, x: Array, t: Array, sde: Any
) -> Array:
  """log p_t(x) of a weighted point mixture Σ_i w_i δ(y - y_i). Seed 002, Eqs. 12 and 24.

  Args:
    points: [M, d] points y_i.
    log_weights: [M] log w_i, normalised (logsumexp = 0).
    x: [d] one state.
    t: scalar diffusion time.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).

  Returns:
    scalar log Σ_i w_i N(x; θ_t y_i, v_t I).
  """
  x, points, log_weights = _check_weighted_points(x, points, log_weights)
  theta_and_variance(sde, t)
  # A weighted bank (seed 002 Eq. 12 with weights): the shared, centred mixture primitive.
  bank = make_bank(points, log_weights=log_weights)
  return scores.bank_log_density(bank, x, t, sde) + logsumexp(log_weights)


def weighted_points_score(
    points: Array, log_weights: Array, x: Array, t: Array, sde: Any
) -> Array:
  """Closed-form score Σ_i π_i(x) (θ_t y_i - x)/v_t of a weighted point mixture.

  Seed 002, Eqs. 12 and 24; π_i(x) is the posterior softmax weight. Arguments as
  in :func:`weighted_points_log_density`. Returns shape [d].
  """
  x, points, log_weights = _check_weighted_points(x, points, log_weights)
  theta_and_variance(sde, t)
  return scores.bank_score(make_bank(points, log_weights=log_weights), x, t, sde)




def _check_curve_state(x: Array, curve: Curve) -> None:
  """Checks x against the curve's dimension before any quadrature work (shape-only trace)."""
  _checks.check_state("x", x, curve_dim(curve))


def semantic_log_density_quadrature(
    curve: Curve,
    x: Array,
    t: Array,
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
    curve: ``y(s)``, scalar s ∈ [0, 1] -> [d].
    x: [d] one state.
    t: scalar diffusion time.
    sde: VPSDE or VESDE (anything with ``theta(t)`` and ``variance(t)``).
    n_nodes, n_panels, log_density_s: see :func:`curve_quadrature`.

  Returns:
    scalar log-density.
  """
  _check_curve_state(x, curve)
  points, log_w = curve_quadrature(curve, n_nodes, n_panels, log_density_s)
  return weighted_points_log_density(points, log_w, x, t, sde)


def semantic_score_quadrature(
    curve: Curve,
    x: Array,
    t: Array,
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
  return weighted_points_score(points, log_w, x, t, sde)
