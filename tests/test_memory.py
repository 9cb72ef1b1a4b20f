"""Memories under one protocol: store / write / batched recall / replay (ModernHopfield, ExactDiffusion, ClassicalHopfield)."""

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
    "classical": am.ClassicalHopfield(n_steps=5, schedule="async"),
}


@pytest.mark.parametrize("name", list(MEMORIES))
def test_every_memory_implements_the_protocol(name):
  mem = MEMORIES[name]
  assert isinstance(mem, am.Memory)
  state = mem.store(jax.random.PRNGKey(0), jnp.asarray(PATTERNS))
  if name == "classical":
    assert state.shape == (D, D)
  else:
    assert isinstance(state, am.PatternBank)
    np.testing.assert_allclose(state.patterns, PATTERNS, atol=1e-6)
  out = mem.recall(state, jnp.asarray(PATTERNS[:2]) * 0.7, jax.random.PRNGKey(0))
  assert out.shape == (2, D) and bool(jnp.all(jnp.isfinite(out)))
  replays = mem.replay(state, jax.random.PRNGKey(1), 3)
  assert replays.shape == (3, D) and bool(jnp.all(jnp.isfinite(replays)))
  # settings and states are pytrees: they pass through jit as arguments
  leaves = jax.tree.leaves(state)
  assert leaves and all(isinstance(x, jax.Array) for x in leaves)
  jax.tree.leaves(mem)


@pytest.mark.parametrize("name", list(MEMORIES))
def test_recall_of_lightly_corrupted_cue_returns_pattern(name):
  mem = MEMORIES[name]
  patterns = jnp.asarray(PATTERNS)
  keys = jax.random.split(jax.random.PRNGKey(2), N)
  if name == "classical":
    # N = 4 random patterns in d = 16 exceeds a Hebbian net's capacity: use orthogonal-ish ones.
    patterns = jnp.asarray(np.random.default_rng(1).choice([-1.0, 1.0], size=(2, 64)), jnp.float32)
    cues = patterns.at[:, :4].multiply(-1.0)
  else:
    cues = jax.vmap(lambda k, y: am.denoising_cue(k, y, 0.9))(keys, patterns)
  state = mem.store(None, patterns)
  out = mem.recall(state, cues, jax.random.PRNGKey(3))
  np.testing.assert_array_equal(am.binarize(out), patterns)
  if name.startswith("diffusion"):
    assert float(jnp.max(jnp.abs(out - patterns))) < 0.2   # close in L2 too, not only in sign


def test_batched_recall_equals_one_cue_loop_and_jit():
  mem = am.ExactDiffusion(cue_theta=0.8, n_steps=50)
  state = mem.store(None, jnp.asarray(PATTERNS))
  cues = jax.random.normal(jax.random.PRNGKey(4), (3, D))
  batched = jax.jit(mem.recall)(state, cues)
  loop = np.concatenate([mem.recall(state, c[None]) for c in cues])
  np.testing.assert_allclose(batched, loop, rtol=1e-5, atol=1e-5)


def test_incremental_write_equals_one_shot_store_and_does_not_recompile():
  """Seed 000's hippocampus stores experiences one at a time: writing them into a fixed-capacity
  bank gives the same recalls as storing them all at once, with one compilation."""
  mem = am.ModernHopfield(beta=8.0, n_steps=20)
  data = jnp.asarray(PATTERNS)
  bank = mem.init(D, capacity=8)
  traces = []
  write = jax.jit(lambda b, i, y: (traces.append(1), mem.write(b, i, y))[1])
  for i in range(N):
    bank = write(bank, i, data[i])
  assert len(traces) == 1
  assert int(bank.n_stored()) == N and bank.capacity == 8
  full = mem.store(None, data)
  cues = data * 0.6
  np.testing.assert_allclose(mem.recall(bank, cues), mem.recall(full, cues), atol=1e-5)
  # empty slots never attract a recall
  np.testing.assert_array_equal(am.binarize(mem.recall(bank, cues)), data)


def test_mhn_replays_land_on_stored_patterns():
  """Seed 000's hippocampal replay: from U(−1, 1) noise, high-β retrieval ends on a stored pattern."""
  mem = am.ModernHopfield(beta=50.0, replay_steps=10)
  state = mem.store(None, jnp.asarray(PATTERNS))
  replays = mem.replay(state, jax.random.PRNGKey(5), 32)
  dist = jnp.min(jnp.max(jnp.abs(replays[:, None, :] - PATTERNS[None]), axis=-1), axis=-1)
  np.testing.assert_allclose(dist, 0.0, atol=1e-4)
  assert len(set(np.asarray(jnp.argmax(replays @ PATTERNS.T, -1)).tolist())) > 1
  np.testing.assert_array_equal(mem.replay(state, jax.random.PRNGKey(5), 32), replays)


def test_mhn_tolerance_stops_when_state_no_longer_changes():
  mem = am.ModernHopfield(beta=50.0, n_steps=10, tol=0.0)
  state = mem.store(None, jnp.asarray(PATTERNS))
  out = mem.recall(state, jnp.asarray(PATTERNS) * 0.5)
  np.testing.assert_allclose(out, PATTERNS, atol=1e-6)


