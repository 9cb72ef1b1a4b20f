"""Memories with one interface: store, recall, replay.

A memory is a frozen settings object; `store(patterns)` returns its state (a
pytree), and `recall` / `replay` are pure functions of that state and PRNG keys.
`recall` takes ONE cue (d,), so batches are `jax.vmap(lambda c, k: m.recall(s, c, k))`.
The replay source of seed 000's consolidation is any of these (roadmap item 4).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import jax
import jax.numpy as jnp

from assocmem import _checks, hopfield, samplers, scores
from assocmem.energies import hebbian_weights
from assocmem.sde import SDE, VPSDE

Array = jax.Array


class Memory(Protocol):
  """What every memory (modern Hopfield, exact diffusion, learned score) offers."""

  def store(self, patterns: Array) -> Any:
    """One-shot storage of (N, d) patterns; returns the memory's state."""

  def recall(self, state: Any, cue: Array, key: Array | None = None) -> Array:
    """Retrieves from one (d,) cue."""

  def replay(self, state: Any, key: Array, n: int) -> Array:
    """Generates (n, d) spontaneous replays from noise."""


@dataclasses.dataclass(frozen=True)
class ModernHopfield:
  """Modern Hopfield memory (seed 000, Eq. 3; seed 002, Eq. 5).

  Replay follows seed 000's hippocampus: retrieval from U(−1, 1) noise.
  """
  beta: float = 5.0
  n_steps: int = 150
  replay_steps: int = 10
  replay_low: float = -1.0
  replay_high: float = 1.0

  def __post_init__(self):
    _checks.check_positive("beta", self.beta)
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_int("replay_steps", self.replay_steps)

  def store(self, patterns: Array) -> Array:
    return _checks.check_patterns("patterns", patterns)

  def recall(self, state: Array, cue: Array, key: Array | None = None) -> Array:
    del key
    return hopfield.mhn_retrieve(cue, state, self.beta, self.n_steps)

  def replay(self, state: Array, key: Array, n: int) -> Array:
    n = _checks.check_int("n", n)
    noise = jax.random.uniform(key, (n, state.shape[1]), state.dtype, self.replay_low, self.replay_high)
    return jax.vmap(lambda q: hopfield.mhn_retrieve(q, state, self.beta, self.replay_steps))(noise)


@dataclasses.dataclass(frozen=True)
class ExactDiffusion:
  """Diffusion model with the exact score of the stored patterns (seed 002, App. A).

  Recall integrates the probability-flow ODE (or the reverse SDE, sampler="sde")
  from t_start(θ_cue) to t_end; replay samples from the prior at `replay_theta`.
  """
  sde: SDE = dataclasses.field(default_factory=lambda: VPSDE(0.8))
  cue_theta: float = 0.68
  n_steps: int = 300
  t_end: float = samplers.DEFAULT_T_END
  sampler: str = "ode"
  replay_theta: float = 1e-3

  def __post_init__(self):
    _checks.check_open_unit("cue_theta", self.cue_theta)
    _checks.check_open_unit("replay_theta", self.replay_theta)
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_choice("sampler", self.sampler, ("ode", "sde"))
    if not isinstance(self.sde, VPSDE):
      raise ValueError(f"sde must be a VPSDE for ExactDiffusion (its recall starts at the cue's θ), "
                       f"got {type(self.sde).__name__}")

  def store(self, patterns: Array) -> Array:
    return _checks.check_patterns("patterns", patterns)

  def _run(self, state: Array, x: Array, t0: Array, key: Array | None) -> Array:
    score_fn = scores.exact_score(self.sde, state)
    if self.sampler == "ode":
      return samplers.ode_sample(score_fn, self.sde, x, t0, self.t_end, self.n_steps)
    if key is None:
      raise ValueError("key is required when sampler='sde'")
    return samplers.em_sample(key, score_fn, self.sde, x, t0, self.t_end, self.n_steps)

  def recall(self, state: Array, cue: Array, key: Array | None = None) -> Array:
    return self._run(state, cue, self.sde.t_start(self.cue_theta), key)

  def replay(self, state: Array, key: Array, n: int) -> Array:
    n = _checks.check_int("n", n)
    k0, k1 = jax.random.split(key)
    x0 = self.sde.prior_sampling(k0, (n, state.shape[1]), state.dtype)
    t0 = self.sde.t_start(self.replay_theta)
    keys = jax.random.split(k1, n)
    return jax.vmap(lambda x, k: self._run(state, x, t0, k))(x0, keys)


@dataclasses.dataclass(frozen=True)
class ClassicalHopfield:
  """Classical Hopfield memory with Hebbian weights (seed 002, Eqs. 1–3)."""
  n_steps: int = 10
  mode: str = "sync"
  zero_diagonal: bool = True

  def __post_init__(self):
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_choice("mode", self.mode, hopfield.MODES)

  def store(self, patterns: Array) -> Array:
    return hebbian_weights(patterns, self.zero_diagonal)

  def recall(self, state: Array, cue: Array, key: Array | None = None) -> Array:
    return hopfield.classical_retrieve(cue, state, self.n_steps, self.mode, key)

  def replay(self, state: Array, key: Array, n: int) -> Array:
    n = _checks.check_int("n", n)
    k0, k1 = jax.random.split(key)
    x0 = jnp.where(jax.random.bernoulli(k0, 0.5, (n, state.shape[0])), 1.0, -1.0).astype(state.dtype)
    keys = jax.random.split(k1, n)
    return jax.vmap(lambda x, k: self.recall(state, x, k))(x0, keys)
