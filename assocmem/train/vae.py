"""Training the conv VAEs of seed 000 (Spens & Burgess 2024, supplement §A.2.1) with optax and orbax.

The loss and the schedule are the authors' (ellie-as/generative-memory, TF/Keras):

* loss = reconstruction + kl_weight · KL, both averaged over the batch; reconstruction = mean
  absolute error averaged over channels and summed over pixels; KL = KL(q(z|x) || N(0, I)) summed
  over the latent units (`assocmem.nn.vae.kl_divergence`), kl_weight 1;
* Adam with amsgrad (`optax.amsgrad`), learning rate 1e-3, batch 32, up to 50 epochs, each epoch a
  fresh shuffle that keeps the last partial batch (Keras `fit(shuffle=True)`); early stopping on the
  epoch's mean training loss with patience 3 (Keras `EarlyStopping(monitor="loss", patience=3)`);
* an `on_epoch_begin` hook (the authors record a latent-decoding score at the start of each epoch).

Two training modes (`TrainConfig.training_mode`, `assocmem.nn.vae.TRAINING_MODES`): "paper_text"
(default: input dropout and batch-statistics BatchNorm, as §A.2.1's text describes) and
"authors_code" (the authors' Keras `VAE.train_step`, which calls encoder and decoder without
`training=True`: no dropout, BatchNorm in inference mode on its moving statistics, which therefore
never move from their initial 0 / 1). The z sample is drawn in both.

On GPU/TPU `fit_vae` copies the data to the device once and runs a whole epoch as one jit call:
a `lax.scan` over a (steps, batch) index array that gathers each batch on the device
(`train_steps`). On CPU each step is its own `train_step` call on a batch gathered on the host:
XLA:CPU runs convolution gradients inside a while loop 8-35× slower (measured; see
`train_steps`), and with a ~0.13 s step the per-call overhead is negligible.

With `checkpoint_dir` it saves the `TrainState` with orbax after every epoch (and the epoch history
as JSON beside it) and resumes from there: every random draw (shuffle, dropout, z samples) is
derived from `TrainState.rng` and the step counter, so an interrupted run that resumes ends with
bitwise the same parameters as an uninterrupted one.

    model = ConvVAE(shapes3d_config())
    result = fit_vae(model, images, jax.random.PRNGKey(0), checkpoint_dir="/tmp/vae")
    means = encode_means(model, result.state, images)             # (N, 20)

Optimizer difference from Keras (documented, not replicated): Keras' amsgrad keeps the maximum of
the raw second moment and bias-corrects the step size, optax keeps the maximum of the bias-corrected
second moment; epsilon is 1e-7 as in Keras.
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
import jax
import jax.numpy as jnp
import numpy as np
import optax

from assocmem import _checks, files
from assocmem.nn.vae import (COMPILER_OPTIONS, TRAINING_MODES, ConvVAE, kl_divergence, reparameterize,
                             training_flags)
from assocmem.train.checkpoint import Checkpointer
from assocmem.train.state import TrainState, check_finite_losses, make_optimizer

Array = jax.Array
PyTree = Any
EpochCallback = Callable[[int, "TrainState"], "Mapping[str, Any] | None"]

_SHUFFLE_SALT = 0x5EED     # separates the shuffle stream from the per-step stream of TrainState.rng
HISTORY_FILE = "history.json"


# ----------------------------------------------------------------------------- settings and state

@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Training settings of §A.2.1 (the authors' code); hashable, so a static jit argument.

  Attributes:
    learning_rate: Adam (amsgrad) step size, 1e-3.
    batch_size: images per step, 32.
    epochs: maximum number of epochs, 50.
    patience: early stopping: stop after `patience` epochs without a lower mean training loss
      (Keras semantics); None disables it.
    kl_weight: weight of the KL term, 1.
    amsgrad: use `optax.amsgrad` (True, the authors') or plain `optax.adam`.
    adam_eps: Adam's epsilon (1e-7, Keras' default).
    drop_remainder: drop the last partial batch of each epoch (False: Keras keeps it).
    steps_per_call: training steps per jit call in `fit_vae`; None picks 1 on CPU (where the
      steps are compiled as straight-line code, see `train_steps`) and a whole epoch (one
      `lax.scan`) on GPU/TPU. Different values agree up to float rounding; a resumed run must use
      the same value to be bitwise identical.
    training_mode: how a step runs the network, a name of `TRAINING_MODES`: "paper_text" (input
      dropout, BatchNorm on batch statistics with moving-average updates; §A.2.1's text) or
      "authors_code" (no dropout, BatchNorm in inference mode on the moving statistics, never
      updated: the authors' Keras `VAE.train_step`). See `assocmem.nn.vae.training_flags`.
  """
  learning_rate: float = 1e-3
  batch_size: int = 32
  epochs: int = 50
  patience: int | None = 3
  kl_weight: float = 1.0
  amsgrad: bool = True
  adam_eps: float = 1e-7
  drop_remainder: bool = False
  steps_per_call: int | None = None
  training_mode: str = "paper_text"

  def __post_init__(self):
    if not _checks.is_number(self.learning_rate) or not self.learning_rate > 0:
      raise ValueError(f"learning_rate must be a finite number > 0, got {self.learning_rate!r}")
    if not _checks.is_int(self.batch_size) or self.batch_size < 1:
      raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
    if not _checks.is_int(self.epochs) or self.epochs < 1:
      raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
    if self.patience is not None and (not _checks.is_int(self.patience) or self.patience < 1):
      raise ValueError(f"patience must be an integer >= 1 or None, got {self.patience!r}")
    if not _checks.is_number(self.kl_weight) or self.kl_weight < 0:
      raise ValueError(f"kl_weight must be a finite number >= 0, got {self.kl_weight!r}")
    if not _checks.is_number(self.adam_eps) or not self.adam_eps > 0:
      raise ValueError(f"adam_eps must be a finite number > 0, got {self.adam_eps!r}")
    if self.steps_per_call is not None and (not _checks.is_int(self.steps_per_call) or self.steps_per_call < 1):
      raise ValueError(f"steps_per_call must be an integer >= 1 or None, got {self.steps_per_call!r}")
    if self.training_mode not in TRAINING_MODES:
      raise ValueError(f"training_mode must be one of {TRAINING_MODES}, got {self.training_mode!r}")

  def optimizer(self) -> optax.GradientTransformation:
    """`optax.amsgrad` (or `optax.adam`) with the learning rate and epsilon (`train.state`)."""
    return make_optimizer(self.learning_rate, self.adam_eps, self.amsgrad)


