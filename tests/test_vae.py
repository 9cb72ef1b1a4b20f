"""Tests of the conv VAEs of seed 000 §A.2.1 (assocmem.nn.vae) and their trainer (assocmem.train.vae).

Shapes of both presets, the KL term against its closed form and a Monte Carlo estimate, the exact
equality of the fast layer forms (sub-pixel upsample-conv, space-to-depth strided conv) with the
plain layers, dropout only in training, the loss decreasing, bitwise-exact resume from an orbax
checkpoint, Keras' early-stopping rule, and bad input. Training tests use the small (MNIST) VAE on
a few images so the file runs in well under a minute on a CPU.
"""

from __future__ import annotations

import functools

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
CFG = T.TrainConfig(batch_size=8, epochs=3, patience=None)    # one config: the tests share compiles
KEYS = {"params": jax.random.PRNGKey(1), "dropout": jax.random.PRNGKey(2), "sample": jax.random.PRNGKey(3)}


# ----------------------------------------------------------------------------- architecture

@pytest.mark.parametrize("cfg", [V.shapes3d_config(), V.mnist_config(latent_dim=7)], ids=["large", "small"])
def test_shapes(cfg):
  model = V.ConvVAE(cfg)
  x = jnp.asarray(_images(2, cfg.image_shape))
  rngs = {"dropout": KEYS["dropout"], "sample": KEYS["sample"]}
  # Shapes by abstract evaluation (no FLOPs); values for the small model only.
  variables = jax.eval_shape(lambda: model.init(KEYS, x))
  (recon, mean, logvar), updates = jax.eval_shape(
      lambda v: model.apply(v, x, train=True, mutable=["batch_stats"], rngs=rngs), variables)
  assert recon.shape == x.shape and mean.shape == logvar.shape == (2, cfg.latent_dim)
  m2, lv2 = jax.eval_shape(lambda v: model.apply(v, x, method=V.ConvVAE.encode), variables)
  assert m2.shape == lv2.shape == (2, cfg.latent_dim)
  assert jax.eval_shape(lambda v: model.apply(v, jnp.zeros((5, cfg.latent_dim)), method=V.ConvVAE.decode),
                        variables).shape == (5,) + cfg.image_shape
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
    # Keras reports 1,177,419 for the authors' model: these plus BatchNorm's 1,408 moving statistics.
    assert n_params == 1_176_011
  else:
    assert "batch_stats" not in variables
    values = jax.jit(model.init)(KEYS, x)
    recon, mean, _ = jax.jit(lambda v: model.apply(v, x, train=True, rngs=rngs))(values)
    assert float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0      # sigmoid output


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


