"""Tests of assocmem.extended: extended (Eq. 23) and semantic (Eq. 24) memories of seed 002."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import extended, quadrature, samplers, scores, semantic, special, testing
from assocmem.sde import VESDE, VPSDE

SDE = VPSDE(gamma=0.8)


# Every test runs in float64 (conftest's `x64` fixture restores the setting after).
pytestmark = pytest.mark.usefixtures("x64")


def _jv(fn):
  """jit of vmap over the first axis (op-by-op vmap dispatch is slow on CPU)."""
  return jax.jit(jax.vmap(fn))


def _segments():
  a = jnp.array([[0.0, 0.0, 0.0], [1.0, 2.0, -1.0], [-1.0, 0.5, 1.5]])
  b = jnp.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.5], [-1.2, 0.5, 0.2]])
  return a, b


def _boxes():
  """Two rectangles (k = 2) in R^3 with orthogonal but not axis-aligned edges."""
  q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
  origins = jnp.array([[0.2, -0.3, 0.1], [-1.0, 1.0, 0.5]])
  edges = jnp.array([[1.2 * q[0], 0.7 * q[1]], [0.5 * q[2], 1.5 * q[0]]])
  return origins, edges


def _point_cloud(origins, edges, n_per_edge):
  """Midpoint-rule sample of each box: [N * n^k, d] points, equal weights."""
  k = edges.shape[1]
  s1 = (np.arange(n_per_edge) + 0.5) / n_per_edge
  grid = np.stack(np.meshgrid(*([s1] * k), indexing="ij"), axis=-1).reshape(-1, k)
  pts = origins[:, None, :] + jnp.einsum("mk,nkd->nmd", jnp.asarray(grid), edges)
  pts = pts.reshape(-1, origins.shape[1])
  return pts, jnp.full(pts.shape[0], -jnp.log(pts.shape[0]))


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _evaluate(log_density, score, with_grad, xs, ts, *memories):
  """(log p, closed-form score[, autograd score]) on states xs [B, d] × times ts [T].

  The memories are traced arguments, so one compilation serves every test that
  uses the same functions and shapes. Returns arrays [T, B] and [T, B, d].
  """
  def one(x, t):
    out = (log_density(*memories, x, t, SDE), score(*memories, x, t, SDE))
    grad = jax.grad(log_density, argnums=len(memories))
    return out + (grad(*memories, x, t, SDE),) if with_grad else out

  return jax.vmap(jax.vmap(one, in_axes=(0, None)), in_axes=(None, 0))(xs, ts)


# NumPy float64 constants (module-level jnp arrays would be created before x64 is on).
ON_SEGMENT = np.array([0.5, 0.5, 0.0])   # midpoint of the first segment
XS = np.concatenate([np.random.default_rng(1).normal(size=(6, 3)) * 1.5,
                     [ON_SEGMENT, [1e3, -2e3, 5e2]]])
TS = np.array([1e-10, 1e-4, 0.05, 0.6, 3.0, 40.0])


# |closed - auto| <= 1e-8 |auto| + 1e-9 / sqrt(v_t): the score's natural scale, one tolerance per time.
ATOL = 1e-9 / np.sqrt(-np.expm1(-SDE.gamma * TS))


def _assert_score_is_gradient(log_density, score, *memories):
  """`testing.assert_score_matches_log_density` for functions of (*memories, x, t, sde)."""
  testing.assert_score_matches_log_density(lambda m, x, t: score(*m, x, t, SDE),
                                           lambda m, x, t: log_density(*m, x, t, SDE), memories, XS, TS,
                                           rtol=1e-8, atol=ATOL)


# (i) closed-form score == autograd of the log-density; finite everywhere.


def test_segment_score_equals_grad_of_log_density():
  a, b = _segments()
  _assert_score_is_gradient(extended.segment_log_density, extended.segment_score, a, b)
  lp, _, _ = _evaluate(extended.segment_log_density, extended.segment_score, True, XS, TS, a, b)
  assert np.all(np.isfinite(lp))
  # On the segment, as t -> 0, p_t -> the line density (1/N) / (‖b - a‖ (2π v_t)^{(d-1)/2}).
  v = SDE.variance(TS[0])
  expected = -jnp.log(3.0) - jnp.log(jnp.sqrt(2.0)) - jnp.log(2 * jnp.pi * v)
  np.testing.assert_allclose(lp[0, 6], expected, rtol=1e-6)


def test_box_score_equals_grad_of_log_density():
  origins, edges = _boxes()
  _assert_score_is_gradient(extended.box_log_density, extended.box_score, origins, edges)
  lp, _, _ = _evaluate(extended.box_log_density, extended.box_score, True, XS, TS, origins, edges)
  assert np.all(np.isfinite(lp))


def test_float32_is_finite_and_close_to_float64():
  a, b = _segments()
  lp64, s64, _ = _evaluate(extended.segment_log_density, extended.segment_score, True, XS, TS,
                           a, b)
  f32 = lambda v: jnp.asarray(v, jnp.float32)
  lp32, s32 = _evaluate(extended.segment_log_density, extended.segment_score, False,
                        f32(XS), f32(TS), f32(a), f32(b))
  assert lp32.dtype == jnp.float32
  assert np.all(np.isfinite(lp32)) and np.all(np.isfinite(s32))
  np.testing.assert_allclose(lp32, lp64, rtol=1e-4, atol=1e-4)
  # Relative to each score's norm plus its natural scale 1/sqrt(v_t) (the on-segment score is 0).
  # At t = 1e-10 the float32 rounding of x alone (eps |x| / sqrt(v_t) ~ 5e-3) dominates: skipped.
  scale = (np.linalg.norm(s64, axis=-1, keepdims=True)
           + 1.0 / np.sqrt(-np.expm1(-SDE.gamma * TS))[:, None, None])
  err = (np.abs(np.asarray(s32) - np.asarray(s64)) / scale)[1:]
  assert err.max() < 1e-4, err.max()


@pytest.mark.parametrize("dtype, band", [(jnp.float32, (9.19, 9.42)), (jnp.float64, (26.5, 26.7))])
def test_erfcx_has_no_spurious_zeros(dtype, band):
  """Our erfcx has none of the spurious zeros of jax.scipy.special.erfcx (jax-ml/jax#38607)."""
  import scipy.special  # pylint: disable=import-outside-toplevel
  z = np.concatenate([np.linspace(0.0, 40.0, 4001), np.linspace(*band, 101)])
  got = np.asarray(jax.jit(special.erfcx)(jnp.asarray(z, dtype)))  # pylint: disable=protected-access
  rtol = 1e-6 if dtype == jnp.float32 else 1e-13
  np.testing.assert_allclose(got, scipy.special.erfcx(z), rtol=rtol)


# (ii) closed forms == a fine point sampling of the memory sub-spaces.


def _compare_with_point_sampling(log_density, score, origins, edges, memories, n_per_edge, tol):
  """Closed form vs a midpoint-rule cloud of n_per_edge^k points per memory (rel. error tol)."""
  pts, logw = _point_cloud(origins, edges, n_per_edge)
  xs, ts = XS[:6], TS[2:4]  # moderate states; times whose kernel is much wider than the spacing
  ref_lp, ref_s = _evaluate(quadrature.weighted_points_log_density,
                            quadrature.weighted_points_score, False, xs, ts, pts, logw)
  # Same shapes as the autograd tests, so their compilation is reused.
  lp, s, _ = _evaluate(log_density, score, True, XS, TS, *memories)
  lp, s = lp[2:4, :6], s[2:4, :6]
  np.testing.assert_allclose(lp, ref_lp, rtol=tol)
  np.testing.assert_allclose(s, ref_s, rtol=tol, atol=tol * np.abs(ref_s).max())


def test_segment_matches_point_sampling():
  a, b = _segments()
  _compare_with_point_sampling(extended.segment_log_density, extended.segment_score,
                               a, (b - a)[:, None, :], (a, b), 20_000, 1e-8)


def test_box_matches_point_sampling():
  origins, edges = _boxes()
  _compare_with_point_sampling(extended.box_log_density, extended.box_score,
                               origins, edges, (origins, edges), 500, 2e-5)


def test_zero_dimensional_boxes_are_point_memories():
  """k = 0 reduces Eq. 23 to the point-memory density of Eq. 12 (assocmem.scores)."""
  patterns = jnp.asarray(np.random.default_rng(2).choice([-1.0, 1.0], size=(4, 5)))
  edges = jnp.zeros((4, 0, 5))
  x = jnp.asarray(np.random.default_rng(3).normal(size=5))
  t, sdes = 0.4, (SDE, VESDE(sigma=1.0))
  got = jax.jit(lambda x: [(extended.box_log_density(patterns, edges, x, t, sde),
                            extended.box_score(patterns, edges, x, t, sde)) for sde in sdes])(x)
  ref = jax.jit(lambda x: [(scores.log_density(patterns, x, t, sde),
                            scores.score(patterns, x, t, sde)) for sde in sdes])(x)
  for (lp, sc), (lp_ref, sc_ref) in zip(got, ref):
    np.testing.assert_allclose(lp, lp_ref, rtol=1e-12)
    np.testing.assert_allclose(sc, sc_ref, rtol=1e-10, atol=1e-12)


def test_ode_sampler_lands_on_the_segments():
  a, b = _segments()
  u = b - a
  score_fn, state = extended.segment_score_fn(SDE), extended.segment_state(a, b)
  xs = jax.random.normal(jax.random.PRNGKey(0), (8, 3))
  finals = _jv(lambda x: samplers.ode_sample(score_fn, state, SDE, x, 3.0, n_steps=2000))(xs)

  def nearest(x):
    s = jnp.clip(jnp.sum((x - a) * u, -1) / jnp.sum(u * u, -1), 0.0, 1.0)
    dist = jnp.linalg.norm(x - (a + s[:, None] * u), axis=-1)
    return jnp.min(dist), s[jnp.argmin(dist)]

  dist, s = jax.vmap(nearest)(finals)
  # Euler on a linear grid stops shrinking the off-segment residual at t ~ dt, where
  # sqrt(v_t) ~ 0.03; the ends spread along the segments (no collapse onto end points).
  assert float(jnp.max(dist)) < 0.1, dist
  assert int(jnp.sum((s > 0.02) & (s < 0.98))) >= 6, s


# (iii) semantic memory (Eq. 24): a polyline of segments, each in the closed form of Eq. 23.


def _helix(s):
  """An open, curved test curve in R^3 (the dimension of XS)."""
  return jnp.stack([jnp.cos(3.0 * s), 1.2 * jnp.sin(3.0 * s), 2.0 * s - 1.0])


def _log_phi(s):
  return -0.5 * ((s - 0.3) / 0.2) ** 2


def _semantic_lp(x, t, sde):
  return semantic.semantic_log_density(_helix, x, t, sde, 48)


def _semantic_score(x, t, sde):
  return semantic.semantic_score(_helix, x, t, sde, 48)


def _semantic_lp_phi(x, t, sde):
  return semantic.semantic_log_density(_helix, x, t, sde, 48, log_density_s=_log_phi)


def _semantic_score_phi(x, t, sde):
  return semantic.semantic_score(_helix, x, t, sde, 48, log_density_s=_log_phi)


@pytest.mark.parametrize("weighted", [False, True], ids=["arc length", "log_density_s"])
def test_semantic_score_equals_grad_of_log_density(weighted):
  """(a) The polyline score is the exact gradient of its log-density, t from 1e-10 to 40."""
  fns = (_semantic_lp_phi, _semantic_score_phi) if weighted else (_semantic_lp, _semantic_score)
  _assert_score_is_gradient(*fns)
  lp, closed, _ = _evaluate(*fns, True, XS, TS)
  assert np.all(np.isfinite(lp))
  # The explicit-state score function gives the same numbers (state traced, not baked in).
  state = semantic.semantic_state(_helix, 48, _log_phi if weighted else None)
  score_fn = jax.jit(jax.vmap(jax.vmap(semantic.semantic_score_fn(SDE), (None, 0, None)),
                              (None, None, 0)))
  testing.assert_trees_allclose(score_fn(state, XS, TS), closed, rtol=1e-12, atol=ATOL[:, None, None])


def test_semantic_state_weights():
  """Arc-length weights are the segment lengths; log_density_s weights are φ at the midpoints."""
  a, b, log_w = semantic.semantic_state(_helix, 10)
  s = np.linspace(0.0, 1.0, 11)
  pts = np.asarray(jax.vmap(_helix)(jnp.asarray(s)))
  np.testing.assert_allclose(a, pts[:-1], rtol=1e-15)
  np.testing.assert_allclose(b, pts[1:], rtol=1e-15)
  lengths = np.linalg.norm(pts[1:] - pts[:-1], axis=-1)
  np.testing.assert_allclose(np.exp(log_w), lengths / lengths.sum(), rtol=1e-12)
  _, _, log_w = semantic.semantic_state(_helix, 10, _log_phi)
  phi = np.exp(-0.5 * ((0.5 * (s[1:] + s[:-1]) - 0.3) / 0.2) ** 2)
  np.testing.assert_allclose(np.exp(log_w), phi / phi.sum(), rtol=1e-12)


def test_circle_polyline_converges_to_bessel_closed_form():
  """(b) The polyline density and score converge to the exact circle density as O(K^-2)."""
  center, radius, t = jnp.array([0.3, -0.2]), 1.5, 0.05
  xs = jnp.array([[1.8, -0.2], [0.0, 0.0], [2.5, 1.0], [-0.9, 0.7]])
  exact = jax.value_and_grad(lambda x: semantic.circle_log_density(center, radius, x, t, SDE))
  lp_ref, s_ref = _jv(exact)(xs)  # exact score = autograd of the Bessel form
  curve = semantic.circle(center, radius)
  lp_fn, score_fn = semantic.semantic_log_density_fn(SDE), semantic.semantic_score_fn(SDE)
  both = jax.jit(jax.vmap(lambda state, x: (lp_fn(state, x, t), score_fn(state, x, t)), (None, 0)))
  lp_errors, s_errors = [], []
  for k in (64, 128, 256):
    lp, s = both(semantic.semantic_state(curve, k), xs)
    lp_errors.append(float(jnp.max(jnp.abs(lp - lp_ref))))
    s_errors.append(float(jnp.max(jnp.abs(s - s_ref))))
  for errors in (lp_errors, s_errors):  # second order: each doubling of K gains ~4x
    ratios = [e0 / e1 for e0, e1 in zip(errors, errors[1:])]
    assert all(3.5 < r < 4.5 for r in ratios), (errors, ratios)
  assert lp_errors[-1] < 3e-3 and s_errors[-1] < 3e-3, (lp_errors, s_errors)
  # The convenience form (curve in, polyline built per call) agrees.
  lp_direct = _jv(lambda x: semantic.semantic_log_density(curve, x, t, SDE, 256))(xs)
  np.testing.assert_allclose(lp_direct, lp, rtol=1e-13)


def test_points_on_the_curve_are_fixed_points_at_small_t():
  """(c) At t = 1e-4 the score along the curve vanishes everywhere on it, not only at nodes.

  States a third of the way between consecutive nodes of the former 64-node Gauss–Legendre
  rule: the quadrature mixture pulls them towards the nearest node (a point attractor), the
  polyline has (almost) no tangential score there. Normalised by the kernel width √v_t.
  """
  t = 1e-4
  std = float(np.sqrt(SDE.variance(t)))
  curve = semantic.circle(jnp.zeros(2), 1.0)
  nodes, _ = quadrature.gauss_legendre(64)
  s = nodes[:-1] + (nodes[1:] - nodes[:-1]) / 3.0
  angle = 2.0 * np.pi * s
  on_curve = jnp.asarray(np.stack([np.cos(angle), np.sin(angle)], -1))
  tangent = np.stack([-np.sin(angle), np.cos(angle)], -1)
  score_fn = jax.jit(jax.vmap(semantic.semantic_score_fn(SDE), (None, 0, None)))
  poly = np.asarray(score_fn(semantic.semantic_state(curve), on_curve, t))
  tangential = np.abs(np.sum(poly * tangent, -1)) * std
  assert tangential.max() < 1e-3, tangential.max()
  # Where the nodes are further apart than a few kernel widths (away from the ends of [0, 1]),
  # the quadrature version has a large tangential pull: the nodes are its attractors.
  quad = np.asarray(_jv(lambda x: quadrature.semantic_score_quadrature(curve, x, t, SDE, 64))(on_curve))
  quad_tangential = np.abs(np.sum(quad * tangent, -1)) * std
  wide = 2.0 * np.pi * np.diff(nodes) > 5.0 * std
  assert wide.sum() >= 30 and quad_tangential[wide].min() > 0.5, quad_tangential
  # A state one kernel width off the curve is pulled back at the natural rate ~1/√v_t.
  off = on_curve * (1.0 + std)
  pull = np.asarray(score_fn(semantic.semantic_state(curve), off, t))
  np.testing.assert_allclose(np.sum(pull * np.asarray(on_curve), -1) * std, -1.0, atol=0.05)


def test_ode_sampler_lands_on_the_curve_anywhere():
  """Reverse ODE with the explicit-state score: one compiled sampler, two circles (the state)."""
  score_fn = semantic.semantic_score_fn(SDE)
  sample = jax.jit(jax.vmap(lambda state, x: samplers.ode_sample(score_fn, state, SDE, x, 3.0,
                                                                  n_steps=2000), (None, 0)))
  xs = jax.random.normal(jax.random.PRNGKey(1), (8, 2))
  for radius in (1.0, 1.5):
    finals = sample(semantic.semantic_state(semantic.circle(jnp.zeros(2), radius)), xs)
    np.testing.assert_allclose(jnp.linalg.norm(finals, axis=-1), radius, atol=0.1)
  assert sample._cache_size() == 1  # pylint: disable=protected-access


def test_arc_length_weights_make_the_density_parametrisation_free():
  """A non-uniform parametrisation of the circle gives the same uniform density."""
  center, radius, t = jnp.zeros(2), 1.0, 0.1

  def warped(s):
    u = s + 0.12 * jnp.sin(2 * jnp.pi * s)  # monotone reparametrisation of [0, 1]
    return semantic.circle(center, radius)(u)

  xs = jnp.array([[1.0, 0.1], [-0.5, 0.6], [0.2, -1.4]])
  exact = _jv(lambda x: semantic.circle_log_density(center, radius, x, t, SDE))(xs)
  lp = _jv(lambda x: semantic.semantic_log_density(warped, x, t, SDE, 1024))(xs)
  np.testing.assert_allclose(lp, exact, atol=1e-4)
  # Weights given as a density in s instead follow the parameter, not arc length.
  lp_s = _jv(lambda x: semantic.semantic_log_density(
      warped, x, t, SDE, 1024, log_density_s=lambda s: 0.0 * s))(xs)
  assert float(jnp.max(jnp.abs(lp_s - exact))) > 1e-2


def test_user_density_in_s_converges():
  """Polyline with weights ∫φ ds → the spectrally accurate quadrature value, as O(K^-2)."""
  def curve(s):
    return jnp.stack([4 * s - 2, 0.8 * jnp.sin(3 * jnp.pi * s)])

  x, t = jnp.array([0.1, 0.4]), 0.1
  ref = quadrature.semantic_log_density_quadrature(curve, x, t, SDE, 64, n_panels=16,
                                                 log_density_s=_log_phi)
  errs = [abs(float(jax.jit(lambda x: semantic.semantic_log_density(
      curve, x, t, SDE, k, log_density_s=_log_phi))(x) - ref)) for k in (64, 128, 256)]
  assert all(3.0 < e0 / e1 < 5.0 for e0, e1 in zip(errs, errs[1:])), errs
  assert errs[-1] < 1e-3, errs


# Gauss–Legendre quadrature version (used by the Figure 1 landscapes at moderate t).


def test_circle_quadrature_converges_to_bessel_closed_form():
  center, radius, t = jnp.array([0.3, -0.2]), 1.5, 0.05
  xs = jnp.array([[1.8, -0.2], [0.0, 0.0], [2.5, 1.0], [-0.9, 0.7]])
  exact = jax.value_and_grad(lambda x: semantic.circle_log_density(center, radius, x, t, SDE))
  lp_ref, s_ref = _jv(exact)(xs)  # exact score = autograd of the Bessel form
  curve = semantic.circle(center, radius)
  lp_errors, s_errors = [], []
  for n in (16, 32, 64, 96):
    lp, s = _jv(lambda x: (quadrature.semantic_log_density_quadrature(curve, x, t, SDE, n_nodes=n),
                           quadrature.semantic_score_quadrature(curve, x, t, SDE, n_nodes=n)))(xs)
    lp_errors.append(float(jnp.max(jnp.abs(lp - lp_ref))))
    s_errors.append(float(jnp.max(jnp.abs(s - s_ref))))
  for errors in (lp_errors, s_errors):  # spectral convergence
    assert all(e1 < 0.1 * e0 for e0, e1 in zip(errors[1:], errors[2:])), errors
  assert lp_errors[-1] < 1e-11 and s_errors[-1] < 1e-9, (lp_errors, s_errors)


# (iv) vmap over a batch == Python loop.


def test_vmap_equals_loop():
  a, b = _segments()
  score_fn, state = extended.segment_score_fn(SDE), extended.segment_state(a, b)
  xs, ts = XS, np.geomspace(1e-6, 50.0, XS.shape[0])  # all three branches of the closed form
  batched = jax.jit(jax.vmap(score_fn, (None, 0, 0)))(state, xs, ts)
  single = jax.jit(score_fn)
  looped = jnp.stack([single(state, x, t) for x, t in zip(xs, ts)])
  np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=0)


