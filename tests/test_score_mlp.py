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
from assocmem.nn.score_mlp import ScoreMLP, ThetaDense, learned_score_fn, model_from_params
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
