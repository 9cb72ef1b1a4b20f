"""Exact scores of a finite pattern set: autograd identities, normalisation, stability, batching."""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am
from assocmem import testing

D, N = 6, 4


def _gauss(seed, shape):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape))


SDES = [am.VPSDE(0.8), am.VPSDE(1.0), am.VESDE(1.0), am.VESDE(0.6)]


@pytest.mark.parametrize("sde", SDES, ids=["vp0.8", "vp1", "ve1", "ve0.6"])
def test_score_is_gradient_of_log_density(x64, sde):
  """Closed form (θ_t Σh y − x)/v_t == jax.grad(log p_t), patterns of unequal norm, several t."""
  patterns = _gauss(0, (N, D))
  xs = _gauss(1, (3, D)) * 1.5
  ts = jnp.array([0.01, 0.3, 2.0])
  log_p = lambda p, x, t: am.log_density(p, x, t, sde)  # noqa: E731
  # the validated functions of (x, t, patterns) and the explicit-state score of a bank
  testing.assert_score_matches_log_density(lambda p, x, t: am.score(p, x, t, sde), log_p, patterns, xs, ts,
                                           rtol=1e-9, atol=1e-9)
  testing.assert_score_matches_log_density(am.exact_score_fn(sde), log_p, am.make_bank(patterns), xs, ts,
                                           rtol=1e-9, atol=1e-9)
  # the eager (validated) path agrees with the traced one
  testing.assert_trees_allclose(am.score(patterns, xs[0], 0.3, sde),
                                jax.jit(jax.grad(log_p, argnums=1))(patterns, xs[0], 0.3), rtol=1e-9, atol=0)


def test_log_density_is_normalised(x64):
  """∫ p_t(x) dx = 1 in d = 1 (checks the −d/2 log 2πv − log N constants)."""
  patterns = jnp.array([[1.0], [-1.0], [0.4]])
  grid = jnp.linspace(-12.0, 12.0, 4001)
  for sde, t in [(am.VPSDE(0.8), 0.2), (am.VESDE(1.3), 0.5)]:
    dens = jnp.exp(jax.vmap(lambda x: am.log_density(patterns, x[None], t, sde))(grid))
    np.testing.assert_allclose(np.trapezoid(dens, grid), 1.0, rtol=1e-8)


def test_log_density_matches_gaussian_mixture(x64):
  patterns, x, t = _gauss(2, (N, D)), _gauss(3, (D,)), 0.7
  sde = am.VPSDE(0.8)
  theta, var = np.exp(-0.4 * t), 1 - np.exp(-0.8 * t)
  p, xv = np.asarray(patterns), np.asarray(x)
  comps = np.exp(-np.sum((xv - theta * p) ** 2, -1) / (2 * var)) / (2 * np.pi * var) ** (D / 2)
  np.testing.assert_allclose(am.log_density(patterns, x, t, sde), np.log(comps.mean()), rtol=1e-10)


def test_single_pattern_score_is_gaussian_score(x64):
  y, x = _gauss(4, (1, D)), _gauss(5, (D,))
  for sde, t in [(am.VPSDE(0.8), 0.5), (am.VESDE(2.0), 0.5)]:
    expected = (sde.theta(t) * y[0] - x) / sde.variance(t)
    np.testing.assert_allclose(am.score(y, x, t, sde), expected, rtol=1e-12)


def test_denoiser_is_tweedie_posterior_mean(x64):
  """x + v_t s(x) == θ_t Σ_n w_n y_n, w = posterior over patterns."""
  patterns, x, t, sde = _gauss(6, (N, D)), _gauss(7, (D,)), 0.4, am.VPSDE(0.8)
  theta, var = sde.theta(t), sde.variance(t)
  logw = -np.sum((np.asarray(x) - theta * np.asarray(patterns)) ** 2, -1) / (2 * var)
  w = np.exp(logw - logw.max())
  w /= w.sum()
  np.testing.assert_allclose(am.denoiser(patterns, x, t, sde), theta * w @ np.asarray(patterns), rtol=1e-10)


def test_score_stable_in_float32_at_small_t_and_far_states():
  """No NaN/inf for t = 1e-5 or ‖x‖ = 1e3 in float32 (max-subtracted softmax)."""
  patterns = am.random_binary_patterns(jax.random.PRNGKey(0), 5, 16)
  sde = am.VPSDE(0.8)
  f = functools.partial(am.exact_score_fn(sde), am.make_bank(patterns))
  for x, t in [(patterns[0] * 0.9, 1e-5), (1e3 * jnp.ones(16), 0.5), (jnp.zeros(16), 1e-5)]:
    assert bool(jnp.all(jnp.isfinite(f(x, jnp.float32(t)))))
  g = jax.grad(lambda x: jnp.sum(f(x, 0.3)))(patterns[1])
  assert bool(jnp.all(jnp.isfinite(g)))


def test_score_near_pattern_at_small_t_points_to_pattern():
  """At small t, θ_t Σh y ≈ θ_t y*: the score drives x toward the nearest scaled pattern."""
  patterns = am.random_binary_patterns(jax.random.PRNGKey(1), 4, 16)
  sde, t = am.VPSDE(0.8), 0.01
  x = sde.theta(t) * patterns[2] + 0.01
  np.testing.assert_allclose(am.score(patterns, x, t, sde), (sde.theta(t) * patterns[2] - x) / sde.variance(t),
                             rtol=1e-4, atol=1e-3)


class ScoreJitTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_score_and_log_density(self):
    patterns = am.random_binary_patterns(jax.random.PRNGKey(2), N, D)
    x = jnp.linspace(-1.0, 1.0, D)
    for sde in (am.VPSDE(0.8), am.VESDE(1.0)):
      fn = self.variant(lambda x, t: (am.score(patterns, x, t, sde), am.log_density(patterns, x, t, sde),
                                      am.exact_score_fn(sde)(am.make_bank(patterns), x, t)))
      ref = (am.score(patterns, x, 0.3, sde), am.log_density(patterns, x, 0.3, sde),
             am.exact_score_fn(sde)(am.make_bank(patterns), x, 0.3))
      testing.assert_trees_allclose(fn(x, 0.3), ref, rtol=1e-5, atol=1e-6)


def test_score_nested_vmap_over_batch_and_time_equals_loop():
  patterns = am.random_binary_patterns(jax.random.PRNGKey(3), N, D)
  sde = am.VPSDE(0.8)
  xs = jax.random.normal(jax.random.PRNGKey(4), (3, 4, D))
  ts = jnp.linspace(0.1, 1.0, 4)
  f = jax.jit(functools.partial(am.exact_score_fn(sde), am.make_bank(patterns)))
  batched = jax.vmap(jax.vmap(f, (0, 0)), (0, None))(xs, ts)
  loop = jnp.stack([jnp.stack([f(xs[i, j], ts[j]) for j in range(4)]) for i in range(3)])
  testing.assert_trees_allclose(batched, loop, rtol=1e-5, atol=1e-5)   # shapes (3, 4, D) and dtypes too
