"""Core v2: explicit state, pattern banks, the mixture primitive's modes, float32 stability,
the open SDE protocol, time grids and checked mode."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am
from assocmem import mixture, testing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VP = am.VPSDE(0.8)


def _bank(seed, n, d, dtype=jnp.float32, scale=1.0, offset=0.0):
  rng = np.random.default_rng(seed)
  return am.make_bank(jnp.asarray(offset + scale * rng.standard_normal((n, d)), dtype))


# ---------------------------------------------------------------- explicit state

def test_lowered_sampler_does_not_grow_with_the_bank():
  """The bank is an argument, not a constant: the lowered module's size is independent of N."""
  fn = am.exact_score_fn(VP)
  sample = jax.jit(lambda bank, x: am.ode_sample(fn, bank, VP, x, 0.5, n_steps=10))
  sizes = []
  for n in (100, 20_000):
    bank = _bank(0, n, 32)
    sizes.append(len(sample.lower(bank, jnp.zeros(32)).as_text()))
  assert sizes[1] < 1.05 * sizes[0] + 200, sizes
  assert sizes[0] < 100_000   # a 20k × 32 bank baked in would be megabytes


def test_second_bank_of_the_same_shape_reuses_the_executable():
  traces = []
  fn = am.exact_score_fn(VP)

  @jax.jit
  def sample(bank, x):
    traces.append(1)
    return am.ode_sample(fn, bank, VP, x, 0.5, n_steps=5)

  a, b = _bank(1, 50, 8), _bank(2, 50, 8)
  out_a, out_b = sample(a, jnp.ones(8)), sample(b, jnp.ones(8))
  assert len(traces) == 1
  assert not np.allclose(out_a, out_b)


def test_grad_of_sampler_output_wrt_the_bank_matches_finite_differences(x64):
  rng = np.random.default_rng(3)
  patterns = jnp.asarray(rng.standard_normal((4, 3)))
  x0 = jnp.asarray(rng.standard_normal(3))
  w = jnp.asarray(rng.standard_normal(3))
  fn = am.exact_score_fn(VP)

  def loss(p):
    return w @ am.ode_sample(fn, am.make_bank(p), VP, x0, 1.0, 0.05, n_steps=20)

  g = jax.grad(loss)(patterns)
  assert bool(jnp.all(jnp.isfinite(g)))
  eps = 1e-6
  for idx in [(0, 0), (1, 2), (3, 1), (2, 0)]:
    e = jnp.zeros_like(patterns).at[idx].set(eps)
    fd = (loss(patterns + e) - loss(patterns - e)) / (2 * eps)
    np.testing.assert_allclose(g[idx], fd, rtol=1e-5, atol=1e-8)