def _raw_key(key: Array) -> Array:
  key = jnp.asarray(_checks.check_key("key", key))
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.key_data(key)
  if key.shape != (2,) or key.dtype != jnp.uint32:
    raise ValueError(f"key must be a jax.random.PRNGKey (uint32 (2,)), got {key.dtype} {key.shape}")
  return key


def create_train_state(model: ConvVAE, key: Array, config: TrainConfig = TrainConfig()) -> TrainState:
  """Initialises parameters (Glorot-uniform, as Keras), BatchNorm statistics and the optimizer.

  Args:
    model: the VAE (its config fixes the image shape).
    key: PRNG key; split into the init key and the run's `TrainState.rng`.
    config: training settings (the optimizer).
  """
  _check_model(model)
  init_key, run_key = jax.random.split(_raw_key(key))
  k_params, k_drop, k_sample = jax.random.split(init_key, 3)
  variables = _init_variables(k_params, k_drop, k_sample, model=model)
  params = variables["params"]
  batch_stats = variables.get("batch_stats", {})
  opt_state = config.optimizer().init(params)
  return TrainState(params=params, batch_stats=batch_stats, opt_state=opt_state,
                    step=jnp.zeros((), jnp.int32), rng=run_key)


@functools.partial(jax.jit, static_argnames=("model",), compiler_options=COMPILER_OPTIONS)
def _init_variables(k_params: Array, k_drop: Array, k_sample: Array, *, model: ConvVAE) -> PyTree:
  dummy = jnp.zeros((1,) + model.config.image_shape, jnp.float32)
  return model.init({"params": k_params, "dropout": k_drop, "sample": k_sample}, dummy)


