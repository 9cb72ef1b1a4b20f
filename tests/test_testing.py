"""assocmem.testing: every assertion passes on a correct input and fails on a planted bug.

The last section runs the memory-protocol conformance suite on every built-in memory.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am
from assocmem import mixture, testing

KEY = jax.random.PRNGKey(0)


# ----------------------------------------------------------------------------- helpers

def test_data_helpers_are_seeded_and_shaped():
  p = testing.binary_patterns(3, 4, 16)
  assert p.shape == (4, 16) and p.dtype == jnp.float32
  np.testing.assert_array_equal(np.abs(p), 1.0)
  np.testing.assert_array_equal(p, testing.binary_patterns(3, 4, 16))
  assert not np.array_equal(p, testing.binary_patterns(4, 4, 16))
  g = testing.gaussian_array(0, (200, 3), jnp.float32, scale=2.0)
  assert g.shape == (200, 3) and 1.5 < float(g.std()) < 2.5
  flipped = testing.flip_bits(p, 5, seed=1)
  assert np.all(np.sum(np.asarray(flipped) != np.asarray(p), -1) == 5)


# ----------------------------------------------------------------------------- assert_trees_allclose

def _tree(scale=1.0):
  return {"a": jnp.arange(4.0) * scale, "b": (jnp.ones((2, 3)), 2.0), "bank": am.make_bank(jnp.eye(3))}


def test_trees_allclose_passes_on_close_trees():
  testing.assert_trees_allclose(_tree(), _tree(1.0 + 1e-7))
  testing.assert_trees_allclose(jnp.array([1.0, jnp.nan]), jnp.array([1.0, jnp.nan]), equal_nan=True)
  testing.assert_trees_allclose(jnp.ones(3), np.ones(3), check_dtypes=False)


@pytest.mark.parametrize("other, match", [
    (lambda t: {**t, "a": t["a"].at[2].add(1e-3)}, r"\['a'\].*1 of 4 values differ.*index \(2,\)"),
    (lambda t: {**t, "b": (jnp.ones((3, 2)), 2.0)}, r"\['b'\]\[0\]: shapes differ"),
    (lambda t: {**t, "a": t["a"].astype(jnp.int32)}, r"\['a'\]: dtypes differ"),
    (lambda t: {"a": t["a"], "b": t["b"]}, "structures differ"),
    (lambda t: {**t, "bank": am.make_bank(2 * jnp.eye(3))}, r"\['bank'\]"),
    (lambda t: {**t, "a": t["a"].at[0].set(jnp.nan)}, "values differ"),
], ids=["value", "shape", "dtype", "structure", "bank leaf", "nan"])
def test_trees_allclose_fails_on_a_planted_difference(other, match):
  with pytest.raises(AssertionError, match=match):
    testing.assert_trees_allclose(other(_tree()), _tree())


# ----------------------------------------------------------------------------- scores

SDE = am.VPSDE(0.8)


def _log_density_fn(sde):
  return lambda bank, x, t: am.log_density(bank, x, t, sde)


def _score_problem():
  bank = am.make_bank(testing.gaussian_array(0, (4, 6), jnp.float64))
  xs = testing.gaussian_array(1, (3, 6), jnp.float64, scale=1.5)
  return bank, xs, jnp.array([0.01, 0.3, 2.0])


def test_score_matches_log_density_passes_on_the_exact_score(x64):
  bank, xs, ts = _score_problem()
  testing.assert_score_matches_log_density(am.exact_score_fn(SDE), _log_density_fn(SDE), bank, xs, ts,
                                           rtol=1e-9, atol=1e-9)
  # one absolute tolerance per time, and the eager path
  testing.assert_score_matches_log_density(am.exact_score_fn(SDE), _log_density_fn(SDE), bank, xs, ts,
                                           rtol=1e-9, atol=1e-9 * np.ones(3), jit=False)


@pytest.mark.parametrize("bug", ["flipped sign", "factor 1.001", "wrong schedule"])
def test_score_matches_log_density_fails_on_a_planted_bug(x64, bug):
  bank, xs, ts = _score_problem()
  exact = am.exact_score_fn(SDE)
  wrong = {"flipped sign": lambda b, x, t: -exact(b, x, t),
           "factor 1.001": lambda b, x, t: 1.001 * exact(b, x, t),
           "wrong schedule": am.exact_score_fn(am.VPSDE(0.81))}[bug]
  with pytest.raises(AssertionError, match="closed-form score != jax.grad"):
    testing.assert_score_matches_log_density(wrong, _log_density_fn(SDE), bank, xs, ts, rtol=1e-7, atol=1e-7)


def test_score_matches_log_density_fails_on_a_non_finite_score(x64):
  bank, xs, ts = _score_problem()
  nan_at_small_t = lambda b, x, t: jnp.where(t < 0.1, jnp.nan, 1.0) * am.exact_score_fn(SDE)(b, x, t)  # noqa: E731
  with pytest.raises(AssertionError, match="score_fn is not finite.*t = 0.01"):
    testing.assert_score_matches_log_density(nan_at_small_t, _log_density_fn(SDE), bank, xs, ts)


# ----------------------------------------------------------------------------- fixed points

PATTERNS = testing.binary_patterns(0, 6, 32)


def test_fixed_points_pass_for_a_modern_hopfield_memory_and_an_update_rule():
  mem = am.ModernHopfield(beta=20.0, n_steps=3)
  testing.assert_fixed_points(mem, mem.store(None, PATTERNS), PATTERNS, atol=1e-5)
  update = lambda p, ys: jax.vmap(lambda y: am.mhn_update(p, y, 20.0))(ys)  # noqa: E731
  testing.assert_fixed_points(update, PATTERNS, PATTERNS, atol=1e-5)
  hebb = am.ClassicalHopfield(n_steps=2)
  few = testing.binary_patterns(5, 3, 128)
  testing.assert_fixed_points(hebb, hebb.store(None, few), few, binary=True)


@pytest.mark.parametrize("bug", ["low beta", "batch order ignored", "over capacity"])
def test_fixed_points_fail_on_a_planted_bug(bug):
  if bug == "low beta":            # softmax ~ uniform: every recall is the mean pattern
    mem = am.ModernHopfield(beta=1e-3, n_steps=3)
    state, kw = mem.store(None, PATTERNS), {}
  elif bug == "batch order ignored":
    good = am.ModernHopfield(beta=20.0, n_steps=3)
    mem = lambda s, ys: jnp.roll(good.recall(s, ys), 1, axis=0)  # noqa: E731
    state, kw = good.store(None, PATTERNS), {}
  else:                            # 12 random patterns in d = 16: beyond a Hebbian network's capacity
    mem = am.ClassicalHopfield(n_steps=2)
    state, kw = mem.store(None, testing.binary_patterns(7, 12, 16)), {"binary": True}
  patterns = testing.binary_patterns(7, 12, 16) if bug == "over capacity" else PATTERNS
  with pytest.raises(AssertionError, match="stored patterns are not fixed points"):
    testing.assert_fixed_points(mem, state, patterns, **kw)


# ----------------------------------------------------------------------------- memory protocol

@dataclasses.dataclass(frozen=True)
class SoftNearest:
  """A user-written memory: recall = softmax(β Xc) X; replay = recall of N(0, I) noise."""
  beta: float = 4.0

  def store(self, key, data):
    del key
    return jnp.asarray(data)

  def recall_one(self, state, cue):
    return jax.nn.softmax(self.beta * state @ cue) @ state

  def recall(self, state, cues, key=None):
    del key
    return jax.vmap(lambda c: self.recall_one(state, c))(cues)

  def replay(self, state, key, n):
    return self.recall(state, jax.random.normal(key, (n, state.shape[1])))

  def dim(self, state):
    return int(state.shape[1])

  def capacity(self, state):
    return int(state.shape[0])


@dataclasses.dataclass(frozen=True)
class NoisyNearest(SoftNearest):
  """A stochastic user memory that needs a key, with the protocol's chunked `batch_size`."""

  def recall(self, state, cues, key=None, *, batch_size=None):
    if key is None:
      raise ValueError("key is required")
    keys = jax.random.split(key, cues.shape[0])     # per-item keys first, then chunks
    one = lambda c, k: self.recall_one(state, c) + 0.1 * jax.random.normal(k, c.shape)  # noqa: E731
    if batch_size is None:
      return jax.vmap(one)(cues, keys)
    return jnp.concatenate([jax.vmap(one)(cues[i:i + batch_size], keys[i:i + batch_size])
                            for i in range(0, cues.shape[0], batch_size)])

  def replay(self, state, key, n, *, batch_size=None):
    k0, k1 = jax.random.split(key)
    return self.recall(state, jax.random.normal(k0, (n, state.shape[1])), k1, batch_size=batch_size)


