"""The conv VAE as a memory (seed 000's neocortex, supplement §A.2.1) under the memory protocol.

`VAEMemory` is a `LearningMemory`: its state is the VAE's `TrainState` (parameters, BatchNorm
statistics, optimizer state, step, PRNG key), trained by `fit` on (N, d) flattened images.

  fit / store  train the VAE on data (seed 000: on the hippocampus' replays, never on the
               originals) with the authors' loss and schedule (`assocmem.train.vae`);
  recall       encode → decode in inference mode: the posterior mean (or, with a key, a sample
               of q(z|x)) decoded; `recall_steps` > 1 feeds the output back in;
  replay       decode z ~ N(0, I): imagination, samples of the generative model;
  encode       posterior means of q(z|x), (N, L);
  decode       latents → the memory's layout and range.

One vocabulary: every method takes the memory's data, flat (N, d) rows or (N, H, W, C) images,
in its range, and returns the layout it was given (decode: rows, or images with `images=True`).

Data are flat (N, H·W·C) rows (the protocol's (N, d)) or (N, H, W, C) images, in [0, 1]
(`data_range="unit"`) or in [−1, 1] (`"signed"`, the range of the Hopfield and diffusion
memories' patterns, so the VAE can stand in for them as a replay source).

Training is `assocmem.train.vae.fit_vae` (the authors' loss, schedule, early stopping and orbax
resume); `train.steps_per_call` chooses how many steps one jit call runs (see `TrainConfig`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks
from assocmem.nn.vae import ConvVAE, VAEConfig, shapes3d_config
from assocmem.train import vae as train_vae
from assocmem.train.state import TrainState

Array = jax.Array
EpochCallback = Callable[[int, TrainState], "Mapping[str, Any] | None"]

DATA_RANGES = ("unit", "signed")
_RANGE_TOL = 1e-4


# ----------------------------------------------------------------------------- the memory

@flax.struct.dataclass
class VAEMemory:
  """A conv VAE as a learning memory (seed 000's neocortex; supplement §A.2.1).

  Attributes:
    config: the network (`shapes3d_config()`: the large VAE of §A.2.1; `mnist_config()`: the
      small one). Its `image_shape` fixes d = H·W·C.
    train: training settings (§A.2.1: Adam 1e-3 amsgrad, batch 32, ≤ 50 epochs, patience 3).
    data_range: "unit" (data in [0, 1], the VAE's own range) or "signed" (data in [−1, 1], as
      the Hopfield and diffusion memories store images; mapped by (x + 1) / 2 and back).
    recall_steps: encode → decode passes per recall (1: one reconstruction; more iterate it).
    batch_size: images per inference call (the default of the methods' `batch_size`).
  """
  config: VAEConfig = flax.struct.field(pytree_node=False, default_factory=shapes3d_config)
  train: train_vae.TrainConfig = flax.struct.field(pytree_node=False,
                                                   default_factory=train_vae.TrainConfig)
  data_range: str = flax.struct.field(pytree_node=False, default="unit")
  recall_steps: int = flax.struct.field(pytree_node=False, default=1)
  batch_size: int = flax.struct.field(pytree_node=False, default=256)

  def __post_init__(self):
    if not isinstance(self.config, VAEConfig):
      raise ValueError(f"config must be an assocmem.nn.vae.VAEConfig, got {type(self.config).__name__}")
    if not isinstance(self.train, train_vae.TrainConfig):
      raise ValueError(f"train must be an assocmem.train.vae.TrainConfig, got {type(self.train).__name__}")
    _checks.check_choice("data_range", self.data_range, DATA_RANGES)
    _checks.check_int("recall_steps", self.recall_steps)
    _checks.check_int("batch_size", self.batch_size)

  @property
  def model(self) -> ConvVAE:
    """The Flax module."""
    return ConvVAE(self.config)

  # ------------------------------------------------------------------ layout and range

  def to_images(self, name: str, data: Any) -> tuple[np.ndarray, bool]:
    """(N, d) rows or (N, H, W, C) images in the memory's range → ((N, H, W, C) in [0, 1], was_flat)."""
    x = np.asarray(data)
    if x.dtype.kind not in "fiu":
      raise ValueError(f"{name} must be a numeric array, got dtype {x.dtype}")
    shape = self.config.image_shape
    if x.ndim == 2 and x.shape[1] == self.dim():
      flat = True
      x = x.reshape((x.shape[0],) + shape)
    elif x.ndim == 4 and x.shape[1:] == shape:
      flat = False
    else:
      raise ValueError(f"{name} must have shape (N, {self.dim()}) or (N, {', '.join(map(str, shape))}) "
                       f"for this VAE's image_shape {shape}, got shape {x.shape}")
    if x.shape[0] == 0:
      raise ValueError(f"{name} is empty: expected at least one image, got shape {x.shape}")
    x = x.astype(np.float32, copy=False)
    lo, hi = (0.0, 1.0) if self.data_range == "unit" else (-1.0, 1.0)
    if not np.all(np.isfinite(x)) or x.min() < lo - _RANGE_TOL or x.max() > hi + _RANGE_TOL:
      raise ValueError(f"{name} must hold finite values in [{lo:g}, {hi:g}] (data_range="
                       f"{self.data_range!r}), got range [{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]")
    if self.data_range == "signed":
      x = (x + 1.0) / 2.0
    return np.clip(x, 0.0, 1.0), flat

  def from_images(self, images: np.ndarray, flat: bool) -> Array:
    """(N, H, W, C) in [0, 1] → the memory's layout and range."""
    out = images if self.data_range == "unit" else 2.0 * images - 1.0
    if flat:
      out = out.reshape(out.shape[0], -1)
    return jnp.asarray(out)

  # ------------------------------------------------------------------ protocol

  def init(self, key: Array) -> TrainState:
    """A freshly initialised (untrained) state (Glorot-uniform weights, as Keras)."""
    return train_vae.create_train_state(self.model, key, self.train)

  def fit_result(self, key: Array, data: Any, state: TrainState | None = None, *,
                 checkpoint_dir: str | None = None,
                 on_epoch_begin: EpochCallback | None = None) -> train_vae.FitResult:
    """Trains on data (N, d) or (N, H, W, C); returns the `FitResult` (state and per-epoch history)."""
    images, _ = self.to_images("data", data)
    return train_vae.fit_vae(self.model, images, key, config=self.train, state=state,
                             checkpoint_dir=checkpoint_dir, on_epoch_begin=on_epoch_begin)

  def fit(self, key: Array, data: Any, state: TrainState | None = None, **kwargs: Any) -> TrainState:
    """Trains on (N, d) data (continuing from `state` if given); returns the trained `TrainState`.

    Keyword arguments `checkpoint_dir` and `on_epoch_begin` are passed to the training loop.
    """
    unknown = set(kwargs) - {"checkpoint_dir", "on_epoch_begin"}
    if unknown:
      raise ValueError(f"unknown keyword arguments {sorted(unknown)}; expected checkpoint_dir, on_epoch_begin")
    return self.fit_result(key, data, state, **kwargs).state

  def store(self, key: Array, data: Any) -> TrainState:
    """`fit` with the memory's training settings (a learned memory stores by training)."""
    return self.fit(key, data)

  # ------------------------------------------------------------------ network halves on [0, 1] images
  # Inputs are padded to a multiple of the batch size, so every call reuses one compiled function
  # per network half whatever the number of images.

  def check_state(self, state: Any) -> TrainState:
    """Raises a ValueError naming `state` unless it is the `TrainState` that `fit`, `store` or `init`
    returns; returns it."""
    if not isinstance(state, TrainState):
      raise ValueError("state must be the TrainState that VAEMemory.fit (or store, or init) returns, "
                       f"got {type(state).__name__}")
    return state

  def _batch(self, batch_size: Any) -> int:
    return self.batch_size if batch_size is None else _checks.check_int("batch_size", batch_size, 1)

  def _pad(self, x: np.ndarray, batch_size: int) -> np.ndarray:
    extra = (-x.shape[0]) % batch_size
    if not extra:
      return x
    return np.concatenate([x, np.zeros((extra,) + x.shape[1:], x.dtype)])

  def _reconstruct(self, state: TrainState, images: np.ndarray, key: Array | None, batch_size: int) -> np.ndarray:
    """decode(encode(x)) of (N, H, W, C) images in [0, 1]: the posterior mean decoded (key None), or
    a sample z ~ q(z|x) drawn for all N images at once (so the chunks change nothing)."""
    n = images.shape[0]
    x = self._pad(images, batch_size)
    if key is None:
      return train_vae.reconstruct(self.model, state, x, batch_size)[:n]
    mean, logvar = train_vae.encode(self.model, state, x, batch_size)
    z = train_vae.reparameterize(key, jnp.asarray(mean[:n]), jnp.asarray(logvar[:n]))
    return self._decode(state, np.asarray(z), batch_size)

  def _decode(self, state: TrainState, z: np.ndarray, batch_size: int) -> np.ndarray:
    """Decoder of (N, L) latents → (N, H, W, C) images in [0, 1]."""
    return train_vae.decode(self.model, state, self._pad(z, batch_size), batch_size)[:z.shape[0]]

  # ------------------------------------------------------------------ protocol (memory's layout and range)

  def dim(self, state: TrainState | None = None) -> int:
    """d = H·W·C (fixed by `config.image_shape`; the state is not needed)."""
    del state
    return int(np.prod(self.config.image_shape))

  def capacity(self, state: TrainState) -> None:
    """None: the VAE stores in its weights (no slots), and its state does not record how many
    items it was trained on."""
    del state
    return None

  def encode(self, state: TrainState, data: Any, *, batch_size: int | None = None) -> np.ndarray:
    """Posterior means of q(z|x) in inference mode: (N, d) or (N, H, W, C) → (N, L)."""
    self.check_state(state)
    batch_size = self._batch(batch_size)
    images, _ = self.to_images("data", data)
    return train_vae.encode_means(self.model, state, self._pad(images, batch_size), batch_size)[:images.shape[0]]

  def decode(self, state: TrainState, z: Any, *, images: bool = False,
             batch_size: int | None = None) -> Array:
    """Decoder in inference mode: (N, L) latents → (N, d) in the memory's range, or (N, H, W, C)
    with `images=True`."""
    self.check_state(state)
    batch_size = self._batch(batch_size)
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != self.config.latent_dim or z.shape[0] == 0:
      raise ValueError(f"z must have shape (n >= 1, {self.config.latent_dim}), got shape {z.shape}")
    if not np.all(np.isfinite(z)):
      raise ValueError("z must hold finite values (found NaN or inf)")
    return self.from_images(self._decode(state, z, batch_size), flat=not images)

  def recall(self, state: TrainState, cues: Any, key: Array | None = None, *,
             batch_size: int | None = None) -> Array:
    """`recall_steps` × encode → decode of (B, d) cues (or (B, H, W, C)); same layout out.

    Without a key the decoder gets the posterior mean (the authors' recall); with one, a sample
    z ~ q(z|x) (a fresh one per pass, drawn for all B cues at once). `batch_size` (default: the
    memory's) images per inference call.
    """
    self.check_state(state)
    _checks.check_key("key", key, optional=True)
    batch_size = self._batch(batch_size)
    images, flat = self.to_images("cues", cues)
    for step in range(self.recall_steps):
      k = None if key is None else jax.random.fold_in(key, step)
      images = self._reconstruct(state, images, k, batch_size)
    return self.from_images(images, flat)

  def replay(self, state: TrainState, key: Array, n: int, *, batch_size: int | None = None) -> Array:
    """(n, d) decodings of z ~ N(0, I): samples of the generative model (imagination)."""
    self.check_state(state)
    _checks.check_key("key", key)
    n = _checks.check_int("n", n)
    batch_size = self._batch(batch_size)
    z = jax.random.normal(key, (n, self.config.latent_dim), jnp.float32)
    return self.decode(state, np.asarray(z), batch_size=batch_size)


def default_memory(config: VAEConfig | None = None, **train_overrides: Any) -> VAEMemory:
  """A `VAEMemory` of `config` (default: the large VAE) with `TrainConfig(**train_overrides)`."""
  return VAEMemory(config=config or shapes3d_config(),
                   train=dataclasses.replace(train_vae.TrainConfig(), **train_overrides))
