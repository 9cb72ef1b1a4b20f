"""Atomic file output: results are never left half-written.

Every writer goes through a temporary file in the destination's directory,
fsync, then `os.replace`, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w") -> Iterator[io.IOBase]:
  """Opens a temporary sibling of `path`; on success it replaces `path` atomically."""
  if mode not in ("w", "wb"):
    raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
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
  """Writes `text` to `path` atomically."""
  with atomic_open(path, "w") as f:
    f.write(text)


def write_json(path: str, obj: Any) -> None:
  """Writes `obj` as indented JSON to `path` atomically."""
  write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_figure(fig, path: str, **kwargs) -> None:
  """Saves a matplotlib figure atomically (format from the extension of `path`)."""
  fmt = os.path.splitext(path)[1].lstrip(".") or "png"
  with atomic_open(path, "wb") as f:
    fig.savefig(f, format=fmt, **kwargs)


def save_npz(path: str, **arrays) -> None:
  """Saves arrays with numpy.savez atomically."""
  import numpy as np
  with atomic_open(path, "wb") as f:
    np.savez(f, **arrays)