def test_vmap_over_a_stack_of_banks_equals_a_loop():
  stack = jnp.asarray(np.random.default_rng(4).choice([-1.0, 1.0], size=(3, 5, 8)), jnp.float32)
  banks = jax.vmap(am.make_bank)(stack)
  assert banks.centered.shape == (3, 5, 8)
  fn = am.exact_score_fn(VP)
  x = jnp.linspace(-1, 1, 8)
  run = lambda b: am.ode_sample(fn, b, VP, x, 0.8, n_steps=30)  # noqa: E731
  batched = jax.jit(jax.vmap(run))(banks)
  loop = jnp.stack([run(am.make_bank(p)) for p in stack])
  testing.assert_trees_allclose(batched, loop, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- banks

def test_bank_is_a_pytree_with_cached_centred_norms():
  p = jnp.asarray(np.random.default_rng(5).standard_normal((6, 4)), jnp.float32)
  bank = am.make_bank(p)
  leaves, tree = jax.tree.flatten(bank)
  assert len(leaves) == 4
  again = jax.tree.unflatten(tree, leaves)
  np.testing.assert_allclose(again.patterns, p, atol=1e-6)
  np.testing.assert_allclose(bank.sq_norms, jnp.sum((p - p.mean(0)) ** 2, -1), rtol=1e-5)
  np.testing.assert_allclose(bank.center, p.mean(0), rtol=1e-5, atol=1e-7)


def test_log_weights_minus_inf_is_an_empty_slot():
  p = jnp.asarray(np.random.default_rng(6).standard_normal((5, 4)), jnp.float32)
  junk = jnp.concatenate([p, 1e3 * jnp.ones((3, 4))])
  padded = am.make_bank(junk, log_weights=jnp.array([0.0] * 5 + [-jnp.inf] * 3))
  plain = am.make_bank(p)
  x = jnp.ones(4) * 0.3
  for t in (1e-3, 0.1, 2.0):
    np.testing.assert_allclose(am.score(padded, x, t, VP), am.score(plain, x, t, VP), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(am.log_density(padded, x, t, VP), am.log_density(plain, x, t, VP), rtol=1e-5)
  np.testing.assert_allclose(am.mhn_update(padded, x, 3.0), am.mhn_update(plain, x, 3.0), rtol=1e-5, atol=1e-6)


def test_log_weights_weight_the_mixture(x64):
  """p_t = Σ π_n N(θ y_n, v): the score is grad log p with π ∝ exp(log_weights)."""
  p = jnp.asarray(np.random.default_rng(7).standard_normal((3, 2)))
  lw = jnp.log(jnp.array([0.7, 0.2, 0.1]))
  bank = am.make_bank(p, log_weights=lw)
  x, t = jnp.array([0.2, -0.4]), 0.3
  theta, v = VP.theta(t), VP.variance(t)

  def logp(x):
    comps = jnp.exp(-jnp.sum((x - theta * p) ** 2, -1) / (2 * v)) / (2 * jnp.pi * v)
    return jnp.log(jnp.sum(jnp.exp(lw) * comps))

  np.testing.assert_allclose(am.log_density(bank, x, t, VP), logp(x), rtol=1e-12)
  np.testing.assert_allclose(am.score(bank, x, t, VP), jax.grad(logp)(x), rtol=1e-10)


def test_write_many_and_write_fill_slots():
  bank = am.empty_bank(6, 3)
  assert int(bank.n_stored()) == 0
  rows = jnp.arange(6.0).reshape(2, 3)
  bank = am.write_many(bank, 1, rows)
  bank = am.write(bank, 4, jnp.ones(3))
  np.testing.assert_array_equal(np.asarray(bank.mask), [False, True, True, False, True, False])
  np.testing.assert_allclose(bank.patterns[1:3], rows)
  ref = am.make_bank(jnp.concatenate([rows, jnp.ones((1, 3))]), center=jnp.zeros(3))
  x = jnp.array([0.5, 1.0, 1.5])
  np.testing.assert_allclose(am.score(bank, x, 0.2, VP), am.score(ref, x, 0.2, VP), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn, name", [
    (lambda: am.make_bank(jnp.ones((3, 2)), log_weights=jnp.array([0.0, jnp.nan, 0.0])), "log_weights"),
    (lambda: am.make_bank(jnp.ones((3, 2)), log_weights=jnp.full((3,), -jnp.inf)), "log_weights"),
    (lambda: am.make_bank(jnp.ones((3, 2)), log_weights=jnp.zeros(2)), "log_weights"),
    (lambda: am.make_bank(jnp.ones((3, 2)), center=jnp.zeros(3)), "center"),
    (lambda: am.make_bank(jnp.ones(3)), "patterns"),
    (lambda: am.make_bank(jnp.ones((3, 2)), capacity=2), "capacity"),
    (lambda: am.empty_bank(0, 3), "capacity"),
    (lambda: am.write(am.empty_bank(2, 3), 2, jnp.ones(3)), "index"),
    (lambda: am.write(am.empty_bank(2, 3), 0, jnp.ones(4)), "pattern"),
    (lambda: am.write_many(am.empty_bank(2, 3), 0, jnp.ones((3, 3))), "patterns"),
    (lambda: am.exact_score_fn(VP)(jnp.ones((3, 2)), jnp.ones(2), 0.5), "PatternBank"),
    (lambda: mixture.Streaming(chunk_size=0), "chunk_size"),
    (lambda: am.score(jnp.ones((3, 2)), jnp.ones(2), 0.5, VP, mode="dense"), "mode"),
])
def test_bank_bad_input(fn, name):
  with pytest.raises(ValueError, match=name):
    fn()


def test_bank_validation_runs_on_device_without_copying_to_host(monkeypatch):
  """make_bank checks finiteness with one device reduction; np.asarray of the bank is never called."""
  calls = []
  real = np.asarray

  def spy(a, *args, **kwargs):
    if getattr(a, "shape", ()) == (2000, 16):
      calls.append(1)
    return real(a, *args, **kwargs)

  monkeypatch.setattr(np, "asarray", spy)
  am.make_bank(jnp.ones((2000, 16)))
  assert not calls


# ---------------------------------------------------------------- modes

@pytest.mark.parametrize("chunk", [64, 256])
def test_streaming_equals_dense(chunk):
  bank = _bank(8, 1024, 16)
  modes = {"dense": mixture.DENSE, "streaming": mixture.Streaming(chunk)}
  for t in (1e-3, 0.1, 1.0):
    # states drawn from p_t (a 1e-5 comparison needs a well-conditioned posterior: far from the data
    # at t = 1e-3 the logits are O(1e4) and any change of summation order moves a mixed posterior)
    idx = jax.random.randint(jax.random.PRNGKey(1), (32,), 0, 1024)
    xs = VP.theta(t) * bank.patterns[idx] + jnp.sqrt(VP.variance(t)) * jax.random.normal(jax.random.PRNGKey(0), (32, 16))
    scores = jax.jit(lambda m: jax.vmap(lambda x: am.score(bank, x, t, VP, m))(xs), static_argnums=0)
    scale = float(jnp.max(jnp.abs(scores(mixture.DENSE))))
    testing.assert_modes_agree(scores, modes, rtol=1e-5, atol=1e-5 * scale)
    # log p = log Σe^ℓ − ‖q‖²/2v: two terms of size ‖q‖²/2v cancel, so compare on their scale
    scale = float(jnp.max(jnp.sum((xs - VP.theta(t) * bank.center) ** 2, -1) / (2 * VP.variance(t))))
    testing.assert_modes_agree(lambda m: jax.vmap(lambda x: am.log_density(bank, x, t, VP, m))(xs), modes,
                               rtol=1e-5, atol=1e-6 * scale)
  xs = jax.random.normal(jax.random.PRNGKey(2), (32, 16))
  testing.assert_modes_agree(lambda m: jax.vmap(lambda x: am.mhn_retrieve(bank, x, 2.0, 5, mode=m))(xs), modes,
                             rtol=0, atol=1e-5)


def test_streaming_pads_a_bank_that_is_not_a_multiple_of_the_chunk():
  bank = _bank(0, 10, 4)
  x = jnp.linspace(-1, 1, 4)
  testing.assert_modes_agree(lambda m: am.score(bank, x, 0.5, VP, m), [mixture.DENSE, mixture.Streaming(4)],
                             rtol=1e-6, atol=1e-6)


def test_streaming_gradient_equals_dense():
  bank = _bank(9, 256, 8)
  x = jnp.linspace(-1, 1, 8)
  testing.assert_modes_agree(lambda m: jax.grad(lambda x: am.log_density(bank, x, 0.2, VP, m))(x),
                             [mixture.DENSE, mixture.Streaming(32)], rtol=1e-5, atol=1e-5)


def test_bfloat16_similarities_are_close():
  bank = _bank(10, 512, 32)
  xs = jax.random.normal(jax.random.PRNGKey(1), (16, 32))
  dense = jax.vmap(lambda x: am.mhn_update(bank, x, 1.0))(xs)
  low = jax.vmap(lambda x: am.mhn_update(bank, x, 1.0, mixture.Dense(jnp.bfloat16)))(xs)
  err = float(jnp.max(jnp.abs(low - dense)) / jnp.max(jnp.abs(dense)))
  assert 0 < err < 0.05, err


SHARDED_SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    import assocmem as am
    from assocmem import mixture, testing
    assert len(jax.devices()) == 8
    rng = np.random.default_rng(0)
    bank = am.make_bank(jnp.asarray(rng.standard_normal((1000, 16)), jnp.float32))   # padded to 1000 -> 1000 (8 | 1000)
    odd = am.make_bank(jnp.asarray(rng.standard_normal((999, 16)), jnp.float32))     # padded to 1000 inside
    vp = am.VPSDE(0.8)
    def near(b, t):   # states drawn from p_t: a well-conditioned posterior (see test_streaming_equals_dense)
      idx = rng.integers(0, b.capacity, 24)
      return vp.theta(t) * b.patterns[idx] + jnp.sqrt(vp.variance(t)) * jnp.asarray(rng.standard_normal((24, 16)), jnp.float32)
    xs = jnp.asarray(rng.standard_normal((24, 16)), jnp.float32)
    mesh = mixture.device_mesh()
    for inner in (mixture.Dense(), mixture.Streaming(25)):
      mode = mixture.Sharded(mesh, "bank", inner)
      for b in (bank, odd):
        sb = mixture.shard_bank(b, mesh)
        assert len(sb.centered.sharding.device_set) == 8
        for t in (1e-3, 0.3):
          # the primitive's output (the posterior mean, Tweedie's denoiser x + v s) agrees to 1e-6;
          # the score itself divides it by v_t, which scales rounding by 1/v_t at small t
          xs_t = near(b, t)
          den = lambda bb, md: jax.vmap(lambda x: x + vp.variance(t) * am.score(bb, x, t, vp, md))(xs_t)
          np.testing.assert_allclose(jax.jit(den, static_argnums=1)(sb, mode), den(b, mixture.DENSE), rtol=1e-5, atol=1e-6)
          q = xs_t - vp.theta(t) * b.center
          a = vp.theta(t) / vp.variance(t)
          mean = lambda bb, md: jax.vmap(lambda q: mixture.mean(mixture.bank_partials(bb, q, a, -0.5 * a * vp.theta(t), md)))(q)
          np.testing.assert_allclose(jax.jit(mean, static_argnums=1)(sb, mode), mean(b, mixture.DENSE), rtol=1e-5, atol=1e-6)
        d = jax.vmap(lambda x: am.mhn_retrieve(b, x, 3.0, 4))(xs)
        s = jax.jit(jax.vmap(lambda x: am.mhn_retrieve(sb, x, 3.0, 4, mode=mode)))(xs)
        np.testing.assert_allclose(s, d, rtol=1e-6, atol=1e-6)
    am.make_bank(mixture.shard_bank(bank, mesh).patterns)   # validation works on sharded arrays
    print("SHARDED_OK")
""")


def test_sharded_on_8_devices_equals_one_device():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
  res = subprocess.run([sys.executable, "-c", SHARDED_SCRIPT], env=env, cwd=REPO, capture_output=True,
                       text=True, timeout=600)
  assert res.returncode == 0 and "SHARDED_OK" in res.stdout, res.stderr[-3000:]


# ---------------------------------------------------------------- float32 stability

def _two_patterns():
  """Two patterns 0.625 apart in d = 1024, every coordinate near 5 (‖y‖ ≈ 160), exact in float32."""
  rng = np.random.default_rng(11)
  delta = np.where(rng.permutation(1024) % 2 == 0, 1.0, -1.0) * (10 / 1024)   # Σ δ = 0, so cᵀδ = 0
  y1, y2 = 5.0 + delta, 5.0 - delta
  return jnp.asarray(np.stack([y1, y2]), jnp.float32)


@pytest.mark.parametrize("t", [1e-2, 1e-3, 1e-4])
def test_midpoint_posterior_is_one_half_in_float32(t):
  """The issue's case: at θ_t(y₁ + y₂)/2 the posterior is ½/½ for the score and the MHN update alike."""
  p = _two_patterns()
  bank = am.make_bank(p)
  theta, v = VP.theta(t), VP.variance(t)
  x = theta * (p[0] + p[1]) / 2
  post = am.posterior(bank, x, t, VP)
  np.testing.assert_allclose(post, [0.5, 0.5], atol=0.01)
  # the score's posterior, read off its value: s = (θ Σh y − x)/v  ⇒  h₁ = ((v s + x)/θ − y₂)·(y₁ − y₂)/‖y₁ − y₂‖²
  s = am.score(bank, x, t, VP)
  mean = (v * s + x) / theta
  h1 = float(jnp.dot(mean - p[1], p[0] - p[1]) / jnp.dot(p[0] - p[1], p[0] - p[1]))
  assert abs(h1 - 0.5) < 0.01, h1
  g = jax.grad(lambda x: am.log_density(bank, x, t, VP))(x)
  h1g = float(jnp.dot((v * g + x) / theta - p[1], p[0] - p[1]) / jnp.dot(p[0] - p[1], p[0] - p[1]))
  assert abs(h1g - 0.5) < 0.01, h1g
  # MHN update at the equivalent inverse temperature β(t) = θ_t / v_t (seed 002, Eq. 14)
  new = am.mhn_update(bank, x, theta / v)
  hm = float(jnp.dot(new - p[1], p[0] - p[1]) / jnp.dot(p[0] - p[1], p[0] - p[1]))
  assert abs(hm - 0.5) < 0.01, hm


@pytest.mark.parametrize("t", [1e-3, 1e-2, 0.1, 1.0])
def test_image_like_bank_float32_matches_float64(t):
  """Values in [−1, 1], d = 12,288, N = 1,000: float32 score and float32 grad(log p) match float64 to 1e-4."""
  rng = np.random.default_rng(12)
  n, d = 1000, 12_288
  imgs = rng.uniform(-1, 1, size=(n, d))
  idx = rng.integers(0, n, size=3)
  theta, v = np.exp(-0.4 * t), -np.expm1(-0.8 * t)
  xs = theta * imgs[idx] + np.sqrt(v) * rng.standard_normal((3, d))
  bank32 = am.make_bank(jnp.asarray(imgs, jnp.float32))
  s32 = jax.jit(jax.vmap(lambda x: am.score(bank32, x, t, VP)))(jnp.asarray(xs, jnp.float32))
  g32 = jax.jit(jax.vmap(jax.grad(lambda x: am.log_density(bank32, x, t, VP))))(jnp.asarray(xs, jnp.float32))
  # float64 reference: the direct (uncentred, unexpanded) formula in NumPy
  ref = []
  for x in xs:
    sq = np.sum((x[None] - theta * imgs) ** 2, axis=1)
    h = np.exp(-(sq - sq.min()) / (2 * v))
    h /= h.sum()
    ref.append((theta * (h @ imgs) - x) / v)
  ref = np.asarray(ref)
  for got in (s32, g32):
    rel = np.linalg.norm(np.asarray(got, np.float64) - ref, axis=1) / np.linalg.norm(ref, axis=1)
    assert float(rel.max()) < 1e-4, rel


# ---------------------------------------------------------------- SDE protocol

class LinearBetaVP:
  """A user-defined VP schedule β(t) = β₀ + (β₁ − β₀) t (Song et al. 2021), written only here."""

  def __init__(self, b0=0.1, b1=4.0):
    self.b0, self.b1 = b0, b1

  def _integral(self, t):
    return self.b0 * t + 0.5 * (self.b1 - self.b0) * t * t

  def theta(self, t):
    return jnp.exp(-0.5 * self._integral(t))

  def variance(self, t):
    return -jnp.expm1(-self._integral(t))

  def drift(self, x, t):
    return -0.5 * (self.b0 + (self.b1 - self.b0) * t) * x

  def diffusion(self, t):
    return jnp.sqrt(self.b0 + (self.b1 - self.b0) * t)

  def prior_sampling(self, key, shape, dtype=jnp.float32):
    return jax.random.normal(key, shape, dtype)


def test_user_defined_schedule_works_with_every_score_and_sampler(x64):
  sde = LinearBetaVP()
  assert isinstance(sde, am.SDE)
  rng = np.random.default_rng(13)
  p = jnp.asarray(rng.choice([-1.0, 1.0], size=(4, 6)))
  bank = am.make_bank(p)
  x = jnp.asarray(rng.standard_normal(6))
  testing.assert_score_matches_log_density(lambda b, x, t: am.score(b, x, t, sde),
                                           lambda b, x, t: am.log_density(b, x, t, sde), bank, x[None],
                                           jnp.array([0.05, 0.5]), rtol=1e-9, atol=1e-9)
  # the marginal's variance matches the SDE's own forward simulation
  sims = jax.vmap(lambda k: am.forward_sample(k, sde, p[0], 0.5, 400))(jax.random.split(jax.random.PRNGKey(0), 4000))
  np.testing.assert_allclose(float(sims.var(0).mean()), float(sde.variance(0.5)), rtol=0.05)
  # recall and generation with both samplers, unedited
  fn = am.exact_score_fn(sde)
  cue = float(sde.theta(0.3)) * p[1] + 0.1 * jnp.asarray(rng.standard_normal(6))
  np.testing.assert_array_equal(am.binarize(am.ode_sample(fn, bank, sde, cue, 0.3)), p[1])
  out = am.em_sample(jax.random.PRNGKey(1), fn, bank, sde, sde.prior_sampling(jax.random.PRNGKey(2), (6,)),
                     3.0, grid="geometric")
  assert float(jnp.min(jnp.max(jnp.abs(out - p), -1))) < 0.2


@pytest.mark.parametrize("make, name", [
    (lambda: am.VPSDE("0.8"), "gamma"), (lambda: am.VPSDE(jnp.array(-1.0)), "gamma"),
    (lambda: am.VPSDE(0.0), "gamma"), (lambda: am.VESDE(jnp.array(jnp.nan)), "sigma"),
    (lambda: am.VESDE(jnp.ones(2)), "sigma"),
    (lambda: am.ode_sample(am.exact_score_fn(VP), am.make_bank(jnp.ones((2, 3))), "vp", jnp.ones(3), 0.5), "sde"),
    (lambda: am.em_sample(None, am.exact_score_fn(VP), am.make_bank(jnp.ones((2, 3))), VP, jnp.ones(3), 0.5), "key"),
    (lambda: am.ode_sample(lambda s, x, t: x[:2], None, VP, jnp.ones(3), 0.5), "score_fn"),
])
def test_sde_and_sampler_arguments_are_validated(make, name):
  with pytest.raises(ValueError, match=name):
    make()


def test_vpsde_is_a_pytree_and_vmaps_over_gamma():
  gammas = jnp.array([0.5, 0.8, 1.2])
  thetas = jax.vmap(lambda g: am.VPSDE(g).theta(1.0))(gammas)
  np.testing.assert_allclose(thetas, np.exp(-0.5 * np.asarray(gammas)), rtol=1e-6)
  sdes = jax.vmap(lambda g: am.VPSDE(g))(gammas)
  assert sdes.gamma.shape == (3,)


# ---------------------------------------------------------------- time grids

@pytest.mark.parametrize("kind", ["linear", "geometric", "edm"])
def test_time_grids(kind):
  ts = np.asarray(am.time_grid(17.0, 1e-3, 50, kind))
  assert ts.shape == (51,)
  np.testing.assert_allclose([ts[0], ts[-1]], [17.0, 1e-3], rtol=1e-5)
  assert np.all(np.diff(ts) < 0)
  if kind == "geometric":
    np.testing.assert_allclose(np.diff(np.log(ts)), np.log(1e-3 / 17) / 50, rtol=1e-4)
  if kind == "edm":
    np.testing.assert_allclose(np.diff(ts ** (1 / 7)), (1e-3 ** (1 / 7) - 17 ** (1 / 7)) / 50, rtol=1e-3)


def test_explicit_ts_equals_named_grid():
  fn, bank = am.exact_score_fn(VP), _bank(14, 5, 4)
  x = jnp.ones(4)
  a = am.ode_sample(fn, bank, VP, x, 2.0, 1e-3, 40, grid="geometric")
  b = am.ode_sample(fn, bank, VP, x, ts=am.time_grid(2.0, 1e-3, 40, "geometric"))
  np.testing.assert_allclose(a, b, rtol=1e-6)
  with pytest.raises(ValueError, match="decreasing"):
    am.ode_sample(fn, bank, VP, x, ts=jnp.array([0.1, 0.5, 1.0]))


# ---------------------------------------------------------------- checked mode

def test_checked_mode_catches_bad_values_under_jit_and_vmap():
  fn, bank = am.exact_score_fn(VP), _bank(15, 5, 4)
  x = jnp.ones(4)
  plain = jax.jit(lambda t: fn(bank, x, t))
  assert bool(jnp.any(jnp.isnan(plain(0.0)))) or bool(jnp.any(jnp.isinf(plain(0.0))))   # silent without the mode
  with pytest.raises(am.CheckError, match="t must be"):
    am.checked(lambda t: fn(bank, x, t))(0.0)
  with pytest.raises(am.CheckError, match="t must be"):
    am.checked(lambda t: fn(bank, x, t))(-1.0)
  starts = jnp.array([0.5, 1e-4])          # the second one lies below t_end: a reversed grid
  run = jax.vmap(lambda t0: am.ode_sample(fn, bank, VP, x, t0, 1e-3, 10))
  with pytest.raises(am.CheckError, match="t_start must exceed t_end"):
    am.checked(run)(starts)
  np.testing.assert_allclose(am.checked(run)(jnp.array([0.5, 0.4])), run(jnp.array([0.5, 0.4])), rtol=1e-6)
  with pytest.raises(am.CheckError, match="beta"):
    am.checked(jax.vmap(lambda b: am.mhn_update(bank, x, b)))(jnp.array([1.0, 0.0]))
  with pytest.raises(am.CheckError, match="non-finite"):
    am.checked(jax.vmap(lambda x: am.mhn_update(bank, x, 1.0)))(jnp.array([[1.0, 0, 0, 0], [jnp.nan, 0, 0, 0]]))
