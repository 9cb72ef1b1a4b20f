"""The conv VAE as a memory (seed 000's neocortex, supplement §A.2.1) under the memory protocol.

`VAEMemory` is a `LearningMemory`: its state is the VAE's `TrainState` (parameters, BatchNorm
statistics, optimizer state, step, PRNG key), trained by `fit` on (N, d) flattened images.

  fit / store  train the VAE on data (seed 000: on the hippocampus' replays, never on the
               originals) with the authors' loss and schedule (`assocmem.train.vae`);
  recall       encode → decode in inference mode: the posterior mean (or, with a key, a sample
               of q(z|x)) decoded; `recall_steps` > 1 feeds the output back in;
  replay       decode z ~ N(0, I): imagination, samples of the generative model.

Data are flat (N, H·W·C) rows (the protocol's (N, d)) or (N, H, W, C) images, in [0, 1]
(`data_range="unit"`) or in [−1, 1] (`"signed"`, the range of the Hopfield and diffusion
memories' patterns, so the VAE can stand in for them as a replay source).

Training loop. `fit_vae_stepwise` trains exactly as `assocmem.train.vae.fit_vae` (same shuffles,
dropout and z draws, same Keras early stopping, same orbax checkpoint and `history.json`, so the
two resume each other's runs), but dispatches one jitted `train_step` per batch instead of one
`lax.scan` over the epoch. On XLA's CPU backend a `lax.scan` / `fori_loop` around the conv
train step runs 10–20× slower per step than the same step called from Python (measured on this
2-core machine: 350–570 ms against 25–40 ms per batch of 32 for a 28×28 VAE; an unrolled scan is
as fast as the single step), so `loop="auto"` picks the per-step loop on CPU and `fit_vae`
elsewhere. The two agree to float32 rounding.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import time
from typing import Any, Callable, Mapping

from absl import logging
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, files
from assocmem.nn.vae import ConvVAE, VAEConfig, shapes3d_config
from assocmem.train import vae as train_vae
from assocmem.train.checkpoint import Checkpointer

Array = jax.Array
TrainState = train_vae.TrainState
EpochCallback = Callable[[int, TrainState], "Mapping[str, Any] | None"]

DATA_RANGES = ("unit", "signed")
LOOPS = ("auto", "steps", "scan")
_RANGE_TOL = 1e-4


# ----------------------------------------------------------------------------- training loop

def resolve_loop(loop: str) -> str:
  """'auto' → 'steps' on the CPU backend, 'scan' (`fit_vae`) elsewhere; other values unchanged."""
  _checks.check_choice("loop", loop, LOOPS)
  if loop == "auto":
    return "steps" if jax.default_backend() == "cpu" else "scan"
  return loop


def _read_history(checkpoint_dir: str) -> list[dict[str, Any]]:
  path = os.path.join(os.path.abspath(checkpoint_dir), train_vae.HISTORY_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    history = json.load(f)
  if not isinstance(history, list):
    raise ValueError(f"checkpoint_dir {checkpoint_dir!r}: {train_vae.HISTORY_FILE} is not a list of epochs")
  return history


def _shuffle_key(state: TrainState) -> Array:
  # The derivation of `fit_vae` (train/vae.py), so both loops see the same epochs.
  return jax.random.fold_in(jax.random.fold_in(state.rng, train_vae._SHUFFLE_SALT), state.step)  # pylint: disable=protected-access


def _step_config(config: train_vae.TrainConfig) -> train_vae.TrainConfig:
  """The settings one step reads (optimizer and loss weight), the schedule's at their defaults:
  `train_step` takes its config as a static argument, so this keeps one compilation across runs
  that differ only in epochs, patience or batch size (a resumed run asking for more epochs)."""
  return train_vae.TrainConfig(learning_rate=config.learning_rate, kl_weight=config.kl_weight,
                               amsgrad=config.amsgrad, adam_eps=config.adam_eps)


@functools.partial(jax.jit, static_argnames=("model", "config"))
def _init_state(model: ConvVAE, key: Array, config: train_vae.TrainConfig) -> TrainState:
  init_key, run_key = jax.random.split(key)
  k_params, k_drop, k_sample = jax.random.split(init_key, 3)
  dummy = jnp.zeros((1,) + model.config.image_shape, jnp.float32)
  variables = model.init({"params": k_params, "dropout": k_drop, "sample": k_sample}, dummy, train=False)
  params = variables["params"]
  return TrainState(params=params, batch_stats=variables.get("batch_stats", {}),
                    opt_state=train_vae.make_optimizer(config).init(params),
                    step=jnp.zeros((), jnp.int32), rng=run_key)


def init_state(model: ConvVAE, key: Array, config: train_vae.TrainConfig = train_vae.TrainConfig()) -> TrainState:
  """`assocmem.train.vae.create_train_state` (the same state, bit for bit) from one cached jit.

  `create_train_state` jits a fresh `partial(model.init)` on every call, so each call compiles
  again (6–8 s for a tiny VAE on this machine); this one compiles once per network and optimizer.
  """
  if not isinstance(model, ConvVAE):
    raise ValueError(f"model must be an assocmem.nn.vae.ConvVAE, got {type(model).__name__}")
  key = jnp.asarray(key)
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.key_data(key)
  if key.shape != (2,) or key.dtype != jnp.uint32:
    raise ValueError(f"key must be a jax.random.PRNGKey (uint32 (2,)), got {key.dtype} {key.shape}")
  return _init_state(model, key, _step_config(config))


def fit_vae_stepwise(model: ConvVAE, data: Any, key: Array, *,
                     config: train_vae.TrainConfig = train_vae.TrainConfig(),
                     state: TrainState | None = None, checkpoint_dir: str | None = None,
                     on_epoch_begin: EpochCallback | None = None) -> train_vae.FitResult:
  """`assocmem.train.vae.fit_vae` with one jitted `train_step` call per batch (seed 000 §A.2.1).

  Same arguments, result, randomness, early stopping (Keras `EarlyStopping(monitor="loss")`),
  checkpoint layout and `history.json` as `fit_vae`; see the module docstring for why it exists.

  Args:
    model: the VAE.
    data: (N, H, W, C) images in [0, 1].
    key: PRNG key for `create_train_state` (ignored when `state` is given or a checkpoint exists).
    config: training settings.
    state: continue from this state instead of initialising one.
    checkpoint_dir: orbax checkpoint after every epoch; resume from the newest one if present.
    on_epoch_begin: `fn(epoch, state) -> dict | None` before every trained epoch; its result is
      stored in the epoch's history record under "callback" (JSON-serialisable when checkpointing).
  Returns:
    a `train_vae.FitResult`.
  """
  if not isinstance(model, ConvVAE):
    raise ValueError(f"model must be an assocmem.nn.vae.ConvVAE, got {type(model).__name__}")
  if not isinstance(config, train_vae.TrainConfig):
    raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
  x = np.asarray(data)
  if x.ndim != 4 or x.shape[1:] != model.config.image_shape or x.shape[0] == 0:
    raise ValueError(f"data must have shape (N >= 1, {', '.join(map(str, model.config.image_shape))}), "
                     f"got shape {x.shape}")
  x = x.astype(np.float32, copy=False)
  n = x.shape[0]
  if config.drop_remainder and n < config.batch_size:
    raise ValueError(f"data has {n} images, fewer than batch_size={config.batch_size} with "
                     "drop_remainder=True: no batch to train on")
  if state is None:
    state = init_state(model, key, config)
  elif not isinstance(state, TrainState):
    raise ValueError(f"state must be a TrainState or None, got {type(state).__name__}")

  history: list[dict[str, Any]] = []
  resumed = None
  ckpt = Checkpointer(checkpoint_dir) if checkpoint_dir is not None else None
  try:
    if ckpt is not None:
      step, restored = ckpt.restore({"state": state, "epoch": np.zeros((), np.int64)})
      if step is not None:
        state, resumed = restored["state"], int(restored["epoch"])
        history = _read_history(checkpoint_dir)[:resumed]
        if len(history) != resumed:
          raise ValueError(f"checkpoint_dir {checkpoint_dir!r}: {train_vae.HISTORY_FILE} holds "
                           f"{len(history)} epochs but the checkpoint is at epoch {resumed}")
        logging.info("fit_vae_stepwise: resumed from %s at epoch %d (step %d)", checkpoint_dir,
                     resumed, int(state.step))
    stop = train_vae.early_stop_epoch([h["loss"] for h in history], config.patience)
    data_dev = jax.device_put(x)
    step_config = _step_config(config)
    epoch = len(history)
    times: list[float] = []
    while stop is None and epoch < config.epochs:
      record: dict[str, Any] = {"epoch": epoch}
      if on_epoch_begin is not None:
        extra = on_epoch_begin(epoch, state)
        if extra is not None:
          record["callback"] = dict(extra)
      start = time.perf_counter()
      full, rest = train_vae.epoch_batches(_shuffle_key(state), n, config.batch_size,
                                           config.drop_remainder)
      batches = list(full) + ([rest] if rest is not None else [])
      metrics: list[dict[str, Array]] = []
      for idx in batches:
        batch = jnp.take(data_dev, jnp.asarray(idx), axis=0)
        state, m = train_vae.train_step(state, batch, model=model, config=step_config)
        metrics.append(m)
      stacked = {k: np.asarray([np.asarray(m[k]) for m in metrics]) for k in metrics[0]}
      seconds = time.perf_counter() - start
      times.append(seconds)
      record.update({k: float(np.mean(v)) for k, v in stacked.items()})
      record["seconds"] = seconds
      history.append(record)
      if not all(math.isfinite(record[k]) for k in ("loss", "reconstruction", "kl")):
        logging.warning("fit_vae_stepwise: epoch %d has a non-finite loss %s", epoch + 1, record["loss"])
      epoch += 1
      stop = train_vae.early_stop_epoch([h["loss"] for h in history], config.patience)
      if ckpt is not None:
        files.write_json(os.path.join(os.path.abspath(checkpoint_dir), train_vae.HISTORY_FILE), history)
        ckpt.save(epoch, {"state": state, "epoch": np.asarray(epoch, np.int64)})
      eta = (config.epochs - epoch if stop is None else 0) * float(np.mean(times))
      logging.info("fit_vae_stepwise: epoch %d/%d loss %.4f (reconstruction %.4f, kl %.4f) %.1fs, "
                   "%.0f images/s, ETA %.0fs%s", epoch, config.epochs, record["loss"],
                   record["reconstruction"], record["kl"], seconds, n / seconds, eta,
                   " (early stop)" if stop is not None else "")
  finally:
    if ckpt is not None:
      ckpt.close()
  return train_vae.FitResult(state=state, history=history,
                             stopped_early=stop is not None and len(history) < config.epochs,
                             resumed_from_epoch=resumed)


def fit(model: ConvVAE, data: Any, key: Array, *, config: train_vae.TrainConfig = train_vae.TrainConfig(),
        state: TrainState | None = None, checkpoint_dir: str | None = None,
        on_epoch_begin: EpochCallback | None = None, loop: str = "auto") -> train_vae.FitResult:
  """`fit_vae` (loop="scan") or `fit_vae_stepwise` (loop="steps"); "auto" picks by backend."""
  if resolve_loop(loop) == "scan":
    if state is None:
      state = init_state(model, key, config)
    return train_vae.fit_vae(model, data, key, config=config, state=state, checkpoint_dir=checkpoint_dir,
                             on_epoch_begin=on_epoch_begin)
  return fit_vae_stepwise(model, data, key, config=config, state=state, checkpoint_dir=checkpoint_dir,
                          on_epoch_begin=on_epoch_begin)


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
    batch_size: images per inference call.
    loop: training loop, "auto" | "steps" | "scan" (see the module docstring).
  """
  config: VAEConfig = flax.struct.field(pytree_node=False, default_factory=shapes3d_config)
  train: train_vae.TrainConfig = flax.struct.field(pytree_node=False,
                                                   default_factory=train_vae.TrainConfig)
  data_range: str = flax.struct.field(pytree_node=False, default="unit")
  recall_steps: int = flax.struct.field(pytree_node=False, default=1)
  batch_size: int = flax.struct.field(pytree_node=False, default=256)
  loop: str = flax.struct.field(pytree_node=False, default="auto")

  def __post_init__(self):
    if not isinstance(self.config, VAEConfig):
      raise ValueError(f"config must be an assocmem.nn.vae.VAEConfig, got {type(self.config).__name__}")
    if not isinstance(self.train, train_vae.TrainConfig):
      raise ValueError(f"train must be an assocmem.train.vae.TrainConfig, got {type(self.train).__name__}")
    _checks.check_choice("data_range", self.data_range, DATA_RANGES)
    _checks.check_int("recall_steps", self.recall_steps)
    _checks.check_int("batch_size", self.batch_size)
    _checks.check_choice("loop", self.loop, LOOPS)

  @property
  def model(self) -> ConvVAE:
    """The Flax module."""
    return ConvVAE(self.config)

  @property
  def dim(self) -> int:
    """d = H·W·C."""
    return int(np.prod(self.config.image_shape))

  # ------------------------------------------------------------------ layout and range

  def to_images(self, name: str, data: Any) -> tuple[np.ndarray, bool]:
    """(N, d) rows or (N, H, W, C) images in the memory's range → ((N, H, W, C) in [0, 1], was_flat)."""
    x = np.asarray(data)
    if x.dtype.kind not in "fiu":
      raise ValueError(f"{name} must be a numeric array, got dtype {x.dtype}")
    shape = self.config.image_shape
    if x.ndim == 2 and x.shape[1] == self.dim:
      flat = True
      x = x.reshape((x.shape[0],) + shape)
    elif x.ndim == 4 and x.shape[1:] == shape:
      flat = False
    else:
      raise ValueError(f"{name} must have shape (N, {self.dim}) or (N, {', '.join(map(str, shape))}) "
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
    return init_state(self.model, key, self.train)

  def fit_result(self, key: Array, data: Any, state: TrainState | None = None, *,
                 checkpoint_dir: str | None = None,
                 on_epoch_begin: EpochCallback | None = None) -> train_vae.FitResult:
    """Trains on data (N, d) or (N, H, W, C); returns the `FitResult` (state and per-epoch history)."""
    images, _ = self.to_images("data", data)
    return fit(self.model, images, key, config=self.train, state=state,
               checkpoint_dir=checkpoint_dir, on_epoch_begin=on_epoch_begin, loop=self.loop)

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

  # ------------------------------------------------------------------ images in [0, 1]
  # Inputs are padded to a multiple of `batch_size`, so every call reuses one compiled function
  # per network half whatever the number of images.

  def _pad(self, x: np.ndarray) -> np.ndarray:
    extra = (-x.shape[0]) % self.batch_size
    if not extra:
      return x
    return np.concatenate([x, np.zeros((extra,) + x.shape[1:], x.dtype)])

  def encode_images(self, state: TrainState, images: Any) -> np.ndarray:
    """Posterior means of q(z|x) in inference mode: (N, H, W, C) in [0, 1] → (N, L)."""
    x = np.asarray(images, np.float32)
    return train_vae.encode_means(self.model, state, self._pad(x), self.batch_size)[:x.shape[0]]

  def reconstruct_images(self, state: TrainState, images: Any, key: Array | None = None) -> np.ndarray:
    """decode(encode(x)) in inference mode: (N, H, W, C) in [0, 1] → (N, H, W, C) in [0, 1].

    Without a key the decoder gets the posterior mean (the authors' recall); with one, a sample.
    """
    x = np.asarray(images, np.float32)
    return train_vae.reconstruct(self.model, state, self._pad(x), self.batch_size, key=key)[:x.shape[0]]

  def decode_latents(self, state: TrainState, z: Any) -> np.ndarray:
    """Decoder in inference mode: (N, L) latents → (N, H, W, C) images in [0, 1]."""
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != self.config.latent_dim or z.shape[0] == 0:
      raise ValueError(f"z must have shape (n >= 1, {self.config.latent_dim}), got shape {z.shape}")
    return train_vae.decode(self.model, state, self._pad(z), self.batch_size)[:z.shape[0]]

  # ------------------------------------------------------------------ protocol (memory's layout and range)

  def encode(self, state: TrainState, data: Any) -> np.ndarray:
    """Posterior means of q(z|x) in inference mode: (N, d) or (N, H, W, C) → (N, L)."""
    images, _ = self.to_images("data", data)
    return self.encode_images(state, images)

  def decode(self, state: TrainState, z: Any) -> Array:
    """Decoder in inference mode: (N, L) latents → (N, d) in the memory's range."""
    return self.from_images(self.decode_latents(state, z), flat=True)

  def recall(self, state: TrainState, cues: Any, key: Array | None = None) -> Array:
    """`recall_steps` × encode → decode of (B, d) cues (or (B, H, W, C)); same layout out.

    Without a key the decoder gets the posterior mean (the authors' recall); with one, a sample
    z ~ q(z|x) (a fresh one per pass).
    """
    images, flat = self.to_images("cues", cues)
    for step in range(self.recall_steps):
      k = None if key is None else jax.random.fold_in(key, step)
      images = self.reconstruct_images(state, images, key=k)
    return self.from_images(images, flat)

  def replay(self, state: TrainState, key: Array, n: int) -> Array:
    """(n, d) decodings of z ~ N(0, I): samples of the generative model (imagination)."""
    n = _checks.check_int("n", n)
    z = jax.random.normal(key, (n, self.config.latent_dim), jnp.float32)
    return self.decode(state, np.asarray(z))


def default_memory(config: VAEConfig | None = None, **train_overrides: Any) -> VAEMemory:
  """A `VAEMemory` of `config` (default: the large VAE) with `TrainConfig(**train_overrides)`."""
  return VAEMemory(config=config or shapes3d_config(),
                   train=dataclasses.replace(train_vae.TrainConfig(), **train_overrides))
