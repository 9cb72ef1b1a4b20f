"""The extended (hybrid) model (assocmem.memories.hybrid) with a fake VAE whose error is known."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import memories, testing
from assocmem.memories import hybrid

SHAPE = (4, 4, 3)
D = 48
L = 2
STORED_ATOL_IMAGE = hybrid.STORED_ATOL / 2 + 1e-6   # |2x − 1| <= 0.01 reads as "not stored" (authors)


def fake_codec(proto):
  """A 'VAE' that reconstructs every image as `proto` (4, 4, 3); its latent is the image's mean
  over pixels of channels 0 and 1 (so decode(encode(x)) = proto whatever x)."""
  proto = jnp.asarray(proto, jnp.float32)

  def encoder(x):
    return jnp.mean(x[..., :L], axis=(1, 2))

  def decoder(z):
    return jnp.broadcast_to(proto, (z.shape[0],) + SHAPE) + 0.0 * z[:, :1, None, None]

  return encoder, decoder


def images(seed, n):
  rng = np.random.default_rng(seed)
  return jnp.asarray(rng.uniform(0.0, 1.0, (n,) + SHAPE), jnp.float32)


def make(threshold, beta=100.0, proto=None):
  proto = np.full(SHAPE, 0.5, np.float32) if proto is None else proto
  enc, dec = fake_codec(proto)
  return memories.make_memory("hybrid", encoder=enc, decoder=dec, image_shape=SHAPE, threshold=threshold,
                              beta=beta)


def test_stored_units_fall_as_threshold_rises():
  x = images(0, 6)
  counts = []
  for t in (0.01, 0.1, 0.2, 0.3, 0.45):
    m = make(t)
    counts.append(float(jnp.mean(hybrid.stored_units(m.traces(x), SHAPE))))
  assert all(a >= b for a, b in zip(counts, counts[1:])), counts
  assert counts[0] > counts[-1]


def test_error_map_is_channel_mean_and_mask_uses_it():
  x = jnp.zeros((1,) + SHAPE).at[0, 0, 0, 0].set(0.9)   # one channel off by 0.9: channel mean 0.3
  recon = jnp.zeros((1,) + SHAPE)
  assert float(hybrid.error_map(x, recon)[0, 0, 0]) == pytest.approx(0.3)
  assert bool(hybrid.sensory_mask(x, recon, 0.29)[0, 0, 0]) and not bool(hybrid.sensory_mask(x, recon, 0.31)[0, 0, 0])
  traces = hybrid.hpc_traces(x, recon, jnp.zeros((1, L)), 0.29)
  np.testing.assert_allclose(traces[0, :3], [0.8, -1.0, -1.0])  # 2x − 1 on all channels of the pixel
  assert int(hybrid.stored_units(traces, SHAPE)[0]) == 3
  assert int(hybrid.authors_unit_count(x, recon, 0.29)[0]) == 1  # the authors' count thresholds each channel


def test_threshold_above_every_error_stores_only_latent():
  x = images(1, 3)
  m = make(0.6)                  # |x − 0.5| <= 0.5 everywhere
  tr = m.traces(x)
  sensory, z = hybrid.split_traces(tr, SHAPE)
  assert float(jnp.max(jnp.abs(sensory))) == 0.0
  np.testing.assert_allclose(z, jnp.mean(x[..., :L], axis=(1, 2)), rtol=1e-6)
  out = m.recall(m.store(None, x), x).reshape((-1,) + SHAPE)
  np.testing.assert_allclose(out, 0.5, atol=1e-6)   # the decoded latent everywhere


def test_tiny_threshold_stores_everything_and_recalls_exactly():
  proto = np.full(SHAPE, 0.0, np.float32)           # error = x, > 1e-3 for every element here
  x = 0.6 + 0.4 * images(2, 5)    # away from 0.5, whose stored value 2x − 1 = 0 reads as "not stored"
  m = make(1e-3, beta=1000.0, proto=proto)
  tr = m.traces(x)
  assert np.all(np.asarray(hybrid.stored_units(tr, SHAPE)) == D)
  state = m.store(None, x)
  out = m.recall(state, x).reshape((-1,) + SHAPE)
  err = jnp.sum(jnp.mean(jnp.abs(out - x), -1), axis=(1, 2))
  assert float(jnp.max(err)) < 1e-3


def test_combination_picks_recalled_elements_where_stored():
  sensory = jnp.zeros((1,) + SHAPE).at[0, 1, 2, :].set(jnp.array([0.6, -0.8, 0.005]))
  decoded = jnp.full((1,) + SHAPE, 0.25)
  out = hybrid.combine_recall(sensory, decoded)
  np.testing.assert_allclose(out[0, 1, 2], [0.8, 0.1, 0.25])   # stored ones: (s + 1)/2; |s| <= 0.01: decoded
  np.testing.assert_allclose(out[0, 0, 0], [0.25, 0.25, 0.25])


def test_recall_from_noisy_cue_returns_stored_image():
  proto = np.full(SHAPE, 0.5, np.float32)
  x = images(3, 4)
  m = make(0.05, beta=100.0, proto=proto)
  state = m.store(None, x)
  cue = x.at[:, 0, :, :].set(0.0)
  out = m.recall(state, cue).reshape((-1,) + SHAPE)
  mask = np.asarray(hybrid.sensory_mask(x, jnp.broadcast_to(proto, x.shape), 0.05))
  np.testing.assert_allclose(np.asarray(out)[mask], np.asarray(x)[mask], atol=STORED_ATOL_IMAGE)


def test_replacing_latent_moves_recall_towards_new_class():
  """Carmichael: stored latent of another class → the recall's decoded part is that class's."""
  protos = jnp.stack([jnp.full(SHAPE, 0.2), jnp.full(SHAPE, 0.8)])

  def encoder(x):
    m = jnp.mean(x, axis=(1, 2, 3))
    return jnp.stack([m, 1.0 - m], axis=1)

  def decoder(z):       # class 1 where z0 > 0.5
    return jnp.where((z[:, 0] > 0.5)[:, None, None, None], protos[1], protos[0])

  m = memories.make_memory("hybrid", encoder=encoder, decoder=decoder, image_shape=SHAPE, threshold=0.3, beta=50.0)
  x = jnp.full((1,) + SHAPE, 0.2).at[0, 0, 0].set(1.0)   # class 0 image with one atypical pixel
  other = jnp.full((1,) + SHAPE, 0.8)
  prob = lambda imgs: jax.nn.sigmoid(20.0 * (encoder(imgs)[:, 0] - 0.5))   # 'classifier' of class 1
  own = m.recall(m.store(None, x), x).reshape((-1,) + SHAPE)
  replaced = m.recall(m.store_traces(m.traces(x, latents=encoder(other))), x).reshape((-1,) + SHAPE)
  assert float(prob(replaced)[0]) > float(prob(own)[0]) + 0.5
  np.testing.assert_allclose(replaced[0, 0, 0], 1.0)     # the atypical element survives


@pytest.mark.slow
def test_protocol():
  x = images(4, 5).reshape(5, -1)
  testing.assert_memory_protocol(make(0.2), jax.random.PRNGKey(0), x, stochastic=False)


@pytest.mark.parametrize("kwargs,match", [
    ({"threshold": 0.0}, "threshold"), ({"threshold": 1.0}, "threshold"), ({"threshold": -0.1}, "threshold"),
    ({"beta": 0.0}, "beta"), ({"beta": -1.0}, "beta"), ({"image_shape": (4, 4)}, "image_shape"),
])
def test_bad_settings(kwargs, match):
  enc, dec = fake_codec(np.zeros(SHAPE, np.float32))
  settings = dict(encoder=enc, decoder=dec, image_shape=SHAPE, threshold=0.1, beta=1.0)
  with pytest.raises(ValueError, match=match):
    memories.make_memory("hybrid", **{**settings, **kwargs})


def test_bad_images():
  m = make(0.1)
  with pytest.raises(ValueError, match="data"):
    m.store(None, jnp.zeros((2, 5, 4, 3)))
  with pytest.raises(ValueError, match="cues"):
    m.recall(m.store(None, images(0, 2)), jnp.zeros((2, 47)))
  with pytest.raises(ValueError, match="threshold"):
    hybrid.sensory_mask(images(0, 1), images(1, 1), 1.5)


# ----------------------------------------------------------------------------- the analyses

def test_analysis_settings_reject_bad_values():
  from assocmem.experiments.consolidation.analyses import carmichael, hybrid_model
  for bad in ((0.0, 0.1), (0.1, 1.0), ()):
    with pytest.raises(ValueError, match="threshold"):
      hybrid_model.HybridModelSettings(thresholds=bad)
  with pytest.raises(ValueError, match="beta"):
    hybrid_model.HybridModelSettings(beta=0.0)
  with pytest.raises(ValueError, match="threshold"):
    carmichael.CarmichaelSettings(threshold=1.2)
  with pytest.raises(ValueError, match="beta"):
    carmichael.CarmichaelSettings(beta=-5.0)
  with pytest.raises(ValueError, match="images"):
    hybrid_model.add_white_squares(np.zeros((2, 8, 6, 3)))
  with pytest.raises(ValueError, match="images"):
    carmichael.blur_centre(np.zeros((2, 8, 8, 1)))


def test_atypical_images():
  from assocmem.experiments.consolidation.analyses import carmichael, hybrid_model
  x = np.zeros((2, 64, 64, 3), np.float32)
  sq = hybrid_model.add_white_squares(x, 3, 4321)
  np.testing.assert_array_equal(sq[0], sq[1])                  # the same squares in every image (the authors')
  assert 0 < np.count_nonzero(sq[0].sum(-1)) <= 3 * 64
  img = np.zeros((1, 64, 64, 3), np.float32)
  img[0, 40:50, 28:36] = 1.0                                   # an object inside the disk
  img[0, 2:6, 2:6] = 1.0                                       # and one far outside
  out = carmichael.blur_centre(img)
  assert np.all(out[0, 2:6, 2:6] == 255)                       # untouched outside the disk
  assert 0 < out[0, 45, 27, 0] < 255                           # blurred inside
  amb = carmichael.ambiguous_images(jax.random.PRNGKey(0), img, carmichael.CarmichaelSettings())
  assert amb.shape == img.shape and amb.max() <= 1.0 and np.count_nonzero(amb.min(-1) == 1.0) >= 16


def test_sweep_units_fall_and_error_rises_with_fake_vae():
  from assocmem.experiments.consolidation.analyses import hybrid_model
  rng = np.random.default_rng(0)
  x = rng.uniform(0.3, 0.7, (6, 16, 16, 3)).astype(np.float32)
  shape = x.shape[1:]

  def encoder(v):
    return jnp.mean(v, axis=(1, 2))

  def decoder(z):                  # a blurry 'VAE': every pixel the image's mean colour
    return jnp.broadcast_to(z[:, None, None, :], (z.shape[0],) + shape)

  s = hybrid_model.HybridModelSettings(thresholds=(0.02, 0.1, 0.3), n_images=6, n_squares=1, n_examples=1)
  numbers, arrays = hybrid_model.sweep(s, x, encoder, decoder, jax.random.PRNGKey(0))
  units = [r["units"] for r in numbers["rows"]]
  errors = [r["sse"] for r in numbers["rows"]]
  assert units[0] > units[1] > units[2] and errors[0] < errors[2]
  assert numbers["spearman_units"]["rho"] == pytest.approx(-1.0)
  assert arrays["recalls"].shape == (3, 1) + shape


def test_analysis_checks_against_the_test_split():
  import types
  from assocmem.experiments.consolidation.analyses import carmichael, hybrid_model
  small = types.SimpleNamespace(data=types.SimpleNamespace(dataset="shapes3d", n_images=400))   # 40 test images
  with pytest.raises(ValueError, match="n_images"):
    hybrid_model.check(hybrid_model.HybridModelSettings(), small)
  with pytest.raises(ValueError, match="n_scenes"):
    carmichael.check(carmichael.CarmichaelSettings(), small)
  hybrid_model.check(hybrid_model.HybridModelSettings(n_images=40), small)
  carmichael.check(carmichael.CarmichaelSettings(n_scenes=20), small)
  mnist = types.SimpleNamespace(data=types.SimpleNamespace(dataset="mnist", n_images=500))
  hybrid_model.check(hybrid_model.HybridModelSettings(), mnist)     # not run on MNIST: nothing to check
