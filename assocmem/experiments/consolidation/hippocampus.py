"""The teachers of seed 000's consolidation: one-shot memories of images that replay from noise.

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
`replay.batch_size` at a time. The memory lays its bank out for the mode itself (padding to whole
chunks and shards, placement on the mesh): the experiment passes a mode and nothing else.

Replay sources (and recall baselines) are memories by name, from the memory registry
(`assocmem.memories.registry`): `make_source(source, config)`. The command-line names "mhn",
"diffusion" and "learned" (also the folder names and the rows of comparison.csv) stand for the
registry's "modern_hopfield", "exact_diffusion" and "learned_diffusion" (`SOURCE_MEMORIES`); any
other registered name is a source under its own name. `MEMORY_SETTINGS` builds a memory's settings
from the experiment's configuration (a memory not listed there gets its defaults); `store_source`
stores in any of them (a learned memory trains, with checkpoints).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, mixture
from assocmem.memories.base import LearningMemory, Memory
from assocmem.sde import VPSDE
from assocmem.train.score import ScoreTrainConfig

from assocmem.memories.registry import make as make_memory, names as memory_names

Array = jax.Array
Config = Any    # a `config.ConsolidationConfig` (not imported: the config imports this module)


# ----------------------------------------------------------------------------- sources by name

# Command-line source names (folder names, rows of comparison.csv) -> memory registry names.
SOURCE_MEMORIES: dict[str, str] = {"mhn": "modern_hopfield", "diffusion": "exact_diffusion",
                                   "learned": "learned_diffusion"}
SOURCES: tuple[str, ...] = tuple(SOURCE_MEMORIES)
SOURCE_LABELS = {"mhn": "modern Hopfield (β = 20, √d scaling)",
                 "diffusion": "exact diffusion (VP, Euler–Maruyama from the prior)",
                 "learned": "learned diffusion (ScoreMLP trained by Eq. 27, replayed from the prior)"}


def memory_name(source: str) -> str:
  """The registry name of a source ("mhn" → "modern_hopfield"; a registry name stays as it is)."""
  return SOURCE_MEMORIES.get(source, source)


def source_label(source: str) -> str:
  return SOURCE_LABELS.get(source, source)


def check_sources(sources: str | Sequence[str]) -> tuple[str, ...]:
  """A non-empty tuple of distinct source names, each a key of `SOURCE_MEMORIES` or a registered
  memory name (ValueError naming `replay_source`)."""
  sources = (sources,) if isinstance(sources, str) else tuple(sources)
  known = SOURCES + tuple(n for n in memory_names() if n not in SOURCE_MEMORIES.values())
  if not sources:
    raise ValueError(f"replay_source must name at least one of {', '.join(known)}")
  for s in sources:
    if s not in SOURCE_MEMORIES and s not in memory_names():
      raise ValueError(f"unknown replay_source {s!r}; expected one of {', '.join(known)}, a registered "
                       "memory name, or 'all'")
  if len(set(map(memory_name, sources))) != len(sources):
    raise ValueError(f"replay_source lists a source twice: {sources}")
  return sources


def make_mode(config: Config) -> mixture.Mode:
  """The mixture mode of `hippocampus.mode` ('dense', 'streaming', 'sharded', 'sharded_streaming')."""
  return mixture.mode_from_name(config.hippocampus.mode, chunk_size=config.hippocampus.chunk_size)


def hippocampus_settings(config: Config) -> dict[str, Any]:
  """Seed 000's hippocampus ("modern_hopfield"): β, √d scaling, ≤ `max_updates` updates until
  unchanged (`tol`), replays from U(−1, 1), over a bank laid out for the mode."""
  h = config.hippocampus
  return dict(beta=h.beta, n_steps=h.max_updates, tol=h.tol, scale_by_sqrt_d=h.scale_by_sqrt_d,
              replay_steps=h.max_updates, replay_tol=h.tol, replay_low=-1.0, replay_high=1.0,
              mode=make_mode(config))


def diffusion_settings(config: Config) -> dict[str, Any]:
  """The exact-diffusion memory ("exact_diffusion", seed 002 App. A): replays are Euler–Maruyama
  samples of the reverse VP SDE (γ = `diffusion_gamma`) from the prior at t_start(θ) down to
  t = 1e-3 on a geometric grid, with the exact score of the stored [−1, 1] images."""
  r = config.replay
  return dict(sde=VPSDE(r.diffusion_gamma), replay_theta=r.diffusion_theta, replay_steps=r.diffusion_steps,
              replay_grid="geometric", replay_sampler="sde", mode=make_mode(config))


def learned_settings(config: Config) -> dict[str, Any]:
  """The learned-diffusion memory ("learned_diffusion", seed 002 §7): a `ScoreMLP` (variant
  `learned_variant`, width `learned_hidden`) trained for `learned_iterations` Adam steps of Eq. 27
  (learning rate `learned_learning_rate`, minibatches of `learned_batch_size`, θ ~
  U(`learned_theta_min`, 1)) on the stored images; replays integrate the probability-flow ODE
  (`learned_sampler` "ode") or the reverse VP SDE ("sde") (γ = `diffusion_gamma`, `diffusion_steps`
  geometric steps) from N(0, I) at t_start(`learned_theta_min`) to 1e-3, then a Tweedie denoising
  step (`replay_denoise`); "unit_mixture" networks have `learned_components` components per pixel."""
  r = config.replay
  train = ScoreTrainConfig(n_iterations=r.learned_iterations, learning_rate=r.learned_learning_rate,
                           batch_size=r.learned_batch_size, theta_min=r.learned_theta_min)
  return dict(sde=VPSDE(r.diffusion_gamma), hidden=r.learned_hidden, variant=r.learned_variant,
              components=r.learned_components, train=train, replay_steps=r.diffusion_steps,
              replay_grid="geometric", replay_sampler=r.learned_sampler, replay_denoise=True)


# Registry name -> settings of that memory from the experiment's configuration.
MEMORY_SETTINGS: dict[str, Callable[[Config], dict[str, Any]]] = {
    "modern_hopfield": hippocampus_settings,
    "exact_diffusion": diffusion_settings,
    "learned_diffusion": learned_settings,
}


def make_source(source: str, config: Config) -> Memory:
  """The replay source (or recall baseline) `source` for `config`, from the memory registry."""
  check_sources((source,))
  name = memory_name(source)
  settings = MEMORY_SETTINGS[name](config) if name in MEMORY_SETTINGS else {}
  return make_memory(name, **settings)


def make_hippocampus(config: Config) -> Memory:
  """Seed 000's hippocampus, the modern Hopfield network (`make_source("mhn", config)`)."""
  return make_source("mhn", config)


