"""The teacher of seed 000's consolidation: a one-shot memory of images that replays from noise.

The hippocampus is the modern Hopfield network of seed 000 Eq. 3, ξ ← X softmax(β Xᵀξ), here with
the authors' normalisation β → β/√d (β = 20; `ModernHopfield(scale_by_sqrt_d=True)`). Images are
flattened and mapped to [−1, 1] (`assocmem.data.to_signed`), stored in one shot in a
`PatternBank` (or one `write` per experience into an empty bank), and

  recall  iterates the update from a partial (masked) or noisy cue until the state no longer
          changes (tol = 0) or for 10 updates;
  replay  runs one such retrieval from each U(−1, 1) noise image; the result is rescaled to
          [0, 1] for the VAE.

Every retrieval is batched (`vmap` of the one-cue update) and jit-compiled, and runs over the
bank through the mixture primitive (`assocmem.mixture`): with `Streaming(chunk)` one update of a
batch of B states is, per chunk of C slots, a (B×d)·(d×C) matmul, the online log-sum-exp and a
(B×C)·(C×d) matmul, so memory is O(B·C + B·d), never O(B·N·d). Replays are generated
`replay_batch` at a time.

The replay source is pluggable: anything with the memory protocol's `store`/`replay` works
(`make_source` builds the modern Hopfield network, the exact-diffusion memory of seed 002, whose
replays are Euler–Maruyama samples from its prior, or the learned-diffusion memory, which stores
the images in a score network's weights by training; `store_source` stores in any of them).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, bank as bank_lib, mixture
from assocmem.bank import PatternBank
from assocmem.memories.base import Memory
from assocmem.memories.diffusion import ExactDiffusion
from assocmem.memories.hopfield import ModernHopfield
from assocmem.memories.learned import LearnedDiffusion
from assocmem.train.score import ScoreTrainConfig
from assocmem.sde import VPSDE

from assocmem.experiments.consolidation.config import SOURCES, ConsolidationConfig

Array = jax.Array


# ----------------------------------------------------------------------------- sources

def make_mode(config: ConsolidationConfig) -> mixture.Mode:
  """The mixture mode of `config.mode` ('dense', 'streaming', 'sharded', 'sharded_streaming')."""
  return mixture.mode_from_name(config.mode, chunk_size=config.chunk_size)


def bank_capacity(n: int, mode: mixture.Mode) -> int:
  """Slots for n patterns under `mode`: n padded to a multiple of the chunk (streaming) and of
  the number of shards (sharded), with empty slots (log-weight −inf) that take no part."""
  n = _checks.check_int("n", n)
  multiple = 1
  inner = mode.inner if isinstance(mode, mixture.Sharded) else mode
  shards = mode.mesh.shape[mode.axis] if isinstance(mode, mixture.Sharded) else 1
  if isinstance(inner, mixture.Streaming) and n > inner.chunk_size:
    multiple = inner.chunk_size
  multiple *= shards
  return int(math.ceil(n / multiple) * multiple)


def make_hippocampus(config: ConsolidationConfig, n_stored: int | None = None) -> ModernHopfield:
  """Seed 000's hippocampus: `ModernHopfield` with β, √d scaling, ≤ `max_updates` updates until
  unchanged (`tol`), replays from U(−1, 1), streaming over a bank of `bank_capacity` slots."""
  mode = make_mode(config)
  n = config.n_stored if n_stored is None else n_stored
  return ModernHopfield(beta=config.beta, n_steps=config.max_updates, tol=config.tol,
                        scale_by_sqrt_d=config.scale_by_sqrt_d, replay_steps=config.max_updates,
                        replay_tol=config.tol, replay_low=-1.0, replay_high=1.0,
                        slots=bank_capacity(n, mode), mode=mode)


def make_diffusion(config: ConsolidationConfig, n_stored: int | None = None) -> ExactDiffusion:
  """The exact-diffusion memory (seed 002 App. A) as a replay source: replays are Euler–Maruyama
  samples of the reverse VP SDE (γ = `diffusion_gamma`) from the prior at t_start(θ) down to
  t = 1e-3 on a geometric grid, with the exact score of the stored [−1, 1] images."""
  mode = make_mode(config)
  n = config.n_stored if n_stored is None else n_stored
  return ExactDiffusion(sde=VPSDE(config.diffusion_gamma), replay_theta=config.diffusion_theta,
                        replay_steps=config.diffusion_steps, replay_grid="geometric",
                        replay_sampler="sde", slots=bank_capacity(n, mode), mode=mode)


def make_learned(config: ConsolidationConfig) -> LearnedDiffusion:
  """The learned-diffusion memory (seed 002 §7) as a replay source: a `ScoreMLP` of width
  `learned_hidden` trained for `learned_iterations` Adam steps of Eq. 27 on the stored images
  (θ ~ U(0.6, 1)); replays are Euler–Maruyama samples of the reverse VP SDE (γ =
  `diffusion_gamma`, `diffusion_steps` geometric steps) from N(0, I) at t_start(0.6) to 1e-3."""
  return LearnedDiffusion(sde=VPSDE(config.diffusion_gamma), hidden=config.learned_hidden,
                          train=ScoreTrainConfig(n_iterations=config.learned_iterations),
                          replay_steps=config.diffusion_steps, replay_grid="geometric",
                          replay_sampler="sde")


def make_source(name: str, config: ConsolidationConfig, n_stored: int | None = None) -> Memory:
  """The replay source `name` ('mhn', 'diffusion' or 'learned') for `config`."""
  _checks.check_choice("replay_source", name, SOURCES)
  if name == "mhn":
    return make_hippocampus(config, n_stored)
  if name == "learned":
    return make_learned(config)
  return make_diffusion(config, n_stored)


# ----------------------------------------------------------------------------- storage

@jax.jit
def _write_all(memory: Any, bank: PatternBank, patterns: Array) -> PatternBank:
  """One `write` per pattern, in order, into slots 0..M−1 (one jit call, in-place updates)."""
  def body(i, b):
    return memory.write(b, i, patterns[i])
  return jax.lax.fori_loop(0, patterns.shape[0], body, bank)


def _check_patterns(patterns: Any) -> Array:
  """(N, d) float32 patterns, checked: two axes, at least one row, finite values in [−1, 1]."""
  x = np.asarray(patterns)
  if x.ndim != 2 or x.shape[0] == 0:
    raise ValueError(f"patterns must have shape (n >= 1, dim), got shape {x.shape}; flatten images first")
  if not np.all(np.isfinite(x)) or x.min() < -1.0 - 1e-5 or x.max() > 1.0 + 1e-5:
    raise ValueError("patterns must hold finite values in [-1, 1] (images mapped by to_signed), got "
                     f"range [{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]")
  return jnp.asarray(x, jnp.float32)


def store(memory: Any, patterns: Any, incremental: bool = False) -> PatternBank:
  """Stores (N, d) patterns in [−1, 1] in a bank memory (seed 000: one exposure per experience).

  Args:
    memory: a bank memory (`ModernHopfield`, `ExactDiffusion`); its `capacity` sets the slots.
    patterns: (N, d) flattened images in [−1, 1].
    incremental: write the patterns one at a time into an empty bank centred at 0 (the core's
      `write`); else build the bank in one shot (centred at the patterns' mean). The two banks
      differ by rounding only.
  Returns:
    The `PatternBank` (placed on the mesh for a sharded mode).
  """
  x = _check_patterns(patterns)
  capacity = getattr(memory, "slots", None) or x.shape[0]
  if capacity < x.shape[0]:
    raise ValueError(f"the memory has {capacity} slots but {x.shape[0]} patterns were given")
  if incremental:
    empty = bank_lib.empty_bank(capacity, x.shape[1], jnp.zeros((x.shape[1],), jnp.float32))
    bank = _write_all(memory, empty, x)
  else:
    bank = memory.store(None, x)
  mode = getattr(memory, "mode", None)
  if isinstance(mode, mixture.Sharded):
    bank = mixture.shard_bank(bank, mode.mesh, mode.axis)
  return bank


def store_source(memory: Any, patterns: Any, key: Array, incremental: bool = False,
                 checkpoint_dir: str | None = None) -> Any:
  """Stores (N, d) patterns in [−1, 1] in any replay source; returns the memory's state.

  A bank memory (`ModernHopfield`, `ExactDiffusion`) gets its `PatternBank` (`store`); a learned
  memory (`LearnedDiffusion`) is trained on the patterns with `key`, with orbax checkpoints in
  `checkpoint_dir` (a rerun resumes), and returns its parameters.
  """
  if isinstance(memory, LearnedDiffusion):
    return memory.fit(key, _check_patterns(patterns), checkpoint_dir=checkpoint_dir)
  return store(memory, patterns, incremental=incremental)


# ----------------------------------------------------------------------------- replay and recall

@functools.partial(jax.jit, static_argnames=("n",))
def _replay(memory: Any, state: Any, key: Array, n: int) -> Array:
  return memory.replay(state, key, n)


@jax.jit
def _recall(memory: Any, state: Any, cues: Array, key: Array) -> Array:
  return memory.recall(state, cues, key)


def replay_batched(memory: Any, state: Any, key: Array, n: int, batch_size: int) -> np.ndarray:
  """(n, d) replays, generated `batch_size` at a time by one jitted `memory.replay` per batch.

  Batch i uses `fold_in(key, i)`; every batch has `batch_size` rows (one compilation), the last
  one truncated. The values are the memory's own (clip and `to_unit` them for images).
  """
  n = _checks.check_int("n", n)
  batch_size = min(_checks.check_int("batch_size", batch_size), n)
  out = []
  for i in range(math.ceil(n / batch_size)):
    out.append(np.asarray(_replay(memory, state, jax.random.fold_in(key, i), batch_size)))
  return np.concatenate(out)[:n]


def recall_batched(memory: Any, state: Any, cues: Any, batch_size: int,
                   key: Array | None = None) -> np.ndarray:
  """(B, d) recalls of (B, d) cues, `batch_size` cues per jitted `memory.recall` call."""
  x = np.asarray(cues, np.float32)
  if x.ndim != 2 or x.shape[0] == 0:
    raise ValueError(f"cues must have shape (B >= 1, dim), got shape {x.shape}")
  batch_size = min(_checks.check_int("batch_size", batch_size), x.shape[0])
  key = jax.random.PRNGKey(0) if key is None else key
  out = []
  for i, start in enumerate(range(0, x.shape[0], batch_size)):
    chunk = x[start:start + batch_size]
    real = chunk.shape[0]
    if real < batch_size:
      chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch_size - real, axis=0)])
    out.append(np.asarray(_recall(memory, state, jnp.asarray(chunk), jax.random.fold_in(key, i)))[:real])
  return np.concatenate(out)


def to_images(x: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
  """(N, d) states in [−1, 1] (replays, recalls) → (N, H, W, C) images in [0, 1] (clipped)."""
  x = np.clip(np.asarray(x, np.float32), -1.0, 1.0)
  return ((x + 1.0) / 2.0).reshape((x.shape[0],) + tuple(image_shape))


def nearest_patterns(x: np.ndarray, patterns: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
  """For each row of x (M, d): the index of the nearest stored pattern (N, d) and the mean |x − y|.

  Euclidean nearest, computed in row batches ((batch × d)·(d × N) products), so it never holds an
  M × N × d array.
  """
  x = np.asarray(x, np.float32)
  y = jnp.asarray(patterns, jnp.float32)
  y_sq = jnp.sum(y * y, axis=1)

  @jax.jit
  def nearest(q):
    d2 = jnp.sum(q * q, axis=1)[:, None] - 2.0 * q @ y.T + y_sq[None, :]
    idx = jnp.argmin(d2, axis=1)
    return idx, jnp.mean(jnp.abs(q - y[idx]), axis=1)

  idx, err = [], []
  for start in range(0, x.shape[0], batch_size):
    chunk = x[start:start + batch_size]
    i, e = nearest(jnp.asarray(chunk))
    idx.append(np.asarray(i))
    err.append(np.asarray(e))
  return np.concatenate(idx), np.concatenate(err)


def replay_fidelity(replays: np.ndarray, patterns: np.ndarray, threshold: float = 0.05) -> dict[str, float]:
  """How closely replays (M, d) reproduce stored patterns (N, d), all in [−1, 1].

  Returns mean |replay − nearest stored pattern| (per unit), the fraction of replays whose mean
  absolute difference to their nearest pattern is below `threshold`, and the number and fraction
  of distinct stored patterns that are some replay's nearest.
  """
  idx, err = nearest_patterns(replays, patterns)
  distinct = int(np.unique(idx).size)
  return {"mean_abs_to_nearest": float(np.mean(err)), "fraction_near_stored": float(np.mean(err < threshold)),
          "distinct_replayed": distinct, "fraction_of_stored_replayed": distinct / float(len(patterns)),
          "near_threshold": threshold}


# ----------------------------------------------------------------------------- cues

def noisy_cues(key: Array, images: Any, fraction: float) -> np.ndarray:
  """The authors' noisy cues (`utils.noise`): a random `fraction` of each image's values set to 0.

  Args:
    key: PRNG key.
    images: (N, H, W, C) in [0, 1].
    fraction: fraction of the H·W·C values replaced, in (0, 1); exactly round(fraction·H·W·C) per
      image.
  Returns:
    (N, H, W, C) float32 cues in [0, 1].
  """
  x = np.asarray(images, np.float32)
  if x.ndim != 4 or x.shape[0] == 0:
    raise ValueError(f"images must have shape (N >= 1, H, W, C), got shape {x.shape}")
  _checks.check_open_unit("fraction", fraction)
  n = x.shape[0]
  d = int(np.prod(x.shape[1:]))
  k = max(1, int(round(float(fraction) * d)))
  u = jax.random.uniform(key, (n, d))
  _, idx = jax.lax.top_k(u, k)
  mask = np.zeros((n, d), bool)
  np.put_along_axis(mask, np.asarray(idx), True, axis=1)
  return np.where(mask, 0.0, x.reshape(n, d)).reshape(x.shape).astype(np.float32)


def partial_cues(images: Any, fraction: float) -> np.ndarray:
  """Partial cues: the bottom `fraction` of each image's rows set to 0 (an occlusion).

  Args:
    images: (N, H, W, C) in [0, 1].
    fraction: fraction of rows masked, in (0, 1) (at least one row).
  Returns:
    (N, H, W, C) float32 cues.
  """
  x = np.array(images, np.float32)
  if x.ndim != 4 or x.shape[0] == 0:
    raise ValueError(f"images must have shape (N >= 1, H, W, C), got shape {x.shape}")
  _checks.check_open_unit("fraction", fraction)
  rows = max(1, int(round(float(fraction) * x.shape[1])))
  x[:, x.shape[1] - rows:] = 0.0
  return x
