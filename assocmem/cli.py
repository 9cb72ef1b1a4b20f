"""Entry-point helper for the absl scripts in scripts/ (the thin top layer)."""

from __future__ import annotations

from typing import Callable, Sequence

from absl import app


def run(main: Callable[[Sequence[str]], None]) -> None:
  """`absl.app.run(main)`, with the library's ValueErrors (which name the bad argument)
  reported as usage errors: one line and exit status 1, not a traceback."""

  def wrapped(argv: Sequence[str]) -> None:
    try:
      main(argv)
    except ValueError as err:
      raise app.UsageError(str(err)) from err

  app.run(wrapped)
