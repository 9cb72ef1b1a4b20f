"""The score network and its training (seed 002, §7, Eq. 27; App. A).

Properties: θ_t enters every layer as an appended input (the split kernel equals the (n + 1)-row
matrix); the learned score is −δ̂ / √(1 − θ²) and runs in the core samplers; a masked, padded
pattern set trains as if alone; vmapped training equals training one network at a time; a
checkpoint round-trips and an interrupted run resumes bitwise; bad settings name themselves.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import VPSDE, ode_sample
from assocmem.nn.score_mlp import (DATA_VAR_FLOOR, ScoreMLP, ThetaDense, alive_fraction, fit_unit_mixture,
                                    learned_score_fn, model_from_params, with_data_statistics)
from assocmem.train import score as ts
from assocmem.train.checkpoint import Checkpointer

from conftest import binary_patterns, tree_allclose

SMALL = ScoreMLP(dim=6, hidden=32)


def _cfg(**kw) -> ts.ScoreTrainConfig:
  base = dict(n_iterations=30, chunk_size=10, log_every_s=1e9, checkpoint_every_s=0.0)
  base.update(kw)
  return ts.ScoreTrainConfig(**base)


# ----------------------------------------------------------------------------- network

def test_theta_is_appended_to_every_layer():
  params = SMALL.init_params(jax.random.PRNGKey(0))
  assert set(params) == {"input", "hidden", "output"}
  assert params["input"]["kernel"].shape == (6, 32)
  assert params["hidden"]["kernel"].shape == (32, 32)
  assert params["output"]["kernel"].shape == (32, 6)
  for layer in params.values():
    assert layer["theta_kernel"].shape == layer["bias"].shape
  n = sum(x.size for x in jax.tree.leaves(params))
  assert n == SMALL.param_count()
  # each layer = one (n + 1) x m matrix acting on [h; θ]
  x, theta = jax.random.normal(jax.random.PRNGKey(1), (6,)), jnp.float32(0.7)
  h = x
  for name in ("input", "hidden", "output"):
    p = params[name]
    w = jnp.concatenate([p["kernel"], p["theta_kernel"][None]], axis=0)
    h = jnp.concatenate([h, theta[None]]) @ w + p["bias"]
    if name != "output":
      h = jax.nn.relu(h)
  np.testing.assert_allclose(SMALL.predict_noise(params, x, theta), h, rtol=1e-5, atol=1e-6)


def test_theta_dense_batches_like_one_example():
  layer = ThetaDense(5)
  p = layer.init(jax.random.PRNGKey(0), jnp.zeros((3,)), 0.5)
  h = jax.random.normal(jax.random.PRNGKey(1), (4, 3))
  th = jnp.linspace(0.6, 1.0, 4)
  batched = layer.apply(p, h, th)
  single = jax.vmap(lambda a, b: layer.apply(p, a, b))(h, th)
  np.testing.assert_allclose(batched, single, rtol=1e-6, atol=1e-6)


def test_learned_score_formula_and_samplers():
  sde = VPSDE(0.8)
  params = SMALL.init_params(jax.random.PRNGKey(0))
  x, t = jax.random.normal(jax.random.PRNGKey(1), (6,)), jnp.float32(0.5)
  want = -SMALL.predict_noise(params, x, sde.theta(t)) / jnp.sqrt(1.0 - sde.theta(t) ** 2)
  for fn in (learned_score_fn(sde), learned_score_fn(sde, SMALL)):
    np.testing.assert_allclose(fn(params, x, t), want, rtol=1e-5)
  assert model_from_params(params) == SMALL
  # an ensemble of parameter pytrees samples under one vmap of the unchanged core sampler
  stack = jax.vmap(SMALL.init_params)(jax.random.split(jax.random.PRNGKey(2), 3))
  out = jax.vmap(lambda p: ode_sample(learned_score_fn(sde), p, sde, x, 0.9, n_steps=20))(stack)
  assert out.shape == (3, 6) and bool(jnp.all(jnp.isfinite(out)))


def test_bad_settings_name_the_argument():
  for bad in (0, -3, 2.5, True):
    with pytest.raises(ValueError, match="hidden"):
      ScoreMLP(dim=4, hidden=bad)
  with pytest.raises(ValueError, match="dim"):
    ScoreMLP(dim=0, hidden=8)
  for kw, name in (({"theta_min": 0.0}, "theta_min"), ({"theta_min": -0.1}, "theta_min"),
                   ({"theta_max": 1.5}, "theta_max"), ({"theta_min": 0.8, "theta_max": 0.7}, "theta_min"),
                   ({"n_iterations": 0}, "n_iterations"), ({"learning_rate": 0.0}, "learning_rate"),
                   ({"chunk_size": 0}, "chunk_size"), ({"ensemble": "pmap"}, "ensemble")):
    with pytest.raises(ValueError, match=name):
      ts.ScoreTrainConfig(**kw)
  patterns = binary_patterns(0, 3, 5)
  with pytest.raises(ValueError, match="patterns has dimension 5 but the network's dim is 6"):
    ts.fit(SMALL, jax.random.PRNGKey(0), patterns, cfg=_cfg())
  with pytest.raises(ValueError, match="patterns"):
    ts.fit_ensemble(SMALL, jax.random.split(jax.random.PRNGKey(0), 2), binary_patterns(0, 3, 6), cfg=_cfg())
  with pytest.raises(ValueError, match="mask"):
    ts.fit(SMALL, jax.random.PRNGKey(0), binary_patterns(0, 3, 6), jnp.zeros(3), cfg=_cfg())
  with pytest.raises(ValueError, match="keys"):
    ts.fit_ensemble(SMALL, jax.random.split(jax.random.PRNGKey(0), 3), binary_patterns(0, 6, 6).reshape(2, 3, 6),
                    cfg=_cfg())


# ----------------------------------------------------------------------------- loss and training

def test_masked_loss_ignores_padding_and_draws():
  params = SMALL.init_params(jax.random.PRNGKey(0))
  pats = binary_patterns(1, 3, 6)
  padded = jnp.concatenate([pats, jnp.zeros((2, 6))])
  mask = jnp.array([1, 1, 1, 0, 0], jnp.float32)
  key = jax.random.PRNGKey(3)
  loss = jax.jit(lambda p, m: ts.denoising_loss(SMALL, params, p, m, key))
  alone = loss(pats, jnp.ones(3))
  np.testing.assert_allclose(loss(padded, mask), alone, rtol=1e-6)
  # the loss is the mean over real patterns of ||δ − s||², each pattern's draws from fold_in(key, n)

  @jax.jit
  def per_pattern(n, y):
    th, de = ts.pattern_noise(key, n, 6, 0.6, 1.0)
    return th, ts.pattern_loss(SMALL, params, y, th, de)

  th, per = jax.vmap(per_pattern)(jnp.arange(3), pats)
  assert bool(jnp.all((th >= 0.6) & (th <= 1.0)))
  np.testing.assert_allclose(alone, jnp.mean(per), rtol=1e-6)


def test_ensemble_equals_sequential_and_masked_sets_train_alone():
  cfg = _cfg(ensemble="vmap")
  keys = jax.random.split(jax.random.PRNGKey(0), 2)
  sets = [binary_patterns(10, 3, 6), binary_patterns(11, 5, 6)]
  padded = jnp.stack([jnp.concatenate([sets[0], jnp.zeros((2, 6))]), sets[1]])
  masks = jnp.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], jnp.float32)
  ens = ts.fit_ensemble(SMALL, keys, padded, masks, cfg)
  assert ens.losses.shape == (2, 30) and np.all(np.asarray(ens.step) == 30)
  # network 0: padded and masked inside a vmapped ensemble == unpadded, trained alone, not vmapped
  alone = ts.fit(SMALL, keys[0], sets[0], cfg=cfg)
  mine = jax.tree.map(lambda a: a[0], ens)
  assert tree_allclose(mine.params, alone.params, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(mine.losses, alone.losses, rtol=1e-4, atol=1e-5)
  assert not tree_allclose(mine.params, jax.tree.map(lambda a: a[1], ens).params)
  # lax.map over the networks (the CPU default) computes the same ensemble
  mapped = ts.fit_ensemble(SMALL, keys, padded, masks, _cfg(ensemble="map"))
  assert tree_allclose(mapped.params, ens.params, rtol=1e-4, atol=1e-5)


def test_training_reduces_the_loss():
  state = ts.fit(SMALL, jax.random.PRNGKey(0), binary_patterns(2, 3, 6), cfg=_cfg(n_iterations=300, chunk_size=100))
  curve = ts.loss_curve(state)
  assert curve.shape == (300,)
  assert curve[-50:].mean() < 0.7 * curve[:20].mean()


def test_checkpoint_round_trip(tmp_path):
  state = ts.init_ensemble(SMALL, jax.random.split(jax.random.PRNGKey(0), 2), _cfg())
  with Checkpointer(str(tmp_path / "c")) as ckpt:
    ckpt.save(7, state)
    step, back = ckpt.restore(ts.init_ensemble(SMALL, jax.random.split(jax.random.PRNGKey(1), 2), _cfg()))
  assert step == 7
  for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(back)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


class _Interrupt(Exception):
  pass


def test_interrupted_run_resumes_exactly(tmp_path):
  cfg = _cfg(n_iterations=40, chunk_size=10)
  keys = jax.random.split(jax.random.PRNGKey(5), 2)
  pats = jnp.stack([binary_patterns(20, 4, 6), binary_patterns(21, 4, 6)])
  full = ts.fit_ensemble(SMALL, keys, pats, cfg=cfg)
  seen = []

  def stop_after_two(state):
    seen.append(int(np.asarray(state.step)[0]))
    if len(seen) == 2:
      raise _Interrupt

  ckpt = str(tmp_path / "run")
  with pytest.raises(_Interrupt):
    ts.fit_ensemble(SMALL, keys, pats, cfg=cfg, checkpoint_dir=ckpt, on_chunk=stop_after_two)
  assert Checkpointer(ckpt).latest_step() == 20
  resumed_from = []
  resumed = ts.fit_ensemble(SMALL, keys, pats, cfg=cfg, checkpoint_dir=ckpt,
                            on_chunk=lambda s: resumed_from.append(int(np.asarray(s.step)[0])))
  assert resumed_from == [30, 40]            # only the missing chunks ran
  for a, b in zip(jax.tree.leaves(full), jax.tree.leaves(resumed)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  # a checkpoint of other data is refused
  with pytest.raises(ValueError, match="checkpoint_dir"):
    ts.fit_ensemble(SMALL, keys, -pats, cfg=cfg, checkpoint_dir=ckpt)


def test_train_flops_counts_the_three_matmuls():
  m = ScoreMLP(dim=16, hidden=1280)
  per_row = 2 * (2 * 17 * 1280 + 3 * 1281 * 1280 + 3 * 1281 * 16)
  assert ts.train_flops(m, 31, 10, 8) == per_row * 31 * 10 * 8


# ----------------------------------------------------------------------------- image-scale recipe

RES = ScoreMLP(dim=6, hidden=32, variant="residual")


def test_residual_variant_tree_shapes_and_skip():
  params = RES.init_params(jax.random.PRNGKey(0))
  assert set(params) == {"input", "hidden", "output", "norm_hidden", "norm_output", "data_mean", "data_var"}
  assert params["norm_hidden"]["scale"].shape == (32,) and params["data_mean"].shape == (6,)
  assert sum(x.size for x in jax.tree.leaves(params)) == RES.param_count() == SMALL.param_count() + 4 * 32 + 2 * 6
  assert model_from_params(params) == RES and model_from_params(SMALL.init_params(jax.random.PRNGKey(0))) == SMALL
  x = jax.random.normal(jax.random.PRNGKey(1), (5, 6))
  th = jnp.linspace(0.1, 0.9, 5)
  out = jax.vmap(lambda a, b: RES.predict_noise(params, a, b))(x, th)
  assert out.shape == (5, 6)
  # with a zero output layer δ̂ is the Gaussian skip σ (x − θ m) / (θ² v + σ²)
  p = with_data_statistics(params, binary_patterns(3, 4, 6))
  p = {**p, "output": jax.tree.map(jnp.zeros_like, p["output"])}
  m, v = p["data_mean"], p["data_var"]
  s2 = 1.0 - th[:, None] ** 2
  want = jnp.sqrt(s2) * (x - th[:, None] * m) / (th[:, None] ** 2 * v + s2)
  np.testing.assert_allclose(jax.vmap(lambda a, b: RES.predict_noise(p, a, b))(x, th), want, rtol=1e-5, atol=1e-6)
  # the learned score runs in the samplers unchanged
  score = learned_score_fn(VPSDE(0.8))(params, x[0], jnp.float32(0.5))
  assert score.shape == (6,) and bool(jnp.all(jnp.isfinite(score)))


COV = ScoreMLP(dim=5, hidden=16, variant="residual_cov")


def test_covariance_skip_is_the_gaussian_score():
  """With a zero output layer, −δ̂/σ of "residual_cov" is ∇ log N(x; θm, θ²Σ + σ²I) of the fitted
  Gaussian (jax.grad of its log density), and the fitted Σ is the patterns' covariance."""
  params = COV.init_params(jax.random.PRNGKey(0))
  assert {"data_mean", "data_basis", "data_eigvals"} <= set(params) and "data_var" not in params
  assert sum(x.size for x in jax.tree.leaves(params)) == COV.param_count()
  assert model_from_params(params) == COV
  mix = jax.random.normal(jax.random.PRNGKey(2), (5, 5))
  y = jax.random.normal(jax.random.PRNGKey(3), (400, 5)) @ mix + jnp.arange(5.0)
  p = with_data_statistics(params, y)
  p = {**p, "output": jax.tree.map(jnp.zeros_like, p["output"])}
  cov = np.cov(np.asarray(y).T, bias=True)
  u, lam = np.asarray(p["data_basis"]), np.asarray(p["data_eigvals"])
  np.testing.assert_allclose(u @ np.diag(lam) @ u.T, cov, rtol=1e-4, atol=1e-4)
  sde = VPSDE(1.0)
  x = jax.random.normal(jax.random.PRNGKey(4), (3, 5)) * 2.0
  for t in (0.05, 0.7, 3.0):
    th = float(sde.theta(t))
    c = th ** 2 * jnp.asarray(cov, jnp.float32) + (1 - th ** 2) * jnp.eye(5)
    logp = lambda z: -0.5 * (z - th * p["data_mean"]) @ jnp.linalg.solve(c, z - th * p["data_mean"])
    want = jax.vmap(jax.grad(logp))(x)
    got = jax.vmap(lambda z: learned_score_fn(sde)(p, z, jnp.float32(t)))(x)
    np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)
  # at initialisation the skip is the prior's: σ x (U = I, λ = 1)
  init_zero = {**params, "output": jax.tree.map(jnp.zeros_like, params["output"])}
  np.testing.assert_allclose(COV.predict_noise(init_zero, x[0], jnp.float32(0.6)), 0.8 * x[0], rtol=1e-5)


