"""Orbax checkpoints of training state pytrees: save, restore the latest, resume exactly.

A run writes `Checkpointer(dir).save(step, state)` every so often; a restarted run calls
`restore(target)` and gets the newest complete checkpoint (orbax finalises a step atomically, so
a run killed while saving leaves the previous step intact) or None when there is none.
"""

from __future__ import annotations

import os
from typing import Any

import orbax.checkpoint as ocp


class Checkpointer:
  """Thin wrapper of `orbax.checkpoint.CheckpointManager` for one pytree per step.

  Args:
    directory: where the steps live (created if missing); made absolute.
    max_to_keep: newest steps kept on disk.
  """

  def __init__(self, directory: str, max_to_keep: int = 2):
    if not isinstance(directory, (str, os.PathLike)) or not str(directory):
      raise ValueError(f"directory must be a non-empty path, got {directory!r}")
    if not isinstance(max_to_keep, int) or max_to_keep < 1:
      raise ValueError(f"max_to_keep must be an integer >= 1, got {max_to_keep!r}")
    self.directory = os.path.abspath(os.fspath(directory))
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True))

  def latest_step(self) -> int | None:
    """The newest finished step, or None."""
    return self._manager.latest_step()

  def save(self, step: int, state: Any) -> None:
    """Saves `state` (any pytree of arrays and scalars) as `step` and waits until it is on disk."""
    self._manager.save(int(step), args=ocp.args.StandardSave(state), force=True)
    self._manager.wait_until_finished()

  def restore(self, target: Any, step: int | None = None) -> tuple[int, Any] | tuple[None, None]:
    """(step, state) of `step` (default: the latest), shaped like `target`; (None, None) if none."""
    step = self.latest_step() if step is None else step
    if step is None:
      return None, None
    return step, self._manager.restore(step, args=ocp.args.StandardRestore(target))

  def close(self) -> None:
    self._manager.close()

  def __enter__(self) -> "Checkpointer":
    return self

  def __exit__(self, *exc) -> None:
    self.close()
