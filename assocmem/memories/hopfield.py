"""Modern and classical Hopfield memories under the memory protocol (seed 000 Eq. 3; seed 002 Eqs. 1–5).

`ModernHopfield` is seed 000's hippocampus: one-shot storage of each experience in a
`PatternBank` (a slot per memory unit, Hebbian binding of features to that unit), recall by
iterating ξ ← X softmax(β Xᵀξ), replay = recall from U(low, high) noise. The bank may stream
or shard (`mode`), so it can hold more than fits as one similarity matrix; `store` and `init`
lay the bank out for the mode themselves (`mixture.layout_bank`: padding to whole chunks and
shards, placement on the mesh), so a caller passes a mode and nothing else.
"""

from __future__ import annotations

import math
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from assocmem import _checks, bank as bank_lib, hopfield, mixture
from assocmem.bank import PatternBank
from assocmem.energies import hebbian_weights
from assocmem.memories import batching

Array = jax.Array


def _check_data(name: str, data: Any, dim: int | None = None) -> Array:
  data = _checks.as_float_array(name, data)
  if data.ndim != 2:
    raise ValueError(f"{name} must have shape (n, dim), got shape {tuple(data.shape)}; flatten images first")
  if dim is not None and data.shape[1] != dim:
    raise ValueError(f"{name} has dimension {data.shape[1]} but the memory's state has dimension {dim}")
  if data.shape[0] == 0:
    raise ValueError(f"{name} is empty: expected at least one row")
  _checks.check_finite(name, data)
  return data


def check_bank_state(memory: Any, state: Any) -> PatternBank:
  """Raises a ValueError naming `state` unless it is a `PatternBank` (what a bank memory's `store`
  and `init` return); returns it."""
  if not isinstance(state, PatternBank):
    name = type(memory).__name__
    raise ValueError(f"state must be the PatternBank that {name}.store (or {name}.init) returns, "
                     f"got {type(state).__name__}")
  return state


def store_bank(data: Array, slots: int | None, mode: Any) -> PatternBank:
  """A bank of (N, d) patterns with `bank_slots(max(slots, N), mode)` slots, laid out for `mode`
  (the storage of every bank memory: `ModernHopfield`, `ExactDiffusion`)."""
  n = data.shape[0]
  if slots is not None and slots < n:
    raise ValueError(f"slots={slots} is fewer than the {n} patterns given; raise slots or leave it None")
  capacity = mixture.bank_slots(max(slots or n, n), mode)
  return mixture.layout_bank(bank_lib.make_bank(data, capacity=capacity), mode)


def init_bank(dim: int, capacity: int, center: Any | None, dtype: Any, mode: Any) -> PatternBank:
  """An empty bank of `bank_slots(capacity, mode)` slots of dimension `dim`, laid out for `mode`."""
  capacity = _checks.check_int("capacity", capacity, 1)
  return mixture.layout_bank(bank_lib.empty_bank(mixture.bank_slots(capacity, mode), dim, center, dtype), mode)