def test_covariance_statistics_are_fitted_on_real_rows_only():
  pats = binary_patterns(4, 6, 5)
  mask = jnp.array([1, 1, 1, 1, 0, 0], jnp.float32)
  st = ts.fit(COV, jax.random.PRNGKey(0), pats, mask, cfg=_cfg(n_iterations=10, batch_size=4))
  real = np.asarray(pats)[:4]
  u, lam = np.asarray(st.params["data_basis"]), np.asarray(st.params["data_eigvals"])
  np.testing.assert_allclose(st.params["data_mean"], real.mean(0), atol=1e-6)
  full = u @ np.diag(lam) @ u.T
  np.testing.assert_allclose(full, np.cov(real.T, bias=True) + _floor_part(real), atol=2e-4)


def _floor_part(real):
  # the eigenvalues below DATA_VAR_FLOOR are raised to it
  w, v = np.linalg.eigh(np.cov(real.T, bias=True))
  return v @ np.diag(np.maximum(w, DATA_VAR_FLOOR) - w) @ v.T


def test_data_statistics_are_set_by_fit_and_never_trained():
  pats = binary_patterns(4, 5, 6)
  mask = jnp.array([1, 1, 1, 0, 0], jnp.float32)
  st = ts.fit(RES, jax.random.PRNGKey(0), pats, mask, cfg=_cfg(n_iterations=20, batch_size=4))
  real = np.asarray(pats)[:3]
  np.testing.assert_allclose(st.params["data_mean"], real.mean(0), atol=1e-6)
  np.testing.assert_allclose(st.params["data_var"], np.maximum(real.var(0), DATA_VAR_FLOOR), atol=1e-6)
  # the paper network has no skip: with_data_statistics leaves it alone
  p = SMALL.init_params(jax.random.PRNGKey(0))
  assert with_data_statistics(p, pats) is p


