"""Keras VAE weights -> ConvVAE variables: layer order by creation suffix, shapes, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem.nn.keras_weights import vae_variables_from_keras
from assocmem.nn.vae import ConvVAE, mnist_config, shapes3d_config

CFG = shapes3d_config(latent_dim=3, encoder_filters=(2, 3, 4, 5), decoder_filters=(4, 3, 2), decoder_base_channels=6)


def _keras_names(variables, enc_start=7, dec_start=9):
  """The Keras weight paths of `variables`, numbered as a Keras session that made other layers first
  would number them (suffixes crossing 10, so a string sort would misorder them)."""
  p, s = variables["params"], variables["batch_stats"]
  enc, dec = {}, {}
  name = lambda kind, n: kind if n == 0 else f"{kind}_{n}"
  for i in range(4):
    conv, bn = name("conv2d", enc_start + i), name("batch_normalization", enc_start + i)
    enc[f"{conv}/{conv}/kernel:0"] = p["encoder"][f"conv{i}"]["kernel"]
    enc[f"{conv}/{conv}/bias:0"] = p["encoder"][f"conv{i}"]["bias"]
    enc[f"{bn}/{bn}/gamma:0"] = p["encoder"][f"bn{i}"]["scale"]
    enc[f"{bn}/{bn}/beta:0"] = p["encoder"][f"bn{i}"]["bias"]
    enc[f"{bn}/{bn}/moving_mean:0"] = s["encoder"][f"bn{i}"]["mean"]
    enc[f"{bn}/{bn}/moving_variance:0"] = s["encoder"][f"bn{i}"]["var"]
  enc["mean/mean/kernel:0"], enc["mean/mean/bias:0"] = p["encoder"]["mean"]["kernel"], p["encoder"]["mean"]["bias"]
  enc["dense_3/dense_3/kernel:0"] = p["encoder"]["logvar"]["kernel"]
  enc["dense_3/dense_3/bias:0"] = p["encoder"]["logvar"]["bias"]
  dec["dense_4/dense_4/kernel:0"] = p["decoder"]["dense"]["kernel"]
  dec["dense_4/dense_4/bias:0"] = p["decoder"]["dense"]["bias"]
  for i in range(4):
    conv = name("conv2d", dec_start + i)
    dec[f"{conv}/{conv}/kernel:0"] = p["decoder"][f"conv{i}"]["kernel"]
    dec[f"{conv}/{conv}/bias:0"] = p["decoder"][f"conv{i}"]["bias"]
  for i in range(3):
    bn = name("batch_normalization", dec_start + i)
    dec[f"{bn}/{bn}/gamma:0"] = p["decoder"][f"bn{i}"]["scale"]
    dec[f"{bn}/{bn}/beta:0"] = p["decoder"][f"bn{i}"]["bias"]
    dec[f"{bn}/{bn}/moving_mean:0"] = s["decoder"][f"bn{i}"]["mean"]
    dec[f"{bn}/{bn}/moving_variance:0"] = s["decoder"][f"bn{i}"]["var"]
  return ({k: np.asarray(v) for k, v in enc.items()}, {k: np.asarray(v) for k, v in dec.items()})


def _random_variables():
  model = ConvVAE(CFG)
  v = model.init({"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1), "sample": jax.random.PRNGKey(2)},
                 jnp.zeros((1,) + CFG.image_shape))
  # Distinct random values everywhere (biases and BatchNorm statistics too), so a swap shows.
  leaves, tree = jax.tree.flatten(v)
  keys = jax.random.split(jax.random.PRNGKey(3), len(leaves))
  leaves = [jax.random.uniform(k, l.shape, minval=0.5, maxval=1.5) for k, l in zip(keys, leaves)]
  return model, jax.tree.unflatten(tree, leaves)


def test_round_trip_and_same_function():
  model, v = _random_variables()
  enc, dec = _keras_names(v)
  got = vae_variables_from_keras(enc, dec, CFG)
  assert jax.tree.structure(jax.tree.map(jnp.asarray, got)) == jax.tree.structure(v)
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(v)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  x = jax.random.uniform(jax.random.PRNGKey(4), (2,) + CFG.image_shape)
  np.testing.assert_allclose(model.apply(got, x)[0], model.apply(v, x)[0], rtol=1e-6)


def test_creation_order_not_string_order():
  _, v = _random_variables()
  enc, dec = _keras_names(v, enc_start=8, dec_start=9)    # conv2d_8, conv2d_9, conv2d_10, conv2d_11
  got = vae_variables_from_keras(enc, dec, CFG)
  np.testing.assert_array_equal(got["params"]["encoder"]["conv2"]["kernel"], v["params"]["encoder"]["conv2"]["kernel"])
  np.testing.assert_array_equal(got["params"]["decoder"]["conv1"]["bias"], v["params"]["decoder"]["conv1"]["bias"])


def test_errors():
  _, v = _random_variables()
  enc, dec = _keras_names(v)
  with pytest.raises(ValueError, match="arch"):
    vae_variables_from_keras(enc, dec, mnist_config())
  with pytest.raises(ValueError, match="config"):
    vae_variables_from_keras(enc, dec, "large")
  with pytest.raises(ValueError, match="encoder"):
    vae_variables_from_keras({}, dec, CFG)
  missing = {k: a for k, a in enc.items() if not k.startswith("mean/")}
  with pytest.raises(ValueError, match="mean"):
    vae_variables_from_keras(missing, dec, CFG)
  with pytest.raises(ValueError, match="kernel of shape"):
    vae_variables_from_keras(enc, dec, shapes3d_config(latent_dim=3, encoder_filters=(2, 3, 4, 6),
                                                       decoder_filters=(4, 3, 2), decoder_base_channels=6))
