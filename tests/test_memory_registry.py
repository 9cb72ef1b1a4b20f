"""Memories by name, the protocol's dim/capacity/batch_size, and bank layout in one place.

A user's own memory registers by name and is built like the built-in ones; every memory reports
its dimension and capacity and recalls/replays in chunks with the same result as unchunked; bank
memories lay their banks out for the mixture mode themselves (`mixture.bank_slots`,
`mixture.layout_bank`), streaming and sharded over 8 forced CPU devices.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import hopfield, mixture
from assocmem.bank import make_bank
from assocmem.memories import (ClassicalHopfield, ExactDiffusion, LearnedDiffusion, Memory, ModernHopfield,
                               ScoreMemory, VAEMemory, make_memory, memory_names, register_memory)
from assocmem.memories import registry
from assocmem.nn.vae import VAEConfig
from assocmem.train.score import ScoreTrainConfig

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D = 6
TINY_VAE = VAEConfig(image_shape=(8, 8, 1), latent_dim=4, arch="large", encoder_filters=(8,),
                     decoder_filters=(8,), decoder_base_channels=8, encoder_kernel=4, dropout_rate=0.1)


def _patterns(n: int = 5, d: int = D, seed: int = 0) -> jax.Array:
  return jax.random.uniform(jax.random.PRNGKey(seed), (n, d), jnp.float32, -1.0, 1.0)


# ----------------------------------------------------------------------------- a user's own memory

@flax.struct.dataclass
class NearestMemory:
  """A toy memory: stores rows, recalls the nearest stored row (scaled), replays random stored rows."""
  scale: float = flax.struct.field(pytree_node=False, default=1.0)

  def store(self, key, data):
    del key
    return jnp.asarray(data)

  def dim(self, state):
    return state.shape[1]

  def capacity(self, state):
    return state.shape[0]

  def recall(self, state, cues, key=None, *, batch_size=None):
    del key, batch_size
    idx = jnp.argmin(jnp.sum((cues[:, None, :] - state[None]) ** 2, -1), axis=1)
    return self.scale * state[idx]

  def replay(self, state, key, n, *, batch_size=None):
    return self.recall(state, state[jax.random.randint(key, (n,), 0, state.shape[0])], batch_size=batch_size)


def test_a_user_memory_registers_by_name_and_is_made_like_the_builtins():
  assert "nearest" not in memory_names()
  with registry.REGISTRY.registered("nearest", NearestMemory):
    assert "nearest" in memory_names()
    memory = make_memory("nearest", scale=2.0)
    assert isinstance(memory, NearestMemory) and isinstance(memory, Memory)
    x = _patterns()
    state = memory.store(None, x)
    assert memory.dim(state) == D and memory.capacity(state) == 5
    np.testing.assert_allclose(memory.recall(state, x + 0.01), 2.0 * x)
    assert memory.replay(state, jax.random.PRNGKey(0), 3).shape == (3, D)
  assert "nearest" not in memory_names()
  register_memory("nearest_fn", lambda **s: NearestMemory(**s))     # any callable factory
  try:
    assert make_memory("nearest_fn", scale=3.0).scale == 3.0
  finally:
    registry.REGISTRY.unregister("nearest_fn")


def test_builtin_names_make_the_builtin_memories():
  assert memory_names()[:5] == ("classical_hopfield", "modern_hopfield", "exact_diffusion",
                                "learned_diffusion", "vae")
  m = make_memory("modern_hopfield", beta=20.0, mode=mixture.Streaming(4), slots=8)
  assert isinstance(m, ModernHopfield) and m.beta == 20.0 and m.slots == 8
  assert isinstance(make_memory("exact_diffusion"), ExactDiffusion)
  assert isinstance(make_memory("learned_diffusion"), ScoreMemory)
  assert isinstance(make_memory("vae", config=TINY_VAE), VAEMemory)


def test_bad_names_and_settings_raise_value_errors_naming_them():
  with pytest.raises(ValueError, match=r"unknown memory 'nope'.*modern_hopfield"):
    make_memory("nope")
  with pytest.raises(ValueError, match=r"modern_hopfield.*unknown settings \['betta'\]"):
    make_memory("modern_hopfield", betta=2.0)
  with pytest.raises(ValueError, match="beta"):
    make_memory("modern_hopfield", beta=-1.0)          # the memory's own check
  with pytest.raises(ValueError, match="already registered"):
    register_memory("vae", VAEMemory)
  with pytest.raises(ValueError, match="callable"):
    register_memory("not_callable", 3)
  with pytest.raises(ValueError, match="name"):
    register_memory("bad name!", NearestMemory)


# ----------------------------------------------------------------------------- dim, capacity, chunks

def _score_params(d: int = D):
  return LearnedDiffusion(hidden=16).model(d).init_params(jax.random.PRNGKey(3))


def _cases():
  """(name, memory, state, cues, recall key) for every built-in memory (the learned ones untrained:
  chunking is about the arithmetic, not the quality)."""
  x = _patterns()
  cues = _patterns(7, seed=1)
  out = []
  for name, mem in (("modern", ModernHopfield(beta=4.0, n_steps=5, replay_steps=5, slots=6)),
                    ("modern_tol", ModernHopfield(beta=4.0, n_steps=20, tol=0.0)),
                    ("classical", ClassicalHopfield(schedule="async")),
                    ("exact_ode", ExactDiffusion(n_steps=20, replay_steps=20, slots=6)),
                    ("exact_sde", ExactDiffusion(n_steps=20, replay_steps=20, sampler="sde"))):
    out.append((name, mem, mem.store(None, x), cues, jax.random.PRNGKey(2)))
  learned = LearnedDiffusion(hidden=16, n_steps=20, replay_steps=20, sampler="sde",
                             train=ScoreTrainConfig(theta_min=0.05))
  out.append(("learned", learned, _score_params(), cues, jax.random.PRNGKey(2)))
  vae = VAEMemory(config=TINY_VAE, batch_size=4)
  images = np.asarray(jax.random.uniform(jax.random.PRNGKey(4), (7, 64)))
  out.append(("vae", vae, vae.init(jax.random.PRNGKey(5)), images, jax.random.PRNGKey(2)))
  return out


CASES = _cases()
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name,memory,state,cues,key", CASES, ids=IDS)
def test_dim_and_capacity(name, memory, state, cues, key):
  del key
  assert memory.dim(state) == cues.shape[1]
  expected = {"modern": 6, "modern_tol": 5, "exact_ode": 6, "exact_sde": 5}.get(name)
  assert memory.capacity(state) == expected     # None: no slots (weights)
  assert isinstance(memory, Memory)


@pytest.mark.parametrize("name,memory,state,cues,key,batch_size",
                         [c + (3,) for c in CASES] + [CASES[0] + (1,), CASES[0] + (50,)],
                         ids=IDS + ["modern_1", "modern_50"])
def test_chunked_recall_and_replay_equal_unchunked(name, memory, state, cues, key, batch_size):
  """Chunks split the work only: the same per-item keys and starts, so the same answers (up to the
  float rounding of differently shaped batched matmuls; most are bit for bit)."""
  full = np.asarray(memory.recall(state, cues, key))
  chunked = np.asarray(memory.recall(state, cues, key, batch_size=batch_size))
  assert chunked.shape == full.shape == cues.shape
  np.testing.assert_allclose(chunked, full, rtol=1e-5, atol=1e-5, err_msg=name)
  rkey = jax.random.PRNGKey(9)
  full = np.asarray(memory.replay(state, rkey, 5))
  chunked = np.asarray(memory.replay(state, rkey, 5, batch_size=batch_size))
  assert chunked.shape == full.shape == (5, cues.shape[1])
  np.testing.assert_allclose(chunked, full, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name,memory,state,cues,key", CASES, ids=IDS)
def test_bad_batch_size_is_a_value_error(name, memory, state, cues, key):
  del name
  for bad in (0, -2, 2.5, True, "4"):
    with pytest.raises(ValueError, match="batch_size"):
      memory.recall(state, cues, key, batch_size=bad)
    with pytest.raises(ValueError, match="batch_size"):
      memory.replay(state, key, 3, batch_size=bad)


def test_chunked_recall_compiles_one_chunk_under_jit():
  mem = ModernHopfield(beta=4.0, n_steps=5)
  state = mem.store(None, _patterns())
  cues = _patterns(10, seed=1)
  fn = jax.jit(lambda s, c: mem.recall(s, c, batch_size=4))
  np.testing.assert_allclose(fn(state, cues), mem.recall(state, cues), rtol=1e-6, atol=1e-6)
  text = jax.jit(lambda s, c: mem.recall(s, c, batch_size=4)).lower(state, cues).as_text()
  assert "4x6" in text and "10x5" not in text     # the per-chunk similarities, never all 10 cues at once


def test_score_memories_share_one_base():
  assert issubclass(ExactDiffusion, ScoreMemory) and issubclass(LearnedDiffusion, ScoreMemory)
  shared = {"sde", "cue_theta", "n_steps", "t_end", "grid", "sampler", "replay_theta", "replay_steps",
            "replay_grid", "replay_sampler"}
  assert shared <= set(ScoreMemory.__dataclass_fields__)
  assert "recall" not in vars(ExactDiffusion) and "recall" not in vars(LearnedDiffusion)
  assert "replay" not in vars(ExactDiffusion) and "replay" not in vars(LearnedDiffusion)
  for cls in (ExactDiffusion, LearnedDiffusion):
    with pytest.raises(ValueError, match=f"t_start.*{cls.__name__}|sde"):
      cls(sde="vp")
    with pytest.raises(ValueError, match="cue_theta"):
      cls(cue_theta=1.5)
    with pytest.raises(ValueError, match="replay_sampler"):
      cls(replay_sampler="heun")


def test_vae_speaks_one_vocabulary():
  for old in ("encode_images", "reconstruct_images", "decode_latents"):
    assert not hasattr(VAEMemory, old)
  vae = VAEMemory(config=TINY_VAE, batch_size=4)
  state = vae.init(jax.random.PRNGKey(5))
  images = np.asarray(jax.random.uniform(jax.random.PRNGKey(4), (5, 8, 8, 1)))
  flat = images.reshape(5, -1)
  z = vae.encode(state, images)
  np.testing.assert_array_equal(z, vae.encode(state, flat))
  assert z.shape == (5, 4)
  assert vae.decode(state, z).shape == (5, 64)
  np.testing.assert_array_equal(np.asarray(vae.decode(state, z, images=True)),
                                np.asarray(vae.decode(state, z)).reshape(5, 8, 8, 1))
  assert vae.recall(state, images).shape == (5, 8, 8, 1) and vae.recall(state, flat).shape == (5, 64)
  # with a key, one sample per item: the chunks do not change it
  k = jax.random.PRNGKey(1)
  np.testing.assert_allclose(vae.recall(state, flat, k, batch_size=2), vae.recall(state, flat, k), atol=1e-6)
  assert not np.allclose(vae.recall(state, flat, k), vae.recall(state, flat))


# ----------------------------------------------------------------------------- bank layout

def test_bank_slots_pad_to_chunks():
  assert mixture.bank_slots(5) == 5
  assert [mixture.bank_slots(n, mixture.Streaming(4)) for n in (1, 3, 4, 5, 8, 9)] == [1, 3, 4, 8, 8, 12]
  with pytest.raises(ValueError, match="n"):
    mixture.bank_slots(0)
  with pytest.raises(ValueError, match="mode"):
    mixture.bank_slots(5, "streaming")
  with pytest.raises(ValueError, match="bank"):
    mixture.layout_bank(np.zeros((3, 2)), mixture.DENSE)


def test_streaming_memories_lay_out_their_banks_and_recall_as_dense():
  x = _patterns(5)
  cues = _patterns(4, seed=1)
  stream = mixture.Streaming(4)
  bank = make_bank(x)
  laid = mixture.layout_bank(bank, stream)
  assert laid.capacity == 8 and int(laid.n_stored()) == 5
  assert mixture.layout_bank(laid, stream) is laid          # already laid out: unchanged
  assert mixture.layout_bank(bank, mixture.DENSE) is bank
  one = lambda b, md: jax.vmap(lambda c: hopfield.mhn_retrieve(b, c, 4.0, 5, mode=md))(cues)
  np.testing.assert_allclose(one(laid, stream), one(bank, mixture.DENSE), rtol=1e-6, atol=1e-6)
  for cls in (ModernHopfield, ExactDiffusion):
    dense, streaming = cls(), cls(mode=stream)
    s_dense, s_stream = dense.store(None, x), streaming.store(None, x)
    assert dense.capacity(s_dense) == 5 and streaming.capacity(s_stream) == 8
    assert streaming.init(D, 5).capacity == 8 and streaming.init(D, 3).capacity == 3
    np.testing.assert_allclose(streaming.recall(s_stream, cues, jax.random.PRNGKey(0)),
                               dense.recall(s_dense, cues, jax.random.PRNGKey(0)), rtol=1e-5, atol=1e-5)
  with pytest.raises(ValueError, match="slots"):
    ModernHopfield(slots=3).store(None, x)
  with pytest.raises(ValueError, match="slots"):
    ModernHopfield(slots=0)


SHARDED_LAYOUT_SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    from assocmem import mixture
    from assocmem.bank import make_bank
    from assocmem.memories import make_memory
    assert len(jax.devices()) == 8
    mesh = mixture.device_mesh()
    sharded = mixture.Sharded(mesh, "bank")
    sharded_stream = mixture.Sharded(mesh, "bank", mixture.Streaming(4))
    assert [mixture.bank_slots(n, sharded) for n in (1, 5, 8, 9)] == [8, 8, 8, 16]
    assert [mixture.bank_slots(n, sharded_stream) for n in (3, 4, 5, 33)] == [8, 8, 32, 64]
    x = jax.random.uniform(jax.random.PRNGKey(0), (13, 6), jnp.float32, -1.0, 1.0)
    cues = jax.random.uniform(jax.random.PRNGKey(1), (5, 6), jnp.float32, -1.0, 1.0)
    laid = mixture.layout_bank(make_bank(x), sharded_stream)
    assert laid.capacity == 32 and len(laid.centered.sharding.device_set) == 8
    assert laid.centered.sharding.spec[0] == "bank"
    for name, kw in (("modern_hopfield", dict(beta=4.0, n_steps=5)), ("exact_diffusion", dict(n_steps=20))):
      dense = make_memory(name, **kw)
      want = np.asarray(dense.recall(dense.store(None, x), cues, jax.random.PRNGKey(2)))
      for mode, slots in ((sharded, 16), (sharded_stream, 32)):
        mem = make_memory(name, mode=mode, **kw)
        state = mem.store(None, x)            # the memory pads and places its bank itself
        assert mem.capacity(state) == slots, (name, mode, mem.capacity(state))
        assert len(state.centered.sharding.device_set) == 8
        got = jax.jit(lambda s, c: mem.recall(s, c, jax.random.PRNGKey(2), batch_size=2))(state, cues)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)
        empty = mem.init(6, 13)
        assert empty.capacity == slots and len(empty.centered.sharding.device_set) == 8
    print("LAYOUT_OK")
""")


def test_sharded_memories_lay_out_their_banks_on_8_devices():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu",
             PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
  res = subprocess.run([sys.executable, "-c", SHARDED_LAYOUT_SCRIPT], env=env, cwd=REPO, capture_output=True,
                       text=True, timeout=600)
  assert res.returncode == 0 and "LAYOUT_OK" in res.stdout, res.stderr[-3000:]