def test_alive_fraction_on_a_hand_built_network():
  net = ScoreMLP(dim=2, hidden=3)
  p = jax.tree.map(jnp.zeros_like, net.init_params(jax.random.PRNGKey(0)))
  # input unit 0 fires for x₀ > 0, unit 1 for x₀ < 0, unit 2 never (bias −10)
  p["input"]["kernel"] = jnp.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
  p["input"]["bias"] = jnp.array([0.0, 0.0, -10.0])
  # hidden unit 0 copies input unit 0; units 1, 2 are dead (negative bias)
  p["hidden"]["kernel"] = jnp.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
  p["hidden"]["bias"] = jnp.array([0.0, -1.0, -1.0])
  x = jnp.array([[1.0, 0.0], [-1.0, 0.0]])
  assert alive_fraction(p, x, 0.8) == pytest.approx({"input": 2 / 3, "hidden": 1 / 3})
  assert alive_fraction(p, x[:1], jnp.array([0.8])) == pytest.approx({"input": 1 / 3, "hidden": 1 / 3})
  assert alive_fraction(p, x[1:], 0.8) == pytest.approx({"input": 1 / 3, "hidden": 0.0})
  # the residual variant's LayerNorm keeps units alive at initialisation
  r = RES.init_params(jax.random.PRNGKey(0))
  frac = alive_fraction(r, jax.random.normal(jax.random.PRNGKey(1), (64, 6)), 0.7)
  assert min(frac.values()) > 0.9
  with pytest.raises(ValueError, match="x must have shape"):
    alive_fraction(p, jnp.zeros((3,)), 0.8)