def _check_model(model: Any) -> None:
  if not isinstance(model, ConvVAE):
    raise ValueError(f"model must be an assocmem.nn.vae.ConvVAE, got {type(model).__name__}")


def state_variables(state: TrainState) -> dict[str, PyTree]:
  """The `model.apply` variables of a VAE `TrainState`: {"params"} plus {"batch_stats"} when the
  model has BatchNorm."""
  if state.batch_stats:
    return {"params": state.params, "batch_stats": state.batch_stats}
  return {"params": state.params}


# ----------------------------------------------------------------------------- loss

def reconstruction_loss(images: Array, reconstruction: Array) -> Array:
  """Σ_pixels mean_channels |x − x̂| (Keras `mean_absolute_error` summed over H, W): (B, H, W, C) -> (B,)."""
  return jnp.sum(jnp.mean(jnp.abs(images - reconstruction), axis=-1), axis=(1, 2))


def vae_loss(images: Array, reconstruction: Array, mean: Array, logvar: Array,
             kl_weight: float = 1.0) -> tuple[Array, dict[str, Array]]:
  """The §A.2.1 training loss: batch mean of reconstruction + kl_weight · batch mean of KL.

  Args:
    images, reconstruction: (B, H, W, C).
    mean, logvar: (B, L) of q(z|x).
    kl_weight: weight of the KL term.
  Returns:
    (loss, {"loss", "reconstruction", "kl"}) as scalars; "kl" is unweighted.
  """
  if images.shape != reconstruction.shape or images.ndim != 4:
    raise ValueError(f"images and reconstruction must have the same shape (B, H, W, C), got "
                     f"{images.shape} and {reconstruction.shape}")
  rec = jnp.mean(reconstruction_loss(images, reconstruction))
  kl = jnp.mean(kl_divergence(mean, logvar))
  loss = rec + kl_weight * kl
  return loss, {"loss": loss, "reconstruction": rec, "kl": kl}


# ----------------------------------------------------------------------------- steps

def _step(state: TrainState, images: Array, model: ConvVAE, config: TrainConfig
          ) -> tuple[TrainState, dict[str, Array]]:
  """One Adam (amsgrad) step of the §A.2.1 loss on one batch (traced by `train_step`, `train_steps`),
  in `config.training_mode` (with "authors_code" the BatchNorm statistics come back unchanged)."""
  k_drop, k_sample = jax.random.split(jax.random.fold_in(state.rng, state.step))
  flags = training_flags(config.training_mode)

  def loss_fn(params):
    variables = {"params": params, "batch_stats": state.batch_stats} if state.batch_stats \
        else {"params": params}
    rngs = {"dropout": k_drop, "sample": k_sample}
    if flags["batch_stats"]:
      (recon, mean, logvar), updates = model.apply(variables, images, train=True, mutable=["batch_stats"],
                                                   rngs=rngs, **flags)
      batch_stats = updates.get("batch_stats", {})
    else:
      recon, mean, logvar = model.apply(variables, images, train=True, rngs=rngs, **flags)
      batch_stats = state.batch_stats
    loss, metrics = vae_loss(images, recon, mean, logvar, config.kl_weight)
    return loss, (metrics, batch_stats)

  grads, (metrics, batch_stats) = jax.grad(loss_fn, has_aux=True)(state.params)
  updates, opt_state = config.optimizer().update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  return state.replace(params=params, batch_stats=batch_stats, opt_state=opt_state,
                       step=state.step + 1), metrics


def step_config(config: TrainConfig) -> TrainConfig:
  """The settings one step reads (optimizer, KL weight, training mode), the schedule's fields at their
  defaults.

  `train_step` and `train_steps` take the config as a static argument; `fit_vae` passes this one,
  so runs that differ only in epochs, patience, batch size or steps per call share one compilation
  (a resumed run that asks for more epochs, say).
  """
  return TrainConfig(learning_rate=config.learning_rate, kl_weight=config.kl_weight,
                     amsgrad=config.amsgrad, adam_eps=config.adam_eps, training_mode=config.training_mode)