@flax.struct.dataclass
class ModernHopfield:
  """Modern Hopfield memory (seed 000, Eq. 3; seed 002, Eq. 5; Ramsauer et al. 2020).

  Attributes:
    beta: inverse temperature β > 0 (a pytree leaf: vmap over it to sweep).
    n_steps: updates per recall (the maximum when `tol` is set).
    tol: stop a recall once max|Δξ| <= tol (None: always `n_steps`; 0: when the state no longer
      changes, seed 000's authors' rule).
    scale_by_sqrt_d: use β/√d, i.e. softmax(β Xᵀξ/√d) as seed 000's authors' code does.
    replay_steps, replay_tol: the same for replays.
    replay_low, replay_high: replays start from U(low, high) noise (seed 000: U(−1, 1)).
    slots: minimum bank slots (default: the number stored); extra slots are for `write`. The
      bank gets `mixture.bank_slots(max(slots, N), mode)` slots (whole chunks and shards).
    mode: mixture mode (Dense(), Streaming(chunk), Sharded(mesh, axis)); `store` and `init`
      lay the bank out for it (`mixture.layout_bank`).
  """
  beta: Any = 5.0
  n_steps: int = flax.struct.field(pytree_node=False, default=150)
  tol: float | None = flax.struct.field(pytree_node=False, default=None)
  scale_by_sqrt_d: bool = flax.struct.field(pytree_node=False, default=False)
  replay_steps: int = flax.struct.field(pytree_node=False, default=10)
  replay_tol: float | None = flax.struct.field(pytree_node=False, default=None)
  replay_low: float = flax.struct.field(pytree_node=False, default=-1.0)
  replay_high: float = flax.struct.field(pytree_node=False, default=1.0)
  slots: int | None = flax.struct.field(pytree_node=False, default=None)
  mode: Any = flax.struct.field(pytree_node=False, default=mixture.DENSE)

  def __post_init__(self):
    _checks.check_setting("beta", self.beta)
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_int("replay_steps", self.replay_steps)
    for name in ("tol", "replay_tol"):
      v = getattr(self, name)
      if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0):
        raise ValueError(f"{name} must be None or a number >= 0, got {v!r}")
    for name in ("replay_low", "replay_high"):
      _checks.check_setting(name, getattr(self, name), "finite")
    if not self.replay_low < self.replay_high:
      raise ValueError(f"replay_low must be below replay_high, got replay_low={self.replay_low}, "
                       f"replay_high={self.replay_high}")
    if self.slots is not None:
      _checks.check_int("slots", self.slots)
    mixture.check_mode(self.mode)

  def dim(self, state: PatternBank) -> int:
    """d, the dimension of the stored patterns."""
    return check_bank_state(self, state).dim

  def capacity(self, state: PatternBank) -> int:
    """The bank's slots (filled or empty; padding for the mode included)."""
    return check_bank_state(self, state).capacity

  def effective_beta(self, dim: int) -> Any:
    """β, or β/√d with `scale_by_sqrt_d`."""
    return self.beta / math.sqrt(dim) if self.scale_by_sqrt_d else self.beta

  def init(self, dim: int, capacity: int, center: Any | None = None,
           dtype: Any = jnp.float32) -> PatternBank:
    """An empty bank of at least `capacity` slots for incremental storage with `write`, laid out
    for the mode (`bank_slots(capacity, mode)` slots; on the mesh for Sharded)."""
    return init_bank(dim, capacity, center, dtype, self.mode)

  def store(self, key: Array | None, data: Array) -> PatternBank:
    """One-shot storage of (N, d) patterns (the key is unused: storage is deterministic), in a
    bank of `bank_slots(max(slots, N), mode)` slots laid out for the mode."""
    del key
    return store_bank(_check_data("data", data), self.slots, self.mode)

  def write(self, state: PatternBank, index: Any, pattern: Array) -> PatternBank:
    """Stores one (d,) pattern in slot `index` (seed 000: each experience encoded once)."""
    return bank_lib.write(check_bank_state(self, state), index, pattern)

  def recall_one(self, state: PatternBank, cue: Array, n_steps: int | None = None,
                 tol: float | None = None) -> Array:
    """Retrieves from one (d,) cue: at most `n_steps` updates, stopping once a step moves the state by
    less than `tol`; None (the default) for either means the memory's own `n_steps` / `tol`."""
    check_bank_state(self, state)
    return hopfield.mhn_retrieve(state, cue, self.effective_beta(state.dim),
                                 self.n_steps if n_steps is None else n_steps,
                                 self.tol if tol is None else tol, mode=self.mode)

  def recall(self, state: PatternBank, cues: Array, key: Array | None = None, *,
             batch_size: int | None = None) -> Array:
    """Retrieves from (B, d) cues (vmap of `recall_one`), `batch_size` cues at a time (the key is
    unused: recall is deterministic; None or a PRNG key)."""
    check_bank_state(self, state)
    _checks.check_key("key", key, optional=True)
    batch_size = batching.check_batch_size(batch_size)
    cues = _check_data("cues", cues, state.dim)
    one = lambda c: self.recall_one(state, c, self.n_steps, self.tol)
    return batching.map_chunked(jax.vmap(one), (cues,), batch_size)

  def replay(self, state: PatternBank, key: Array, n: int, *, batch_size: int | None = None) -> Array:
    """(n, d) recalls from U(replay_low, replay_high) noise (seed 000's replays), `batch_size` at a time."""
    check_bank_state(self, state)
    _checks.check_key("key", key)
    n = _checks.check_int("n", n)
    batch_size = batching.check_batch_size(batch_size)
    noise = jax.random.uniform(key, (n, state.dim), state.dtype, self.replay_low, self.replay_high)
    one = lambda q: self.recall_one(state, q, self.replay_steps, self.replay_tol)
    return batching.map_chunked(jax.vmap(one), (noise,), batch_size)


