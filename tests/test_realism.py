"""consolidation.realism: a trained VAE's reconstruction error on images against its own samples'."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem.experiments.consolidation import metrics, realism
from assocmem.nn.keras_weights import vae_variables_from_keras
from assocmem.nn.vae import ConvVAE, shapes3d_config

CFG = shapes3d_config(latent_dim=3, encoder_filters=(2, 3, 4, 5), decoder_filters=(4, 3, 2),
                      decoder_base_channels=6)


def _keras_weights(constant_output: float | None = None) -> tuple[dict, dict]:
  """Random Keras-named encoder and decoder weights of CFG's shapes (no Flax init to compile).

  With `constant_output`, the last decoder layer ignores its input: every decode is that value.
  """
  rng = np.random.default_rng(0)
  normal = lambda *shape: (0.2 * rng.standard_normal(shape)).astype(np.float32)  # noqa: E731
  k, kd, latent = CFG.encoder_kernel, CFG.decoder_kernel, CFG.latent_dim
  enc, dec = {}, {}

  def conv(d, name, shape):
    d[f"{name}/{name}/kernel:0"], d[f"{name}/{name}/bias:0"] = normal(*shape), normal(shape[-1])

  def bn(d, name, c):
    for w, value in (("gamma", 1 + normal(c)), ("beta", normal(c)), ("moving_mean", normal(c)),
                     ("moving_variance", 1 + np.abs(normal(c)))):
      d[f"{name}/{name}/{w}:0"] = value

  channels = CFG.image_shape[-1]
  for i, f in enumerate(CFG.encoder_filters):
    conv(enc, f"conv2d_{i}", (k, k, channels, f))
    bn(enc, f"batch_normalization_{i}", f)
    channels = f
  conv(enc, "mean", (channels, latent))
  conv(enc, "dense", (channels, latent))
  bh, bw, bc = CFG.base_shape
  conv(dec, "dense_1", (latent, bh * bw * bc))
  channels = bc
  filters = tuple(CFG.decoder_filters) + (CFG.image_shape[-1],)
  for i, f in enumerate(filters):
    conv(dec, f"conv2d_{10 + i}", (kd, kd, channels, f))
    if i < len(CFG.decoder_filters):
      bn(dec, f"batch_normalization_{10 + i}", f)
    channels = f
  if constant_output is not None:
    last = f"conv2d_{10 + len(filters) - 1}"
    dec[f"{last}/{last}/kernel:0"][:] = 0.0
    dec[f"{last}/{last}/bias:0"][:] = np.log(constant_output / (1 - constant_output))
  return enc, dec


def _variables(constant_output: float | None = None):
  return ConvVAE(CFG), vae_variables_from_keras(*_keras_weights(constant_output), CFG)


def test_summary_shapes_and_ratio():
  model, v = _variables()
  rng = np.random.default_rng(0)
  x = rng.uniform(size=(12,) + CFG.image_shape).astype(np.float32)
  labels = np.arange(12) % 4
  out = realism.vae_realism(CFG, v, x, labels, jax.random.PRNGKey(0), n_reference=7, batch_size=8,
                            n_fit=4, n_score=6)
  assert out["errors"].shape == (12,) and out["reference_errors"].shape == (7,)
  assert out["latents"].shape == (12, 3) and out["n_images"] == 12 and out["reference_n"] == 7
  # The errors are §A.2.1's metric on decode(encoder mean), batched or not.
  apply = jax.jit(model.apply)
  recon, mean, _ = apply(v, jnp.asarray(x))
  np.testing.assert_allclose(out["errors"], metrics.reconstruction_errors(x, recon), rtol=1e-5)
  np.testing.assert_allclose(out["latents"], mean, rtol=1e-5, atol=1e-6)
  # The reference: prior samples z ~ N(0, I) decoded, re-encoded and reconstructed.
  ref = realism.prior_samples(CFG, v, jax.random.PRNGKey(0), 7, batch_size=8)
  ref_recon, _, _ = apply(v, jnp.asarray(ref))
  np.testing.assert_allclose(out["reference_errors"], metrics.reconstruction_errors(ref, ref_recon),
                             rtol=1e-5)
  assert out["ratio"] == pytest.approx(out["error_mean"] / out["reference_error_mean"])
  assert out["error_median"] == pytest.approx(np.median(out["errors"]))
  assert 0.0 <= out["shape_decoding_accuracy"] <= 1.0


def test_a_perfect_autoencoder_has_error_zero():
  _, v = _variables(constant_output=0.25)
  x = np.full((6,) + CFG.image_shape, 0.25, np.float32)   # the one image this model reproduces
  out = realism.vae_realism(CFG, v, x, np.arange(6) % 2, jax.random.PRNGKey(1), n_fit=3, n_score=3)
  assert out["error_mean"] == pytest.approx(0.0, abs=1e-4)
  # Its own samples are that image too: the reference is 0, so the ratio is undefined.
  assert out["reference_error_mean"] == pytest.approx(0.0, abs=1e-4)
  # An image off by 0.1 everywhere: error 0.1 per pixel, summed over 64 x 64 pixels.
  out = realism.vae_realism(CFG, v, x + 0.1, np.arange(6) % 2, jax.random.PRNGKey(1), n_fit=3, n_score=3)
  assert out["error_mean"] == pytest.approx(0.1 * 64 * 64, rel=1e-4)


def test_shapes3d_realism_reads_npz_weights(tmp_path):
  enc, dec = _keras_weights()
  np.savez(tmp_path / "enc.npz", **enc)
  np.savez(tmp_path / "dec.npz", **dec)
  out = realism.shapes3d_realism(str(tmp_path / "enc.npz"), str(tmp_path / "dec.npz"), n_images=8,
                                 config=CFG)
  assert out["n_images"] == 8 and out["reference_n"] == 8
  assert not any(isinstance(val, np.ndarray) for val in out.values())   # JSON-ready
  assert out["ratio"] == pytest.approx(out["error_mean"] / out["reference_error_mean"])


@pytest.mark.parametrize("call, match", [
    (lambda v: realism.vae_realism(CFG, v, np.zeros((3, 64, 64, 3)), np.zeros(3), jax.random.PRNGKey(0)),
     r"images must have shape \(N >= 4"),
    (lambda v: realism.vae_realism(CFG, v, np.zeros((4, 32, 32, 3)), np.zeros(4), jax.random.PRNGKey(0)),
     "images must have shape"),
    (lambda v: realism.vae_realism(CFG, v, np.zeros((4, 64, 64, 3)), np.zeros(5), jax.random.PRNGKey(0)),
     r"shape_labels must have shape \(4,\)"),
    (lambda v: realism.read_weights("weights.pt"), r"path must end in \.h5"),
    (lambda v: realism.shapes3d_realism("a.npz", "b.npz", n_images=2), "n_images must be"),
])
def test_bad_input_names_the_argument(call, match):
  _, v = _variables()
  with pytest.raises(ValueError, match=match):
    call(v)
