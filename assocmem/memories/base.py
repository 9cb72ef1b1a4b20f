"""The memory protocol: every memory stores (or fits), recalls and replays the same way.

A memory is a frozen *settings* object (a `flax.struct.dataclass`, so it is a pytree whose
numeric settings may be traced and whose structural settings are static). Its *state* is a
separate pytree returned by `store` / `fit` and passed back explicitly; nothing is hidden in
closures, so states can be jitted, vmapped over (ensembles), sharded and checkpointed.

Batching convention (applied by every memory): `recall` and `replay` are **batched**:
`recall(state, cues (B, d), key) -> (B, d)` and `replay(state, key, n) -> (n, d)`. Each is
implemented as a `jax.vmap` of a one-cue function, so the per-example math stays readable.
With `batch_size=k` they run k items at a time (one compiled chunk reused,
`assocmem.memories.batching`); the result equals the unchunked call for the same key, because
the per-item keys and starting points are drawn for the whole batch first.

    memory = ModernHopfield(beta=20.0)             # settings
    state = memory.store(key, data)                # one-shot storage (a PatternBank)
    state = memory.write(state, index, new_item)   # incremental one-shot write (bank memories)
    out = memory.recall(state, cues, key)          # (B, d)
    replays = memory.replay(state, key, 10_000, batch_size=1024)    # (n, d), 1024 at a time
    memory.dim(state), memory.capacity(state)      # d; slots of a bank (None: no slot limit)

What an experiment may ask of any memory is exactly this protocol: it never switches on concrete
types. Memories are made by name through `assocmem.memories.registry` (`make_memory("vae", ...)`),
where a user's own memory is registered the same way as the built-in ones.

Memories with parameters (the learned score network, the VAE) implement `fit`, which trains
from data and returns the trained state; their `store` is `fit` with the memory's default
training settings, so every memory can stand in for any other as a replay source.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax

Array = jax.Array
State = Any


@runtime_checkable
class Memory(Protocol):
  """What every memory offers (seed 000: store in one shot, recall from cues, replay from noise)."""

  def store(self, key: Array, data: Array) -> State:
    """Stores (N, d) data; returns the memory's state. Learned memories train here (= `fit`)."""

  def recall(self, state: State, cues: Array, key: Array | None = None, *,
             batch_size: int | None = None) -> Array:
    """Retrieves from (B, d) cues; returns (B, d). `batch_size`: cues per chunk (None: all at once)."""

  def replay(self, state: State, key: Array, n: int, *, batch_size: int | None = None) -> Array:
    """Generates (n, d) spontaneous replays (recalls started from noise), `batch_size` at a time."""

  def dim(self, state: State) -> int:
    """d, the dimension of the items the state holds (or was trained on)."""

  def capacity(self, state: State) -> int | None:
    """Items the state has room for: the bank's slots for bank memories (`ModernHopfield`,
    `ExactDiffusion`); None for memories that store in weights (classical Hopfield, learned
    diffusion, VAE), which have no slot limit and whose state does not record what they stored."""


@runtime_checkable
class LearningMemory(Memory, Protocol):
  """A memory whose state is trained parameters (learned diffusion, VAE)."""

  def fit(self, key: Array, data: Array, state: State | None = None, **kwargs: Any) -> State:
    """Trains on (N, d) data (continuing from `state` if given); returns the trained state."""