# (v) bad inputs raise ValueError whose message starts with the argument's name.


def test_bad_inputs_raise():
  a, b = _segments()
  x = jnp.zeros(3)
  with pytest.raises(ValueError, match=r"^x "):
    extended.segment_log_density(a, b, jnp.zeros(4), 0.1, SDE)
  with pytest.raises(ValueError, match=r"^b "):
    extended.segment_score(a, b[:, :2], x, 0.1, SDE)
  with pytest.raises(ValueError, match=r"^b "):
    extended.segment_state(a, a)
  with pytest.raises(ValueError, match=r"^edges "):
    extended.box_log_density(jnp.zeros(3), jnp.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]), x, 0.1,
                             SDE)
  with pytest.raises(ValueError, match=r"^edges "):
    extended.box_score(jnp.zeros((2, 3)), jnp.zeros((3, 1, 3)) + 1.0, x, 0.1, SDE)
  with pytest.raises(ValueError, match=r"^origins "):
    extended.box_score(jnp.zeros((2, 2, 3)), jnp.ones((2, 1, 3)), x, 0.1, SDE)
  with pytest.raises(ValueError, match=r"^t "):
    extended.segment_log_density(a, b, x, -1.0, SDE)
  circle = semantic.circle(jnp.zeros(2), 1.0)
  with pytest.raises(ValueError, match=r"^n_segments "):
    semantic.semantic_state(circle, n_segments=0)
  with pytest.raises(ValueError, match=r"^n_nodes "):
    quadrature.semantic_score_quadrature(circle, jnp.zeros(2), 0.1, SDE, n_nodes=0)
  with pytest.raises(ValueError, match=r"^curve "):
    semantic.semantic_state(lambda s: s)
  with pytest.raises(ValueError, match=r"^curve "):
    semantic.semantic_state(lambda s: jnp.stack([s, 0.0 * s]) / 0.0)   # NaN points
  with pytest.raises(ValueError, match=r"^log_density_s "):
    semantic.semantic_state(circle, 8, log_density_s=lambda s: -jnp.inf * jnp.ones_like(s))
  state = semantic.semantic_state(circle, 8)
  with pytest.raises(ValueError, match=r"^x "):
    semantic.semantic_score_fn(SDE)(state, x, 0.1)
  with pytest.raises(ValueError, match=r"^state "):
    semantic.semantic_score_fn(SDE)(state[:2] + (state[2][:3],), jnp.zeros(2), 0.1)
  with pytest.raises(ValueError, match=r"^x "):
    jax.jit(lambda x: extended.segment_score_fn(SDE)((a, b), x, 0.1))(jnp.zeros(4))
  with pytest.raises(ValueError, match=r"^log_weights "):
    quadrature.weighted_points_score(jnp.ones((5, 2)), jnp.zeros(4), jnp.zeros(2), 0.1, SDE)
  with pytest.raises(ValueError, match=r"^x "):
    semantic.semantic_log_density(semantic.circle(jnp.zeros(2), 1.0), x, 0.1, SDE)
  with pytest.raises(ValueError, match=r"^radius "):
    semantic.circle(jnp.zeros(2), -1.0)