@pytest.mark.parametrize("sampler", ["ode", "sde"])
def test_exact_diffusion_replays_recover_stored_patterns_exactly(sampler):
  """Replays from the prior (t ≈ 17) on the geometric grid end on a stored pattern: every sign right
  and within the t_end = 1e-3 kernel width (√v ≈ 0.03 per unit) of it, not "one wrong bit"."""
  mem = am.ExactDiffusion(replay_sampler=sampler, replay_steps=200)
  state = mem.store(None, jnp.asarray(PATTERNS))
  replays = mem.replay(state, jax.random.PRNGKey(6), 16)
  assert replays.shape == (16, D)
  np.testing.assert_array_equal(_nearest_hamming(replays, PATTERNS), 0.0)
  dev = jnp.min(jnp.max(jnp.abs(replays[:, None] - PATTERNS[None]), axis=-1), axis=-1)
  # both samplers keep O(√v_t_end) of the start's offset (the ODE contracts x − θy like √v_t)
  assert float(dev.max()) < 6 * float(jnp.sqrt(mem.sde.variance(mem.t_end))), dev


def test_replay_denoise_is_the_tweedie_step_of_the_raw_replay():
  """replay_denoise=True ends each replay with ŷ = (x + v s(x, t_end)) / θ at t_end: the same raw
  replays (same key) mapped by the exact posterior mean, which for well-separated patterns is the
  stored pattern itself (to float rounding, not the √v ≈ 0.03 kernel width)."""
  raw_mem = am.ExactDiffusion(replay_sampler="sde", replay_steps=200)
  den_mem = am.ExactDiffusion(replay_sampler="sde", replay_steps=200, replay_denoise=True)
  state = raw_mem.store(None, jnp.asarray(PATTERNS))
  raw = raw_mem.replay(state, jax.random.PRNGKey(6), 16)
  den = den_mem.replay(state, jax.random.PRNGKey(6), 16)
  t = jnp.float32(raw_mem.t_end)
  score = jax.vmap(lambda x: raw_mem.score_fn(state, x, t))(raw)
  want = (raw + raw_mem.sde.variance(t) * score) / raw_mem.sde.theta(t)
  np.testing.assert_allclose(den, want, rtol=1e-5, atol=1e-5)
  dev = jnp.min(jnp.max(jnp.abs(den[:, None] - PATTERNS[None]), axis=-1), axis=-1)
  assert float(dev.max()) < 1e-3
  with pytest.raises(ValueError, match="replay_denoise"):
    am.ExactDiffusion(replay_denoise="yes")


def test_linear_grid_from_the_prior_does_not_resolve_small_t():
  """Why replay uses the geometric grid: 300 linear steps from t ≈ 17 take ~2 steps below t = 0.1."""
  ts = am.time_grid(17.3, 1e-3, 300, "linear")
  assert int(jnp.sum(ts < 0.1)) <= 3
  ts = am.time_grid(17.3, 1e-3, 300, "geometric")
  assert int(jnp.sum(ts < 0.1)) >= 140


def test_classical_replays_are_fixed_points():
  mem = am.ClassicalHopfield(n_steps=6, schedule="async")
  patterns = jnp.asarray(np.random.default_rng(2).choice([-1.0, 1.0], size=(2, 16)), jnp.float32)
  w = mem.store(None, patterns)
  replays = mem.replay(w, jax.random.PRNGKey(7), 8)
  assert set(np.unique(np.asarray(replays)).tolist()) <= {-1.0, 1.0}
  np.testing.assert_array_equal(jax.vmap(lambda x: am.classical_step(w, x, "async"))(replays), replays)


def test_exact_diffusion_sde_recall_needs_key():
  mem = am.ExactDiffusion(sampler="sde", n_steps=10)
  state = mem.store(None, jnp.asarray(PATTERNS))
  with pytest.raises(ValueError, match="key"):
    mem.recall(state, jnp.asarray(PATTERNS[:1]))


@pytest.mark.parametrize("make, name", [
    (lambda: am.ModernHopfield(replay_low=1.0, replay_high=-1.0), "replay_low"),
    (lambda: am.ModernHopfield(beta=-1.0), "beta"),
    (lambda: am.ModernHopfield(beta="5"), "beta"),
    (lambda: am.ModernHopfield(tol=-1.0), "tol"),
    (lambda: am.ExactDiffusion(sde="vp"), "sde"),
    (lambda: am.ExactDiffusion(grid="cubic"), "grid"),
    (lambda: am.ExactDiffusion(cue_theta=1.5), "cue_theta"),
])
def test_bad_settings_raise(make, name):
  with pytest.raises(ValueError, match=rf"\b{name}\b"):
    make()


def test_recall_rejects_cues_of_the_wrong_dimension():
  mem = am.ModernHopfield()
  state = mem.store(None, jnp.asarray(PATTERNS))
  with pytest.raises(ValueError, match="cues"):
    mem.recall(state, jnp.ones((2, D + 1)))
  with pytest.raises(ValueError, match="cues"):
    mem.recall(state, jnp.ones(D))
