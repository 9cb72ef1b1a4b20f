"""How a trained Shapes3D VAE sees a set of images: the realism check of procedural scenes.

A VAE trained on real Shapes3D (seed 000 §A.2.1, e.g. the authors' published weights loaded with
`assocmem.nn.keras_weights`) reconstructs images like its training data well and others badly. The
reference is the model's own world: images decoded from prior samples z ~ N(0, I), re-encoded and
reconstructed. `vae_realism` reports

  error (mean, median)            §A.2.1's reconstruction term per image (`metrics.reconstruction_errors`:
                                  Σ_pixels mean_channels |x − x̂|), x̂ = decode(encoder mean of x);
  reference error (mean, median)  the same for the decoder's prior samples;
  ratio                           mean error / mean reference error (1: as familiar as the model's own
                                  samples);
  decoding accuracy               object shape decoded from the latent means of the images
                                  (`metrics.decoding_accuracy`, the authors' 200/750 RBF SVC).
"""

from __future__ import annotations

import functools

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks
from assocmem.data import shapes3d
from assocmem.experiments.consolidation import metrics
from assocmem.nn import keras_weights
from assocmem.nn.vae import COMPILER_OPTIONS, ConvVAE, VAEConfig, shapes3d_config


def _encode_decode(model: ConvVAE, variables: Any, images: np.ndarray,
                   batch_size: int) -> tuple[np.ndarray, np.ndarray]:
  """(N, H, W, C) -> reconstructions decode(mean) (N, H, W, C) and latent means (N, L), batched."""

  @functools.partial(jax.jit, compiler_options=COMPILER_OPTIONS)
  def step(x):
    mean, _ = model.apply(variables, x, method=ConvVAE.encode)
    return model.apply(variables, mean, method=ConvVAE.decode), mean

  recons, means = [], []
  for start in range(0, images.shape[0], batch_size):
    batch = images[start:start + batch_size]
    n = batch.shape[0]
    if n < batch_size:  # pad the last batch to one compiled shape
      batch = np.concatenate([batch, np.zeros((batch_size - n,) + batch.shape[1:], batch.dtype)])
    r, m = step(jnp.asarray(batch))
    recons.append(np.asarray(r)[:n])
    means.append(np.asarray(m)[:n])
  return np.concatenate(recons), np.concatenate(means)


def prior_samples(config: VAEConfig, variables: Any, key: jax.Array, n: int,
                  batch_size: int = 250) -> np.ndarray:
  """n images decode(z), z ~ N(0, I) (the model's own world).

  Returns:
    (n, H, W, C) float32 images in (0, 1).
  """
  n = _checks.check_int("n", n, 1)
  batch_size = _checks.check_int("batch_size", batch_size, 1)
  model = ConvVAE(config)
  z = np.asarray(jax.random.normal(key, (n, config.latent_dim)), np.float32)
  decode = jax.jit(lambda zz: model.apply(variables, zz, method=ConvVAE.decode),
                   compiler_options=COMPILER_OPTIONS)
  out = []
  for start in range(0, n, batch_size):
    zb = z[start:start + batch_size]
    m = zb.shape[0]
    if m < batch_size:
      zb = np.concatenate([zb, np.zeros((batch_size - m, zb.shape[1]), zb.dtype)])
    out.append(np.asarray(decode(jnp.asarray(zb)))[:m])
  return np.concatenate(out).astype(np.float32)


