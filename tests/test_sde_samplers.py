"""SDEs and samplers: marginal moments, retrieval, measured Euler order, jit == eager, batching."""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am
from assocmem import testing

GAMMA = 0.8


# ---------------------------------------------------------------- SDE objects

def test_vp_sde_closed_forms(x64):
  sde = am.VPSDE(GAMMA)
  t = jnp.array([1e-6, 0.1, 1.0, 5.0])
  np.testing.assert_allclose(sde.theta(t), np.exp(-0.5 * GAMMA * np.asarray(t)), rtol=1e-14)
  np.testing.assert_allclose(sde.variance(t), -np.expm1(-GAMMA * np.asarray(t)), rtol=1e-12)
  mean, std = sde.marginal_prob(jnp.ones(3), 0.5)
  np.testing.assert_allclose(mean, np.exp(-0.2) * np.ones(3), rtol=1e-14)
  np.testing.assert_allclose(std, np.sqrt(1 - np.exp(-0.4)), rtol=1e-14)
  for theta in (0.68, 0.1, 0.999):   # t_start inverts θ_t (seed 002, App. A)
    np.testing.assert_allclose(sde.theta(sde.t_start(theta)), theta, rtol=1e-12)
  # d(θ_t)/dt = −½γ θ_t: the drift's mean dynamics
  np.testing.assert_allclose(jax.grad(sde.theta)(0.7), -0.5 * GAMMA * sde.theta(0.7), rtol=1e-12)
  np.testing.assert_allclose(sde.diffusion(0.3) ** 2, GAMMA)


def test_ve_sde_closed_forms(x64):
  sde = am.VESDE(1.5)
  np.testing.assert_allclose(sde.variance(0.4), 1.5**2 * 0.4, rtol=1e-14)
  np.testing.assert_allclose(sde.variance(sde.t_for_std(0.3)), 0.09, rtol=1e-12)
  np.testing.assert_allclose(sde.theta(0.4), 1.0)
  np.testing.assert_allclose(sde.drift(jnp.ones(3), 0.2), 0.0)


def test_time_grid():
  ts = am.time_grid(2.0, 0.5, 6)
  np.testing.assert_allclose(ts, np.linspace(2.0, 0.5, 7), rtol=1e-6)
  assert ts.shape == (7,)


@pytest.mark.parametrize("sde", [am.VPSDE(GAMMA), am.VESDE(1.3)], ids=["vp", "ve"])
def test_forward_marginal_matches_simulation(sde):
  """forward_sample's empirical mean/variance == θ_t y and v_t within sampling error (5 s.e.)."""
  y = jnp.array([1.0, -1.0, 1.0, -1.0])
  t, n = 0.7, 4000
  keys = jax.random.split(jax.random.PRNGKey(0), n)
  xs = jax.vmap(lambda k: am.forward_sample(k, sde, y, t, n_steps=200))(keys)
  mean, std = sde.marginal_prob(y, t)
  var = float(std) ** 2
  emp_mean = np.asarray(xs.mean(0))
  emp_var = np.asarray(xs.var(0))
  np.testing.assert_allclose(emp_mean, mean, atol=5 * np.sqrt(var / n) + 2e-3)
  # sample variance: s.e. ≈ v sqrt(2/n); pool the four coordinates.
  assert abs(emp_var.mean() - var) < 5 * var * np.sqrt(2 / (4 * n)) + 3e-3, (emp_var, var)


def test_drifts():
  sde = am.VPSDE(GAMMA)
  s = lambda state, x, t: -x / t
  x, t = jnp.array([0.3, -0.5]), 0.4
  np.testing.assert_allclose(am.ode_drift(s, None, sde, x, t), -0.5 * GAMMA * x + 0.5 * GAMMA * x / t, rtol=1e-6)
  np.testing.assert_allclose(am.sde_drift(s, None, sde, x, t), -0.5 * GAMMA * x + GAMMA * x / t, rtol=1e-6)


# ---------------------------------------------------------------- ODE sampler

def test_ode_returns_corrupted_pattern():
  """A θ = 0.8 cue, integrated with the paper's settings (300 steps to t = 1e-3), returns its pattern."""
  sde = am.VPSDE(GAMMA)
  patterns = am.random_binary_patterns(jax.random.PRNGKey(0), 3, 16)
  f, fb = am.exact_score_fn(sde), am.make_bank(patterns)
  cues = jax.vmap(lambda k, y: am.denoising_cue(k, y, 0.8))(jax.random.split(jax.random.PRNGKey(1), 3), patterns)
  out = jax.vmap(lambda c: am.ode_sample(f, fb, sde, c, sde.t_start(0.8)))(cues)
  np.testing.assert_array_equal(am.binarize(out), patterns)
  assert float(jnp.max(jnp.linalg.norm(out - patterns, axis=-1) / 4.0)) < 0.05


