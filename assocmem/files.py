"""Atomic results files, written by one process only.

Every writer goes through a temporary file in the destination's directory,
fsync, then `os.replace`, which is atomic on POSIX file systems: a results file
is never left half-written.

Multi-host runs (one Python process per host, `jax.distributed`): every process
runs the same experiment and computes the same results, so only process 0
(`jax.process_index() == 0`) writes. On the other processes the writers here
(and `assocmem.experiments.sweep.JsonlStore.append`) do nothing: they create no file and no
directory, and `atomic_open` hands them an in-memory sink that is discarded.
`is_writer()` tells a caller which case it is in.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from typing import Any, Iterator

import jax


def is_writer() -> bool:
  """True on the process that writes results files (process 0; the only one on a single host)."""
  return jax.process_index() == 0


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w") -> Iterator[io.IOBase]:
  """Opens a temporary sibling of `path`; on success it replaces `path` atomically.

  On processes other than 0 it yields an in-memory buffer that is discarded (see
  the module docstring), so callers need no multi-host logic of their own.
  """
  if mode not in ("w", "wb"):
    raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
  if not is_writer():
    with (io.StringIO() if mode == "w" else io.BytesIO()) as sink:
      yield sink
    return
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; results files get the usual mode
  try:
    with os.fdopen(fd, mode) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    raise


def write_text(path: str, text: str) -> None:
  """Writes `text` to `path` atomically (process 0 only)."""
  with atomic_open(path, "w") as f:
    f.write(text)


def write_json(path: str, obj: Any) -> None:
  """Writes `obj` as indented JSON to `path` atomically (process 0 only)."""
  write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_figure(fig, path: str, **kwargs) -> None:
  """Saves a matplotlib figure atomically (format from the extension of `path`; process 0 only)."""
  fmt = os.path.splitext(path)[1].lstrip(".") or "png"
  with atomic_open(path, "wb") as f:
    fig.savefig(f, format=fmt, **kwargs)


def save_npz(path: str, **arrays) -> None:
  """Saves arrays with numpy.savez atomically (process 0 only)."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  with atomic_open(path, "wb") as f:
    np.savez(f, **arrays)


class OutputDirLocked(RuntimeError):
  """Another live process holds the lock of an output directory."""


LOCK_NAME = ".assocmem.lock"


def check_output_dir(out_dir: str, name: str = "out_dir") -> str:
  """`out_dir` as an absolute path after checking it can hold results (ValueError naming `name`).

  Creates the directory on the writing process (only there: other processes create nothing). A path
  that is an existing file, or a directory this process cannot write to, is rejected.
  """
  if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
    raise ValueError(f"{name} must be a non-empty path, got {out_dir!r}")
  path = os.path.abspath(os.fspath(out_dir))
  if os.path.exists(path) and not os.path.isdir(path):
    raise ValueError(f"{name} {out_dir!r} is an existing file, not a directory")
  if not is_writer():
    return path
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as err:
    raise ValueError(f"{name} {out_dir!r} cannot be created: {err.strerror or err}") from None
  if not os.access(path, os.W_OK | os.X_OK):
    raise ValueError(f"{name} {out_dir!r} is not writable by this user")
  return path


@contextlib.contextmanager
def lock_output_dir(out_dir: str, name: str = "out_dir") -> Iterator[str]:
  """Holds an exclusive lock on `out_dir` while the block runs: one writer per output folder.

  The lock is an advisory `fcntl.flock` on `out_dir/.assocmem.lock`, which the kernel releases when
  the holder exits in any way (a SIGKILLed run leaves no stuck lock; the file itself may stay and is
  harmless). A second run on the same folder raises `OutputDirLocked` at once, naming the folder and
  the holder's process id. Only the writing process (process 0) locks; other processes of a
  multi-process run do nothing here. Yields the absolute path.
  """
  import fcntl  # pylint: disable=import-outside-toplevel
  path = check_output_dir(out_dir, name)
  if not is_writer():
    yield path
    return
  lock_path = os.path.join(path, LOCK_NAME)
  fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
      raise OutputDirLocked(
          f"{name} {out_dir!r} is in use by another run (process {holder}); wait for it to finish, "
          f"or choose another {name}") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    yield path
  finally:
    os.close(fd)   # closing releases the flock


def makedirs(path: str) -> None:
  """`os.makedirs(path, exist_ok=True)` on the writing process only (others create nothing)."""
  if is_writer():
    os.makedirs(path, exist_ok=True)
