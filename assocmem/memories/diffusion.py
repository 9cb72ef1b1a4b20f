"""The exact-diffusion memory under the memory protocol (seed 002, App. A).

State: a `PatternBank`. Recall integrates the probability-flow ODE (or the reverse SDE) of
the exact score from the cue's noise level down to t_end; replay samples from the prior
(t ≈ 17 for θ = 1e-3 at γ = 0.8) on a geometric grid that resolves t < 0.1. Integration,
checks and batching are the shared `ScoreMemory`'s; this class adds the exact score and the bank
(laid out for the mode by `store`/`init` themselves, `mixture.layout_bank`).
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from assocmem import _checks, bank as bank_lib, mixture, scores
from assocmem.bank import PatternBank
from assocmem.memories.hopfield import _check_data, check_bank_state, init_bank, store_bank
from assocmem.memories.score_memory import ScoreMemory

Array = jax.Array


@flax.struct.dataclass
class ExactDiffusion(ScoreMemory):
  """Diffusion memory with the exact score of its stored patterns (seed 002, App. A; Eqs. A1–A4).

  Attributes (besides `ScoreMemory`'s sde, cue_theta, n_steps, t_end, grid, sampler,
  replay_theta (default 1e-3), replay_steps, replay_grid, replay_sampler):
    slots: minimum bank slots (default: the number stored); extra slots are for `write`. The
      bank gets `mixture.bank_slots(max(slots, N), mode)` slots.
    mode: mixture mode of the score (Dense(), Streaming(chunk), Sharded(mesh, axis)); `store`
      and `init` lay the bank out for it.
  """
  replay_theta: float = flax.struct.field(pytree_node=False, default=1e-3)
  slots: int | None = flax.struct.field(pytree_node=False, default=None)
  mode: Any = flax.struct.field(pytree_node=False, default=mixture.DENSE)

  def __post_init__(self):
    super().__post_init__()
    if self.replay_theta is None:
      raise ValueError("replay_theta must be a number in (0, 1) for ExactDiffusion, got None")
    if self.slots is not None:
      _checks.check_int("slots", self.slots)
    mixture.check_mode(self.mode)

  @property
  def score_fn(self):
    """The explicit-state score `score_fn(bank, x, t)` (Eqs. A3–A4)."""
    return scores.exact_score_fn(self.sde, self.mode)

  def check_state(self, state: Any) -> PatternBank:
    """Raises a ValueError naming `state` unless it is a `PatternBank` (from `store` or `init`)."""
    return check_bank_state(self, state)

  def dim(self, state: PatternBank) -> int:
    """d, the dimension of the stored patterns."""
    return check_bank_state(self, state).dim

  def capacity(self, state: PatternBank) -> int:
    """The bank's slots (filled or empty; padding for the mode included)."""
    return check_bank_state(self, state).capacity

  def state_dtype(self, state: PatternBank) -> Any:
    """The bank's dtype (replays start in it)."""
    return state.dtype

  def init(self, dim: int, capacity: int, center: Any | None = None,
           dtype: Any = jnp.float32) -> PatternBank:
    """An empty bank of at least `capacity` slots for `write`, laid out for the mode."""
    return init_bank(dim, capacity, center, dtype, self.mode)

  def store(self, key: Array | None, data: Array) -> PatternBank:
    """One-shot storage of (N, d) patterns in a bank of `bank_slots(max(slots, N), mode)` slots."""
    del key
    return store_bank(_check_data("data", data), self.slots, self.mode)

  def write(self, state: PatternBank, index: Any, pattern: Array) -> PatternBank:
    """Stores one (d,) pattern in slot `index`."""
    return bank_lib.write(check_bank_state(self, state), index, pattern)