class BatchReversed(SoftNearest):
  def recall(self, state, cues, key=None):
    return super().recall(state, cues[::-1], key)


class CrossTalk(SoftNearest):
  def recall(self, state, cues, key=None):
    return super().recall(state, cues, key) + 0.1 * cues.mean(0)


class GlobalRNG(SoftNearest):
  def replay(self, state, key, n):
    return self.recall(state, jnp.asarray(np.random.standard_normal((n, state.shape[1])), jnp.float32))


class ShortReplay(SoftNearest):
  def replay(self, state, key, n):
    return super().replay(state, key, n - 1)


class DropsAUnit(SoftNearest):
  def recall(self, state, cues, key=None):
    return super().recall(state, cues, key)[:, :-1]


class PythonControlFlow(SoftNearest):
  def recall(self, state, cues, key=None):
    scale = 1.0 if float(jnp.max(jnp.abs(state))) <= 1 else 0.5   # concrete only: fails under jit
    return super().recall(state, scale * cues, key)


class KeysPerChunk(NoisyNearest):
  def recall(self, state, cues, key=None, *, batch_size=None):
    if batch_size is None:
      return super().recall(state, cues, key)
    parts = [super(KeysPerChunk, self).recall(state, cues[i:i + batch_size], jax.random.fold_in(key, i))
             for i in range(0, cues.shape[0], batch_size)]
    return jnp.concatenate(parts)


