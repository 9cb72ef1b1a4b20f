"""Energy == dynamics: each closed-form update or score is checked against `jax.grad`.

All identities run in float64 (the `x64` fixture), so a tolerance of 1e-9 means
a wrong formula fails, not round-off.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am
from assocmem import testing
from assocmem.energies import DENSE_KINDS

D, N = 8, 5


def _patterns(seed=0, n=N, d=D, binary=True):
  rng = np.random.default_rng(seed)
  if binary:
    return jnp.asarray(rng.choice([-1.0, 1.0], size=(n, d)))
  return jnp.asarray(rng.standard_normal((n, d)))


def _state(seed=1, d=D, scale=1.0):
  return jnp.asarray(scale * np.random.default_rng(seed).standard_normal(d))


def _pm1_state(seed=2, d=D):
  return jnp.asarray(np.random.default_rng(seed).choice([-1.0, 1.0], size=d))


# ---------------------------------------------------------------- modern Hopfield

@pytest.mark.parametrize("beta", [0.3, 5.0, 40.0])
@pytest.mark.parametrize("binary", [True, False])
def test_mhn_update_is_unit_gradient_step(x64, beta, binary):
  """mhn_update(x) − x == −∇u_MH(x) (seed 002 Eq. 5; seed 000 Eq. 3): the step is the 'score' of −u_MH."""
  patterns = _patterns(binary=binary)
  xs = jnp.stack([_state(seed, scale=0.5) for seed in range(3)])
  testing.assert_score_matches_log_density(lambda p, x, t: am.mhn_update(p, x, beta) - x,
                                           lambda p, x, t: -am.mhn_energy(p, x, beta), patterns, xs, 1.0,
                                           rtol=1e-10, atol=1e-10)


def test_mhn_energy_closed_form(x64):
  """u_MH = −β⁻¹ log Σ exp(β xᵀy_n) + ½‖x‖², computed here with numpy."""
  patterns, x, beta = _patterns(binary=False), _state(), 2.5
  p, xv = np.asarray(patterns), np.asarray(x)
  expected = -np.log(np.sum(np.exp(beta * p @ xv))) / beta + 0.5 * xv @ xv
  np.testing.assert_allclose(am.mhn_energy(patterns, x, beta), expected, rtol=1e-12)


@pytest.mark.parametrize("beta", [0.5, 5.0, 50.0])
def test_mhn_update_never_increases_energy(x64, beta):
  """The modern Hopfield update is a CCCP step: u_MH(update(x)) <= u_MH(x) (Ramsauer et al.)."""
  patterns = _patterns(binary=False)
  for seed in range(5):
    x = _state(seed, scale=2.0)
    for _ in range(5):
      new = am.mhn_update(patterns, x, beta)
      assert am.mhn_energy(patterns, new, beta) <= am.mhn_energy(patterns, x, beta) + 1e-12
      x = new


# ---------------------------------------------------------------- diffusion energies

@pytest.mark.parametrize("t", [0.02, 0.4, 3.0])
@pytest.mark.parametrize("gamma", [0.8, 1.0])
def test_vp_energy_gradient_is_reverse_sde_drift(x64, t, gamma):
  """−∇u_vDM == γ ∇log p_t + γx/2, the reverse-SDE drift of Eq. 16 (seed 002 Eqs. 15–18, VP kernel).

  Eq. 15's potential of the VP SDE has ∇v = f = −½γx, so v = −γ‖x‖²/4; the score part
  is the exact VP score (Eqs. A3–A4).
  """
  patterns = _patterns(binary=False)   # unequal norms: exercises the ‖y_n‖² term
  sde = am.VPSDE(gamma)
  xs = jnp.stack([_state(seed) for seed in range(3)])
  # the exact score is ∇log p_t, and the reverse-SDE drift −(f − g²s) of Eq. 16 is −∇u_vDM
  testing.assert_score_matches_log_density(lambda p, x, t: am.score(p, x, t, sde),
                                           lambda p, x, t: am.log_density(p, x, t, sde), patterns, xs, t,
                                           rtol=1e-9, atol=1e-9)
  testing.assert_score_matches_log_density(
      lambda p, x, t: -(sde.drift(x, t) - sde.diffusion(t) ** 2 * am.score(p, x, t, sde)),
      lambda p, x, t: -am.vp_energy(p, x, t, gamma), patterns, xs, t, rtol=1e-9, atol=1e-9)
  for x in xs:
    g_energy = jax.grad(am.vp_energy, argnums=1)(patterns, x, t, gamma)
    g_logp = jax.grad(am.log_density, argnums=1)(patterns, x, t, sde)
    np.testing.assert_allclose(-g_energy, gamma * g_logp + 0.5 * gamma * x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(jax.grad(am.diffusion_energy, argnums=1)(patterns, x, t, sde), g_energy,
                               rtol=1e-12, atol=1e-12)


def test_vp_energy_closed_form(x64):
  """u_vDM = −γ log p_t(x) − γ‖x‖²/4 with the normalised VP marginal (Eq. 18, v = −γ‖x‖²/4)."""
  patterns, gamma, t = _patterns(binary=False), 0.8, 0.7
  sde = am.VPSDE(gamma)
  for seed in range(3):
    x = _state(seed)
    expected = -gamma * am.log_density(patterns, x, t, sde) - 0.25 * gamma * float(x @ x)
    np.testing.assert_allclose(am.vp_energy(patterns, x, t, gamma), expected, rtol=1e-12)


@pytest.mark.parametrize("t", [0.02, 0.4, 3.0])
@pytest.mark.parametrize("sigma", [1.0, 1.7])
def test_ve_energy_gradient_is_minus_g2_times_score(x64, t, sigma):
  """−∇u_DM == σ² ∇ log p_t == −(f − g²s) with f = 0 (seed 002 Eqs. 8, 11, 12, 16)."""
  patterns = _patterns(binary=False)
  sde = am.VESDE(sigma)
  xs = jnp.stack([_state(seed) for seed in range(3)])
  testing.assert_score_matches_log_density(lambda p, x, t: am.score(p, x, t, sde),
                                           lambda p, x, t: am.log_density(p, x, t, sde), patterns, xs, t,
                                           rtol=1e-9, atol=1e-9)
  # −∇u_DM / σ² == ∇log p_t, and −∇u_DM == the reverse-SDE drift −(f − g²s) with f = 0
  testing.assert_score_matches_log_density(lambda p, x, t: sigma**2 * am.score(p, x, t, sde),
                                           lambda p, x, t: -am.ve_energy(p, x, t, sigma), patterns, xs, t,
                                           rtol=1e-9, atol=1e-9)
  testing.assert_score_matches_log_density(
      lambda p, x, t: -(sde.drift(x, t) - sde.diffusion(t) ** 2 * am.score(p, x, t, sde)),
      lambda p, x, t: -am.ve_energy(p, x, t, sigma), patterns, xs, t, rtol=1e-9, atol=1e-9)
  for x in xs:
    np.testing.assert_allclose(jax.grad(am.diffusion_energy, argnums=1)(patterns, x, t, sde),
                               jax.grad(am.ve_energy, argnums=1)(patterns, x, t, sigma), rtol=1e-12, atol=1e-12)


def test_ve_energy_is_eq12_without_the_gaussian_normalisation(x64):
  """u_DM(x) = −σ² log p_t(x) − (dσ²/2) log(2πσ²t): Eq. 12 drops (2πσ²t)^{−d/2} (Eq. 11's c)."""
  patterns, sigma, t = _patterns(binary=False), 1.3, 0.7
  sde = am.VESDE(sigma)
  shift = -0.5 * D * sigma**2 * np.log(2 * np.pi * sigma**2 * t)
  for s in range(4):
    x = _state(s)
    np.testing.assert_allclose(am.ve_energy(patterns, x, t, sigma),
                               -sigma**2 * am.log_density(patterns, x, t, sde) + shift, rtol=1e-10)
    np.testing.assert_allclose(am.diffusion_energy(patterns, x, t, sde),
                               am.ve_energy(patterns, x, t, sigma), rtol=1e-12)


# ---------------------------------------------------------------- classical Hopfield

def test_hebbian_weights(x64):
  patterns = _patterns()
  w = am.hebbian_weights(patterns)
  p = np.asarray(patterns)
  expected = p.T @ p
  np.fill_diagonal(expected, 0.0)
  np.testing.assert_allclose(w, expected)
  np.testing.assert_allclose(w, w.T)
  np.testing.assert_allclose(am.hebbian_weights(patterns, zero_diagonal=False), p.T @ p)


def _random_symmetric(seed, d=D):
  a = np.random.default_rng(seed).standard_normal((d, d))
  w = a + a.T
  np.fill_diagonal(w, 0.0)
  return jnp.asarray(w)


@pytest.mark.parametrize("weights_kind", ["hebbian", "random"])
def test_classical_sign_of_wx_is_sign_of_minus_gradient(x64, weights_kind):
  """sign(Wx) == sign(−∇u_H(x)) with u_H = −½ xᵀWx (seed 002 Eqs. 1–2, sign corrected)."""
  w = am.hebbian_weights(_patterns()) if weights_kind == "hebbian" else _random_symmetric(3)
  xs = jnp.stack([_state(seed) for seed in range(4)])
  testing.assert_score_matches_log_density(lambda w, x, t: w @ x, lambda w, x, t: -am.classical_energy(w, x),
                                           w, xs, 1.0, rtol=1e-12, atol=1e-12)   # −∇u_H = Wx
  for x in xs:
    grad = jax.grad(am.classical_energy, argnums=1)(w, x)
    np.testing.assert_array_equal(am.classical_step(w, x, "sync"), np.where(-grad >= 0, 1.0, -1.0))


def test_classical_energy_closed_form(x64):
  w, x = _random_symmetric(4), _state(5)
  np.testing.assert_allclose(am.classical_energy(w, x), -0.5 * np.asarray(x) @ np.asarray(w) @ np.asarray(x),
                             rtol=1e-12)


@pytest.mark.parametrize("weights_kind", ["hebbian", "random"])
def test_classical_async_never_increases_energy(x64, weights_kind):
  """Every asynchronous sweep, and every single-unit update inside it, descends u_H."""
  d = 12
  w = (am.hebbian_weights(_patterns(n=3, d=d)) if weights_kind == "hebbian"
       else _random_symmetric(6, d=d))

  @jax.jit
  def sweep_unit_by_unit(x, order):
    def body(y, i):   # an order of length one updates exactly one unit
      y_new = am.classical_step(w, y, "async", order=i[None])
      return y_new, (am.classical_energy(w, y_new), jnp.sum(y_new != y))
    y, (energies, changed) = jax.lax.scan(body, x, order)
    swept = am.classical_step(w, x, "async", order=order)
    return y, swept, energies, changed

  rng = np.random.default_rng(7)
  for _ in range(4):
    x = jnp.asarray(rng.choice([-1.0, 1.0], size=d))
    for _ in range(3):
      order = jnp.asarray(rng.permutation(d))
      e0 = am.classical_energy(w, x)
      y, swept, energies, changed = sweep_unit_by_unit(x, order)
      energies = np.concatenate([[e0], np.asarray(energies)])
      assert np.all(np.diff(energies) <= 1e-12), energies
      assert np.all(np.asarray(changed) <= 1)
      np.testing.assert_array_equal(swept, y)
      x = swept


# ---------------------------------------------------------------- dense (binary) memories

def _set_unit(x, i, value):
  return x.at[i].set(value)


@pytest.mark.parametrize("kind,degree", [("poly", 2), ("poly", 3), ("poly", 4),
                                         ("rectified_poly", 2), ("rectified_poly", 3)])
def test_dense_flip_gains_equal_energy_differences(x64, kind, degree):
  """gains_i == u_F(x, x_i=+1) − u_F(x, x_i=−1), computed directly from `dense_energy`."""
  patterns = _patterns(n=6, d=D)
  for seed in range(4):
    x = _pm1_state(seed)
    gains = am.dense_flip_gains(patterns, x, kind, degree)
    direct = [am.dense_energy(patterns, _set_unit(x, i, 1.0), kind, degree)
              - am.dense_energy(patterns, _set_unit(x, i, -1.0), kind, degree) for i in range(D)]
    np.testing.assert_allclose(gains, direct, rtol=1e-10, atol=1e-9)


def test_dense_flip_gains_exp_are_log_space_energy_differences(x64):
  """For F = exp, gains_i == h(u_F(x_i=+1)) − h(u_F(x_i=−1)) with h(u) = −log(−u).

  Seed 002 Eq. 4: a monotone h does not move the minima, so the sign of the gain
  equals the sign of the plain energy difference.
  """
  patterns = _patterns(n=6, d=D)
  for seed in range(4):
    x = _pm1_state(seed)
    gains = am.dense_flip_gains(patterns, x, "exp")
    e_plus = np.array([am.dense_energy(patterns, _set_unit(x, i, 1.0), "exp") for i in range(D)])
    e_minus = np.array([am.dense_energy(patterns, _set_unit(x, i, -1.0), "exp") for i in range(D)])
    np.testing.assert_allclose(gains, np.log(-e_minus) - np.log(-e_plus), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(np.sign(gains), np.sign(e_plus - e_minus))


@pytest.mark.parametrize("kind", DENSE_KINDS)
def test_dense_sync_step_takes_lower_energy_sign(x64, kind):
  patterns = _patterns(n=6, d=D)
  x = _pm1_state(3)
  gains = am.dense_flip_gains(patterns, x, kind, 3)
  np.testing.assert_array_equal(am.dense_step(patterns, x, kind, 3, "sync"),
                                np.where(np.asarray(gains) <= 0, 1.0, -1.0))


@pytest.mark.parametrize("kind", DENSE_KINDS)
def test_dense_async_never_increases_energy(x64, kind):
  """Each asynchronous dense sweep, and each unit update within it, descends u_F."""
  d = 10
  patterns = _patterns(seed=11, n=8, d=d)

  @jax.jit
  def sweep_unit_by_unit(x, order):
    def body(y, i):
      y_new = am.dense_step(patterns, y, kind, 3, "async", order=i[None])
      return y_new, am.dense_energy(patterns, y_new, kind, 3)
    y, energies = jax.lax.scan(body, x, order)
    return y, am.dense_step(patterns, x, kind, 3, "async", order=order), energies

  rng = np.random.default_rng(12)
  for _ in range(4):
    x = jnp.asarray(rng.choice([-1.0, 1.0], size=d))
    for _ in range(3):
      order = jnp.asarray(rng.permutation(d))
      e0 = am.dense_energy(patterns, x, kind, 3)
      y, swept, energies = sweep_unit_by_unit(x, order)
      energies = np.concatenate([[e0], np.asarray(energies)])
      assert np.all(np.diff(energies) <= 1e-9 * np.abs(energies[:-1]).max()), energies
      np.testing.assert_array_equal(swept, y)
      x = swept


@pytest.mark.parametrize("kind", DENSE_KINDS)
def test_dense_energy_closed_form(x64, kind):
  patterns, x = _patterns(n=4), _state(9, scale=0.4)
  z = np.asarray(patterns) @ np.asarray(x)
  f = {"poly": z**3, "rectified_poly": np.maximum(z, 0.0) ** 3, "exp": np.exp(z)}[kind]
  np.testing.assert_allclose(am.dense_energy(patterns, x, kind, 3), -np.sum(f), rtol=1e-12)


# ---------------------------------------------------------------- jit == no jit

class EnergiesJitTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_energies_jit_matches_eager(self):
    patterns = _patterns().astype(jnp.float32)
    x = _state().astype(jnp.float32)
    w = am.hebbian_weights(patterns)

    def all_energies(x):
      return {
          "mhn": am.mhn_energy(patterns, x, 5.0),
          "vp": am.vp_energy(patterns, x, 0.3, 0.8),
          "ve": am.ve_energy(patterns, x, 0.3, 1.2),
          "classical": am.classical_energy(w, x),
          **{k: am.dense_energy(patterns, x / 3.0, k, 3) for k in DENSE_KINDS},
      }

    testing.assert_trees_allclose(self.variant(all_energies)(x), all_energies(x), rtol=1e-5)
    grads = self.variant(jax.grad(lambda x: am.mhn_energy(patterns, x, 5.0)))(x)
    testing.assert_trees_allclose(grads, jax.grad(lambda x: am.mhn_energy(patterns, x, 5.0))(x), rtol=1e-5)


def test_energies_vmap_over_leading_batch_shape():
  """A (3, 4, d) batch via nested vmap equals a Python loop."""
  patterns = _patterns().astype(jnp.float32)
  xs = jnp.asarray(np.random.default_rng(0).standard_normal((3, 4, D)), jnp.float32)
  f = lambda x: am.mhn_energy(patterns, x, 3.0) + am.vp_energy(patterns, x, 0.5)
  batched = jax.vmap(jax.vmap(f))(xs)
  loop = jnp.array([[f(xs[i, j]) for j in range(4)] for i in range(3)])
  testing.assert_trees_allclose(batched, loop, rtol=1e-5, atol=1e-5)   # shape (3, 4) and dtype too
