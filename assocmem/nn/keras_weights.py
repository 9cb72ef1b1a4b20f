"""Weights of a Keras conv VAE of seed 000 (§A.2.1's large architecture) as `ConvVAE` variables.

The authors of seed 000 trained their VAEs in TF/Keras and saved the encoder and the decoder as two
Keras HDF5 weight files. The large (Shapes3D) network has the same layers as
`ConvVAE(shapes3d_config())`, with Keras' HWIO kernels and row-major reshape, so its weights map
one to one onto the Flax parameters:

  encoder  conv2d, conv2d_1, … (in creation order) -> conv0, conv1, …   (kernel, bias)
           batch_normalization, _1, …               -> bn0, bn1, …       (gamma -> scale, beta -> bias,
                                                                          moving mean / variance -> batch_stats)
           "mean"                                   -> mean
           the other dense layer                    -> logvar
  decoder  the dense layer                          -> dense
           conv2d_k, … (creation order)             -> conv0, conv1, …
           batch_normalization_k, …                 -> bn0, bn1, …

Layers are matched by kind and ordered by Keras' numeric name suffix (creation order), so the
absolute numbers (which depend on how many layers the Keras session had made before) do not
matter. Only the "large" architecture is supported: the small MNIST network's transposed
convolutions follow Keras' output alignment, which this mapping does not reproduce.

    enc = read_keras_h5("shapes3d_encoder.h5"); dec = read_keras_h5("shapes3d_decoder.h5")
    variables = vae_variables_from_keras(enc, dec, shapes3d_config())
    recon, mean, logvar = ConvVAE(shapes3d_config()).apply(variables, images)

This is a measuring instrument: use it to compare against a published model; assocmem ships no
weights.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

from assocmem.nn.vae import VAEConfig

_SUFFIX = re.compile(r"^(?P<kind>[a-z][a-z0-9_]*?)(?:_(?P<n>\d+))?$")


def read_keras_h5(path: str) -> dict[str, np.ndarray]:
  """Every weight array of a Keras HDF5 weights file, by its path ("conv2d/conv2d/kernel:0").

  Needs h5py (not a dependency of assocmem; `pip install h5py`).
  """
  try:
    import h5py  # pylint: disable=import-outside-toplevel
  except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("read_keras_h5 needs h5py, which assocmem does not install: pip install h5py") from e
  out: dict[str, np.ndarray] = {}
  with h5py.File(path, "r") as f:
    def visit(name: str, obj: Any) -> None:
      if isinstance(obj, h5py.Dataset):
        out[name] = np.asarray(obj[()])
    f.visititems(visit)
  if not out:
    raise ValueError(f"path {path!r} holds no weight arrays")
  return out


def _layers(weights: Mapping[str, np.ndarray], name: str) -> dict[str, dict[str, np.ndarray]]:
  """layer name -> {weight name ("kernel", "bias", "gamma", …): array}."""
  if not isinstance(weights, Mapping) or not weights:
    raise ValueError(f"{name} must be a non-empty mapping of Keras weight paths to arrays "
                     f"(read_keras_h5), got {type(weights).__name__}")
  layers: dict[str, dict[str, np.ndarray]] = {}
  for path, value in weights.items():
    parts = str(path).split("/")
    if len(parts) < 2:
      raise ValueError(f"{name}: {path!r} is not a Keras weight path 'layer/.../weight:0'")
    weight = parts[-1].split(":")[0]
    layers.setdefault(parts[0], {})[weight] = np.asarray(value, np.float32)
  return layers


def _ordered(layers: Mapping[str, Any], kind: str) -> list[str]:
  """Names of the layers of `kind` ("conv2d", "batch_normalization", "dense"), in creation order."""
  found = []
  for layer in layers:
    m = _SUFFIX.match(layer)
    if m and m.group("kind") == kind:
      found.append((int(m.group("n") or 0), layer))
  return [layer for _, layer in sorted(found)]


def _expect(name: str, layers: list[str], n: int, kind: str) -> None:
  if len(layers) != n:
    raise ValueError(f"{name} has {len(layers)} {kind} layers ({layers}), the configuration expects {n}")


def _dense_or_conv(layer: Mapping[str, np.ndarray], shape: tuple[int, ...], where: str) -> dict[str, np.ndarray]:
  kernel, bias = layer.get("kernel"), layer.get("bias")
  if kernel is None or bias is None:
    raise ValueError(f"{where} lacks a kernel or a bias")
  if tuple(kernel.shape) != tuple(shape):
    raise ValueError(f"{where} has a kernel of shape {kernel.shape}, the configuration expects {shape}")
  return {"kernel": kernel, "bias": bias}


def _bn(layer: Mapping[str, np.ndarray], channels: int, where: str) -> tuple[dict, dict]:
  for w in ("gamma", "beta", "moving_mean", "moving_variance"):
    if w not in layer or layer[w].shape != (channels,):
      raise ValueError(f"{where} lacks {w} of shape ({channels},)")
  return ({"scale": layer["gamma"], "bias": layer["beta"]},
          {"mean": layer["moving_mean"], "var": layer["moving_variance"]})


def vae_variables_from_keras(encoder: Mapping[str, np.ndarray], decoder: Mapping[str, np.ndarray],
                             config: VAEConfig) -> dict[str, Any]:
  """`ConvVAE(config)` variables ({"params", "batch_stats"}) from a Keras encoder's and decoder's weights.

  Args:
    encoder, decoder: Keras weight path -> array (`read_keras_h5` of the two files).
    config: a large-architecture `VAEConfig` (e.g. `shapes3d_config()`) with the Keras model's sizes.
  Returns:
    {"params": {"encoder": …, "decoder": …}, "batch_stats": {…}}, ready for `ConvVAE(config).apply`.
  Raises:
    ValueError: the architecture is not "large", or a layer is missing or has the wrong shape.
  """
  if not isinstance(config, VAEConfig):
    raise ValueError(f"config must be a VAEConfig, got {type(config).__name__}")
  if config.arch != "large":
    raise ValueError(f"config.arch must be 'large' (the §A.2.1 Shapes3D network), got {config.arch!r}")
  enc, dec = _layers(encoder, "encoder"), _layers(decoder, "decoder")
  h, w, c_in = config.image_shape
  k, kd, latent = config.encoder_kernel, config.decoder_kernel, config.latent_dim
  params: dict[str, dict[str, Any]] = {"encoder": {}, "decoder": {}}
  stats: dict[str, dict[str, Any]] = {"encoder": {}, "decoder": {}}

  convs, bns = _ordered(enc, "conv2d"), _ordered(enc, "batch_normalization")
  _expect("encoder", convs, len(config.encoder_filters), "conv2d")
  if config.batch_norm:
    _expect("encoder", bns, len(config.encoder_filters), "batch_normalization")
  channels = c_in
  for i, f in enumerate(config.encoder_filters):
    params["encoder"][f"conv{i}"] = _dense_or_conv(enc[convs[i]], (k, k, channels, f), f"encoder layer {convs[i]}")
    if config.batch_norm:
      params["encoder"][f"bn{i}"], stats["encoder"][f"bn{i}"] = _bn(enc[bns[i]], f, f"encoder layer {bns[i]}")
    channels = f
  if "mean" not in enc:
    raise ValueError("encoder has no layer named 'mean' (the mean head)")
  heads = _ordered(enc, "dense")
  _expect("encoder", heads, 1, "dense (log-variance head)")
  params["encoder"]["mean"] = _dense_or_conv(enc["mean"], (channels, latent), "encoder layer mean")
  params["encoder"]["logvar"] = _dense_or_conv(enc[heads[0]], (channels, latent), f"encoder layer {heads[0]}")

  dense = _ordered(dec, "dense")
  _expect("decoder", dense, 1, "dense")
  bh, bw, bc = config.base_shape
  params["decoder"]["dense"] = _dense_or_conv(dec[dense[0]], (latent, bh * bw * bc), f"decoder layer {dense[0]}")
  convs, bns = _ordered(dec, "conv2d"), _ordered(dec, "batch_normalization")
  filters = tuple(config.decoder_filters) + (c_in,)
  _expect("decoder", convs, len(filters), "conv2d")
  if config.batch_norm:
    _expect("decoder", bns, len(config.decoder_filters), "batch_normalization")
  channels = bc
  for i, f in enumerate(filters):
    params["decoder"][f"conv{i}"] = _dense_or_conv(dec[convs[i]], (kd, kd, channels, f), f"decoder layer {convs[i]}")
    if config.batch_norm and i < len(config.decoder_filters):
      params["decoder"][f"bn{i}"], stats["decoder"][f"bn{i}"] = _bn(dec[bns[i]], f, f"decoder layer {bns[i]}")
    channels = f
  variables: dict[str, Any] = {"params": params}
  if config.batch_norm:
    variables["batch_stats"] = stats
  return variables


__all__ = ["read_keras_h5", "vae_variables_from_keras"]