def test_minibatch_recipe_lowers_the_loss():
  pats = binary_patterns(2, 8, 6)
  st = ts.fit(RES, jax.random.PRNGKey(0), pats,
              cfg=_cfg(n_iterations=300, chunk_size=100, batch_size=8, theta_min=0.01, schedule="cosine"))
  curve = ts.loss_curve(st)
  assert curve[-50:].mean() < 0.7 * curve[:20].mean()
  # a minibatch draws only real patterns: a padded set with the mask trains like the set alone
  padded = jnp.concatenate([pats, 100.0 * jnp.ones((4, 6))])
  mask = jnp.concatenate([jnp.ones(8), jnp.zeros(4)])
  key = jax.random.PRNGKey(3)
  params = RES.init_params(key)
  loss = ts.minibatch_loss(RES, params, padded, mask, key, 64)
  assert float(loss) < 50.0           # a drawn padding row (100s) would cost ~10⁴


def test_recipe_settings_name_themselves():
  with pytest.raises(ValueError, match="variant"):
    ScoreMLP(dim=3, hidden=4, variant="wide")
  with pytest.raises(ValueError, match="batch_size"):
    ts.ScoreTrainConfig(batch_size=0)
  with pytest.raises(ValueError, match="schedule"):
    ts.ScoreTrainConfig(schedule="linear")
  assert ts.ScoreTrainConfig().run_settings() == ts.ScoreTrainConfig(batch_size=None).run_settings()
  assert "batch_size" not in ts.ScoreTrainConfig().run_settings()


