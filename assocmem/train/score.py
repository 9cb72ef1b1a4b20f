"""Denoising training of the score network of seed 002 (§7, Eq. 27; App. A), one network or an ensemble.

The loss of Eq. 27, for one network and a full batch of N stored patterns:

  L(W) = (1 / N) Σ_n ‖δ_n − s(θ_n y_n + √(1 − θ_n²) δ_n, θ_n; W)‖²,
  θ_n ~ U(θ_min, θ_max) = U(0.6, 1),  δ_n ~ N(0, I_d),

one (θ_n, δ_n) draw per pattern per step (the paper sums over n; we average, which Adam's scale
invariance makes the same up to its ε). θ is sampled directly: the network sees θ_t, not t
(t = −2 log θ / γ only matters when sampling). Adam at 1e-3 (optax), every step the full stored
set, 5,000 iterations (App. A).

Speed and ensembles:

* the step is written for ONE network; `fit_ensemble` trains E independent networks (different
  seeds and/or pattern sets) with one `jax.vmap` of it, so every layer is one batched matmul;
* `chunk_size` steps (250) run as one `lax.scan` inside one jit call whose state buffers are
  donated, so no Python and no host transfer happens between steps;
* pattern sets of different sizes train together: each is zero-padded to N_max with a (N_max,)
  mask, and the loss is the mean over its real patterns only. Every random draw of pattern n at
  step s comes from `fold_in(fold_in(rng, s), n)`, so a padded set sees exactly the draws it would
  see alone and trains as if alone (to float rounding of the padded rows' exact zeros).

Resumable: with `checkpoint_dir`, the whole `TrainState` (parameters, Adam moments, step, key, the
loss curve so far) is saved with orbax between chunks (every `checkpoint_every_s`); a restarted run
restores the newest checkpoint and runs the same chunks, so it ends bitwise equal to an
uninterrupted one. Progress (loss, steps/s, ETA) is logged with absl.logging.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import time
from typing import Any, Callable

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import optax

from assocmem import _checks, files
from assocmem.nn.score_mlp import ScoreMLP, with_data_statistics
from assocmem.train.checkpoint import Checkpointer
from assocmem.train.state import TrainState, check_finite_losses, make_optimizer

Array = jax.Array
PyTree = Any
ChunkCallback = Callable[["TrainState"], None]

ENSEMBLE_MODES = ("auto", "vmap", "map")
SCHEDULES = ("constant", "cosine")
META_FILE = "run.json"


# ----------------------------------------------------------------------------- settings and state

@dataclasses.dataclass(frozen=True)
class ScoreTrainConfig:
  """Training settings of the score network (seed 002, §7 and App. A); hashable (a static jit argument).

  Attributes:
    n_iterations: Adam steps, 5,000.
    learning_rate: Adam step size, 1e-3.
    theta_min, theta_max: θ_t ~ U(theta_min, theta_max), (0.6, 1) (Eq. 27); 0 < min < max <= 1.
    chunk_size: steps per jit call (one `lax.scan`); checkpoints and log lines fall between chunks.
    checkpoint_every_s: with a checkpoint_dir, save after the first chunk that ends this many seconds
      after the last save (0: after every chunk), and always at the end. Saves fall on chunk
      boundaries, so a resumed run replays the same chunks whichever save it resumes from.
    ensemble: how `fit_ensemble` batches the networks inside the jit call: "vmap" (every layer one
      batched matmul: best on accelerators), "map" (`lax.map` of the same one-network step: on a CPU
      each network's weights and Adam moments stay in cache, 15–40% faster here), or "auto" (the
      default: "map" on CPU, "vmap" elsewhere). The results agree to float rounding.
    log_every_s: seconds between progress lines.
    batch_size: None (default, the paper's): every step the full stored set, one (θ, δ) draw per
      pattern. An integer B: every step B patterns drawn uniformly with replacement from the real
      ones (a minibatch; B independent (θ, δ) draws), so a step costs B, not N, forward passes.
    schedule: the step size over the run: "constant" (default, App. A) or "cosine" (cosine decay
      from learning_rate to 0 at n_iterations, `optax.cosine_decay_schedule`), which averages out
      the minibatch noise of the last steps' parameters.
  """
  n_iterations: int = 5000
  learning_rate: float = 1e-3
  theta_min: float = 0.6
  theta_max: float = 1.0
  chunk_size: int = 250
  checkpoint_every_s: float = 30.0
  ensemble: str = "auto"
  log_every_s: float = 10.0
  batch_size: int | None = None
  schedule: str = "constant"

  def __post_init__(self):
    if not _checks.is_int(self.n_iterations) or self.n_iterations < 1:
      raise ValueError(f"n_iterations must be an integer >= 1, got {self.n_iterations!r}")
    if not _checks.is_number(self.learning_rate) or not self.learning_rate > 0:
      raise ValueError(f"learning_rate must be a finite number > 0, got {self.learning_rate!r}")
    for name in ("theta_min", "theta_max"):
      v = getattr(self, name)
      if not _checks.is_number(v) or not 0 < v <= 1:
        raise ValueError(f"{name} must lie in (0, 1], got {v!r}")
    if not self.theta_min < self.theta_max:
      raise ValueError(f"theta_min must be below theta_max, got theta_min={self.theta_min}, "
                       f"theta_max={self.theta_max}")
    if not _checks.is_int(self.chunk_size) or self.chunk_size < 1:
      raise ValueError(f"chunk_size must be an integer >= 1, got {self.chunk_size!r}")
    if not _checks.is_number(self.checkpoint_every_s) or self.checkpoint_every_s < 0:
      raise ValueError(f"checkpoint_every_s must be a number >= 0, got {self.checkpoint_every_s!r}")
    if self.ensemble not in ENSEMBLE_MODES:
      raise ValueError(f"unknown ensemble {self.ensemble!r}; expected one of {ENSEMBLE_MODES}")
    if not _checks.is_number(self.log_every_s) or self.log_every_s < 0:
      raise ValueError(f"log_every_s must be a number >= 0, got {self.log_every_s!r}")
    if self.batch_size is not None and (not _checks.is_int(self.batch_size) or self.batch_size < 1):
      raise ValueError(f"batch_size must be None (full batch) or an integer >= 1, got {self.batch_size!r}")
    if self.schedule not in SCHEDULES:
      raise ValueError(f"unknown schedule {self.schedule!r}; expected one of {SCHEDULES}")

  def optimizer(self) -> optax.GradientTransformation:
    """Adam with the learning rate (optax defaults b1 = 0.9, b2 = 0.999, ε = 1e-8; `train.state`),
    constant or cosine-decayed over n_iterations (`schedule`)."""
    if self.schedule == "cosine":
      return make_optimizer(optax.cosine_decay_schedule(self.learning_rate, self.n_iterations))
    return make_optimizer(self.learning_rate)

  def run_settings(self) -> dict[str, Any]:
    """The settings a run's result depends on (checked on resume)."""
    out = {"n_iterations": self.n_iterations, "learning_rate": self.learning_rate,
           "theta_min": self.theta_min, "theta_max": self.theta_max, "chunk_size": self.chunk_size}
    if self.batch_size is not None:     # (absent for full batches: older runs' records stay valid)
      out["batch_size"] = self.batch_size
    if self.schedule != "constant":
      out["schedule"] = self.schedule
    return out


def _raw_key(key: Any, name: str = "key") -> Array:
  key = jnp.asarray(_checks.check_key(name, key, batched=name == "keys"))
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.key_data(key)
  if key.dtype != jnp.uint32 or key.ndim < 1 or key.shape[-1] != 2:
    raise ValueError(f"{name} must be a jax.random.PRNGKey (uint32 (..., 2)), got {key.dtype} {key.shape}")
  return key


def _check_model(model: Any) -> ScoreMLP:
  if not isinstance(model, ScoreMLP):
    raise ValueError(f"model must be an assocmem.nn.score_mlp.ScoreMLP, got {type(model).__name__}")
  return model


def _check_cfg(cfg: Any) -> ScoreTrainConfig:
  if not isinstance(cfg, ScoreTrainConfig):
    raise ValueError(f"cfg must be a ScoreTrainConfig, got {type(cfg).__name__}")
  return cfg


def init_state(model: ScoreMLP, key: Array, cfg: ScoreTrainConfig = ScoreTrainConfig()) -> TrainState:
  """A fresh training state of one network: `key` is split into the init key and the run's key."""
  _check_model(model)
  _check_cfg(cfg)
  return _jitted_init_state(model, _core(cfg), cfg.n_iterations)(_raw_key(key))


@functools.lru_cache(maxsize=32)
def _jitted_init_state(model: ScoreMLP, core: ScoreTrainConfig, n_iterations: int) -> Callable:
  def init(key):
    k_init, k_run = jax.random.split(key)
    params = model.init(k_init, jnp.zeros((model.dim,), jnp.float32), jnp.ones((), jnp.float32))["params"]
    return TrainState(params=params, opt_state=core.optimizer().init(params),
                      step=jnp.zeros((), jnp.int32), rng=k_run,
                      losses=jnp.zeros((n_iterations,), jnp.float32))
  return jax.jit(init)


# ----------------------------------------------------------------------------- loss (Eq. 27)

def pattern_noise(key: Array, index: Array, dim: int, theta_min: float, theta_max: float,
                  dtype: Any = jnp.float32) -> tuple[Array, Array]:
  """(θ, δ (d,)) of pattern `index` at the step whose key is `key`: θ ~ U(min, max), δ ~ N(0, I)."""
  k_theta, k_delta = jax.random.split(jax.random.fold_in(key, index))
  theta = jax.random.uniform(k_theta, (), dtype, theta_min, theta_max)
  return theta, jax.random.normal(k_delta, (dim,), dtype)


def pattern_loss(model: ScoreMLP, params: PyTree, y: Array, theta: Array, delta: Array) -> Array:
  """‖δ − s(θ y + √(1 − θ²) δ, θ)‖² of one pattern y (d,) (the summand of seed 002, Eq. 27)."""
  x = theta * y + jnp.sqrt(jnp.maximum(1.0 - theta * theta, 0.0)) * delta
  r = delta - model.predict_noise(params, x, theta)
  return jnp.sum(r * r)


def denoising_loss(model: ScoreMLP, params: PyTree, patterns: Array, mask: Array, key: Array,
                   theta_min: float = 0.6, theta_max: float = 1.0) -> Array:
  """Eq. 27 for one network: the mean over the real patterns of ‖δ_n − s(x_n, θ_n)‖².

  Args:
    model: the network.
    params: its parameters.
    patterns: (N_max, d) stored patterns, zero-padded.
    mask: (N_max,) 1 for a real pattern, 0 for padding (which contributes nothing).
    key: the step's key; pattern n draws (θ_n, δ_n) from fold_in(key, n).
    theta_min, theta_max: θ ~ U(theta_min, theta_max).
  Returns:
    the scalar loss.
  """
  n, d = patterns.shape
  theta, delta = jax.vmap(lambda i: pattern_noise(key, i, d, theta_min, theta_max, patterns.dtype))(
      jnp.arange(n))
  per = jax.vmap(lambda y, th, de: pattern_loss(model, params, y, th, de))(patterns, theta, delta)
  mask = mask.astype(per.dtype)
  return jnp.sum(jnp.where(mask > 0, per, 0.0) * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def minibatch_loss(model: ScoreMLP, params: PyTree, patterns: Array, mask: Array, key: Array, batch_size: int,
                   theta_min: float = 0.6, theta_max: float = 1.0) -> Array:
  """Eq. 27 on a minibatch: the mean of ‖δ_b − s(x_b, θ_b)‖² over B patterns drawn uniformly, with
  replacement, from the real rows (mask 1) of `patterns` (N_max, d).

  Slot b draws its pattern index from split(key)[0] and its (θ_b, δ_b) from fold_in(split(key)[1], b).
  """
  n, d = patterns.shape
  k_index, k_noise = jax.random.split(key)
  logits = jnp.where(mask > 0, 0.0, -jnp.inf)
  index = jax.random.categorical(k_index, logits, shape=(batch_size,))
  theta, delta = jax.vmap(lambda b: pattern_noise(k_noise, b, d, theta_min, theta_max, patterns.dtype))(
      jnp.arange(batch_size))
  per = jax.vmap(lambda y, th, de: pattern_loss(model, params, y, th, de))(patterns[index], theta, delta)
  return jnp.mean(per)


def train_step(model: ScoreMLP, cfg: ScoreTrainConfig, state: TrainState, patterns: Array,
               mask: Array) -> tuple[TrainState, Array]:
  """One Adam step on the full (masked) pattern set of one network, or on a minibatch of it
  (`cfg.batch_size`); returns (state, loss)."""
  tx = cfg.optimizer()
  key = jax.random.fold_in(state.rng, state.step)

  def loss_fn(p):
    if cfg.batch_size is None:
      return denoising_loss(model, p, patterns, mask, key, cfg.theta_min, cfg.theta_max)
    return minibatch_loss(model, p, patterns, mask, key, cfg.batch_size, cfg.theta_min, cfg.theta_max)

  loss, grads = jax.value_and_grad(loss_fn)(state.params)
  updates, opt_state = tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  return state.replace(params=params, opt_state=opt_state, step=state.step + 1), loss


def train_steps(model: ScoreMLP, cfg: ScoreTrainConfig, state: TrainState, patterns: Array,
                mask: Array, n_steps: int) -> TrainState:
  """`n_steps` steps of one network as one `lax.scan`; their losses are written into `state.losses`."""
  start = state.step

  def body(st, _):
    return train_step(model, cfg, st, patterns, mask)

  state, losses = jax.lax.scan(body, state, None, length=n_steps)
  return state.replace(losses=jax.lax.dynamic_update_slice(state.losses, losses, (start,)))


def resolved_ensemble(cfg: ScoreTrainConfig) -> str:
  """The ensemble mode "auto" stands for on this backend: "map" on CPU, "vmap" elsewhere."""
  if cfg.ensemble != "auto":
    return cfg.ensemble
  return "map" if jax.default_backend() == "cpu" else "vmap"


def _core(cfg: ScoreTrainConfig) -> ScoreTrainConfig:
  """The settings the compiled step depends on (so logging or checkpoint settings never recompile)."""
  return ScoreTrainConfig(learning_rate=cfg.learning_rate, theta_min=cfg.theta_min,
                          theta_max=cfg.theta_max, ensemble=resolved_ensemble(cfg), batch_size=cfg.batch_size,
                          schedule=cfg.schedule,
                          # (the cosine schedule depends on the run's length; the constant one does not)
                          n_iterations=cfg.n_iterations if cfg.schedule != "constant" else 5000)


@functools.lru_cache(maxsize=64)
def _compiled_chunk(model: ScoreMLP, core: ScoreTrainConfig, n_steps: int, ensemble: bool) -> Callable:
  """jit of `n_steps` steps for one network or a vmapped/mapped ensemble; donates the state."""
  one = functools.partial(train_steps, model, core, n_steps=n_steps)
  if not ensemble:
    fn = one
  elif core.ensemble == "vmap":
    fn = jax.vmap(one)
  else:
    def fn(state, patterns, mask):
      return jax.lax.map(lambda a: one(*a), (state, patterns, mask))
  return jax.jit(fn, donate_argnums=(0,))


def chunk_function(model: ScoreMLP, cfg: ScoreTrainConfig, n_steps: int,
                   ensemble: bool = True) -> Callable[[TrainState, Array, Array], TrainState]:
  """The compiled `state, patterns, masks -> state` running `n_steps` steps (for benchmarks).

  The state argument is donated: pass each call the state the previous one returned.
  """
  return _compiled_chunk(_check_model(model), _core(_check_cfg(cfg)), int(n_steps), bool(ensemble))


# ----------------------------------------------------------------------------- fitting

def _check_patterns(model: ScoreMLP, patterns: Any, mask: Any, ensemble: bool) -> tuple[Array, Array]:
  name = "patterns"
  try:
    arr = jnp.asarray(patterns)
  except TypeError as err:
    raise ValueError(f"{name} must be an array of numbers, got {type(patterns).__name__}") from err
  if not jnp.issubdtype(arr.dtype, jnp.number):
    raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
  arr = arr.astype(jnp.float32)
  want = 3 if ensemble else 2
  shape = "(n_networks, n_patterns, dim)" if ensemble else "(n_patterns, dim)"
  if arr.ndim != want:
    raise ValueError(f"{name} must have shape {shape}, got shape {tuple(arr.shape)}")
  if arr.shape[-1] != model.dim:
    raise ValueError(f"{name} has dimension {arr.shape[-1]} but the network's dim is {model.dim}")
  if arr.shape[-2] == 0 or (ensemble and arr.shape[0] == 0):
    raise ValueError(f"{name} is empty: got shape {tuple(arr.shape)}")
  if not bool(jnp.all(jnp.isfinite(arr))):
    raise ValueError(f"{name} must be finite (found NaN or inf)")
  if mask is None:
    m = jnp.ones(arr.shape[:-1], jnp.float32)
  else:
    m = jnp.asarray(mask)
    if m.shape != arr.shape[:-1]:
      raise ValueError(f"mask must have shape {tuple(arr.shape[:-1])} (one entry per pattern), "
                       f"got {tuple(m.shape)}")
    m = m.astype(jnp.float32)
    if not bool(jnp.all((m == 0) | (m == 1))):
      raise ValueError("mask must hold 0/1 (or False/True) entries")
    if not bool(jnp.all(jnp.sum(m, axis=-1) >= 1)):
      raise ValueError("mask must mark at least one real pattern in every set")
  return arr, m


def _fingerprint(model: ScoreMLP, cfg: ScoreTrainConfig, patterns: Array, mask: Array, rng: Array) -> dict:
  h = hashlib.sha256()
  for a in (patterns, mask, rng):
    a = np.asarray(a)
    h.update(str((a.shape, a.dtype.str)).encode())
    h.update(np.ascontiguousarray(a).tobytes())
  arch = {"dim": model.dim, "hidden": model.hidden}
  if model.variant != "paper":      # (absent for the paper's network: older runs' records stay valid)
    arch["variant"] = model.variant
  return {"model": arch, "config": cfg.run_settings(),
          "data_sha256": h.hexdigest()}


def _restore(checkpoint_dir: str, target: TrainState, meta: dict) -> tuple[Checkpointer, TrainState | None]:
  ckpt = Checkpointer(checkpoint_dir)
  meta_path = os.path.join(ckpt.directory, META_FILE)
  if ckpt.latest_step() is not None:
    if not os.path.exists(meta_path):
      raise ValueError(f"checkpoint_dir {checkpoint_dir!r} holds checkpoints but no {META_FILE}; "
                       "use a fresh directory")
    with open(meta_path) as f:
      old = json.load(f)
    if old != meta:
      raise ValueError(f"checkpoint_dir {checkpoint_dir!r} was written by a run with other settings or "
                       f"data ({old} != {meta}); use a fresh directory")
    step, state = ckpt.restore(target)
    logging.info("score training: resuming from %s at step %d", ckpt.directory, step)
    return ckpt, state
  files.write_json(meta_path, meta)
  return ckpt, None


def _save_due(due: bool) -> bool:
  """Process 0's answer on every process: saving is a collective, so a timer that differs between
  the processes of a multi-process run must not decide it (one process would save alone and hang)."""
  if jax.process_count() == 1:
    return due
  from jax.experimental import multihost_utils  # pylint: disable=import-outside-toplevel
  return bool(multihost_utils.broadcast_one_to_all(np.asarray(due)))


def _run(model: ScoreMLP, cfg: ScoreTrainConfig, state: TrainState, patterns: Array, mask: Array,
         ensemble: bool, checkpoint_dir: str | None, on_chunk: ChunkCallback | None,
         label: str) -> TrainState:
  ckpt = None
  if checkpoint_dir is not None:
    meta = _fingerprint(model, cfg, patterns, mask, state.rng)
    ckpt, restored = _restore(checkpoint_dir, state, meta)
    if restored is not None:
      state = restored
  step = int(np.asarray(state.step).reshape(-1)[0])
  total = cfg.n_iterations
  n_nets = patterns.shape[0] if ensemble else 1
  t0 = time.perf_counter()
  t_first = None
  steps_first = 0
  last_log = -math.inf
  last_save = time.perf_counter()
  checked = step                 # the losses of steps up to here are known to be finite
  while step < total:
    n = min(cfg.chunk_size, total - step)
    state = _compiled_chunk(model, _core(cfg), n, ensemble)(state, patterns, mask)
    jax.block_until_ready(state.step)    # one scalar per chunk: keeps the rate and ETA honest
    step += n
    now = time.perf_counter()
    save = ckpt is not None and _save_due(now - last_save >= cfg.checkpoint_every_s or step == total)
    log = now - last_log >= cfg.log_every_s or step == total
    if save or log:
      # The loss curve comes to the host at log and save boundaries only (and always at the end):
      # a non-finite loss stops the run there, before a non-finite state is saved or returned.
      curve = np.asarray(state.losses).reshape(n_nets, total)
      try:
        check_finite_losses(curve[:, checked:step], checked, cfg.learning_rate, label)
      except ValueError:
        if ckpt is not None:
          ckpt.close()
        raise
      checked = step
    if save:
      ckpt.save(step, state)
      last_save = time.perf_counter()
    now = time.perf_counter()
    if t_first is None:            # the first chunk includes compilation: the rate starts after it
      t_first, steps_first = now, step
    if log:
      last_log = now
      losses = curve[:, max(step - n, 0):step]
      if step > steps_first:
        rate = (step - steps_first) / max(now - t_first, 1e-9)
        speed = f"{rate:.1f} steps/s, ETA {(total - step) / rate:.0f}s"
      else:
        speed = f"first chunk (with compilation) {now - t0:.1f}s, ETA ~{(now - t0) * (total - step) / step:.0f}s"
      logging.info("%s: step %d/%d (%d network%s), loss %.4f (last chunk, mean over networks), "
                   "elapsed %.0fs, %s", label, step, total, n_nets, "" if n_nets == 1 else "s",
                   float(losses.mean()), now - t0, speed)
    if on_chunk is not None:
      on_chunk(state)
  if ckpt is not None:
    ckpt.close()
  return state


def fit(model: ScoreMLP, key: Array, patterns: Array, mask: Array | None = None,
        cfg: ScoreTrainConfig = ScoreTrainConfig(), *, state: TrainState | None = None,
        checkpoint_dir: str | None = None, on_chunk: ChunkCallback | None = None,
        label: str = "score training") -> TrainState:
  """Trains one network on (N, d) patterns with the loss of Eq. 27 (seed 002, §7, App. A).

  Args:
    model: the `ScoreMLP`; its dim must equal the patterns' dimension.
    key: PRNG key of the run (initial parameters and every noise draw).
    patterns: (N, d) stored patterns (the full batch of every step).
    mask: optional (N,) 0/1 mask; padded rows (0) do not enter the loss.
    cfg: training settings.
    state: continue from this state (default: `init_state(model, key, cfg)`).
    checkpoint_dir: save orbax checkpoints here between chunks, and resume from the newest one.
    on_chunk: called with the state after every chunk (tests use it to interrupt a run).
    label: name in the progress lines.
  Returns:
    the final `TrainState` (`.params` is the trained network, `.losses` the loss curve).
  """
  _check_model(model)
  _check_cfg(cfg)
  patterns, mask = _check_patterns(model, patterns, mask, ensemble=False)
  if state is None:
    state = init_state(model, key, cfg)
    state = state.replace(params=with_data_statistics(state.params, patterns, mask))
  return _run(model, cfg, state, patterns, mask, False, checkpoint_dir, on_chunk, label)


def init_ensemble(model: ScoreMLP, keys: Array, cfg: ScoreTrainConfig = ScoreTrainConfig()) -> TrainState:
  """Fresh states of E networks (leading axis E), one per key of keys (E, 2): the vmap of `init_state`."""
  keys = _raw_key(keys, "keys")
  if keys.ndim != 2:
    raise ValueError(f"keys must have shape (n_networks, 2), got {tuple(keys.shape)}")
  _check_model(model)
  _check_cfg(cfg)
  return _jitted_init_ensemble(model, _core(cfg), cfg.n_iterations)(keys)


@functools.lru_cache(maxsize=32)
def _jitted_init_ensemble(model: ScoreMLP, core: ScoreTrainConfig, n_iterations: int) -> Callable:
  return jax.jit(jax.vmap(_jitted_init_state(model, core, n_iterations)))


def fit_ensemble(model: ScoreMLP, keys: Array, patterns: Array, masks: Array | None = None,
                 cfg: ScoreTrainConfig = ScoreTrainConfig(), *, state: TrainState | None = None,
                 checkpoint_dir: str | None = None, on_chunk: ChunkCallback | None = None,
                 label: str = "score ensemble") -> TrainState:
  """Trains E independent networks at once: `fit` vmapped over seeds and (masked) pattern sets.

  Network e trains exactly as `fit(model, keys[e], patterns[e], masks[e], cfg)` would (to float
  rounding): its draws depend only on its key and its patterns' indices.

  Args:
    model: the shared architecture.
    keys: (E, 2) PRNG keys, one per network.
    patterns: (E, N_max, d) pattern sets, zero-padded to a common N_max.
    masks: optional (E, N_max) 0/1 masks of the real patterns (default: all real).
    cfg, state, checkpoint_dir, on_chunk, label: as `fit`.
  Returns:
    the final `TrainState`, every leaf with a leading axis E.
  """
  _check_model(model)
  _check_cfg(cfg)
  patterns, masks = _check_patterns(model, patterns, masks, ensemble=True)
  keys = _raw_key(keys, "keys")
  if keys.shape != (patterns.shape[0], 2):
    raise ValueError(f"keys must have shape ({patterns.shape[0]}, 2), one per pattern set, "
                     f"got {tuple(keys.shape)}")
  if state is None:
    state = init_ensemble(model, keys, cfg)
    state = state.replace(params=jax.vmap(with_data_statistics)(state.params, patterns, masks))
  return _run(model, cfg, state, patterns, masks, True, checkpoint_dir, on_chunk, label)


def loss_curve(state: TrainState) -> np.ndarray:
  """The losses of the steps taken: (step,) for one network, (E, step) for an ensemble."""
  step = int(np.asarray(state.step).reshape(-1)[0])
  return np.asarray(state.losses)[..., :step]


def train_flops(model: ScoreMLP, n_patterns: int, n_steps: int = 1, n_networks: int = 1) -> float:
  """Matmul FLOPs of training: 2·N·(in·out) per layer forward, twice that backward.

  The input layer needs no input gradient (2 matmuls), the hidden and output layers need 3; `in`
  counts the appended θ_t (d + 1, H + 1); the output layer is `model.output_width` wide (d, or d·K).
  Elementwise work and Adam are not counted.
  """
  d, h, o = model.dim, model.hidden, model.output_width
  per_row = 2 * (2 * (d + 1) * h + 3 * (h + 1) * h + 3 * (h + 1) * o)
  return float(per_row) * n_patterns * n_steps * n_networks