@functools.partial(jax.jit, static_argnames=("model", "config"), compiler_options=COMPILER_OPTIONS)
def train_step(state: TrainState, images: Array, *, model: ConvVAE,
               config: TrainConfig = TrainConfig()) -> tuple[TrainState, dict[str, Array]]:
  """One jitted training step (§A.2.1 loss, amsgrad) on `images` (B, H, W, C).

  Returns the new state and the batch's {"loss", "reconstruction", "kl"}; dropout and the z
  sample use `fold_in(state.rng, state.step)`, so the step is a pure function of its inputs.
  """
  _check_images_static("images", images, model)
  return _step(state, images, model, config)


@functools.partial(jax.jit, static_argnames=("model", "config", "unroll"),
                   compiler_options=COMPILER_OPTIONS)
def train_steps(state: TrainState, data: Array, batch_indices: Array, *, model: ConvVAE,
                config: TrainConfig = TrainConfig(), unroll: bool = False
                ) -> tuple[TrainState, dict[str, Array]]:
  """Several training steps in one jit call over `batch_indices` (S, B) into `data` (N, H, W, C).

  Step s trains on `data[batch_indices[s]]` (gathered on the device); equals S calls of
  `train_step` up to rounding. A `lax.scan`, or with `unroll=True` the same steps as straight-line
  code (a Python loop in the trace). On CPU unroll: XLA:CPU rewrites convolution gradients into
  its fast canonical form only outside while loops, so inside a scan they run 8-35× slower (and a
  length-1 scan, even with `lax.scan(unroll=True)`, still lowers to a loop). Keep S small there:
  one step per call measured fastest.
  Returns the state and each step's metrics, stacked (S,).
  """
  _check_images_static("data", data, model)
  if batch_indices.ndim != 2 or batch_indices.shape[0] == 0 or batch_indices.shape[1] == 0:
    raise ValueError(f"batch_indices must have shape (steps >= 1, batch >= 1), got {batch_indices.shape}")

  def body(st, idx):
    return _step(st, jnp.take(data, idx, axis=0), model, config)

  if not unroll:
    return jax.lax.scan(body, state, batch_indices)
  metrics = []
  for s in range(batch_indices.shape[0]):
    state, m = body(state, batch_indices[s])
    metrics.append(m)
  return state, jax.tree.map(lambda *v: jnp.stack(v), *metrics)


def _check_images_static(name: str, x: Any, model: ConvVAE) -> None:
  shape = tuple(np.shape(x))
  if len(shape) != 4 or shape[1:] != model.config.image_shape:
    raise ValueError(f"{name} must have shape (batch, {', '.join(map(str, model.config.image_shape))}), "
                     f"got shape {shape}")
  if shape[0] == 0:
    raise ValueError(f"{name} is empty: expected at least one image, got shape {shape}")


# ----------------------------------------------------------------------------- inference helpers

@functools.partial(jax.jit, static_argnames=("model", "what"), compiler_options=COMPILER_OPTIONS)
def _infer(variables: PyTree, images: Array, key: Array | None, *, model: ConvVAE, what: str):
  mean, logvar = model.apply(variables, images, method=ConvVAE.encode)
  if what == "encode":
    return mean, logvar
  z = mean if key is None else reparameterize(key, mean, logvar)
  recon = model.apply(variables, z, method=ConvVAE.decode)
  if what == "reconstruct":
    return recon
  rec = reconstruction_loss(images, recon)
  kl = kl_divergence(mean, logvar)
  return rec, kl


@functools.partial(jax.jit, static_argnames=("model",), compiler_options=COMPILER_OPTIONS)
def _decode(variables: PyTree, z: Array, *, model: ConvVAE) -> Array:
  return model.apply(variables, z, method=ConvVAE.decode)


def _chunks(x: np.ndarray, batch_size: int):
  """Yields (chunk padded to batch_size rows, number of real rows)."""
  n = x.shape[0]
  for start in range(0, n, batch_size):
    chunk = x[start:start + batch_size]
    real = chunk.shape[0]
    if real < batch_size and n > batch_size:
      pad = np.zeros((batch_size - real,) + chunk.shape[1:], chunk.dtype)
      chunk = np.concatenate([chunk, pad])
    yield chunk, real