@pytest.mark.parametrize("k", [1, 5])
def test_subpixel_upsample_conv_other_kernel_sizes(k):
  """The compact sub-pixel form for kernels other than 3 (phase kernels of another size and offset)."""
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 5, 2))
  w = jax.random.normal(jax.random.PRNGKey(1), (k, k, 2, 3))
  plain = lambda x, w: V._conv(V.upsample_nearest(x), w, (((k - 1) // 2, k // 2),) * 2)
  np.testing.assert_allclose(V.subpixel_upsample_conv(x, w), plain(x, w), rtol=1e-5, atol=1e-5)
  g = lambda f: jax.grad(lambda x, w: jnp.sum(jnp.sin(f(x, w))), argnums=(0, 1))(x, w)
  for a, b in zip(g(V.subpixel_upsample_conv), g(plain)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
  with pytest.raises(ValueError, match="k odd"):
    V.subpixel_upsample_conv(x, jnp.zeros((2, 2, 2, 3)))
  with pytest.raises(ValueError, match="kernel"):
    V.subpixel_upsample_conv(x, jnp.zeros((k, k, 5, 3)))


def test_channel_sum_and_broadcast():
  x = jax.random.normal(jax.random.PRNGKey(0), (3, 4, 5, 6))
  np.testing.assert_allclose(V.channel_sum(x), jnp.sum(x, axis=(0, 1, 2)), rtol=1e-5, atol=1e-5)
  v = jax.random.normal(jax.random.PRNGKey(1), (6,))
  f = lambda v: jnp.sum(jnp.sin(V.channel_broadcast(v, x.shape) * x))
  g = lambda v: jnp.sum(jnp.sin(v * x))
  np.testing.assert_allclose(jax.grad(f)(v), jax.grad(g)(v), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("train", [True, False])
def test_batch_norm_equals_flax(train):
  """`BatchNorm` == flax.linen.BatchNorm: output, moving-statistics update, and gradients."""
  x = 2.0 + 3.0 * jax.random.normal(jax.random.PRNGKey(0), (4, 5, 3, 6))
  ours = V.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-3)
  ref = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-3)
  variables = ref.init(jax.random.PRNGKey(1), x)
  assert jax.tree.structure(ours.init(jax.random.PRNGKey(1), x)) == jax.tree.structure(variables)
  rng = np.random.default_rng(2)
  variables = jax.tree.map(lambda a: jnp.asarray(a + rng.uniform(0.1, 0.5, a.shape), jnp.float32),
                           variables)

  def run(module, params, x):
    y, upd = module.apply({**variables, "params": params}, x, mutable=["batch_stats"])
    return jnp.sum(jnp.sin(y)), (y, upd)

  (_, (y0, u0)), g0 = jax.value_and_grad(run, argnums=(1, 2), has_aux=True)(ref, variables["params"], x)
  (_, (y1, u1)), g1 = jax.value_and_grad(run, argnums=(1, 2), has_aux=True)(ours, variables["params"], x)
  for a, b in zip(jax.tree.leaves((y0, u0, g0)), jax.tree.leaves((y1, u1, g1))):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
  if train:   # the update happened: moving mean moved towards the batch mean (≈ 2)
    moved = u1["batch_stats"]["mean"] - variables["batch_stats"]["mean"]
    assert np.all(np.sign(moved) == np.sign(2.0 - variables["batch_stats"]["mean"]))


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
  """The large VAE's fast forms compute the plain one's function, BatchNorm updates and gradients,
  from the same (identically initialised) parameters. Latent 2 and batch 4 exercise
  `fold_first_conv` (B > L + 1); each form's gradients are also checked layer by layer above."""
  x = jnp.asarray(_images(4, (64, 64, 3)))
  plain = V.ConvVAE(V.shapes3d_config(latent_dim=2, upsample_impl="plain", downsample_impl="plain",
                                      fold_first_conv=False))
  variables = jax.jit(plain.init)(KEYS, x)
  rngs = {"dropout": KEYS["dropout"], "sample": KEYS["sample"]}

  @functools.partial(jax.jit, static_argnums=0)
  def run(model, params):
    (recon, mean, logvar), upd = model.apply({"params": params, "batch_stats": variables["batch_stats"]},
                                             x, train=True, mutable=["batch_stats"], rngs=rngs)
    return jnp.mean(T.reconstruction_loss(x, recon)), (recon, mean, logvar, upd)

  ref = run(plain, variables["params"])[1]
  mixed = V.ConvVAE(V.shapes3d_config(
      latent_dim=2, upsample_impl=("transpose", "plain", "subpixel", "subpixel"),
      downsample_impl=("space_to_depth", "plain") * 2))
  for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(run(mixed, variables["params"])[1])):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  fast = V.ConvVAE(V.shapes3d_config(latent_dim=2))                   # the defaults
  # Same variable paths and shapes, hence (Flax seeds each parameter by its path) the same init.
  assert jax.tree.structure(jax.eval_shape(lambda: fast.init(KEYS, x))) == jax.tree.structure(variables)
  out = run(fast, variables["params"])[1]
  for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(out)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  # Gradients through the decoder's folded first block (the encoder's forms: layer tests above).
  z = jax.random.normal(jax.random.PRNGKey(9), (4, 2))
  dec_vars = {"params": variables["params"]["decoder"], "batch_stats": variables["batch_stats"]["decoder"]}

  def dec_loss(cfg, params, z):
    recon, _ = V.ConvDecoder(cfg).apply({**dec_vars, "params": params}, z, True, mutable=["batch_stats"])
    return jnp.mean(T.reconstruction_loss(x, recon))

  dec_grad = jax.jit(jax.grad(dec_loss, argnums=(1, 2)), static_argnums=0)
  g0 = dec_grad(plain.config, dec_vars["params"], z)
  g1 = dec_grad(fast.config, dec_vars["params"], z)
  scale = max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(g0))
  for a, b in zip(jax.tree.leaves(g0), jax.tree.leaves(g1)):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * scale)


