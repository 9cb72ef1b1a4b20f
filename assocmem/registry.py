"""Named registries: how memories, experiments and analyses plug in by name.

One small generic class serves every layer (memories, experiments, consolidation analyses), so a
user's own entry is registered the same way as a built-in one and nothing is imported by a string:

    from assocmem.memories import registry as memories
    memories.REGISTRY.register("my_memory", make_my_memory)
    memory = memories.REGISTRY.get("my_memory")

    with memories.REGISTRY.registered("toy", make_toy):     # tests: removed again on exit
      ...

Entries keep their registration order (the report lists experiments in that order).
"""

from __future__ import annotations

import contextlib
from typing import Generic, Iterator, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
  """An ordered mapping from names to entries of one kind (`kind` names it in error messages)."""

  def __init__(self, kind: str):
    self.kind = kind
    self._entries: dict[str, T] = {}

  def register(self, name: str, entry: T, *, replace: bool = False) -> T:
    """Adds `entry` under `name` and returns it; ValueError if the name is taken (unless `replace`)."""
    if not isinstance(name, str) or not name or not name.replace("_", "").isalnum():
      raise ValueError(f"{self.kind} name must be a non-empty identifier string, got {name!r}")
    if name in self._entries and not replace:
      raise ValueError(f"{self.kind} {name!r} is already registered; pass replace=True to replace it")
    self._entries[name] = entry
    return entry

  def unregister(self, name: str) -> T:
    """Removes and returns the entry `name` (ValueError naming the known names if absent)."""
    self.get(name)
    return self._entries.pop(name)

  def get(self, name: str) -> T:
    """The entry `name`; ValueError naming the argument and the registered names if there is none."""
    try:
      return self._entries[name]
    except (KeyError, TypeError):
      raise ValueError(f"unknown {self.kind} {name!r}; expected one of {self.names()}") from None

  def names(self) -> tuple[str, ...]:
    """Registered names, in registration order."""
    return tuple(self._entries)

  def items(self) -> tuple[tuple[str, T], ...]:
    """(name, entry) pairs, in registration order."""
    return tuple(self._entries.items())

  def __contains__(self, name: object) -> bool:
    return name in self._entries

  def __iter__(self) -> Iterator[str]:
    return iter(tuple(self._entries))

  def __len__(self) -> int:
    return len(self._entries)

  @contextlib.contextmanager
  def registered(self, name: str, entry: T) -> Iterator[T]:
    """Registers `entry` for the duration of a `with` block (tests, temporary plug-ins)."""
    self.register(name, entry)
    try:
      yield entry
    finally:
      self._entries.pop(name, None)
