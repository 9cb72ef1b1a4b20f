"""Tests of the conv VAEs of seed 000 §A.2.1 (assocmem.nn.vae) and their trainer (assocmem.train.vae).

Shapes of both presets, the KL term against its closed form and a Monte Carlo estimate, the exact
equality of the fast layer forms (sub-pixel upsample-conv, space-to-depth strided conv) with the
plain layers, dropout only in training, the loss decreasing, bitwise-exact resume from an orbax
checkpoint, Keras' early-stopping rule, and bad input. Training tests use the small (MNIST) VAE on
a few images so the file runs in well under a minute on a CPU.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem.nn import vae as V
from assocmem.train import vae as T


def _images(n: int, shape, seed: int = 0) -> np.ndarray:
  """Smooth structured images in [0, 1] (blobs at random places), so a VAE can learn them."""
  rng = np.random.default_rng(seed)
  h, w, c = shape
  yy, xx = np.mgrid[0:h, 0:w]
  out = np.empty((n, h, w, c), np.float32)
  for i in range(n):
    cy, cx = rng.uniform(0.25, 0.75, 2) * (h, w)
    blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (0.12 * h) ** 2))
    out[i] = blob[..., None] * rng.uniform(0.5, 1.0, c)
  return out


SMALL = V.mnist_config(latent_dim=4)
KEYS = {"params": jax.random.PRNGKey(1), "dropout": jax.random.PRNGKey(2), "sample": jax.random.PRNGKey(3)}


# ----------------------------------------------------------------------------- architecture

@pytest.mark.parametrize("cfg", [V.shapes3d_config(), V.mnist_config(latent_dim=7)], ids=["large", "small"])
def test_shapes(cfg):
  model = V.ConvVAE(cfg)
  x = jnp.asarray(_images(2, cfg.image_shape))
  variables = model.init(KEYS, x)
  (recon, mean, logvar), updates = model.apply(variables, x, train=True, mutable=["batch_stats"],
                                               rngs={"dropout": KEYS["dropout"], "sample": KEYS["sample"]})
  assert recon.shape == x.shape and mean.shape == logvar.shape == (2, cfg.latent_dim)
  assert float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0      # sigmoid output
  m2, lv2 = model.apply(variables, x, method=V.ConvVAE.encode)
  assert m2.shape == lv2.shape == (2, cfg.latent_dim)
  assert model.apply(variables, m2, method=V.ConvVAE.decode).shape == x.shape
  if cfg.arch == "large":
    p = variables["params"]
    # §A.2.1: 4 convs 32/64/128/256 of kernel 4, Dense 4096 -> 4x4x256, convs 128/64/32/3 of kernel 3.
    assert [p["encoder"][f"conv{i}"]["kernel"].shape for i in range(4)] == [
        (4, 4, 3, 32), (4, 4, 32, 64), (4, 4, 64, 128), (4, 4, 128, 256)]
    assert p["decoder"]["dense"]["kernel"].shape == (20, 4096)
    assert [p["decoder"][f"conv{i}"]["kernel"].shape for i in range(4)] == [
        (3, 3, 256, 128), (3, 3, 128, 64), (3, 3, 64, 32), (3, 3, 32, 3)]
    assert set(updates["batch_stats"]["encoder"]) == {"bn0", "bn1", "bn2", "bn3"}
    n_params = sum(a.size for a in jax.tree.leaves(p))
    assert n_params == 1_176_011       # the Keras model of the authors' code has the same count
  else:
    assert "batch_stats" not in variables


def test_upsample_conv_forms_equal_plain_layers():
  """Every UpsampleConv form == Keras UpSampling2D(nearest) + Conv2D(k3, 'same'), values and grads."""
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 6, 7))
  ref_conv = nn.Conv(4, (3, 3), padding="SAME")
  params = ref_conv.init(jax.random.PRNGKey(1), x)
  params = jax.tree.map(lambda a: a + 0.1, params)     # non-zero bias

  def ref(p, x):
    return ref_conv.apply(p, V.upsample_nearest(x))

  expected = ref(params, x)
  g_expected = jax.grad(lambda p, x: jnp.sum(jnp.sin(ref(p, x))), argnums=(0, 1))(params, x)
  for impl in V.UPSAMPLE_IMPLS:
    layer = V.UpsampleConv(4, 3, impl)
    got = layer.apply(params, x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=impl)
    g_got = jax.grad(lambda p, x: jnp.sum(jnp.sin(layer.apply(p, x))), argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(g_got), jax.tree.leaves(g_expected)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=impl)


@pytest.mark.parametrize("size", [64, 31, 14, 6])
def test_space_to_depth_conv_equals_strided_conv(size):
  x = jax.random.normal(jax.random.PRNGKey(0), (2, size, size, 3))
  ref_conv = nn.Conv(5, (4, 4), strides=(2, 2), padding="VALID")
  params = ref_conv.init(jax.random.PRNGKey(1), x)
  expected = ref_conv.apply(params, x)
  got = V.DownConv(5, 4, "VALID", "space_to_depth").apply(params, x)
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
  g = lambda f: jax.grad(lambda x: jnp.sum(jnp.sin(f(x))))(x)
  np.testing.assert_allclose(g(lambda x: V.DownConv(5, 4, "VALID", "space_to_depth").apply(params, x)),
                             g(lambda x: ref_conv.apply(params, x)), rtol=1e-4, atol=1e-5)


def test_fast_forms_leave_model_unchanged():
  """The default (fast) large VAE computes the same function as the plain one, with the same params."""
  x = jnp.asarray(_images(2, (64, 64, 3)))
  plain = V.ConvVAE(V.shapes3d_config(upsample_impl="plain", downsample_impl="plain"))
  fast = V.ConvVAE(V.shapes3d_config())
  variables = plain.init(KEYS, x)
  rngs = {"dropout": KEYS["dropout"], "sample": KEYS["sample"]}
  (r0, m0, l0), u0 = plain.apply(variables, x, train=True, mutable=["batch_stats"], rngs=rngs)
  (r1, m1, l1), u1 = fast.apply(variables, x, train=True, mutable=["batch_stats"], rngs=rngs)
  for a, b in [(r0, r1), (m0, m1), (l0, l1)] + list(zip(jax.tree.leaves(u0), jax.tree.leaves(u1))):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_kl_closed_form_and_monte_carlo():
  rng = np.random.default_rng(0)
  mean = rng.normal(size=(3, 5))
  logvar = rng.normal(scale=0.5, size=(3, 5))
  kl = np.asarray(V.kl_divergence(jnp.asarray(mean, jnp.float32), jnp.asarray(logvar, jnp.float32)))
  # Per unit: KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2) / 2 - 1/2.
  s2 = np.exp(logvar)
  closed = np.sum(-0.5 * logvar + 0.5 * (s2 + mean ** 2) - 0.5, axis=-1)
  np.testing.assert_allclose(kl, closed, rtol=1e-5)
  # Monte Carlo: E_q[log q(z) - log p(z)] with z ~ q.
  n = 200_000
  eps = rng.standard_normal((n, 3, 5))
  z = mean + np.sqrt(s2) * eps
  log_q = np.sum(-0.5 * eps ** 2 - 0.5 * logvar - 0.5 * np.log(2 * np.pi), axis=-1)
  log_p = np.sum(-0.5 * z ** 2 - 0.5 * np.log(2 * np.pi), axis=-1)
  mc = (log_q - log_p).mean(axis=0)
  se = (log_q - log_p).std(axis=0) / np.sqrt(n)
  assert np.all(np.abs(mc - kl) < 5 * se + 1e-3), (mc, kl, se)
  assert np.all(kl >= 0)
  np.testing.assert_allclose(V.kl_divergence(jnp.zeros((4,)), jnp.zeros((4,))), 0.0)


def test_vae_loss_matches_numpy():
  rng = np.random.default_rng(1)
  x, r = rng.uniform(size=(2, 2, 3, 3, 2)).astype(np.float32)
  m, lv = rng.normal(size=(2, 2, 4)).astype(np.float32)
  loss, parts = T.vae_loss(jnp.asarray(x), jnp.asarray(r), jnp.asarray(m), jnp.asarray(lv), kl_weight=0.5)
  rec = np.mean(np.sum(np.mean(np.abs(x - r), axis=-1), axis=(1, 2)))
  kl = np.mean(-0.5 * np.sum(1 + lv - m ** 2 - np.exp(lv), axis=-1))
  np.testing.assert_allclose(parts["reconstruction"], rec, rtol=1e-5)
  np.testing.assert_allclose(parts["kl"], kl, rtol=1e-5)
  np.testing.assert_allclose(loss, rec + 0.5 * kl, rtol=1e-5)


def test_dropout_only_in_training():
  model = V.ConvVAE(SMALL)
  x = jnp.asarray(_images(3, SMALL.image_shape))
  variables = model.init(KEYS, x)
  enc = lambda train, key: model.apply(variables, x, train, method=V.ConvVAE.encode,
                                       rngs={"dropout": key})[0]
  np.testing.assert_array_equal(enc(False, jax.random.PRNGKey(5)), enc(False, jax.random.PRNGKey(6)))
  np.testing.assert_array_equal(enc(False, jax.random.PRNGKey(5)),
                                model.apply(variables, x, method=V.ConvVAE.encode)[0])
  assert not np.allclose(enc(True, jax.random.PRNGKey(5)), enc(True, jax.random.PRNGKey(6)))
  no_drop = V.ConvVAE(V.mnist_config(latent_dim=4, dropout_rate=0.0))
  np.testing.assert_array_equal(
      no_drop.apply(variables, x, True, method=V.ConvVAE.encode, rngs={"dropout": jax.random.PRNGKey(5)})[0],
      no_drop.apply(variables, x, False, method=V.ConvVAE.encode)[0])
  # Inference decodes the mean (no "sample" stream needed); training samples z.
  recon, mean, _ = model.apply(variables, x)
  np.testing.assert_allclose(recon, model.apply(variables, mean, method=V.ConvVAE.decode), rtol=1e-6)


# ----------------------------------------------------------------------------- training

def test_loss_decreases_and_scan_equals_steps():
  model = V.ConvVAE(SMALL)
  cfg = T.TrainConfig(batch_size=8)
  x = jnp.asarray(_images(8, SMALL.image_shape))
  state0 = T.create_train_state(model, jax.random.PRNGKey(0), cfg)
  idx = jnp.tile(jnp.arange(8, dtype=jnp.int32), (25, 1))
  state, metrics = T.train_steps(state0, x, idx, model=model, config=cfg)
  losses = np.asarray(metrics["loss"])
  assert losses.shape == (25,) and int(state.step) == 25
  assert losses[-5:].mean() < 0.8 * losses[:5].mean(), losses
  # The scanned steps equal the same steps taken one jit call at a time.
  s = state0
  for i in range(3):
    s, m = T.train_step(s, x[idx[i]], model=model, config=cfg)
  s3, m3 = T.train_steps(state0, x, idx[:3], model=model, config=cfg)
  np.testing.assert_allclose(m["loss"], m3["loss"][-1], rtol=1e-5)
  for a, b in zip(jax.tree.leaves(s.params), jax.tree.leaves(s3.params)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_resume_is_bitwise_identical(tmp_path):
  model = V.ConvVAE(SMALL)
  data = _images(20, SMALL.image_shape, seed=2)       # batch 8: two full batches and one of 4
  cfg = T.TrainConfig(batch_size=8, epochs=3, patience=None)
  key = jax.random.PRNGKey(7)
  calls = []

  def record(epoch, state):
    calls.append((epoch, int(state.step)))
    return {"step": int(state.step)}

  full = T.fit_vae(model, data, key, config=cfg, checkpoint_dir=str(tmp_path / "a"), on_epoch_begin=record)
  assert calls == [(0, 0), (1, 3), (2, 6)] and int(full.state.step) == 9
  assert [h["callback"]["step"] for h in full.history] == [0, 3, 6]

  class Interrupt(Exception):
    pass

  def interrupt_at_2(epoch, state):
    if epoch == 2:
      raise Interrupt
    return {"step": int(state.step)}

  with pytest.raises(Interrupt):
    T.fit_vae(model, data, key, config=cfg, checkpoint_dir=str(tmp_path / "b"), on_epoch_begin=interrupt_at_2)
  resumed = T.fit_vae(model, data, jax.random.PRNGKey(99), config=cfg, checkpoint_dir=str(tmp_path / "b"),
                      on_epoch_begin=record)
  assert resumed.resumed_from_epoch == 2
  for a, b in zip(jax.tree.leaves(full.state), jax.tree.leaves(resumed.state)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert resumed.losses == full.losses
  assert [h["callback"] for h in resumed.history] == [h["callback"] for h in full.history]
  # A finished run's directory returns its result again without training.
  again = T.fit_vae(model, data, key, config=cfg, checkpoint_dir=str(tmp_path / "a"))
  assert again.losses == full.losses and int(again.state.step) == 9

  # Inference helpers: batched and padded == one direct apply.
  variables = {"params": full.state.params}
  mean, _ = model.apply(variables, jnp.asarray(data), method=V.ConvVAE.encode)
  np.testing.assert_allclose(T.encode_means(model, full.state, data, batch_size=8), mean, rtol=1e-5, atol=1e-6)
  recon = model.apply(variables, mean, method=V.ConvVAE.decode)
  np.testing.assert_allclose(T.reconstruct(model, full.state, data, batch_size=6), recon, rtol=1e-5, atol=1e-6)
  ev = T.evaluate(model, full.state, data, batch_size=8)
  loss, _ = T.vae_loss(jnp.asarray(data), recon, *model.apply(variables, jnp.asarray(data), method=V.ConvVAE.encode))
  np.testing.assert_allclose(ev["loss"], float(loss), rtol=1e-5)


def test_early_stopping_rule_is_keras():
  assert T.early_stop_epoch([5.0, 4.0, 3.0, 2.0], 3) is None
  assert T.early_stop_epoch([5.0, 4.0, 4.5, 4.2, 4.1, 3.0], 3) == 4     # 3 epochs without a new best
  assert T.early_stop_epoch([5.0, 4.0, 4.5, 3.9, 4.2, 4.1, 4.0], 3) == 6
  assert T.early_stop_epoch([5.0, 5.0], 1) == 1                         # equal is not better
  assert T.early_stop_epoch([5.0, 6.0, 7.0, 8.0], None) is None


# ----------------------------------------------------------------------------- bad input

def test_bad_input():
  with pytest.raises(ValueError, match="latent_dim"):
    V.shapes3d_config(latent_dim=0)
  with pytest.raises(ValueError, match="latent_dim"):
    V.mnist_config(latent_dim=-3)
  with pytest.raises(ValueError, match="image_shape"):
    V.mnist_config(image_shape=(30, 30, 1))                  # not divisible by 4
  with pytest.raises(ValueError, match="upsample_impl"):
    V.shapes3d_config(upsample_impl="bilinear")
  with pytest.raises(ValueError, match="batch_size"):
    T.TrainConfig(batch_size=0)
  with pytest.raises(ValueError, match="patience"):
    T.TrainConfig(patience=0)
  model = V.ConvVAE(SMALL)
  x = jnp.asarray(_images(2, SMALL.image_shape))
  variables = model.init(KEYS, x)
  with pytest.raises(ValueError, match="images"):
    model.apply(variables, jnp.zeros((2, 64, 64, 3)))
  with pytest.raises(ValueError, match="images"):
    model.apply(variables, jnp.zeros((0, 28, 28, 1)))
  with pytest.raises(ValueError, match="z must"):
    model.apply(variables, jnp.zeros((2, 5)), method=V.ConvVAE.decode)
  state = T.create_train_state(model, jax.random.PRNGKey(0))
  with pytest.raises(ValueError, match="data"):
    T.fit_vae(model, np.zeros((4, 28, 28, 3), np.float32), jax.random.PRNGKey(0))
  with pytest.raises(ValueError, match="data"):
    T.fit_vae(model, np.zeros((0, 28, 28, 1), np.float32), jax.random.PRNGKey(0))
  with pytest.raises(ValueError, match="batch_size"):
    T.encode_means(model, state, np.zeros((2, 28, 28, 1)), batch_size=0)
  with pytest.raises(ValueError, match="images"):
    T.reconstruct(model, state, np.zeros((2, 28, 28)))
