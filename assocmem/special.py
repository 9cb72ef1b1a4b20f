"""Special functions for the closed-form densities of extended memories (seed 002, Eq. 23).

The diffusion density of a uniform box memory factorises along its edges into
differences of normal CDFs Φ(hi) - Φ(lo). This module evaluates their logarithm
and shift derivative stably in every regime (far tails, narrow intervals,
float32), with a scaled complementary error function of its own.
"""

from __future__ import annotations

import math
from typing import Tuple

import jax
import jax.numpy as jnp
from jax.scipy.special import erfc

Array = jax.Array

LOG_2PI = math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_ERFCX_SWITCH = 8.0
_ERFCX_TERMS = 16
# Below this value of (interval width) * (1 + |interval centre|) the normal
# mass of an interval is computed by its Taylor expansion around the centre.
_NARROW = 1e-3


def log1mexp(u: Array) -> Array:
  """log(1 - exp(u)) for u < 0, accurate for all u."""
  return jnp.where(u > -math.log(2.0), jnp.log(-jnp.expm1(u)), jnp.log1p(-jnp.exp(u)))


def erfcx(x: Array) -> Array:
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


def log_normal_pdf(z: Array) -> Array:
  """log φ(z), the standard normal log-density."""
  return -0.5 * z * z - 0.5 * LOG_2PI


def normal_interval_stats(lo: Array, hi: Array) -> Tuple[Array, Array]:
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
  ex_a = erfcx(-a_t / _SQRT2)
  ex_b = erfcx(-b_t / _SQRT2)
  delta = w_t * m_t + jnp.log(ex_a) - jnp.log(ex_b)  # log Φ(a) - log Φ(b) < 0
  log_z_t = -0.5 * b_t * b_t + jnp.log(0.5 * ex_b) + log1mexp(delta)
  log_mean_t = log_z_t - jnp.log(w_t)
  mills_a, mills_b = _SQRT_2_OVER_PI / ex_a, _SQRT_2_OVER_PI / ex_b  # φ/Φ at a and b
  slope_t = (mills_b - jnp.exp(delta) * mills_a) / -jnp.expm1(delta)

  # Central branch: a <= -b < 0 < b, Z = 1 - Φ(-b) - Φ(a) with both tails <= 1/2.
  a_c = jnp.where(central, a, -1.0)
  b_c = jnp.where(central, b, 1.0)
  z_c = 1.0 - 0.5 * (erfc(b_c / _SQRT2) + erfc(-a_c / _SQRT2))
  log_mean_c = jnp.log(z_c) - jnp.log(b_c - a_c)
  slope_c = (jnp.exp(log_normal_pdf(b_c)) - jnp.exp(log_normal_pdf(a_c))) / z_c

  # Narrow branch: Z = h φ(m) (1 + (m² - 1) h² / 24 + O(h⁴)).
  h = jnp.where(narrow, width, 0.0)
  m_n = jnp.where(narrow, m, 0.0)
  corr = (m_n * m_n - 1.0) * h * h / 24.0
  log_mean_n = log_normal_pdf(m_n) + jnp.log1p(corr)
  slope_n = -m_n + (m_n * h * h / 12.0) / (1.0 + corr)

  log_mean = jnp.where(narrow, log_mean_n, jnp.where(tail, log_mean_t, log_mean_c))
  slope = jnp.where(narrow, slope_n, jnp.where(tail, slope_t, slope_c))
  # Mirroring reverses the sign of the shift derivative.
  return log_mean, jnp.where(flip, -slope, slope)