def _as_images(name: str, images: Any, model: ConvVAE) -> np.ndarray:
  arr = np.asarray(images)
  if arr.dtype.kind not in "fiub":
    raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
  _check_images_static(name, arr, model)
  arr = arr.astype(np.float32, copy=False)
  if not np.all(np.isfinite(arr)):
    raise ValueError(f"{name} must hold finite values (found NaN or inf)")
  return arr


def _check_batch_size(batch_size: Any) -> int:
  if not _checks.is_int(batch_size) or batch_size < 1:
    raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
  return int(batch_size)


def encode_means(model: ConvVAE, state: TrainState, images: Any, batch_size: int = 256) -> np.ndarray:
  """Means of q(z|x) in inference mode (no dropout, BatchNorm running statistics): (N, H, W, C) -> (N, L)."""
  return encode(model, state, images, batch_size)[0]


def encode(model: ConvVAE, state: TrainState, images: Any,
           batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
  """(mean, logvar) of q(z|x) in inference mode: (N, H, W, C) -> ((N, L), (N, L))."""
  _check_model(model)
  x = _as_images("images", images, model)
  batch_size = _check_batch_size(batch_size)
  variables = state_variables(state)
  means, logvars = [], []
  for chunk, real in _chunks(x, batch_size):
    m, lv = _infer(variables, chunk, None, model=model, what="encode")
    means.append(np.asarray(m)[:real])
    logvars.append(np.asarray(lv)[:real])
  return np.concatenate(means), np.concatenate(logvars)


def reconstruct(model: ConvVAE, state: TrainState, images: Any, batch_size: int = 256,
                key: Array | None = None) -> np.ndarray:
  """decode(encode(x)) in inference mode: (N, H, W, C) -> (N, H, W, C).

  With `key=None` the decoder gets the posterior mean (as the authors' recall, which decodes
  `encoder.predict(x)[0]`); with a key it gets a reparameterised sample.
  """
  _check_model(model)
  x = _as_images("images", images, model)
  batch_size = _check_batch_size(batch_size)
  variables = state_variables(state)
  out = []
  for i, (chunk, real) in enumerate(_chunks(x, batch_size)):
    k = None if key is None else jax.random.fold_in(_raw_key(key), i)
    out.append(np.asarray(_infer(variables, chunk, k, model=model, what="reconstruct"))[:real])
  return np.concatenate(out)


def decode(model: ConvVAE, state: TrainState, z: Any, batch_size: int = 256) -> np.ndarray:
  """Decoder in inference mode: latents (N, L) -> images (N, H, W, C)."""
  _check_model(model)
  z = np.asarray(z, np.float32)
  if z.ndim != 2 or z.shape[1] != model.config.latent_dim or z.shape[0] == 0:
    raise ValueError(f"z must have shape (n >= 1, {model.config.latent_dim}), got shape {z.shape}")
  if not np.all(np.isfinite(z)):
    raise ValueError("z must hold finite values (found NaN or inf)")
  batch_size = _check_batch_size(batch_size)
  variables = state_variables(state)
  out = [np.asarray(_decode(variables, chunk, model=model))[:real]
         for chunk, real in _chunks(z, batch_size)]
  return np.concatenate(out)


def evaluate(model: ConvVAE, state: TrainState, images: Any, batch_size: int = 256,
             kl_weight: float = 1.0, key: Array | None = None) -> dict[str, float]:
  """The §A.2.1 loss on `images` in inference mode, averaged over all images.

  Args:
    key: None decodes the posterior mean (deterministic); a key decodes a reparameterised sample
      (the training objective's estimator).
  Returns:
    {"loss", "reconstruction", "kl"}.
  """
  _check_model(model)
  x = _as_images("images", images, model)
  batch_size = _check_batch_size(batch_size)
  variables = state_variables(state)
  recs, kls = [], []
  for i, (chunk, real) in enumerate(_chunks(x, batch_size)):
    k = None if key is None else jax.random.fold_in(_raw_key(key), i)
    rec, kl = _infer(variables, chunk, k, model=model, what="loss")
    recs.append(np.asarray(rec, np.float64)[:real])
    kls.append(np.asarray(kl, np.float64)[:real])
  rec, kl = float(np.mean(np.concatenate(recs))), float(np.mean(np.concatenate(kls)))
  return {"loss": rec + kl_weight * kl, "reconstruction": rec, "kl": kl}


# ----------------------------------------------------------------------------- fit

@dataclasses.dataclass
class FitResult:
  """What `fit_vae` returns.

  Attributes:
    state: the final `TrainState`.
    history: one dict per epoch run (restored epochs included): "epoch", "loss", "reconstruction",
      "kl" (means over the epoch's batches, as Keras reports them), "seconds", and "callback"
      (what `on_epoch_begin` returned for that epoch, if anything).
    stopped_early: True when early stopping ended the run before `config.epochs`.
    resumed_from_epoch: epochs restored from the checkpoint (None: started fresh).
  """
  state: TrainState
  history: list[dict[str, Any]]
  stopped_early: bool
  resumed_from_epoch: int | None = None

  @property
  def losses(self) -> list[float]:
    return [h["loss"] for h in self.history]


def early_stop_epoch(losses: list[float], patience: int | None) -> int | None:
  """Index of the epoch after which Keras' `EarlyStopping(monitor="loss", patience)` stops, or None.

  Keras: after each epoch, `wait += 1`; a loss below the best so far resets `wait` to 0 and becomes
  the best; training stops when `wait >= patience` (and epoch > 0).
  """
  if patience is None:
    return None
  best, wait = math.inf, 0
  for epoch, loss in enumerate(losses):
    wait += 1
    if loss < best:
      best, wait = loss, 0
    if wait >= patience and epoch > 0:
      return epoch
  return None


def epoch_batches(key: Array, n: int, batch_size: int, drop_remainder: bool = False
                  ) -> tuple[np.ndarray, np.ndarray | None]:
  """A shuffled epoch: (full batches' indices (n // B, B), last partial batch's (n % B,) or None)."""
  perm = np.asarray(jax.random.permutation(key, n))
  n_full = n // batch_size
  full = perm[:n_full * batch_size].reshape(n_full, batch_size)
  rest = perm[n_full * batch_size:]
  return full, (None if drop_remainder or rest.size == 0 else rest)


def fit_vae(model: ConvVAE, data: Any, key: Array, *, config: TrainConfig = TrainConfig(),
            state: TrainState | None = None, checkpoint_dir: str | None = None,
            on_epoch_begin: EpochCallback | None = None) -> FitResult:
  """Trains `model` on in-memory images as the authors' Keras `fit` does (§A.2.1).

  Each epoch: a shuffle from `fold_in(fold_in(state.rng, 0x5EED), state.step)`, the full batches in
  jit calls of `config.steps_per_call` steps (`train_steps`), the last partial batch (if any, unless
  `drop_remainder`) in one `train_step`; the epoch loss is the mean of the batch losses (Keras'
  `Mean` tracker). Early stopping is Keras' (`early_stop_epoch`). Logs epoch, loss, images/s and
  ETA with absl.logging.

  Args:
    model: the VAE.
    data: (N, H, W, C) images in [0, 1] (NumPy or JAX).
    key: PRNG key for `create_train_state` (ignored when `state` is given or a checkpoint is found).
    config: training settings.
    state: continue from this state instead of initialising one.
    checkpoint_dir: save the state with orbax after every epoch (history in `history.json` beside
      it) and, if it already holds a checkpoint, resume from the newest one. A finished run's
      directory returns its result again without training.
    on_epoch_begin: `fn(epoch, state) -> dict | None`, called before each epoch that is trained
      (not for epochs restored from a checkpoint; their results come from `history.json`, so they
      must be JSON-serialisable when checkpointing).
  Returns:
    a `FitResult`.
  """
  _check_model(model)
  if not isinstance(config, TrainConfig):
    raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
  x = _as_images("data", data, model)
  n = x.shape[0]
  if config.drop_remainder and n < config.batch_size:
    raise ValueError(f"data has {n} images, fewer than batch_size={config.batch_size} with "
                     "drop_remainder=True: no batch to train on")
  if state is None:
    state = create_train_state(model, key, config)
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
          raise ValueError(f"checkpoint_dir {checkpoint_dir!r}: {HISTORY_FILE} holds {len(history)} "
                           f"epochs but the checkpoint is at epoch {resumed}")
        logging.info("fit_vae: resumed from %s at epoch %d (step %d)", checkpoint_dir, resumed,
                     int(state.step))

    stop = early_stop_epoch([h["loss"] for h in history], config.patience)
    sc = step_config(config)
    on_cpu = jax.default_backend() == "cpu"
    per_call = config.steps_per_call or (1 if on_cpu else None)     # None: the whole epoch
    # One step per call: the batch is gathered on the host (XLA:CPU's gather is slow and the step
    # is dispatched asynchronously, so the copy overlaps the previous step). Otherwise the data go
    # to the device once and `train_steps` gathers there.
    data_dev = None if per_call == 1 else jax.device_put(x)
    epoch_times: list[float] = []
    epoch = len(history)
    while stop is None and epoch < config.epochs:
      record: dict[str, Any] = {"epoch": epoch}
      if on_epoch_begin is not None:
        extra = on_epoch_begin(epoch, state)
        if extra is not None:
          record["callback"] = dict(extra)
      start = time.perf_counter()
      shuffle_key = jax.random.fold_in(jax.random.fold_in(state.rng, _SHUFFLE_SALT), state.step)
      full, rest = epoch_batches(shuffle_key, n, config.batch_size, config.drop_remainder)
      metrics = []
      if per_call == 1:
        for batch in full:
          state, m = train_step(state, x[batch], model=model, config=sc)
          metrics.append(jax.tree.map(lambda v: v[None], m))
      else:
        chunk = per_call or full.shape[0]
        for i in range(0, full.shape[0], chunk):
          state, m = train_steps(state, data_dev, jnp.asarray(full[i:i + chunk]), model=model,
                                 config=sc, unroll=on_cpu)
          metrics.append(m)
      if rest is not None:
        state, m = train_step(state, x[rest], model=model, config=sc)
        metrics.append(jax.tree.map(lambda v: v[None], m))
      metrics = {k: np.concatenate([np.asarray(m[k]) for m in metrics]) for k in metrics[0]}
      seconds = time.perf_counter() - start
      epoch_times.append(seconds)
      record.update({k: float(np.mean(v)) for k, v in metrics.items()})
      record["seconds"] = seconds
      history.append(record)
      # The batch losses are on the host already: a non-finite one stops the run before the
      # state is checkpointed or returned (the last checkpoint is the previous, finite epoch).
      check_finite_losses(metrics["loss"], int(state.step) - len(metrics["loss"]), config.learning_rate,
                          f"fit_vae (epoch {epoch + 1})")
      epoch += 1
      stop = early_stop_epoch([h["loss"] for h in history], config.patience)
      if ckpt is not None:
        # History first: a crash between the two writes leaves a history one epoch ahead of the
        # checkpoint, which the restore above trims.
        files.write_json(os.path.join(os.path.abspath(checkpoint_dir), HISTORY_FILE), history)
        ckpt.save(epoch, {"state": state, "epoch": np.asarray(epoch, np.int64)})
      remaining = config.epochs - epoch if stop is None else 0
      eta = remaining * float(np.mean(epoch_times))
      logging.info("fit_vae: epoch %d/%d loss %.4f (reconstruction %.4f, kl %.4f) %.1fs, "
                   "%.0f images/s, ETA %.0fs%s", epoch, config.epochs, record["loss"],
                   record["reconstruction"], record["kl"], seconds, n / seconds, eta,
                   " (early stop)" if stop is not None else "")
  finally:
    if ckpt is not None:
      ckpt.close()
  return FitResult(state=state, history=history, stopped_early=stop is not None and
                   len(history) < config.epochs, resumed_from_epoch=resumed)


def _read_history(checkpoint_dir: str) -> list[dict[str, Any]]:
  path = os.path.join(os.path.abspath(checkpoint_dir), HISTORY_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    history = json.load(f)
  if not isinstance(history, list):
    raise ValueError(f"checkpoint_dir {checkpoint_dir!r}: {HISTORY_FILE} is not a list of epochs")
  return history