def vae_realism(config: VAEConfig, variables: Any, images: Any, shape_labels: Any,
                key: jax.Array, n_reference: int | None = None, batch_size: int = 250,
                n_fit: int = 200, n_score: int = 750) -> dict[str, Any]:
  """Reconstruction error of `images` under a trained VAE against its own prior samples'.

  Args:
    config: the VAE's configuration (e.g. `shapes3d_config()`).
    variables: `ConvVAE(config)` variables ({"params", "batch_stats"}).
    images: (N, H, W, C) in [0, 1], H, W, C = config.image_shape.
    shape_labels: (N,) integer labels decoded from the latent means (object shape).
    key: PRNG key of the prior samples.
    n_reference: prior samples for the reference (default N).
    batch_size: images per jit-compiled encoder/decoder call.
    n_fit, n_score: the decoding classifier's fitting and scoring sizes (the authors' 200, 750).
  Returns:
    {"n_images", "error_mean", "error_median", "reference_n", "reference_error_mean",
     "reference_error_median", "ratio" (NaN when the reference error is 0), "shape_decoding_accuracy"
     (NaN when the fitting examples hold one class), "errors" ((N,) float64),
     "reference_errors" ((n_reference,) float64), "latents" ((N, L) float32)}.
  """
  if not isinstance(config, VAEConfig):
    raise ValueError(f"config must be a VAEConfig, got {type(config).__name__}")
  x = np.asarray(images, np.float32)
  if x.ndim != 4 or x.shape[1:] != tuple(config.image_shape) or x.shape[0] < 4:
    raise ValueError(f"images must have shape (N >= 4, {', '.join(map(str, config.image_shape))}), "
                     f"got {x.shape}")
  y = np.asarray(shape_labels)
  if y.shape != (x.shape[0],):
    raise ValueError(f"shape_labels must have shape ({x.shape[0]},), got {y.shape}")
  n_ref = x.shape[0] if n_reference is None else _checks.check_int("n_reference", n_reference, 1)
  batch_size = _checks.check_int("batch_size", batch_size, 1)
  model = ConvVAE(config)

  recon, latents = _encode_decode(model, variables, x, batch_size)
  errors = metrics.reconstruction_errors(x, recon)
  ref = prior_samples(config, variables, key, n_ref, batch_size)
  ref_recon, _ = _encode_decode(model, variables, ref, batch_size)
  ref_errors = metrics.reconstruction_errors(ref, ref_recon)
  accuracy = metrics.decoding_accuracy(latents, y, n_fit=n_fit, n_score=n_score)
  return {
      "n_images": int(x.shape[0]),
      "error_mean": float(errors.mean()),
      "error_median": float(np.median(errors)),
      "reference_n": int(n_ref),
      "reference_error_mean": float(ref_errors.mean()),
      "reference_error_median": float(np.median(ref_errors)),
      "ratio": float(errors.mean() / ref_errors.mean()) if ref_errors.mean() > 0 else float("nan"),
      "shape_decoding_accuracy": accuracy,
      "errors": errors,
      "reference_errors": ref_errors,
      "latents": latents.astype(np.float32),
  }


def read_weights(path: str) -> dict[str, np.ndarray]:
  """Keras weight path -> array, from a Keras HDF5 file (.h5, needs h5py) or an .npz of the same paths."""
  if not isinstance(path, str) or not path:
    raise ValueError(f"path must be a non-empty file name, got {path!r}")
  if path.endswith(".npz"):
    with np.load(path) as z:
      return {k: np.asarray(z[k]) for k in z.files}
  if path.endswith((".h5", ".hdf5")):
    return keras_weights.read_keras_h5(path)
  raise ValueError(f"path must end in .h5, .hdf5 or .npz, got {path!r}")


def shapes3d_realism(encoder_weights: str, decoder_weights: str, n_images: int = 2000, seed: int = 0,
                     reference_seed: int = 0, config: VAEConfig | None = None) -> dict[str, Any]:
  """`vae_realism` of procedural Shapes3D scenes under a published Keras Shapes3D VAE (seed 000's).

  Args:
    encoder_weights, decoder_weights: the Keras encoder's and decoder's weight files (.h5 or .npz of
      the same weight paths), loaded into `ConvVAE(shapes3d_config())` by `vae_variables_from_keras`.
    n_images: procedural scenes (`shapes3d.generate(n_images, seed)`) and prior samples.
    seed: seed of the scenes; reference_seed: PRNG seed of the prior samples.
    config: the Keras model's architecture (default `shapes3d_config()`, the published model's).
  Returns:
    `vae_realism`'s summary without the per-image arrays, plus "seed" and "reference_seed".
  """
  n_images = _checks.check_int("n_images", n_images, 4)
  seed = _checks.check_int("seed", seed, 0)
  reference_seed = _checks.check_int("reference_seed", reference_seed, 0)
  config = shapes3d_config() if config is None else config
  variables = keras_weights.vae_variables_from_keras(read_weights(encoder_weights),
                                                     read_weights(decoder_weights), config)
  data = shapes3d.generate(n_images, seed)
  out = vae_realism(config, variables, data.images, data.labels["label_shape"],
                    jax.random.PRNGKey(reference_seed))
  summary = {k: v for k, v in out.items() if not isinstance(v, np.ndarray)}
  summary.update(seed=seed, reference_seed=reference_seed)
  return summary


__all__ = ["prior_samples", "read_weights", "shapes3d_realism", "vae_realism"]
