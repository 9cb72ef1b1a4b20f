"""Modern and classical Hopfield memories under the memory protocol (seed 000 Eq. 3; seed 002 Eqs. 1–5).

`ModernHopfield` is seed 000's hippocampus: one-shot storage of each experience in a
`PatternBank` (a slot per memory unit, Hebbian binding of features to that unit), recall by
iterating ξ ← X softmax(β Xᵀξ), replay = recall from U(low, high) noise. The bank may stream
or shard (`mode`), so it can hold more than fits as one similarity matrix.
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
    capacity: bank slots (default: the number stored); extra slots are for `write`.
    mode: mixture mode (Dense(), Streaming(chunk), Sharded(mesh, axis)).
  """
  beta: Any = 5.0
  n_steps: int = flax.struct.field(pytree_node=False, default=150)
  tol: float | None = flax.struct.field(pytree_node=False, default=None)
  scale_by_sqrt_d: bool = flax.struct.field(pytree_node=False, default=False)
  replay_steps: int = flax.struct.field(pytree_node=False, default=10)
  replay_tol: float | None = flax.struct.field(pytree_node=False, default=None)
  replay_low: float = flax.struct.field(pytree_node=False, default=-1.0)
  replay_high: float = flax.struct.field(pytree_node=False, default=1.0)
  capacity: int | None = flax.struct.field(pytree_node=False, default=None)
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
    if self.capacity is not None:
      _checks.check_int("capacity", self.capacity)
    mixture.check_mode(self.mode)

  def effective_beta(self, dim: int) -> Any:
    """β, or β/√d with `scale_by_sqrt_d`."""
    return self.beta / math.sqrt(dim) if self.scale_by_sqrt_d else self.beta

  def init(self, dim: int, capacity: int, center: Any | None = None,
           dtype: Any = jnp.float32) -> PatternBank:
    """An empty bank for incremental storage with `write`."""
    return bank_lib.empty_bank(capacity, dim, center, dtype)

  def store(self, key: Array | None, data: Array) -> PatternBank:
    """One-shot storage of (N, d) patterns (the key is unused: storage is deterministic)."""
    del key
    data = _check_data("data", data)
    return bank_lib.make_bank(data, capacity=self.capacity)

  def write(self, state: PatternBank, index: Any, pattern: Array) -> PatternBank:
    """Stores one (d,) pattern in slot `index` (seed 000: each experience encoded once)."""
    return bank_lib.write(state, index, pattern)

  def recall_one(self, state: PatternBank, cue: Array, n_steps: int | None = None,
                 tol: float | None = None) -> Array:
    """Retrieves from one (d,) cue."""
    return hopfield.mhn_retrieve(cue, state, self.effective_beta(state.dim),
                                 n_steps or self.n_steps, tol, mode=self.mode)

  def recall(self, state: PatternBank, cues: Array, key: Array | None = None) -> Array:
    """Retrieves from (B, d) cues (vmap of `recall_one`)."""
    del key
    cues = _check_data("cues", cues, state.dim)
    return jax.vmap(lambda c: self.recall_one(state, c, self.n_steps, self.tol))(cues)

  def replay(self, state: PatternBank, key: Array, n: int) -> Array:
    """(n, d) recalls from U(replay_low, replay_high) noise (seed 000's replays)."""
    n = _checks.check_int("n", n)
    noise = jax.random.uniform(key, (n, state.dim), state.dtype, self.replay_low, self.replay_high)
    return jax.vmap(lambda q: self.recall_one(state, q, self.replay_steps, self.replay_tol))(noise)


@flax.struct.dataclass
class ClassicalHopfield:
  """Classical Hopfield memory with Hebbian weights (seed 002, Eqs. 1–3); state = (d, d) weights."""
  n_steps: int = flax.struct.field(pytree_node=False, default=10)
  update: str = flax.struct.field(pytree_node=False, default="sync")
  zero_diagonal: bool = flax.struct.field(pytree_node=False, default=True)

  def __post_init__(self):
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_choice("update", self.update, hopfield.MODES)

  def store(self, key: Array | None, data: Array) -> Array:
    """Hebbian weights of (N, d) patterns."""
    del key
    return hebbian_weights(_check_data("data", data), self.zero_diagonal)

  def recall(self, state: Array, cues: Array, key: Array | None = None) -> Array:
    """(B, d) recalls; `key` draws random asynchronous orders (update="async")."""
    cues = _check_data("cues", cues, state.shape[0])
    keys = jax.random.split(key, cues.shape[0]) if key is not None else None
    if keys is None:
      return jax.vmap(lambda c: hopfield.classical_retrieve(c, state, self.n_steps, self.update))(cues)
    return jax.vmap(lambda c, k: hopfield.classical_retrieve(c, state, self.n_steps, self.update, k))(cues, keys)

  def replay(self, state: Array, key: Array, n: int) -> Array:
    """(n, d) recalls from random ±1 states."""
    n = _checks.check_int("n", n)
    k0, k1 = jax.random.split(key)
    x0 = jnp.where(jax.random.bernoulli(k0, 0.5, (n, state.shape[0])), 1.0, -1.0).astype(state.dtype)
    return self.recall(state, x0, k1)
