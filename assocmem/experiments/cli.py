"""Entry-point helper for the absl scripts in scripts/ (the thin top layer).

A script is two functions: `settings()` reads the parsed flags and builds (and so
validates) its configuration; `main(cfg)` runs the experiment. Only the first can
fail because of what the user typed, so only a `ValueError` raised there becomes a
usage error; anything raised while the experiment runs is a bug (or an
environment failure) and keeps its traceback.

  def settings() -> Settings:
    return Settings(table1.get_preset(FLAGS.preset, repeats=FLAGS.repeats), FLAGS.out_dir)

  def main(s: Settings) -> None:
    rows = table1.run_table1(s.config)
    ...

  if __name__ == "__main__":
    cli.run(main, settings)
"""

from __future__ import annotations

import contextlib
import logging as std_logging
import os
import sys
from typing import Any, Callable, Sequence, TypeVar

from absl import app, flags, logging

from assocmem import files

Config = TypeVar("Config")

COORDINATOR_ADDRESS = flags.DEFINE_string(
    "coordinator_address", None,
    "Multi-process runs: host:port of process 0's coordinator (jax.distributed); give it with "
    "--num_processes and --process_id. Without it, TPU pods and SLURM are auto-detected as usual.")
NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Multi-process runs: number of processes.")
PROCESS_ID = flags.DEFINE_integer("process_id", None, "Multi-process runs: this process's index in [0, num_processes).")


def initialize_distributed(coordinator_address: str | None, num_processes: int | None,
                           process_id: int | None) -> bool:
  """Starts `jax.distributed` when a coordinator is given (returns whether it did).

  On CPU the cross-process collectives go through gloo. ValueError names a missing or bad setting.
  Must run before the first JAX computation of the process.
  """
  given = {"--coordinator_address": coordinator_address, "--num_processes": num_processes,
           "--process_id": process_id}
  if all(v is None for v in given.values()):
    return False
  missing = [k for k, v in given.items() if v is None]
  if missing:
    raise ValueError(f"multi-process runs need --coordinator_address, --num_processes and --process_id "
                     f"together; missing {', '.join(missing)}")
  if not isinstance(coordinator_address, str) or ":" not in coordinator_address:
    raise ValueError(f"--coordinator_address must be host:port, got {coordinator_address!r}")
  if num_processes < 1:
    raise ValueError(f"--num_processes must be >= 1, got {num_processes}")
  if not 0 <= process_id < num_processes:
    raise ValueError(f"--process_id must lie in [0, {num_processes}), got {process_id}")
  import jax  # pylint: disable=import-outside-toplevel
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                             process_id=process_id)
  logging.info("jax.distributed: process %d of %d (coordinator %s), %d global devices", process_id,
               num_processes, coordinator_address, jax.device_count())
  return True


# Libraries whose INFO records a script drops (warnings and errors still show): orbax logs about
# a dozen lines per checkpoint save, which drowned the training progress (loss, ETA) in the logs.
QUIET_LIBRARIES = ("orbax",)


class LibraryInfoFilter(std_logging.Filter):
  """Drops records below WARNING that come from the packages in `libraries` (by source path)."""

  def __init__(self, libraries: Sequence[str] = QUIET_LIBRARIES):
    super().__init__()
    self._parts = tuple(f"{os.sep}{name}{os.sep}" for name in libraries)

  def filter(self, record: std_logging.LogRecord) -> bool:
    if record.levelno >= std_logging.WARNING:
      return True
    return not any(part in record.pathname for part in self._parts)


def run(main: Callable[[Config], None], settings: Callable[[], Config]) -> None:
  """`absl.app.run` for a script: parse the flags, build the settings, run `main` on them.

  Args:
    main: runs the experiment on the configuration `settings()` returned. Whatever it
      raises propagates with its traceback (a `ValueError` there is a bug, not bad input).
    settings: reads the parsed flags (no arguments) and returns the configuration,
      raising `ValueError` naming the offending setting when it is invalid; that error
      becomes an `app.UsageError` (absl prints the script's usage and the one-line
      message, and exits with status 1).

  When the settings have an `out_dir`, the run holds `files.lock_output_dir(out_dir)` while `main`
  runs: an output folder that is a file or cannot be written is a usage error naming --out_dir, and
  a second run on a folder another live run holds stops at once with exit status 1 and a message
  naming the folder (a killed run leaves no stuck lock).

  Every script takes --coordinator_address, --num_processes and --process_id: given together,
  `jax.distributed` starts before the settings are read (see `initialize_distributed`).

  Positional command-line arguments are rejected as a usage error too. INFO records of the
  libraries in `QUIET_LIBRARIES` (orbax) are dropped from the log.
  """

  def wrapped(argv: Sequence[str]) -> None:
    handler = logging.get_absl_handler()
    if not any(isinstance(f, LibraryInfoFilter) for f in handler.filters):
      handler.addFilter(LibraryInfoFilter())
    if len(argv) > 1:
      raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
      initialize_distributed(COORDINATOR_ADDRESS.value, NUM_PROCESSES.value, PROCESS_ID.value)
    except ValueError as err:
      raise app.UsageError(" ".join(str(err).split())) from err
    try:
      cfg = settings()
    except ValueError as err:
      raise app.UsageError(" ".join(str(err).split())) from err
    out_dir = getattr(cfg, "out_dir", None)
    if out_dir is None:
      main(cfg)
      return
    with contextlib.ExitStack() as stack:
      try:
        stack.enter_context(files.lock_output_dir(out_dir, "--out_dir"))
      except ValueError as err:
        raise app.UsageError(" ".join(str(err).split())) from err
      except files.OutputDirLocked as err:
        logging.error("%s", err)
        sys.exit(f"error: {err}")
      main(cfg)

  app.run(wrapped)


def int_tuple(name: str, values: Sequence[str] | None) -> tuple[int, ...] | None:
  """A list flag's strings as integers (None when the flag was not given); ValueError names the flag."""
  if not values:
    return None
  try:
    return tuple(int(v) for v in values)
  except ValueError as err:
    raise ValueError(f"{name} must be integers, got {list(values)}") from err


def overrides(flag_values: Any, names: Sequence[str]) -> dict[str, Any]:
  """{name: value} of the flags among `names` that were given (not None): a preset's overrides."""
  return {n: getattr(flag_values, n) for n in names if getattr(flag_values, n) is not None}


def abort_after(limit: int | None, flag: str = "abort_after_chunks") -> Callable[..., None] | None:
  """Testing aid: a callback that exits the process abruptly (`os._exit(3)`, no clean-up, as a
  killed run) on its `limit`-th call; None when `limit` is None. Resume tests use it to check that
  an interrupted run loses nothing already computed."""
  if limit is None:
    return None
  count = [0]

  def callback(*args: Any) -> None:
    del args
    count[0] += 1
    if count[0] >= limit:
      logging.warning("--%s=%d reached: exiting abruptly", flag, limit)
      os._exit(3)

  return callback