# ----------------------------------------------------------------------------- unit-mixture head

MIX = ScoreMLP(dim=5, hidden=16, variant="unit_mixture", components=3)


def _mixture_params(logit_bias):
  """MIX parameters whose logits are the constant `logit_bias` (d·K,) (output kernels zero), with a
  fixed 3-component unit prior."""
  p = MIX.init_params(jax.random.PRNGKey(0))
  p = {**p, "output": {"kernel": jnp.zeros_like(p["output"]["kernel"]),
                       "theta_kernel": jnp.zeros_like(p["output"]["theta_kernel"]),
                       "bias": jnp.asarray(logit_bias, jnp.float32)},
       "data_means": jnp.array([-1.0, 0.2, 0.9]), "data_vars": jnp.array([1e-4, 0.09, 4e-4]),
       "data_log_weights": jnp.log(jnp.array([0.7, 0.2, 0.1]))}
  return p


@pytest.mark.parametrize("t", [0.01, 0.3, 2.0])
def test_unit_mixture_head_is_the_mixture_score(t):
  """With constant logits b, −δ̂/σ of "unit_mixture" is jax.grad of
  Σ_i log Σ_k π_ik N(x_i; θv_k, θ²τ_k² + σ²), π_i = softmax(b_i + log π): the exact score of
  independent units with those priors."""
  bias = jax.random.normal(jax.random.PRNGKey(1), (5 * 3,))
  p = _mixture_params(bias)
  sde = VPSDE(0.8)
  th, var = float(sde.theta(t)), float(sde.variance(t))
  log_pi = jax.nn.log_softmax(bias.reshape(5, 3) + p["data_log_weights"], axis=-1)
  s = th ** 2 * p["data_vars"] + var

  def logp(x):
    comp = log_pi - 0.5 * jnp.log(2 * jnp.pi * s) - 0.5 * (x[:, None] - th * p["data_means"]) ** 2 / s
    return jnp.sum(jax.scipy.special.logsumexp(comp, axis=-1))

  x = jax.random.normal(jax.random.PRNGKey(2), (4, 5)) * 1.3
  want = jax.vmap(jax.grad(logp))(x)
  got = jax.vmap(lambda z: learned_score_fn(sde)(p, z, jnp.float32(t)))(x)
  np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3 * float(np.max(np.abs(want))))
  # the shapes and parameter count
  assert sum(a.size for a in jax.tree.leaves(p)) == MIX.param_count()
  assert MIX.output_width == 15 and model_from_params(p) == MIX


