"""The conv VAE as a memory (seed 000 §A.2.1): protocol, layouts and ranges, training and resume.

`VAEMemory` must stand in for any memory of the protocol (`LearningMemory`), keep the layout and
range of its inputs, train the same whatever the steps per jit call (same random draws, so the same
parameters up to float32 rounding), and resume from its checkpoints exactly.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from assocmem.memories import base
from assocmem.memories.vae import VAEMemory
from assocmem.nn.vae import ConvVAE, VAEConfig
from assocmem.train import vae as train_vae
from conftest import tree_allclose

# The smallest network of the large VAE's layer types: 8×8×1 → conv k4 s2 (3×3) → GAP → z (4);
# Dense 2×2×8 → [up ×2, conv 8] → up ×2, conv → 8×8×1.
TINY = VAEConfig(image_shape=(8, 8, 1), latent_dim=4, arch="large", encoder_filters=(8,),
                 decoder_filters=(8,), decoder_base_channels=8, encoder_kernel=4, dropout_rate=0.1)


def _images(n: int = 40, seed: int = 0) -> np.ndarray:
  rng = np.random.default_rng(seed)
  x = np.zeros((n, 8, 8, 1), np.float32)
  for i in range(n):             # a bright bar at a random row: simple structured images
    x[i, rng.integers(8), :, 0] = 1.0
  return np.clip(x + 0.05 * rng.random(x.shape, np.float32), 0.0, 1.0)


def _memory(**kw) -> VAEMemory:
  train = kw.pop("train", None) or train_vae.TrainConfig(epochs=kw.pop("epochs", 2), batch_size=16,
                                                         patience=None)
  return VAEMemory(config=TINY, train=train, batch_size=kw.pop("batch_size", 32), **kw)


@pytest.fixture(scope="module")
def trained():
  mem = _memory()
  data = _images()               # 40: the same batch shapes as the resume test
  return mem, mem.fit(jax.random.PRNGKey(0), data.reshape(len(data), -1)), data


def test_vae_memory_satisfies_the_protocol():
  mem = _memory()
  assert isinstance(mem, base.LearningMemory)
  assert isinstance(mem, base.Memory)


def test_recall_and_replay_keep_layout_and_range(trained):
  mem, state, data = trained
  flat = data.reshape(len(data), -1)
  out_flat = np.asarray(mem.recall(state, flat[:5]))
  out_img = np.asarray(mem.recall(state, data[:5]))
  assert out_flat.shape == (5, 64) and out_img.shape == (5, 8, 8, 1)
  np.testing.assert_allclose(out_flat, out_img.reshape(5, -1), atol=1e-6)
  assert out_flat.min() >= 0.0 and out_flat.max() <= 1.0
  replays = np.asarray(mem.replay(state, jax.random.PRNGKey(1), 7))
  assert replays.shape == (7, 64) and 0.0 <= replays.min() and replays.max() <= 1.0
  # The padded batches give the same answer as unpadded ones (BatchNorm in inference mode).
  np.testing.assert_allclose(mem.encode(state, data[:3]), mem.encode(state, data)[:3],
                             atol=1e-5)


def test_signed_range_maps_to_and_from_the_vae(trained):
  mem, state, data = trained
  signed = _memory(data_range="signed")
  out = np.asarray(signed.recall(state, 2.0 * data[:4] - 1.0))
  ref = np.asarray(mem.recall(state, data[:4]))
  np.testing.assert_allclose(out, 2.0 * ref - 1.0, atol=1e-5)
  assert out.min() >= -1.0 and out.max() <= 1.0


def test_iterated_recall_is_repeated_reconstruction(trained):
  mem, state, data = trained
  twice = _memory(recall_steps=2)
  once = np.asarray(mem.recall(state, data[:4]))
  np.testing.assert_allclose(np.asarray(twice.recall(state, data[:4])),
                             np.asarray(mem.recall(state, once)), atol=1e-5)


def test_fit_lowers_the_training_loss(trained):
  mem, _, data = trained
  result = mem.fit_result(jax.random.PRNGKey(0), data)
  assert result.history[-1]["loss"] < result.history[0]["loss"]


@pytest.mark.slow     # compiles a two-step call (~15 s here)
def test_steps_per_call_do_not_change_the_training():
  model = ConvVAE(TINY)
  data = _images(32)
  runs = [train_vae.fit_vae(model, data, jax.random.PRNGKey(3), config=train_vae.TrainConfig(
      epochs=2, batch_size=16, patience=None, steps_per_call=k)) for k in (1, 2)]
  a, b = runs
  assert int(a.state.step) == int(b.state.step) == 4
  assert tree_allclose(a.state.params, b.state.params, rtol=1e-4, atol=1e-5)
  assert tree_allclose(a.state.batch_stats, b.state.batch_stats, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose([h["loss"] for h in a.history], [h["loss"] for h in b.history], rtol=1e-5)


@pytest.mark.slow     # three runs with orbax checkpoints; tests/test_consolidation.py resumes end to end
def test_memory_fit_resumes_exactly(tmp_path):
  data = _images(40).reshape(40, -1)       # 2 full batches of 16 and a partial one of 8 per epoch
  calls = []
  cb = lambda e, s: calls.append(e) or {"e": e}
  two, three = (_memory(train=train_vae.TrainConfig(epochs=e, batch_size=16, patience=None)) for e in (2, 3))
  two.fit_result(jax.random.PRNGKey(5), data, checkpoint_dir=str(tmp_path / "a"), on_epoch_begin=cb)
  resumed = three.fit_result(jax.random.PRNGKey(5), data, checkpoint_dir=str(tmp_path / "a"),
                             on_epoch_begin=cb)
  straight = three.fit_result(jax.random.PRNGKey(5), data)
  assert calls == [0, 1, 2]                      # restored epochs are not recomputed
  assert resumed.resumed_from_epoch == 2
  assert [h["callback"]["e"] for h in resumed.history] == [0, 1, 2]
  assert tree_allclose(resumed.state.params, straight.state.params, rtol=0, atol=0)
  assert tree_allclose(resumed.state.opt_state, straight.state.opt_state, rtol=0, atol=0)


def test_bad_input_names_the_argument(trained):
  mem, state, data = trained
  with pytest.raises(ValueError, match="cues must have shape"):
    mem.recall(state, data.reshape(len(data), 8, 8))          # wrong image shape
  with pytest.raises(ValueError, match="data must have shape"):
    mem.fit(jax.random.PRNGKey(0), np.zeros((4, 63), np.float32))
  with pytest.raises(ValueError, match=r"cues must hold finite values in \[0, 1\]"):
    mem.recall(state, 2.0 * data[:2] - 1.0)
  with pytest.raises(ValueError, match="data_range"):
    _memory(data_range="bytes")
  with pytest.raises(ValueError, match="steps_per_call"):
    _memory(train=train_vae.TrainConfig(steps_per_call=0))
  with pytest.raises(ValueError, match="unknown keyword"):
    mem.fit(jax.random.PRNGKey(0), data, epochs=3)