# ----------------------------------------------------------------------------- storage

@runtime_checkable
class WritableMemory(Protocol):
  """A memory that can start empty and store one item at a time (the bank memories)."""

  def init(self, dim: int, capacity: int, center: Any | None = None) -> Any:
    """An empty state of at least `capacity` slots."""

  def write(self, state: Any, index: Any, pattern: Array) -> Any:
    """The state with `pattern` stored in slot `index`."""


@jax.jit
def _write_all(memory: Any, state: Any, patterns: Array) -> Any:
  """One `write` per pattern, in order, into slots 0..M−1 (one jit call, in-place updates)."""
  def body(i, s):
    return memory.write(s, i, patterns[i])
  return jax.lax.fori_loop(0, patterns.shape[0], body, state)


def _check_patterns(patterns: Any) -> Array:
  """(N, d) float32 patterns, checked: two axes, at least one row, finite values in [−1, 1]."""
  x = np.asarray(patterns)
  if x.ndim != 2 or x.shape[0] == 0:
    raise ValueError(f"patterns must have shape (n >= 1, dim), got shape {x.shape}; flatten images first")
  if not np.all(np.isfinite(x)) or x.min() < -1.0 - 1e-5 or x.max() > 1.0 + 1e-5:
    raise ValueError("patterns must hold finite values in [-1, 1] (images mapped by to_signed), got "
                     f"range [{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]")
  return jnp.asarray(x, jnp.float32)


def store_source(memory: Memory, patterns: Any, key: Array, incremental: bool = False,
                 checkpoint_dir: str | None = None) -> Any:
  """Stores (N, d) patterns in [−1, 1] in any memory (seed 000: one exposure per experience).

  Args:
    memory: any memory of the protocol.
    patterns: (N, d) flattened images in [−1, 1].
    key: PRNG key (of the training, for a learned memory).
    incremental: write the patterns one at a time into an empty state centred at 0 (memories with
      `init` and `write`, `WritableMemory`); else store them in one shot (a bank centred at the
      patterns' mean). The two banks differ by rounding only. Ignored by learned memories.
    checkpoint_dir: a learned memory (`LearningMemory`, one that trains in `fit`) trains with orbax
      checkpoints there (a rerun resumes).
  Returns:
    The memory's state (a bank laid out for the memory's mode, or trained parameters).
  """
  x = _check_patterns(patterns)
  if isinstance(memory, LearningMemory):
    return memory.fit(key, x, checkpoint_dir=checkpoint_dir)
  if incremental:
    if not isinstance(memory, WritableMemory):
      raise ValueError(f"incremental storage needs a memory with init and write; {type(memory).__name__} "
                       "has none (set incremental=False)")
    empty = memory.init(x.shape[1], x.shape[0], jnp.zeros((x.shape[1],), jnp.float32))
    return _write_all(memory, empty, x)
  return memory.store(key, x)


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


@jax.jit
def _nearest(q: Array, y: Array, y_sq: Array) -> tuple[Array, Array]:
  """Rows q (B, d): index of the nearest row of y (N, d) and the mean |q − y[idx]|. The patterns are
  arguments, not closure constants: a constant bank of 10,000 × 12,288 took XLA minutes to compile."""
  d2 = jnp.sum(q * q, axis=1)[:, None] - 2.0 * q @ y.T + y_sq[None, :]
  idx = jnp.argmin(d2, axis=1)
  return idx, jnp.mean(jnp.abs(q - y[idx]), axis=1)


def nearest_patterns(x: np.ndarray, patterns: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
  """For each row of x (M, d): the index of the nearest stored pattern (N, d) and the mean |x − y|.

  Euclidean nearest, computed in row batches ((batch × d)·(d × N) products), so it never holds an
  M × N × d array.
  """
  x = np.asarray(x, np.float32)
  y = jnp.asarray(patterns, jnp.float32)
  y_sq = jnp.sum(y * y, axis=1)
  idx, err = [], []
  for start in range(0, x.shape[0], batch_size):
    chunk = x[start:start + batch_size]
    i, e = _nearest(jnp.asarray(chunk), y, y_sq)
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