class WrongDim(SoftNearest):
  def dim(self, state):
    return int(state.shape[1]) + 1


class IgnoresKey(NoisyNearest):
  def replay(self, state, key, n, *, batch_size=None):
    return super().replay(state, jax.random.PRNGKey(0), n, batch_size=batch_size)


DATA = testing.binary_patterns(1, 5, 8)


def test_memory_protocol_passes_on_user_memories():
  state = testing.assert_memory_protocol(SoftNearest(), KEY, DATA, stochastic=False)
  np.testing.assert_array_equal(state, DATA)
  testing.assert_memory_protocol(NoisyNearest(), KEY, DATA, stochastic=True)


@pytest.mark.parametrize("memory, match", [
    (BatchReversed(), "differs from the recall of cue 0 alone"),
    (CrossTalk(), "differs from the recall of cue 0 alone"),
    (GlobalRNG(), "replay is not deterministic under a key"),
    (ShortReplay(), r"replay\(state, key, 3\) returned shape \(2, 8\)"),
    (DropsAUnit(), r"returned shape \(3, 7\), expected \(3, 8\)"),
    (PythonControlFlow(), "under jax.jit.*raised"),
    (KeysPerChunk(), r"batch_size=\d\) differs from the unchunked"),
    (WrongDim(), r"dim\(state\) is 9"),
    (IgnoresKey(), "same output for two different keys"),
], ids=lambda v: type(v).__name__ if not isinstance(v, str) else "")
def test_memory_protocol_fails_on_a_planted_bug(memory, match):
  with pytest.raises(AssertionError, match=match):
    testing.assert_memory_protocol(memory, KEY, DATA, stochastic=True if isinstance(memory, NoisyNearest) else None)


def test_memory_protocol_names_a_missing_method():
  with pytest.raises(AssertionError, match="no replay"):
    testing.assert_memory_protocol(type("NoReplay", (), {"store": lambda *a: a, "recall": lambda *a: a})(), KEY, DATA)


# ----------------------------------------------------------------------------- modes

BANK = am.make_bank(testing.gaussian_array(2, (40, 6)))
XS = testing.gaussian_array(3, (5, 6))
MODES = {"dense": mixture.Dense(), "streaming": mixture.Streaming(8),
         "sharded": mixture.Sharded(mixture.device_mesh(1), "bank", mixture.Streaming(16))}


def _mhn(bank, mode):
  return jax.vmap(lambda x: am.mhn_update(bank, x, 2.0, mode))(XS)


def test_modes_agree_on_the_mixture_primitive():
  testing.assert_modes_agree(lambda m: _mhn(BANK, m), MODES, rtol=1e-5, atol=1e-5)
  testing.assert_modes_agree(lambda m: _mhn(BANK, m), list(MODES.values())[:2], rtol=1e-5, atol=1e-5)


