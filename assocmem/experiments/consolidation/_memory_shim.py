"""TEMPORARY SHIM — delete at merge. A stand-in for `assocmem.memories.registry` (MEMORY_API.md).

Helper D implements the memory registry and the bank layout (`mixture.bank_slots`,
`mixture.layout_bank`, applied by the bank memories in `store`/`init`). Until that is merged, this
module offers the two functions the consolidation experiment uses, with today's classes:

    make(name, **settings) -> memory     # the five built-in names of the contract
    names() -> tuple[str, ...]

and bank memories that lay their bank out for their mode themselves. At merge: delete this file and
switch the one import in `consolidation/hippocampus.py` (marked there) to
`from assocmem.memories.registry import make as make_memory, names as memory_names`.
"""

from __future__ import annotations

import math
from typing import Any

import flax.struct
import jax.numpy as jnp

from assocmem import bank as bank_lib, mixture
from assocmem.memories.diffusion import ExactDiffusion
from assocmem.memories.hopfield import ClassicalHopfield, ModernHopfield, _check_data
from assocmem.memories.learned import LearnedDiffusion
from assocmem.memories.vae import VAEMemory


def _bank_slots(n: int, mode: Any) -> int:
  """n padded to whole chunks (Streaming, when n exceeds a chunk) and whole shards (Sharded)."""
  inner = mode.inner if isinstance(mode, mixture.Sharded) else mode
  shards = mode.mesh.shape[mode.axis] if isinstance(mode, mixture.Sharded) else 1
  multiple = inner.chunk_size if isinstance(inner, mixture.Streaming) and n > inner.chunk_size else 1
  multiple *= shards
  return int(math.ceil(n / multiple) * multiple)


def _layout(bank: Any, mode: Any) -> Any:
  return mixture.shard_bank(bank, mode.mesh, mode.axis) if isinstance(mode, mixture.Sharded) else bank


class _LaysOutBank:
  """`store` and `init` pad the bank to `_bank_slots` and place it for the mode."""

  def init(self, dim: int, capacity: int, center: Any | None = None, dtype: Any = jnp.float32):
    return _layout(bank_lib.empty_bank(_bank_slots(capacity, self.mode), dim, center, dtype), self.mode)

  def store(self, key: Any, data: Any):
    del key
    data = _check_data("data", data)
    n = max(self.capacity or data.shape[0], data.shape[0])
    return _layout(bank_lib.make_bank(data, capacity=_bank_slots(n, self.mode)), self.mode)


@flax.struct.dataclass
class _ModernHopfield(_LaysOutBank, ModernHopfield):
  pass


@flax.struct.dataclass
class _ExactDiffusion(_LaysOutBank, ExactDiffusion):
  pass


_FACTORIES = {"classical_hopfield": ClassicalHopfield, "modern_hopfield": _ModernHopfield,
              "exact_diffusion": _ExactDiffusion, "learned_diffusion": LearnedDiffusion, "vae": VAEMemory}


def make(name: str, **settings: Any) -> Any:
  if name not in _FACTORIES:
    raise ValueError(f"unknown memory {name!r}; expected one of {names()}")
  return _FACTORIES[name](**settings)


def names() -> tuple[str, ...]:
  return tuple(_FACTORIES)
