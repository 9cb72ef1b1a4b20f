"""Memories by name: any memory of the protocol, built-in or a user's own, is made the same way.

    from assocmem import memories
    memory = memories.make_memory("modern_hopfield", beta=20.0, mode=mixture.Streaming(4096))
    memories.register_memory("my_memory", MyMemory)       # a factory: settings -> memory
    teacher = memories.make_memory("my_memory", width=3)

A factory is any callable of keyword settings that returns a memory (`assocmem.memories.base.
Memory`); the built-in factories are the memory classes themselves, so their settings are their
fields. Experiments choose memories by these names (the consolidation teacher, recall baselines)
and never switch on concrete types.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from assocmem.memories.base import Memory
from assocmem.memories.diffusion import ExactDiffusion
from assocmem.memories.hopfield import ClassicalHopfield, ModernHopfield
from assocmem.memories.hybrid import HybridMemory
from assocmem.memories.learned import LearnedDiffusion
from assocmem.memories.vae import VAEMemory
from assocmem.registry import Registry

Factory = Callable[..., Memory]

REGISTRY: Registry[Factory] = Registry("memory")


def register(name: str, factory: Factory, *, replace: bool = False) -> Factory:
  """Registers `factory(**settings) -> memory` under `name` and returns it.

  ValueError if `name` is not an identifier, is taken (unless `replace`), or `factory` is not
  callable.
  """
  if not callable(factory):
    raise ValueError(f"factory for memory {name!r} must be callable (settings -> memory), got {factory!r}")
  return REGISTRY.register(name, factory, replace=replace)


def make(name: str, **settings: Any) -> Memory:
  """The memory `name` built with `settings`.

  ValueError naming `name` and the registered names if it is unknown, or naming the settings the
  factory does not take; a bad value is the factory's own ValueError.
  """
  factory = REGISTRY.get(name)
  try:
    signature = inspect.signature(factory)
  except (TypeError, ValueError):      # builtins without a signature: let the call decide
    signature = None
  if signature is not None:
    try:
      signature.bind(**settings)
    except TypeError as err:
      params = [p.name for p in signature.parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
      unknown = sorted(set(settings) - set(params))
      what = f"unknown settings {unknown}" if unknown else str(err)
      raise ValueError(f"memory {name!r}: {what}; its settings are {params}") from None
  return factory(**settings)


def names() -> tuple[str, ...]:
  """Registered memory names, in registration order."""
  return REGISTRY.names()


for _name, _factory in (("classical_hopfield", ClassicalHopfield), ("modern_hopfield", ModernHopfield),
                        ("exact_diffusion", ExactDiffusion), ("learned_diffusion", LearnedDiffusion),
                        ("vae", VAEMemory), ("hybrid", HybridMemory)):
  register(_name, _factory)
del _name, _factory
