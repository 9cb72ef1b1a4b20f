"""Orbax checkpoints of training state pytrees: save, restore the latest, resume exactly.

A run writes `Checkpointer(dir).save(step, state)` every so often; a restarted run calls
`restore(target)` and gets the newest complete checkpoint (orbax finalises a step atomically, so
a run killed while saving leaves the previous step intact) or None when there is none.

Checkpoints fail safe: when the newest step cannot be read (a truncated or overwritten file), the
restore logs a warning naming the bad step, moves it aside to `<dir>/<step>.corrupt` (so the run's
next save of that step number is not blocked) and falls back to the next older good step. When no
step can be read it raises `CheckpointError` naming the directory and the remedy; never a bare
decoder error.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from assocmem import files


class CheckpointError(RuntimeError):
  """No checkpoint of a directory could be restored (the message names it and the remedy)."""


def _to_host(tree: Any) -> Any:
  """Every jax.Array leaf as a NumPy array (a global array spanning other processes is gathered).

  The explicit host-local strategy for multi-process runs: the training state of assocmem's
  trainers is replicated (every process computes the same values), so the checkpoint stores plain
  NumPy arrays, which orbax writes from the primary process and every process can read back.
  """
  def leaf(x: Any) -> Any:
    if isinstance(x, jax.Array):
      if x.is_fully_addressable:
        return np.asarray(x)
      from jax.experimental import multihost_utils  # pylint: disable=import-outside-toplevel
      return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return x
  return jax.tree.map(leaf, tree)


def _like(restored: Any, target: Any) -> Any:
  """Restored NumPy leaves back as jax arrays where the target had jax arrays."""
  return jax.tree.map(lambda r, t: jax.numpy.asarray(r) if isinstance(t, jax.Array) else r, restored, target)


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
    self._manager.save(int(step), args=ocp.args.StandardSave(_to_host(state)), force=True)
    self._manager.wait_until_finished()

  def all_steps(self) -> list[int]:
    """Finished steps on disk, oldest first."""
    return sorted(self._manager.all_steps())

  def _restore_step(self, step: int, target: Any) -> Any:
    restored = self._manager.restore(step, args=ocp.args.StandardRestore(_to_host(target)))
    return _like(restored, target)

  def _set_aside(self, step: int) -> str:
    """Renames the unreadable `step` to `<step>.corrupt[.k]` (process 0 only; a collective in a
    multi-process run, where every process then reloads its list of steps); returns the new path."""
    src = os.path.join(self.directory, str(step))
    dst = src + ".corrupt"
    k = 0
    while os.path.exists(dst):
      k += 1
      dst = f"{src}.corrupt.{k}"
    if files.is_writer() and os.path.exists(src):
      os.replace(src, dst)
    if jax.process_count() > 1:   # every process must see the rename before it reloads its step list
      from jax.experimental import multihost_utils  # pylint: disable=import-outside-toplevel
      multihost_utils.sync_global_devices("assocmem Checkpointer set aside a corrupt step")
    self._manager.reload()        # else the step would still be listed, and saving it again refused
    return dst

  def restore(self, target: Any, step: int | None = None) -> tuple[int, Any] | tuple[None, None]:
    """(step, state) of `step` (default: the newest readable step), shaped like `target`.

    Returns (None, None) when the directory holds no step. With `step=None` the steps are tried
    newest first; when an older one restores, each newer unreadable one is logged (a warning naming
    it) and moved aside to `<step>.corrupt`. `CheckpointError` (naming the directory and the
    remedy) when none can be read; nothing is moved then, since a target that matches no step
    (changed settings) is not damage. An explicit `step` that is missing
    or unreadable raises `CheckpointError` (a missing one lists the steps there are).
    """
    if step is not None:
      steps = self.all_steps()
      if int(step) not in steps:
        raise CheckpointError(f"checkpoint step {step} is not in {self.directory} (steps there: {steps})")
      try:
        return int(step), self._restore_step(int(step), target)
      except Exception as err:  # pylint: disable=broad-except
        raise CheckpointError(
            f"checkpoint step {step} in {self.directory} cannot be restored into the given target "
            f"({type(err).__name__}: {err}); remove {os.path.join(self.directory, str(step))} "
            "or the directory to start over") from err
    steps = self.all_steps()
    if not steps:
      return None, None
    failures: list[tuple[int, str]] = []
    for s in reversed(steps):
      try:
        state = self._restore_step(s, target)
      except Exception as err:  # pylint: disable=broad-except
        failures.append((s, f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"))
        continue
      # An older step restored into the same target, so the newer ones are damaged, not mismatched:
      # set them aside so the resumed run can save those step numbers again.
      for bad, reason in failures:
        moved = self._set_aside(bad)
        logging.warning("checkpoint step %d in %s cannot be restored (%s); moved it to %s and fell "
                        "back to step %d", bad, self.directory, reason, moved, s)
      return s, state
    listed = "; ".join(f"step {s} ({reason})" for s, reason in failures)
    raise CheckpointError(
        f"no checkpoint in {self.directory} can be restored: {listed}. If the run's settings changed, "
        f"use a new output directory; if the files are damaged, delete {self.directory} to start the "
        "run over")

  def close(self) -> None:
    self._manager.close()

  def __enter__(self) -> "Checkpointer":
    return self

  def __exit__(self, *exc) -> None:
    self.close()