@flax.struct.dataclass
class ClassicalHopfield:
  """Classical Hopfield memory with Hebbian weights (seed 002, Eqs. 1–3); state = (d, d) weights."""
  n_steps: int = flax.struct.field(pytree_node=False, default=10)
  schedule: str = flax.struct.field(pytree_node=False, default="sync")
  zero_diagonal: bool = flax.struct.field(pytree_node=False, default=True)

  def __post_init__(self):
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_choice("schedule", self.schedule, hopfield.SCHEDULES)

  def _check_weights(self, state: Any) -> Array:
    shape = getattr(state, "shape", None)
    if isinstance(state, PatternBank) or shape is None or len(shape) != 2 or shape[0] != shape[1]:
      got = f"shape {tuple(shape)}" if shape is not None and not isinstance(state, PatternBank) \
          else type(state).__name__
      raise ValueError(f"state must be the (d, d) Hebbian weights that ClassicalHopfield.store returns, "
                       f"got {got}")
    return state

  def dim(self, state: Array) -> int:
    """d, from the (d, d) weights."""
    return self._check_weights(state).shape[-1]

  def capacity(self, state: Array) -> None:
    """None: Hebbian weights have no slots (any number of patterns superpose in them)."""
    del state
    return None

  def store(self, key: Array | None, data: Array) -> Array:
    """Hebbian weights of (N, d) patterns."""
    del key
    return hebbian_weights(_check_data("data", data), self.zero_diagonal)

  def recall(self, state: Array, cues: Array, key: Array | None = None, *,
             batch_size: int | None = None) -> Array:
    """(B, d) recalls, `batch_size` at a time; `key` draws random asynchronous orders (schedule="async")."""
    self._check_weights(state)
    _checks.check_key("key", key, optional=True)
    batch_size = batching.check_batch_size(batch_size)
    cues = _check_data("cues", cues, state.shape[0])
    keys = jax.random.split(key, cues.shape[0]) if key is not None else None
    if keys is None:
      fn = jax.vmap(lambda c: hopfield.classical_retrieve(state, c, self.n_steps, self.schedule))
      return batching.map_chunked(fn, (cues,), batch_size)
    fn = jax.vmap(lambda c, k: hopfield.classical_retrieve(state, c, self.n_steps, self.schedule, k))
    return batching.map_chunked(fn, (cues, keys), batch_size)

  def replay(self, state: Array, key: Array, n: int, *, batch_size: int | None = None) -> Array:
    """(n, d) recalls from random ±1 states, `batch_size` at a time."""
    self._check_weights(state)
    _checks.check_key("key", key)
    n = _checks.check_int("n", n)
    k0, k1 = jax.random.split(key)
    x0 = jnp.where(jax.random.bernoulli(k0, 0.5, (n, state.shape[0])), 1.0, -1.0).astype(state.dtype)
    return self.recall(state, x0, k1, batch_size=batch_size)
