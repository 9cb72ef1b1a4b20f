"""Hopfield dynamics: fixed points, retrieval, trajectories, jit == eager, batching."""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import hadamard

import assocmem as am
from assocmem import testing
from assocmem.energies import DENSE_KINDS


_patterns = testing.binary_patterns   # (seed, n, d) -> (n, d) ±1 in float32
_flip = testing.flip_bits             # (y, n_flips, seed) -> y with n_flips units negated


def test_sign_maps_zero_to_plus_one():
  np.testing.assert_array_equal(am.hopfield.sign(jnp.array([-2.0, -0.0, 0.0, 1e-30, 3.0])),
                                [-1.0, 1.0, 1.0, 1.0, 1.0])


# ---------------------------------------------------------------- modern Hopfield: fixed points

@pytest.mark.parametrize("beta", [20.0, 100.0, 1e4])
def test_mhn_stored_patterns_are_fixed_points_float32(beta):
  """At large β each stored pattern is a fixed point of the update, in float32, without NaN."""
  patterns = _patterns(0, 6, 32)
  assert patterns.dtype == jnp.float32
  update = lambda p, ys: jax.vmap(lambda y: am.mhn_update(p, y, beta))(ys)  # noqa: E731
  testing.assert_fixed_points(update, patterns, patterns, atol=1e-5)   # (a NaN is no fixed point)
  memory = am.ModernHopfield(beta=beta, n_steps=20)
  testing.assert_fixed_points(memory, memory.store(None, patterns), patterns, atol=1e-5)


def test_mhn_beta_1e4_no_nan_from_cue_and_energy_finite():
  """β = 1e4 in float32: logits ~1e5, still no overflow in update, energy or its gradient."""
  patterns = _patterns(1, 5, 24)
  cue = am.denoising_cue(jax.random.PRNGKey(3), patterns[2], 0.8)
  out = am.mhn_retrieve(patterns, cue, 1e4, n_steps=5)
  assert bool(jnp.all(jnp.isfinite(out)))
  nearest = int(jnp.argmax(patterns @ cue))
  np.testing.assert_allclose(out, patterns[nearest], atol=1e-5)
  e = am.mhn_energy(patterns, cue, 1e4)
  g = jax.grad(am.mhn_energy, argnums=1)(patterns, cue, 1e4)
  assert bool(jnp.isfinite(e)) and bool(jnp.all(jnp.isfinite(g)))


def test_mhn_low_beta_converges_to_the_mean():
  """β → 0 limit: softmax is uniform, so one update gives the mean pattern (sanity of the softmax)."""
  patterns = _patterns(2, 4, 8)
  np.testing.assert_allclose(am.mhn_update(patterns, jnp.ones(8), 1e-8), patterns.mean(0), atol=1e-5)


def test_mhn_retrieves_corrupted_pattern():
  patterns = _patterns(3, 4, 32)
  keys = jax.random.split(jax.random.PRNGKey(0), 4)
  cues = jax.vmap(lambda k, y: am.denoising_cue(k, y, 0.8))(keys, patterns)
  out = jax.vmap(lambda c: am.mhn_retrieve(patterns, c, beta=5.0, n_steps=50))(cues)
  np.testing.assert_array_equal(am.binarize(out), patterns)


