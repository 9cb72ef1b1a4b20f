"""Memories (ModernHopfield, ExactDiffusion, ClassicalHopfield): store / recall / replay."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am

D, N = 16, 4
PATTERNS = np.random.default_rng(0).choice([-1.0, 1.0], size=(N, D)).astype(np.float32)


def _nearest_hamming(samples, patterns):
  """Hamming error of each binarised sample to its nearest stored pattern."""
  errs = jax.vmap(lambda s: am.hamming_error(jnp.broadcast_to(s, patterns.shape), patterns))(samples)
  return np.asarray(errs.min(-1))


MEMORIES = {
    "mhn": am.ModernHopfield(beta=5.0, n_steps=30),
    "diffusion_ode": am.ExactDiffusion(cue_theta=0.8, n_steps=100),
    "diffusion_sde": am.ExactDiffusion(cue_theta=0.8, n_steps=100, sampler="sde"),
    "classical": am.ClassicalHopfield(n_steps=5, mode="async"),
}


@pytest.mark.parametrize("name", list(MEMORIES))
def test_store_recall_replay_shapes(name):
  mem = MEMORIES[name]
  state = mem.store(jnp.asarray(PATTERNS))
  if name == "classical":
    assert state.shape == (D, D)
  else:
    np.testing.assert_array_equal(state, PATTERNS)
  out = mem.recall(state, jnp.asarray(PATTERNS[0]) * 0.7, jax.random.PRNGKey(0))
  assert out.shape == (D,) and bool(jnp.all(jnp.isfinite(out)))
  replays = mem.replay(state, jax.random.PRNGKey(1), 3)
  assert replays.shape == (3, D) and bool(jnp.all(jnp.isfinite(replays)))


@pytest.mark.parametrize("name", list(MEMORIES))
def test_recall_of_lightly_corrupted_cue_returns_pattern(name):
  mem = MEMORIES[name]
  patterns = jnp.asarray(PATTERNS)
  state = mem.store(patterns)
  keys = jax.random.split(jax.random.PRNGKey(2), N)
  if name == "classical":
    # N = 4 random patterns in d = 16 exceeds a Hebbian net's capacity: use orthogonal-ish ones.
    patterns = jnp.asarray(np.random.default_rng(1).choice([-1.0, 1.0], size=(2, 64)), jnp.float32)
    state = mem.store(patterns)
    cues = patterns.at[:, :4].multiply(-1.0)
    keys = keys[:2]
  else:
    cues = jax.vmap(lambda k, y: am.denoising_cue(k, y, 0.9))(keys, patterns)
  out = jax.vmap(lambda c, k: mem.recall(state, c, k))(cues, jax.random.split(jax.random.PRNGKey(3), len(cues)))
  np.testing.assert_array_equal(am.binarize(out), patterns)
  if name.startswith("diffusion"):
    assert float(jnp.max(jnp.abs(out - patterns))) < 0.2   # close in L2 too, not only in sign


def test_recall_vmap_equals_loop():
  mem = am.ExactDiffusion(cue_theta=0.8, n_steps=50)
  state = mem.store(jnp.asarray(PATTERNS))
  cues = jax.random.normal(jax.random.PRNGKey(4), (3, D))
  f = jax.jit(lambda c: mem.recall(state, c))
  batched = jax.vmap(f)(cues)
  np.testing.assert_allclose(batched, np.stack([f(c) for c in cues]), rtol=1e-5, atol=1e-5)


def test_mhn_replays_land_on_stored_patterns():
  """Seed 000's hippocampal replay: from U(−1, 1) noise, high-β retrieval ends on a stored pattern."""
  mem = am.ModernHopfield(beta=50.0, replay_steps=10)
  state = mem.store(jnp.asarray(PATTERNS))
  replays = mem.replay(state, jax.random.PRNGKey(5), 32)
  dist = jnp.min(jnp.max(jnp.abs(replays[:, None, :] - state[None]), axis=-1), axis=-1)
  np.testing.assert_allclose(dist, 0.0, atol=1e-4)
  # replays are random draws: more than one pattern shows up, and keys matter.
  assert len(set(np.asarray(jnp.argmax(replays @ state.T, -1)).tolist())) > 1
  np.testing.assert_array_equal(mem.replay(state, jax.random.PRNGKey(5), 32), replays)


@pytest.mark.parametrize("sampler", ["ode", "sde"])
def test_exact_diffusion_replays_land_near_stored_patterns(sampler):
  mem = am.ExactDiffusion(sampler=sampler, n_steps=150)
  state = mem.store(jnp.asarray(PATTERNS))
  replays = mem.replay(state, jax.random.PRNGKey(6), 16)
  assert replays.shape == (16, D)
  errs = _nearest_hamming(replays, state)
  assert errs.max() <= 1 / D, errs   # at most one unit off, for every replay
  assert errs.mean() < 0.02
  # close in L2 too (per-unit RMS to the nearest pattern; a N(0, I) state is at ~1.2). The linear
  # 150-step Euler grid to t_end = 1e-3 leaves a residual of a few tenths, so the bound is loose.
  rms = jnp.min(jnp.linalg.norm(replays[:, None] - state[None], axis=-1), axis=-1) / np.sqrt(D)
  assert float(rms.max()) < 0.5, rms


def test_classical_replays_are_fixed_points():
  mem = am.ClassicalHopfield(n_steps=6, mode="async")
  patterns = jnp.asarray(np.random.default_rng(2).choice([-1.0, 1.0], size=(2, 16)), jnp.float32)
  w = mem.store(patterns)
  replays = mem.replay(w, jax.random.PRNGKey(7), 8)
  assert set(np.unique(np.asarray(replays)).tolist()) <= {-1.0, 1.0}
  np.testing.assert_array_equal(jax.vmap(lambda x: am.classical_step(x, w, "async"))(replays), replays)


def test_exact_diffusion_sde_recall_needs_key():
  mem = am.ExactDiffusion(sampler="sde", n_steps=10)
  state = mem.store(jnp.asarray(PATTERNS))
  with pytest.raises(ValueError, match="key"):
    mem.recall(state, jnp.asarray(PATTERNS[0]))
