"""Metrics (binarize, Hamming, Pearson) and pattern / cue generators."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am


# ---------------------------------------------------------------- metrics

def test_binarize_maps_zero_to_plus_one():
  out = am.binarize(jnp.array([-3.0, -1e-30, -0.0, 0.0, 1e-30, 2.0]))
  np.testing.assert_array_equal(out, [-1, -1, 1, 1, 1, 1])
  assert jnp.issubdtype(out.dtype, jnp.floating)
  np.testing.assert_array_equal(am.binarize(jnp.array([0, -2, 5])), [1, -1, 1])   # integers too


def test_hamming_error_known_pairs():
  a = jnp.array([1.0, 1.0, 1.0, 1.0])
  assert float(am.hamming_error(a, a)) == 0.0
  assert float(am.hamming_error(a, -a)) == 1.0
  assert float(am.hamming_error(a, jnp.array([1.0, -1.0, 1.0, -1.0]))) == 0.5
  assert float(am.hamming_error(a, jnp.array([1.0, 1.0, 1.0, -1.0]))) == 0.25
  # inputs are binarised first: magnitudes and 0 (-> +1) do not count.
  assert float(am.hamming_error(jnp.array([0.1, -5.0, 0.0]), jnp.array([3.0, -0.2, 1.0]))) == 0.0
  assert float(am.hamming_error(jnp.array([0.0]), jnp.array([-1e-9]))) == 1.0


def test_hamming_error_batches_over_leading_axes():
  rng = np.random.default_rng(0)
  x, y = rng.choice([-1.0, 1.0], (3, 4, 10)), rng.choice([-1.0, 1.0], (3, 4, 10))
  out = am.hamming_error(jnp.asarray(x), jnp.asarray(y))
  assert out.shape == (3, 4)
  np.testing.assert_allclose(out, (x != y).mean(-1), rtol=1e-6)


def test_pearson_equals_numpy_corrcoef():
  rng = np.random.default_rng(1)
  for shape in [(10,), (7, 3)]:
    a = rng.standard_normal(shape)
    b = 0.6 * a + rng.standard_normal(shape)
    expected = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    np.testing.assert_allclose(am.pearson(jnp.asarray(a), jnp.asarray(b)), expected, rtol=1e-5)
    np.testing.assert_allclose(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1], expected, rtol=1e-12)
  a = rng.standard_normal(20)
  np.testing.assert_allclose(am.pearson(a, 3.0 * a + 2.0), 1.0, rtol=1e-5)
  np.testing.assert_allclose(am.pearson(a, -a), -1.0, rtol=1e-5)
  # binary outputs, as in Table 1
  x, y = rng.choice([-1.0, 1.0], 50), rng.choice([-1.0, 1.0], 50)
  np.testing.assert_allclose(am.pearson(x, y), np.corrcoef(x, y)[0, 1], rtol=1e-5)


def test_pearson_of_constant_raises():
  with pytest.raises(ValueError, match="constant"):
    am.pearson(jnp.ones(5), jnp.arange(5.0))
  with pytest.raises(ValueError, match="constant"):
    am.pearson(jnp.arange(5.0), -jnp.ones(5))
  with pytest.raises(ValueError, match="a and b"):
    am.pearson(jnp.ones(5), jnp.ones(4))


def test_pearson_under_jit_returns_nan_for_constant():
  """Values are checked only when concrete: inside jit the undefined case is NaN, not an error."""
  out = jax.jit(am.pearson)(jnp.ones(5), jnp.arange(5.0))
  assert bool(jnp.isnan(out))


# ---------------------------------------------------------------- patterns and cues

def test_random_binary_patterns_are_balanced_signs():
  n, d = 50, 200
  p = am.random_binary_patterns(jax.random.PRNGKey(0), n, d)
  assert p.shape == (n, d) and p.dtype == jnp.float32
  assert set(np.unique(np.asarray(p)).tolist()) == {-1.0, 1.0}
  frac = float(jnp.mean(p > 0))
  assert abs(frac - 0.5) < 5 * np.sqrt(0.25 / (n * d))
  # independent units: overlaps between distinct patterns are O(sqrt(d)), not O(d)
  overlaps = np.asarray(p @ p.T)[~np.eye(n, dtype=bool)]
  assert np.abs(overlaps).max() < 5 * np.sqrt(d)
  assert not np.array_equal(p, am.random_binary_patterns(jax.random.PRNGKey(1), n, d))
  assert am.random_binary_patterns(jax.random.PRNGKey(0), 2, 3, jnp.float16).dtype == jnp.float16


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_completion_cue_zeros_about_p_of_units(p):
  d = 4000
  y = am.random_binary_patterns(jax.random.PRNGKey(0), 1, d)[0]
  cue = am.completion_cue(jax.random.PRNGKey(1), y, p)
  zeroed = int(jnp.sum(cue == 0))
  assert abs(zeroed - p * d) < 5 * np.sqrt(d * p * (1 - p)), zeroed   # binomial bounds
  kept = np.asarray(cue) != 0
  np.testing.assert_array_equal(np.asarray(cue)[kept], np.asarray(y)[kept])
  assert cue.dtype == y.dtype


def test_completion_cue_edge_probabilities():
  y = jnp.array([1.0, -1.0, 1.0, 1.0])
  np.testing.assert_array_equal(am.completion_cue(jax.random.PRNGKey(0), y, 0.0), y)
  np.testing.assert_array_equal(am.completion_cue(jax.random.PRNGKey(0), y, 1.0), jnp.zeros(4))


def test_denoising_cue_mean_and_variance():
  """ỹ = θy + sqrt(1 − θ²) ε: per-unit mean θy and variance 1 − θ² (seed 002, §7)."""
  theta, n, d = 0.68, 3000, 6
  y = jnp.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
  cues = jax.vmap(lambda k: am.denoising_cue(k, y, theta))(jax.random.split(jax.random.PRNGKey(2), n))
  var = 1 - theta**2
  np.testing.assert_allclose(cues.mean(0), theta * y, atol=5 * np.sqrt(var / n))
  assert abs(float(cues.var(0).mean()) - var) < 5 * var * np.sqrt(2 / (n * d))
  # unit norm on average: E‖ỹ‖²/d = θ² + 1 − θ² = 1 for ±1 patterns
  assert abs(float(jnp.mean(cues**2)) - 1.0) < 0.03


def test_uniform_noise_range_and_moments():
  u = am.uniform_noise(jax.random.PRNGKey(3), (4000,))
  assert float(u.min()) >= -1.0 and float(u.max()) < 1.0
  assert abs(float(u.mean())) < 5 * np.sqrt(1 / 3 / 4000)
  assert abs(float(u.var()) - 1 / 3) < 0.02
