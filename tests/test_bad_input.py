"""Bad input that used to pass silently now raises ValueError naming the argument (issue 6, item 10).

Values (NaN, overflow) are checked where concrete; shapes everywhere, inside jit too.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am

D = 5
P = jnp.asarray(np.random.default_rng(0).choice([-1.0, 1.0], size=(3, D)), jnp.float32)
W = am.hebbian_weights(P)
X = jnp.linspace(-1.0, 1.0, D, dtype=jnp.float32)
NAN_X = X.at[1].set(jnp.nan)
INF_X = X.at[2].set(-jnp.inf)


# ---------------------------------------------------------------- metrics: non-finite values

@pytest.mark.parametrize("bad, name", [((NAN_X, X), "x"), ((X, NAN_X), "y"), ((INF_X, X), "x")],
                         ids=["nan x", "nan y", "inf x"])
def test_hamming_error_rejects_non_finite(bad, name):
  """A NaN has no sign: it used to count as −1 (error 0.5 against random patterns)."""
  with pytest.raises(ValueError, match=rf"^{name} must hold finite numbers"):
    am.hamming_error(*bad)


def test_hamming_error_of_nan_is_nan_under_jit():
  """No value exists to check inside a trace; the NaN propagates instead of a plausible error."""
  batch = jnp.stack([X, NAN_X])
  out = jax.jit(jax.vmap(am.hamming_error))(batch, jnp.stack([X, X]))
  assert float(out[0]) == 0.0 and bool(jnp.isnan(out[1]))


@pytest.mark.parametrize("bad, name", [((NAN_X, X), "a"), ((X, INF_X), "b")], ids=["nan a", "inf b"])
def test_pearson_rejects_non_finite(bad, name):
  with pytest.raises(ValueError, match=rf"^{name} must hold finite numbers"):
    am.pearson(*bad)


# ---------------------------------------------------------------- classical_step: weight shapes

@pytest.mark.parametrize("weights", [W[0], W[:, :-1], W[None], jnp.ones(())],
                         ids=["1-d", "not square", "3-d", "scalar"])
def test_classical_step_rejects_non_square_weights(weights):
  """1-d weights used to give a scalar "state" (W @ x is a dot product)."""
  for mode in ("sync", "async"):
    with pytest.raises(ValueError, match=r"^weights must be a square \(5, 5\)"):
      am.classical_step(weights, X, mode)
  with pytest.raises(ValueError, match=r"^weights "):   # a static check: inside jit as well
    jax.jit(lambda x: am.classical_step(weights, x))(X)


def test_classical_step_rejects_mismatched_state_and_order():
  with pytest.raises(ValueError, match=r"^x must have shape \(5,\)"):
    am.classical_step(W, jnp.ones(D + 1))
  with pytest.raises(ValueError, match=r"^order "):
    am.classical_step(W, X, "async", order=jnp.zeros((2, 2), jnp.int32))


def test_dense_step_rejects_one_dimensional_patterns():
  with pytest.raises(ValueError, match=r"^patterns must have shape \(n_patterns, dim\)"):
    am.dense_step(P[0], X)
  with pytest.raises(ValueError, match=r"^patterns "):
    am.dense_flip_gains(P[0], X, "poly")


# ---------------------------------------------------------------- dense_energy: overflow

def _big_problem(d=100, n=4, dtype=jnp.float32):
  patterns = jnp.asarray(np.random.default_rng(1).choice([-1.0, 1.0], size=(n, d)), dtype)
  return patterns[0], patterns   # x = a stored pattern: x·y_0 = d


def test_dense_energy_large_degree_raises_instead_of_minus_inf():
  """degree 50 at xᵀy = 100 in float32 used to return −inf (odd degrees: NaN)."""
  x, patterns = _big_problem()
  for degree in (50, 51):
    for kind in ("poly", "rectified_poly"):
      with pytest.raises(ValueError, match=rf"^degree {degree} is too large for float32.*overflows"):
        am.dense_energy(patterns, x, kind, degree)
  with pytest.raises(ValueError, match=r"degree <= 18 fits"):   # 100^18 · 4 < 3.4e38 < 100^19 · 4
    am.dense_energy(patterns, x, "poly", 50)
  assert bool(jnp.isfinite(am.dense_energy(patterns, x, "poly", 18)))


def test_dense_energy_exp_overflow_raises():
  x, patterns = _big_problem()
  with pytest.raises(ValueError, match=r"^kind 'exp': dense_energy overflows float32"):
    am.dense_energy(patterns, x, "exp")
  assert bool(jnp.isfinite(am.dense_energy(patterns, x * 0.5, "exp")))   # max xᵀy = 50


def test_dense_energy_large_degree_is_exact_where_it_fits(x64):
  """The same energy is representable in float64: no error, and the printed value."""
  x, patterns = _big_problem(dtype=jnp.float64)
  z = np.asarray(patterns) @ np.asarray(x)
  np.testing.assert_allclose(am.dense_energy(patterns, x, "poly", 50), -np.sum(z**50), rtol=1e-12)


def test_dense_flip_gains_large_degree_keep_their_sign():
  """The flip rule never needs the energy: gains stay finite with the exact sign for any degree."""
  x, patterns = _big_problem()
  cue = x.at[:7].multiply(-1.0)
  for kind in ("poly", "rectified_poly"):
    gains = am.dense_flip_gains(patterns, cue, kind, 50)
    assert bool(jnp.all(jnp.isfinite(gains)))
    # exact signs from integer arithmetic (Python ints do not overflow).
    p, c = np.asarray(patterns, np.int64), np.asarray(cue, np.int64)
    f = (lambda z: z**50) if kind == "poly" else (lambda z: max(z, 0) ** 50)
    exact = []
    for i in range(c.size):
      cp, cm = c.copy(), c.copy()
      cp[i], cm[i] = 1, -1
      exact.append(-sum(f(int(v)) for v in p @ cp) + sum(f(int(v)) for v in p @ cm))
    np.testing.assert_array_equal(np.sign(np.asarray(gains)), np.sign(np.array(exact, float)))
    # the stored pattern is retrieved (it used to collapse to all −1 through NaN gains).
    np.testing.assert_array_equal(am.dense_step(patterns, cue, kind, 50, "sync"), x)
    np.testing.assert_array_equal(am.dense_retrieve(patterns, cue, kind, 50, n_steps=2), x)