def test_ode_from_scaled_pattern_follows_it():
  """Starting on θ_s y at small s, the flow stays on θ_t y and ends at ≈ y (pattern is a fixed point)."""
  sde = am.VPSDE(GAMMA)
  patterns = am.random_binary_patterns(jax.random.PRNGKey(2), 4, 16)
  f, fb = am.exact_score_fn(sde), am.make_bank(patterns)
  ts = am.time_grid(0.05, 1e-3, 50)
  final, traj = am.ode_sample(f, fb, sde, sde.theta(0.05) * patterns[1], 0.05, 1e-3, 50, return_trajectory=True)
  assert traj.shape == (51, 16)
  np.testing.assert_allclose(traj, sde.theta(ts)[:, None] * patterns[1], rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(final, patterns[1], atol=1e-3)
  # and from y itself (not rescaled): still returns y.
  np.testing.assert_allclose(am.ode_sample(f, fb, sde, patterns[1], 0.05, 1e-3, 50), patterns[1], atol=0.02)


def _single_pattern_exact(sde, y, x0, s, t):
  """Closed-form probability flow of one Gaussian: x_t − θ_t y = (x_s − θ_s y) sqrt(v_t / v_s)."""
  return sde.theta(t) * y + (x0 - sde.theta(s) * y) * jnp.sqrt(sde.variance(t) / sde.variance(s))


# t_end = 0.1: at t -> 0 the flow behaves like sqrt(t), which is not smooth, and with n <= 200 linear
# steps from t_start ~ 1 the step is not small against t_end = 1e-3; the asymptotic first-order regime
# (slope ~1) then needs n >> t_start / t_end. At t_end = 0.1 it is reached from n = 25.
STEPS = np.array([25, 50, 100, 200])


def test_ode_euler_first_order_against_closed_form(x64):
  sde = am.VPSDE(GAMMA)
  y = jnp.array([[1.0, -1.0, 1.0, 1.0, -1.0, 1.0]])
  x0 = jnp.array([0.3, -0.9, 0.2, 1.1, -0.1, 0.5])
  s, t = float(sde.t_start(0.68)), 0.1
  exact = _single_pattern_exact(sde, y[0], x0, s, t)
  f, fb = am.exact_score_fn(sde), am.make_bank(y)
  testing.assert_convergence_order(lambda n: am.ode_sample(f, fb, sde, x0, s, t, n), exact, STEPS, 1.0,
                                   tolerance=0.2, max_order=1.2, max_error=5e-3,
                                   error_fn=lambda a, b: float(jnp.linalg.norm(a - b)))


def test_em_weak_order_one_on_a_single_gaussian(x64):
  """Euler–Maruyama (Eq. 29) has weak order 1: the moments of its samples converge as O(h).

  Data = one pattern y, so p_t = N(θ_t y, v_t I) and the reverse SDE started from p_s exactly has
  E[x_t] = θ_t y and E[(x_t − θ_t y)²] = v_t in closed form. The moments are estimated from
  16,384 paths × 16 coordinates, whose sampling error (~1e-3) stays well below the discretisation
  error at the largest step count (~0.017 at n = 32).
  """
  sde = am.VPSDE(GAMMA)
  d, n_paths, s, t = 16, 16_384, 2.0, 0.5
  y = jnp.asarray(np.resize([1.0, -1.0], d))
  f, fb = am.exact_score_fn(sde), am.make_bank(y[None])
  k0, k1 = jax.random.split(jax.random.PRNGKey(20))
  x0 = sde.theta(s) * y + jnp.sqrt(sde.variance(s)) * jax.random.normal(k0, (n_paths, d))
  keys = jax.random.split(k1, n_paths)

  def moments(n):
    xt = jax.jit(jax.vmap(lambda k, x: am.em_sample(k, f, fb, sde, x, s, t, n)))(keys, x0)
    dev = xt - sde.theta(t) * y
    return jnp.mean(dev), jnp.mean(dev**2)     # pooled over paths and coordinates

  exact = (0.0, float(sde.variance(t)))
  order = testing.assert_convergence_order(moments, exact, [4, 8, 16, 32], 1.0, tolerance=0.2, max_order=1.4)
  assert order > 0.8


def test_ode_transports_single_gaussian_marginal():
  """Samples of p_s = N(θ_s y, v_s) pushed by the flow to t have mean θ_t y and variance ≈ v_t."""
  sde = am.VPSDE(GAMMA)
  y = jnp.array([[1.0, -1.0, 1.0, -1.0]])
  s, t, n = 1.0, 0.2, 2000
  x0 = sde.theta(s) * y[0] + jnp.sqrt(sde.variance(s)) * jax.random.normal(jax.random.PRNGKey(5), (n, 4))
  f, fb = am.exact_score_fn(sde), am.make_bank(y)
  xt = jax.vmap(lambda x: am.ode_sample(f, fb, sde, x, s, t, 200))(x0)
  # the flow is affine here, so compare to the pushed-forward sample statistics exactly (no sampling error)
  ratio = float(jnp.sqrt(sde.variance(t) / sde.variance(s)))
  emp = np.asarray(xt - sde.theta(t) * y[0])
  start = np.asarray(x0 - sde.theta(s) * y[0])
  np.testing.assert_allclose(emp.var(0) / start.var(0), ratio**2, rtol=0.03)   # Euler error at 200 steps
  np.testing.assert_allclose(emp.mean(0), ratio * start.mean(0), atol=2e-3)
  assert abs(emp.var() - float(sde.variance(t))) < 0.1 * float(sde.variance(t))


# ---------------------------------------------------------------- reverse SDE (Euler–Maruyama)

def test_em_reverse_sde_matches_single_gaussian_marginal():
  """Reverse-SDE samples of one Gaussian: x_t ~ N(θ_t y, v_t) (checks the g sqrt(dt) noise scale)."""
  sde = am.VPSDE(GAMMA)
  y = jnp.array([[1.0, -1.0, 1.0, -1.0]])
  s, t, n = 1.0, 0.2, 4000
  x0 = sde.theta(s) * y[0] + jnp.sqrt(sde.variance(s)) * jax.random.normal(jax.random.PRNGKey(6), (n, 4))
  f, fb = am.exact_score_fn(sde), am.make_bank(y)
  keys = jax.random.split(jax.random.PRNGKey(7), n)
  xt = jax.vmap(lambda k, x: am.em_sample(k, f, fb, sde, x, s, t, 200))(keys, x0)
  v = float(sde.variance(t))
  np.testing.assert_allclose(np.asarray(xt.mean(0)), sde.theta(t) * y[0], atol=5 * np.sqrt(v / n) + 0.01)
  # Pooled over 4 coordinates, the sample variance has s.e. v·sqrt(2 / 4n); allow 3 s.e., so that a
  # 5% error in the noise scale g·sqrt(dt) (a 10% error in the variance) fails.
  se = v * np.sqrt(2 / (4 * n))
  assert abs(float(xt.var(0).mean()) - v) < 3 * se, (float(xt.var(0).mean()), v, se)


def test_em_returns_corrupted_pattern_and_is_deterministic_given_key():
  sde = am.VPSDE(GAMMA)
  patterns = am.random_binary_patterns(jax.random.PRNGKey(8), 3, 16)
  f, fb = am.exact_score_fn(sde), am.make_bank(patterns)
  keys = jax.random.split(jax.random.PRNGKey(9), 3)
  cues = jax.vmap(lambda k, y: am.denoising_cue(k, y, 0.9))(keys, patterns)
  run = jax.vmap(lambda k, c: am.em_sample(k, f, fb, sde, c, sde.t_start(0.9)))
  out = run(keys, cues)
  np.testing.assert_array_equal(am.binarize(out), patterns)
  np.testing.assert_array_equal(run(keys, cues), out)
  assert not np.allclose(run(keys[::-1], cues), out)


# ---------------------------------------------------------------- jit == no jit; batching

class SamplersJitTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_ode_and_em_sample(self):
    sde = am.VPSDE(GAMMA)
    patterns = am.random_binary_patterns(jax.random.PRNGKey(10), 3, 8)
    f, fb = am.exact_score_fn(sde), am.make_bank(patterns)
    x = am.denoising_cue(jax.random.PRNGKey(11), patterns[0], 0.7)
    k = jax.random.PRNGKey(12)
    ode = self.variant(functools.partial(am.ode_sample, f, fb, sde, n_steps=40))
    em = self.variant(functools.partial(am.em_sample, score_fn=f, state=fb, sde=sde, n_steps=40))
    testing.assert_trees_allclose(ode(x, 0.8, 1e-3), am.ode_sample(f, fb, sde, x, 0.8, 1e-3, 40), atol=1e-5)
    testing.assert_trees_allclose(em(k, x=x, t_start=0.8, t_end=1e-3),
                                  am.em_sample(k, f, fb, sde, x, 0.8, 1e-3, 40), atol=1e-5)


def test_ode_sample_nested_vmap_equals_loop():
  sde = am.VPSDE(GAMMA)
  patterns = am.random_binary_patterns(jax.random.PRNGKey(13), 3, 8)
  f, fb = am.exact_score_fn(sde), am.make_bank(patterns)
  xs = jax.random.normal(jax.random.PRNGKey(14), (3, 4, 8))
  g = jax.jit(lambda x: am.ode_sample(f, fb, sde, x, 0.8, 1e-3, 30))
  batched = jax.vmap(jax.vmap(g))(xs)
  loop = jnp.stack([jnp.stack([g(xs[i, j]) for j in range(4)]) for i in range(3)])
  testing.assert_trees_allclose(batched, loop, rtol=1e-5, atol=1e-5)   # shape (3, 4, 8) and dtype too