def test_unit_mixture_denoises_a_point_mass_exactly():
  """A unit whose prior is (almost all) the −1 component is denoised to −1 at low noise: E[δ | x] is
  (x + θ) / σ, so θ·x̂₀ = x − σ δ̂ = −θ."""
  bias = jnp.tile(jnp.array([30.0, 0.0, 0.0]), 5)
  p = _mixture_params(bias)
  th = 0.995
  sig = np.sqrt(1 - th ** 2)
  x = -th + sig * jax.random.normal(jax.random.PRNGKey(3), (5,))
  x0 = (x - sig * MIX.predict_noise(p, x, jnp.float32(th))) / th
  np.testing.assert_allclose(x0, -1.0, atol=2e-3)


def test_fit_unit_mixture_recovers_a_known_mixture_and_ignores_masked_rows():
  key = jax.random.PRNGKey(4)
  k1, k2 = jax.random.split(key)
  comp = jax.random.choice(k1, 3, (600, 40), p=jnp.array([0.6, 0.3, 0.1]))
  means, stds = jnp.array([-1.0, 0.0, 1.5]), jnp.array([0.05, 0.3, 0.1])
  y = means[comp] + stds[comp] * jax.random.normal(k2, comp.shape)
  m, v, lw = fit_unit_mixture(y, None, 3)
  np.testing.assert_allclose(m, means, atol=0.02)
  np.testing.assert_allclose(jnp.sqrt(v), stds, rtol=0.05)
  np.testing.assert_allclose(jnp.exp(lw), [0.6, 0.3, 0.1], atol=0.01)
  # rows with weight 0 (padding) change nothing
  padded = jnp.concatenate([y, jnp.full((50, 40), 7.0)])
  mask = jnp.concatenate([jnp.ones(600), jnp.zeros(50)])
  for a, b in zip(fit_unit_mixture(padded, mask, 3), (m, v, lw)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  # with_data_statistics sets the fitted mixture, and training never changes it
  st = ts.fit(MIX, jax.random.PRNGKey(0), y[:30, :5], None, cfg=_cfg(n_iterations=20, batch_size=8))
  m5, v5, lw5 = fit_unit_mixture(y[:30, :5], None, 3)
  np.testing.assert_allclose(st.params["data_means"], m5, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(st.params["data_vars"], v5, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(st.params["data_log_weights"], lw5, rtol=1e-5, atol=1e-6)
  assert bool(jnp.all(jnp.isfinite(st.losses)))


def test_unit_mixture_bad_settings():
  with pytest.raises(ValueError, match="components"):
    ScoreMLP(dim=4, hidden=8, variant="unit_mixture", components=1)
  with pytest.raises(ValueError, match="patterns"):
    fit_unit_mixture(jnp.zeros((3,)))
  with pytest.raises(ValueError, match="weights"):
    fit_unit_mixture(jnp.zeros((3, 2)), jnp.ones(4))
  with pytest.raises(ValueError, match="components"):
    fit_unit_mixture(jnp.zeros((3, 2)), None, 1)
  with pytest.raises(ValueError, match="patterns contains non-finite"):
    fit_unit_mixture(jnp.array([[0.0, jnp.nan], [1.0, 0.5]]))
  for bad_w in (jnp.array([1.0, -1.0, 1.0]), jnp.zeros(3), jnp.array([1.0, jnp.inf, 0.0])):
    with pytest.raises(ValueError, match="weights"):
      fit_unit_mixture(jnp.zeros((3, 2)), bad_w)
  p = MIX.init_params(jax.random.PRNGKey(0))
  bad = {**p, "data_log_weights": jnp.zeros(4)}
  with pytest.raises(ValueError, match="components"):
    model_from_params(bad)


def test_train_flops_counts_the_mixture_logits():
  m = ScoreMLP(dim=16, hidden=64, variant="unit_mixture", components=4)
  per_row = 2 * (2 * 17 * 64 + 3 * 65 * 64 + 3 * 65 * 64)
  assert ts.train_flops(m, 3) == per_row * 3