def test_modes_agree_fails_when_streaming_drops_the_last_chunk():
  def buggy(mode):
    if isinstance(mode, mixture.Streaming):   # the planted bug: the last chunk of 8 slots is lost
      return _mhn(am.make_bank(BANK.patterns[:-mode.chunk_size]), mode)
    return _mhn(BANK, mode)

  with pytest.raises(AssertionError, match="mode streaming disagrees with mode dense"):
    testing.assert_modes_agree(buggy, MODES, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- convergence order

def _euler_decay(n, rate=1.0, steps=None):
  """Euler for dx/dt = −rate·x from x(0) = 1 to T = 1 with n steps (exact: e^−1 when rate = 1)."""
  return np.prod([1.0 - rate / n] * (steps or n))


def test_convergence_order_of_euler_is_one():
  order = testing.assert_convergence_order(_euler_decay, np.exp(-1.0), [10, 20, 40, 80], 1.0,
                                           tolerance=0.1, max_order=1.1)
  assert 0.95 < order < 1.05
  assert abs(testing.measure_order([1, 2, 4], [1.0, 0.25, 0.0625]) - 2.0) < 1e-12


@pytest.mark.parametrize("bug, match", [
    ("O(1) bias", "observed order"),             # a wrong drift: the error tends to a constant
    ("half order", "observed order"),            # error ~ n^−½
    ("exact", "exactly 0"),                      # the order of an exact answer cannot be measured
    ("too good", "max_order"),
])
def test_convergence_order_fails_on_a_planted_bug(bug, match):
  sampler = {"O(1) bias": lambda n: _euler_decay(n, rate=1.05),
             "half order": lambda n: np.exp(-1.0) + 1.0 / np.sqrt(n),
             "exact": lambda n: np.exp(-1.0),
             "too good": lambda n: np.exp(-1.0) + 1.0 / n**3}[bug]
  with pytest.raises(AssertionError, match=match):
    testing.assert_convergence_order(sampler, np.exp(-1.0), [10, 20, 40, 80], 1.0, tolerance=0.2,
                                     max_order=1.5)


# ----------------------------------------------------------------------------- built-in memories

def _tiny_vae():
  from assocmem.memories.vae import VAEMemory   # pylint: disable=import-outside-toplevel
  from assocmem.nn.vae import VAEConfig          # pylint: disable=import-outside-toplevel
  from assocmem.train import vae as train_vae    # pylint: disable=import-outside-toplevel
  config = VAEConfig(image_shape=(8, 8, 1), latent_dim=4, arch="large", encoder_filters=(8,),
                     decoder_filters=(8,), decoder_base_channels=8, encoder_kernel=4, dropout_rate=0.1)
  return VAEMemory(config=config, train=train_vae.TrainConfig(epochs=1, batch_size=8, patience=None),
                   batch_size=8)


def _tiny_learned():
  from assocmem.memories.learned import LearnedDiffusion   # pylint: disable=import-outside-toplevel
  from assocmem.train.score import ScoreTrainConfig         # pylint: disable=import-outside-toplevel
  return LearnedDiffusion(hidden=16, n_steps=5, replay_steps=5,
                          train=ScoreTrainConfig(n_iterations=10, chunk_size=10, log_every_s=1e9))


BUILTIN = {
    # name: (memory factory, data, stochastic recall, jit/vmap)
    # the key draws the asynchronous update order; cued with stored patterns the order does not matter
    "classical_hopfield": (lambda: am.ClassicalHopfield(n_steps=3, schedule="async"), None, None, True),
    "modern_hopfield": (lambda: am.ModernHopfield(beta=5.0, n_steps=10, replay_steps=5), None, False, True),
    "exact_diffusion_ode": (lambda: am.ExactDiffusion(n_steps=5, replay_steps=5), None, False, True),
    "exact_diffusion_sde": (lambda: am.ExactDiffusion(n_steps=5, replay_steps=5, sampler="sde"), None, True,
                            True),
    "learned_diffusion": (_tiny_learned, None, False, True),
    "vae": (_tiny_vae, "images", True, False),
}


@pytest.mark.parametrize("name", list(BUILTIN))
def test_every_builtin_memory_passes_the_protocol_suite(name):
  factory, data, stochastic, traced = BUILTIN[name]
  if data == "images":
    data = np.clip(np.asarray(testing.gaussian_array(4, (16, 64))) * 0.2 + 0.5, 0.0, 1.0)
  else:
    data = testing.binary_patterns(4, 4, 8)
  # two cues (each recalled alone too) keep the number of compilations, and the time, down
  testing.assert_memory_protocol(factory(), jax.random.PRNGKey(1), data, cues=data[:2], stochastic=stochastic,
                                 jit=traced, vmap=traced)
