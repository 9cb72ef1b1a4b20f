"""Resumable parameter sweeps: a grid of cells, one JSON line per finished cell.

A *cell* is a flat dict of JSON scalars (its parameters). A cell function maps
(params, key) to a result dict; the key is derived from the cell's parameters
with `jax.random.fold_in` (`cell_key`), so a cell's result depends neither on
the order in which cells run nor on the number of devices.

Cells are organised in *series*: a series fixes some parameters and walks one
field through an ordered list of values, optionally stopping early once a
`stop` predicate holds on the records seen so far (an adaptive grid). Because
every record is a pure function of its parameters, the set of cells an adaptive
sweep visits is deterministic, so a resumed run visits the same cells and
recomputes none of those already stored.

The store (`JsonlStore`) appends each record as one line with a single
`os.write` on an O_APPEND descriptor followed by `fsync`; on load a truncated
last line (a run killed mid-write) is cut off and ignored.

In a multi-host run every process runs the same sweep and computes the same
records, but only process 0 (`jax.process_index() == 0`, as for every results
file, see `assocmem.files`) appends to the store or repairs its torn last line;
the other processes skip those writes. So that every process sees the same
records at every point (and so plans the same cells and the same collectives),
the store's first `load` reads the file on process 0 only and broadcasts its
bytes to the others; from then on every process answers `load` from that
snapshot plus the records it appended itself, never from a file that process 0
may be writing at that moment. Other processes need not see the file at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import zlib
from typing import Any, Callable, Iterable, Mapping, Sequence

import jax
from absl import logging

from assocmem import files

Array = jax.Array
Params = dict[str, Any]
Record = dict[str, Any]
CellFn = Callable[[Params, Array], Mapping[str, Any]]


# ---------------------------------------------------------------- identity and keys

def cell_id(params: Mapping[str, Any]) -> str:
  """Canonical identity of a cell: its parameters as sorted, compact JSON."""
  return json.dumps(dict(params), sort_keys=True, separators=(",", ":"))


def _fold_value(value: Any) -> int:
  if isinstance(value, bool):
    return int(value)
  if isinstance(value, int):
    if not 0 <= value < 2**32:
      raise ValueError(f"integer cell parameters used for keys must lie in [0, 2**32), got {value}")
    return value
  if isinstance(value, (str, float)):
    return zlib.crc32(repr(value).encode())
  raise ValueError(f"cannot derive a key from a parameter of type {type(value).__name__}")


def cell_key(base_key: Array, params: Mapping[str, Any], fields: Sequence[str]) -> Array:
  """PRNG key of a cell: `base_key` folded with each of `fields` in turn.

  Integers are folded in directly, strings and floats through their CRC-32, so
  the key is a pure function of the named parameters.
  """
  key = base_key
  for name in fields:
    if name not in params:
      raise ValueError(f"key field {name!r} is not a parameter of the cell {dict(params)}")
    key = jax.random.fold_in(key, _fold_value(params[name]))
  return key


# ---------------------------------------------------------------- store

class JsonlStore:
  """Append-only JSON-lines store of finished cells, keyed by `id_fields`.

  Appends are atomic at line granularity: one `os.write` of the whole line on
  an O_APPEND descriptor, then `fsync`. A partial last line left by a killed
  run is removed on `load` (the file is truncated to its last newline).
  Only process 0 of a multi-host run writes (appends, truncation); the others
  skip the writes, so each record is stored once.
  """

  def __init__(self, path: str, id_fields: Sequence[str]):
    if not id_fields:
      raise ValueError("id_fields must name at least one field")
    self.path = path
    self.id_fields = tuple(id_fields)
    self._snapshot: bytes | None = None        # multi-process runs: process 0's file at the first load
    self._appended: list[bytes] = []           # multi-process runs: lines this process appended since

  def record_id(self, record: Mapping[str, Any]) -> str:
    return cell_id({k: record[k] for k in self.id_fields})

  def _read(self) -> bytes:
    """The file's complete lines (b"" when missing); a truncated last line is cut off (and, on
    process 0, removed from the file)."""
    if not os.path.exists(self.path):
      return b""
    with open(self.path, "rb") as f:
      data = f.read()
    end = data.rfind(b"\n") + 1
    if end < len(data):
      logging.warning("%s: dropping a truncated last line (%d bytes)", self.path, len(data) - end)
      if files.is_writer():
        with open(self.path, "r+b") as f:
          f.truncate(end)
          f.flush()
          os.fsync(f.fileno())
    return data[:end]

  def load(self) -> dict[str, Record]:
    """Reads every complete record; cuts off a truncated last line.

    With one process this reads the file. With several (`jax.process_count() > 1`) every process
    must call it at the same point of the run (it is a collective the first time): process 0 reads
    the file and broadcasts it, and every later call returns that snapshot plus this process's own
    appends, so all processes see the same records whenever process 0 writes.
    """
    if jax.process_count() == 1:
      data = self._read()
    else:
      if self._snapshot is None:
        self._snapshot = _broadcast_bytes(self._read() if files.is_writer() else b"")
      data = self._snapshot + b"".join(self._appended)
    out: dict[str, Record] = {}
    for lineno, line in enumerate(data.splitlines(), 1):
      if not line.strip():
        continue
      try:
        rec = json.loads(line)
      except json.JSONDecodeError:
        logging.warning("%s:%d: skipping a corrupt line", self.path, lineno)
        continue
      if not isinstance(rec, dict) or any(k not in rec for k in self.id_fields):
        logging.warning("%s:%d: skipping a record without the id fields %s", self.path, lineno,
                        self.id_fields)
        continue
      out[self.record_id(rec)] = rec
    return out

  def append(self, record: Mapping[str, Any]) -> None:
    """Appends one record as one line, atomically, and fsyncs it (process 0 only; others skip the
    file but, in a multi-process run, remember the record for their own `load`)."""
    line = (json.dumps(dict(record), sort_keys=True, separators=(",", ":")) + "\n").encode()
    if jax.process_count() > 1:
      if self._snapshot is None:        # appending before any load: start from the file's records
        self.load()
      self._appended.append(line)
    if not files.is_writer():
      return
    os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
    fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
      written = os.write(fd, line)
      if written != len(line):
        raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
      os.fsync(fd)
    finally:
      os.close(fd)


def _broadcast_bytes(data: bytes) -> bytes:
  """Process 0's `data` on every process (a collective: every process calls it; the others pass b"")."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from jax.experimental import multihost_utils  # pylint: disable=import-outside-toplevel
  n = int(multihost_utils.broadcast_one_to_all(np.asarray(len(data), np.int64)))
  if n == 0:
    return b""
  buf = np.zeros(n, np.uint8)
  if files.is_writer():
    buf[:] = np.frombuffer(data, np.uint8)
  return np.asarray(multihost_utils.broadcast_one_to_all(buf)).astype(np.uint8).tobytes()


