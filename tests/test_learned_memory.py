"""The learned diffusion memory (seed 002, §4 and §7): training stores the patterns in the weights.

A small network trained on a few patterns has a score close to the exact score near them (and far
closer than before training), and the unchanged ODE sampler recalls them as the exact model does.
The memory follows the protocol (fit/store, batched recall, replay) and rejects bad settings.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import ExactDiffusion, LearningMemory, denoising_cue, exact_score_fn, make_bank
from assocmem.memories.learned import LearnedDiffusion
from assocmem.train.score import ScoreTrainConfig
from assocmem.train.state import TrainState

from conftest import binary_patterns

D, N = 8, 3


@pytest.fixture(scope="module")
def trained():
  """A 128-unit network trained for 1,000 steps on 3 random patterns in d = 8 (a few seconds)."""
  mem = LearnedDiffusion(hidden=128, n_steps=100,
                         train=ScoreTrainConfig(n_iterations=1000, chunk_size=500, log_every_s=1e9))
  patterns = binary_patterns(3, N, D)
  state = mem.fit_train_state(jax.random.PRNGKey(1), patterns)
  return mem, patterns, state


def _cues(key, patterns, theta, repeats):
  ys = jnp.tile(patterns, (repeats, 1))
  return ys, jax.vmap(denoising_cue, (0, 0, None))(jax.random.split(key, ys.shape[0]), ys, theta)


def test_learned_score_approaches_the_exact_score_near_the_patterns(trained):
  mem, patterns, state = trained
  sde = mem.sde
  exact, learned = exact_score_fn(sde), mem.score_fn
  bank = make_bank(patterns)
  untrained = mem.model(D).init_params(jax.random.PRNGKey(1))
  for theta in (0.7, 0.8, 0.9):
    t = sde.t_start(theta)
    _, xs = _cues(jax.random.PRNGKey(5), patterns, theta, 8)
    e = jax.vmap(lambda x: exact(bank, x, t))(xs)
    rel = jnp.linalg.norm(jax.vmap(lambda x: learned(state.params, x, t))(xs) - e) / jnp.linalg.norm(e)
    rel0 = jnp.linalg.norm(jax.vmap(lambda x: learned(untrained, x, t))(xs) - e) / jnp.linalg.norm(e)
    assert float(rel) < 0.5, (theta, float(rel))
    assert float(rel) < 0.45 * float(rel0), (theta, float(rel), float(rel0))
  curve = np.asarray(state.losses)
  assert curve[-100:].mean() < 0.5 * curve[:20].mean()


def test_ode_sampler_recalls_the_stored_patterns(trained):
  mem, patterns, state = trained
  ys, cues = _cues(jax.random.PRNGKey(7), patterns, mem.cue_theta, 20)
  out = mem.recall(state.params, cues)
  assert out.shape == cues.shape
  ex = ExactDiffusion(n_steps=mem.n_steps).recall(make_bank(patterns), cues)
  err_learned = float(jnp.mean(jnp.sign(out) != ys))
  err_exact = float(jnp.mean(jnp.sign(ex) != ys))
  assert err_learned <= err_exact + 0.03
  assert float(jnp.mean(jnp.sign(out) == jnp.sign(ex))) >= 0.95
  # lightly corrupted cues (θ = 0.95) are all recalled exactly
  ys, mild = _cues(jax.random.PRNGKey(8), patterns, 0.95, 4)
  np.testing.assert_array_equal(np.sign(mem.replace(cue_theta=0.95).recall(state.params, mild)), ys)


def test_protocol_and_replay(trained):
  mem, patterns, state = trained
  assert isinstance(mem, LearningMemory)
  assert isinstance(state, TrainState)
  reps = mem.replay(state.params, jax.random.PRNGKey(2), 6)
  assert reps.shape == (6, D) and bool(jnp.all(jnp.isfinite(reps)))
  with pytest.raises(ValueError, match="key"):
    mem.replace(sampler="sde").recall(state.params, patterns)
  sde_out = mem.replace(sampler="sde").recall(state.params, patterns, jax.random.PRNGKey(3))
  assert sde_out.shape == patterns.shape
  with pytest.raises(ValueError, match="cues"):
    mem.recall(state.params, jnp.ones((2, D + 1)))


def test_store_is_fit_with_the_default_settings_and_fit_continues():
  mem = LearnedDiffusion(hidden=16, train=ScoreTrainConfig(n_iterations=20, chunk_size=10, log_every_s=1e9))
  pats = binary_patterns(4, 2, 5)
  a = mem.store(jax.random.PRNGKey(0), pats)
  b = mem.fit(jax.random.PRNGKey(0), pats)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  assert a["hidden"]["kernel"].shape == (16, 16)
  c = mem.fit(jax.random.PRNGKey(1), pats, a)                      # continue from parameters
  assert jax.tree.structure(c) == jax.tree.structure(a)
  assert mem.replace(hidden=None).model(5).hidden == 80 * 5        # App. A: 80·d


def test_bad_settings_name_the_argument():
  with pytest.raises(ValueError, match="hidden"):
    LearnedDiffusion(hidden=0)
  with pytest.raises(ValueError, match="cue_theta"):
    LearnedDiffusion(cue_theta=1.0)
  with pytest.raises(ValueError, match="train"):
    LearnedDiffusion(train={"n_iterations": 5})
  mem = LearnedDiffusion(hidden=8, train=ScoreTrainConfig(n_iterations=5, log_every_s=1e9))
  with pytest.raises(ValueError, match="n_iterations"):
    mem.fit(jax.random.PRNGKey(0), binary_patterns(0, 2, 4), n_iterations=0)
  with pytest.raises(ValueError, match="theta_max"):
    mem.fit(jax.random.PRNGKey(0), binary_patterns(0, 2, 4), theta_max=1.2)
  with pytest.raises(ValueError, match="unknown training settings"):
    mem.fit(jax.random.PRNGKey(0), binary_patterns(0, 2, 4), n_iters=3)
  params = mem.fit(jax.random.PRNGKey(0), binary_patterns(0, 2, 4))
  with pytest.raises(ValueError, match="state"):
    mem.fit(jax.random.PRNGKey(0), binary_patterns(0, 2, 5), params)