def test_mhn_trajectory_and_tolerance():
  patterns = _patterns(4, 4, 16)
  x = am.denoising_cue(jax.random.PRNGKey(0), patterns[0], 0.7)
  final, traj = am.mhn_retrieve(patterns, x, 2.0, n_steps=7, return_trajectory=True)
  assert traj.shape == (8, 16)
  np.testing.assert_array_equal(traj[0], x)
  np.testing.assert_array_equal(traj[-1], final)
  np.testing.assert_allclose(traj[1], am.mhn_update(patterns, x, 2.0), rtol=1e-6, atol=1e-6)
  # the while-loop version with a tolerance stops at the same fixed point as a long scan.
  long = am.mhn_retrieve(patterns, x, 2.0, n_steps=300)
  tol = am.mhn_retrieve(patterns, x, 2.0, n_steps=300, tol=1e-6)
  np.testing.assert_allclose(tol, long, atol=1e-5)
  one = am.mhn_retrieve(patterns, x, 2.0, n_steps=1, tol=1e-12)   # max_steps is honoured
  np.testing.assert_allclose(one, traj[1], rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- classical Hopfield

@pytest.mark.parametrize("mode", ["sync", "async"])
def test_classical_orthogonal_patterns_are_fixed_points(mode):
  """Orthogonal patterns (Hadamard rows): W y_m = (d − N) y_m, so sign(W y_m) = y_m."""
  patterns = jnp.asarray(hadamard(16)[1:4], jnp.float32)
  w = am.hebbian_weights(patterns)
  np.testing.assert_allclose(jax.vmap(lambda y: w @ y)(patterns), (16 - 3) * patterns)
  testing.assert_fixed_points(lambda w, ys: jax.vmap(lambda y: am.classical_step(w, y, mode))(ys), w, patterns,
                              atol=0)
  memory = am.ClassicalHopfield(n_steps=3, schedule=mode)
  testing.assert_fixed_points(memory, memory.store(None, patterns), patterns, key=jax.random.PRNGKey(0), atol=0)


def test_classical_random_few_patterns_fixed_and_retrieved():
  """Few random patterns in d = 128 (load 0.023): fixed points, and 10 flipped bits are repaired."""
  patterns = _patterns(5, 3, 128)
  w = am.hebbian_weights(patterns)
  testing.assert_fixed_points(lambda w, ys: jax.vmap(lambda y: am.classical_step(w, y, "sync"))(ys), w, patterns,
                              atol=0)
  cues = jnp.stack([_flip(y, 10, seed=n) for n, y in enumerate(patterns)])
  keys = jax.random.split(jax.random.PRNGKey(1), 3)
  sync = jax.vmap(lambda c: am.classical_retrieve(w, c, 5, "sync"))(cues)
  asyn = jax.vmap(lambda c, k: am.classical_retrieve(w, c, 5, "async", key=k))(cues, keys)
  np.testing.assert_array_equal(sync, patterns)
  np.testing.assert_array_equal(asyn, patterns)


def test_classical_trajectory_and_async_order():
  patterns = _patterns(6, 2, 12)
  w = am.hebbian_weights(patterns)
  x = _flip(patterns[0], 3)
  final, traj = am.classical_retrieve(w, x, 4, "sync", return_trajectory=True)
  assert traj.shape == (5, 12)
  np.testing.assert_array_equal(traj[0], x)
  np.testing.assert_array_equal(traj[-1], final)
  np.testing.assert_array_equal(traj[1], am.classical_step(w, x, "sync"))
  # async in a given order == unit-by-unit updates in that order.
  order = jnp.asarray(np.random.default_rng(0).permutation(12))
  y = x
  for i in np.asarray(order):
    y = y.at[i].set(1.0 if float(w[i] @ y) >= 0 else -1.0)
  np.testing.assert_array_equal(am.classical_step(w, x, "async", order), y)


# ---------------------------------------------------------------- dense memories

@pytest.mark.parametrize("kind", DENSE_KINDS)
def test_dense_stored_patterns_are_fixed_points(kind):
  """More patterns than a classical net holds in d = 16 (~2): dense memories keep them all."""
  patterns = _patterns(7, 12 if kind == "exp" else 6, 16)
  for mode in ("sync", "async"):
    step = lambda p, ys: jax.vmap(lambda y: am.dense_step(p, y, kind, 3, mode))(ys)  # noqa: E731
    testing.assert_fixed_points(step, patterns, patterns, atol=0)


@pytest.mark.parametrize("kind", DENSE_KINDS)
def test_dense_retrieve_repairs_flipped_bits(kind):
  patterns = _patterns(8, 6, 24)
  # continuous cues: dense_retrieve starts from sign(x)
  cues = jnp.stack([_flip(patterns[n], 3, seed=n) * 0.5 for n in range(6)])
  keys = jax.random.split(jax.random.PRNGKey(0), 6)
  out = jax.vmap(lambda c, k: am.dense_retrieve(patterns, c, kind, 3, n_steps=3, schedule="async", key=k))(
      cues, keys)
  np.testing.assert_array_equal(out, patterns)


# ---------------------------------------------------------------- jit == no jit; batching

class HopfieldJitTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_mhn_retrieve(self):
    patterns = _patterns(9, 5, 16)
    x = am.denoising_cue(jax.random.PRNGKey(1), patterns[0], 0.6)
    f = self.variant(functools.partial(am.mhn_retrieve, n_steps=20))
    testing.assert_trees_allclose(f(patterns, x, 5.0), am.mhn_retrieve(patterns, x, 5.0, 20), atol=1e-5)
    g = self.variant(functools.partial(am.mhn_retrieve, n_steps=50, tol=1e-6))
    testing.assert_trees_allclose(g(patterns, x, 5.0), am.mhn_retrieve(patterns, x, 5.0, 50, 1e-6), atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_classical_and_dense_retrieve(self):
    patterns = _patterns(10, 3, 16)
    w = am.hebbian_weights(patterns)
    x = _flip(patterns[1], 4)
    k = jax.random.PRNGKey(2)
    c = self.variant(functools.partial(am.classical_retrieve, n_steps=3, schedule="async"))
    testing.assert_trees_allclose(c(w, x, key=k), am.classical_retrieve(w, x, 3, "async", k), rtol=0, atol=0)
    dr = self.variant(functools.partial(am.dense_retrieve, kind="exp", n_steps=2, schedule="async"))
    testing.assert_trees_allclose(dr(patterns, x, key=k),
                                  am.dense_retrieve(patterns, x, "exp", 3, 2, "async", k), rtol=0, atol=0)


def test_mhn_retrieve_nested_vmap_equals_loop():
  patterns = _patterns(11, 4, 8)
  xs = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (3, 4, 8)), jnp.float32)
  f = jax.jit(lambda x: am.mhn_retrieve(patterns, x, 3.0, n_steps=5))
  batched = jax.vmap(jax.vmap(f))(xs)
  loop = jnp.stack([jnp.stack([f(xs[i, j]) for j in range(4)]) for i in range(3)])
  testing.assert_trees_allclose(batched, loop, rtol=1e-5, atol=1e-6)   # shape (3, 4, 8) and dtype too


def test_dense_and_classical_nested_vmap_equal_loop():
  patterns = _patterns(12, 4, 8)
  w = am.hebbian_weights(patterns)
  xs = jnp.asarray(np.random.default_rng(1).choice([-1.0, 1.0], (3, 4, 8)), jnp.float32)
  fd = jax.jit(lambda x: am.dense_retrieve(patterns, x, "poly", 3, n_steps=2, schedule="async"))
  fc = jax.jit(lambda x: am.classical_retrieve(w, x, 2, "sync"))
  for f in (fd, fc):
    batched = jax.vmap(jax.vmap(f))(xs)
    loop = jnp.stack([jnp.stack([f(xs[i, j]) for j in range(4)]) for i in range(3)])
    testing.assert_trees_allclose(batched, loop, rtol=0, atol=0)