# ---------------------------------------------------------------- series and runner

@dataclasses.dataclass(frozen=True)
class Series:
  """One line of the grid: `fixed` parameters, `field` walking through `values` in order.

  `stop(records)` (optional) sees the records of this series so far, in order,
  and returns True to end the series early (adaptive grid). `expected` (optional)
  is a guess of how many values an adaptive series visits, used only for the ETA.
  """
  fixed: Mapping[str, Any]
  field: str
  values: Sequence[Any]
  stop: Callable[[list[Record]], bool] | None = None
  expected: int | None = None

  def params(self, value: Any) -> Params:
    return {**dict(self.fixed), self.field: value}


@dataclasses.dataclass
class SweepStats:
  """Counts of one `run_sweep` call."""
  computed: int = 0
  reused: int = 0
  seconds: float = 0.0
  compute_seconds: float = 0.0
  cell_seconds: list = dataclasses.field(default_factory=list)   # [(params, seconds)] computed here


class _Progress:
  """Logs cell counts, elapsed time and an ETA weighted by the cells' relative costs.

  The total is the sum over series of max(cost visited so far, expected cost),
  where an adaptive series' expected cost covers its first `expected` values and
  a finished series counts what it visited; so the ETA is an estimate that
  sharpens as series finish.
  """

  def __init__(self, every_s: float, label: str):
    self.every_s = every_s
    self.label = label
    self.start = time.perf_counter()
    self.last = -float("inf")
    self.expected: dict[int, float] = {}
    self.visited: dict[int, float] = {}
    self.done_cost = 0.0       # cost of the cells computed in this run

  def total(self) -> float:
    return sum(max(self.visited.get(k, 0.0), e) for k, e in self.expected.items())

  def update(self, n_done: int, force: bool = False) -> None:
    now = time.perf_counter()
    if not force and now - self.last < self.every_s:
      return
    self.last = now
    elapsed = now - self.start
    total = max(self.total(), 1e-12)
    seen = sum(self.visited.values())
    remaining = max(total - seen, 0.0)
    eta = f"~{elapsed / self.done_cost * remaining:.0f}s" if self.done_cost > 0 else "?"
    logging.info("%s: %d cells done, ~%.0f%% of the work, elapsed %.0fs, ETA %s",
                 self.label, n_done, min(100.0, 100.0 * seen / total), elapsed, eta)