def test_dropout_rate():
  x = jnp.ones((200_000,))
  y = np.asarray(V.dropout(jax.random.PRNGKey(0), x, 0.2))
  assert set(np.unique(y)) <= {0.0, 1.25}
  assert abs((y == 0).mean() - 0.2) < 0.005
  assert abs(y.mean() - 1.0) < 0.01


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
  cfg = CFG
  x = jnp.asarray(_images(8, SMALL.image_shape))
  state0 = T.create_train_state(model, jax.random.PRNGKey(0), cfg)
  state, losses = state0, []
  for _ in range(15):
    state, m = T.train_step(state, x, model=model, config=cfg)
    losses.append(float(m["loss"]))
  assert int(state.step) == 15
  assert np.mean(losses[-3:]) < 0.9 * np.mean(losses[:3]), losses
  # The scanned (and the unrolled) multi-step call equals the same steps taken one call at a time.
  idx = jnp.asarray(np.random.default_rng(0).permutation(np.tile(np.arange(8), 2)).reshape(2, 8), jnp.int32)
  s, step_losses = state0, []
  for i in range(2):
    s, m = T.train_step(s, x[idx[i]], model=model, config=cfg)
    step_losses.append(float(m["loss"]))
  for unroll in (False, True):
    s2, m2 = T.train_steps(state0, x, idx, model=model, config=cfg, unroll=unroll)
    np.testing.assert_allclose(m2["loss"], step_losses, rtol=1e-5)
    assert int(s2.step) == 2
    for a, b in zip(jax.tree.leaves(s.params), jax.tree.leaves(s2.params)):
      np.testing.assert_allclose(a, b, atol=2e-3)     # Adam moves each weight by <= ~1e-3 per step


def test_resume_is_bitwise_identical(tmp_path):
  model = V.ConvVAE(SMALL)
  data = _images(12, SMALL.image_shape, seed=2)       # batch 8: one full batch and one of 4
  cfg = CFG
  key = jax.random.PRNGKey(7)
  calls = []

  def record(epoch, state):
    calls.append((epoch, int(state.step)))
    return {"step": int(state.step)}

  full = T.fit_vae(model, data, key, config=cfg, checkpoint_dir=str(tmp_path / "a"), on_epoch_begin=record)
  assert calls == [(0, 0), (1, 2), (2, 4)] and int(full.state.step) == 6
  assert [h["callback"]["step"] for h in full.history] == [0, 2, 4]

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
  assert again.losses == full.losses and int(again.state.step) == 6

  # Inference helpers: batched and padded == one direct apply.
  variables, x = {"params": full.state.params}, jnp.asarray(data)
  mean, logvar = model.apply(variables, x, method=V.ConvVAE.encode)
  np.testing.assert_allclose(T.encode_means(model, full.state, data, batch_size=8), mean,
                             rtol=1e-5, atol=1e-6)
  recon = model.apply(variables, mean, method=V.ConvVAE.decode)
  np.testing.assert_allclose(T.reconstruct(model, full.state, data, batch_size=6), recon,
                             rtol=1e-5, atol=1e-6)
  ev = T.evaluate(model, full.state, data, batch_size=8)
  np.testing.assert_allclose(ev["loss"], float(T.vae_loss(x, recon, mean, logvar)[0]), rtol=1e-5)


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
  for rate in (1.0, -0.1):
    with pytest.raises(ValueError, match="rate"):
      V.dropout(jax.random.PRNGKey(0), jnp.ones((2, 3)), rate)
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