def run_sweep(series: Iterable[Series], cell_fn: CellFn, store: JsonlStore, base_key: Array,
              key_fields: Sequence[str], *, cost_fn: Callable[[Params], float] | None = None,
              on_record: Callable[[Record, SweepStats], None] | None = None,
              progress_every_s: float = 5.0, label: str = "sweep") -> tuple[list[Record], SweepStats]:
  """Runs every series, skipping cells already in `store`; returns (records, stats).

  Args:
    series: the grid, as `Series`. A cell shared by several series is computed once.
    cell_fn: (params, key) -> result fields; must be a pure function of its arguments.
    store: where finished cells are appended (and read back on resume).
    base_key: PRNG key of the whole sweep.
    key_fields: parameters folded into each cell's key (see `cell_key`).
    cost_fn: relative cost of a cell, for the ETA (default 1 per cell).
    on_record: called after each newly computed record is stored (e.g. to abort in tests).
    progress_every_s: seconds between progress lines (absl.logging.info).
    label: name shown in the progress lines.
  Returns:
    The records of every visited cell, in visit order, and the run's counts.
  """
  series = list(series)
  cost_fn = cost_fn or (lambda p: 1.0)
  done = store.load()
  stats = SweepStats()
  t0 = time.perf_counter()
  progress = _Progress(progress_every_s, label)
  for j, s in enumerate(series):
    n_exp = len(s.values) if s.expected is None else min(s.expected, len(s.values))
    progress.expected[j] = sum(cost_fn(s.params(v)) for v in s.values[:n_exp])
  visited: dict[str, Record] = {}
  for j, s in enumerate(series):
    seen: list[Record] = []
    for value in s.values:
      params = s.params(value)
      cid = store.record_id(params)
      cost = cost_fn(params)
      if cid in visited:
        rec = visited[cid]
      elif cid in done:
        rec = done[cid]
        stats.reused += 1
      else:
        tc = time.perf_counter()
        result = dict(cell_fn(params, cell_key(base_key, params, key_fields)))
        clash = set(result) & set(params)
        if clash:
          raise ValueError(f"cell results may not overwrite parameters: {sorted(clash)}")
        rec = {**params, **result}
        store.append(rec)
        stats.computed += 1
        stats.compute_seconds += time.perf_counter() - tc
        stats.cell_seconds.append((params, time.perf_counter() - tc))
        progress.done_cost += cost
        if on_record is not None:
          on_record(rec, stats)
      visited[cid] = rec
      seen.append(rec)
      progress.visited[j] = progress.visited.get(j, 0.0) + cost
      progress.update(len(visited))
      if s.stop is not None and s.stop(seen):
        break
    progress.expected[j] = progress.visited.get(j, 0.0)
  stats.seconds = time.perf_counter() - t0
  progress.update(len(visited), force=True)
  return list(visited.values()), stats
