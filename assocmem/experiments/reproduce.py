"""`make reproduce`: run every registered experiment's script at one preset, then write REPORT.md.

scripts/reproduce.py is the absl front end of `reproduce`; the registry
(`assocmem.experiments.registry`) is the only list of experiments:

  reproduce.reproduce("quick", "results", root=REPO)     # every experiment, then results/REPORT.md

For each selected experiment, in registry order, `command` builds

  <python> <root>/<script> --preset=<preset> --out_dir=<results_dir>/<folder> <reproduce_args>

and it runs in a subprocess (a failure stops the run). An experiment without the requested preset
is skipped with a warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Sequence

from absl import logging

from assocmem import files
from assocmem.experiments import registry, report
from assocmem.experiments.base import Experiment


def select(names: Sequence[str] | None, preset: str) -> tuple[tuple[Experiment, ...], tuple[str, ...]]:
  """(the registered experiments to run, in registry order; the names of the selected ones without `preset`).

  Args:
    names: experiment names to run (None or empty: every registered experiment).
    preset: the preset to run them at.
  Raises:
    ValueError naming `experiments` for an unknown name, and `preset` when no selected experiment
    has that preset.
  """
  chosen = registry.experiments()
  if names:
    known = [e.name for e in chosen]
    unknown = [n for n in names if n not in known]
    if unknown:
      raise ValueError(f"experiments: unknown {unknown}; registered: {known}")
    chosen = tuple(e for e in chosen if e.name in set(names))
  runnable = tuple(e for e in chosen if preset in e.presets)
  if not runnable:
    offered = sorted({p for e in chosen for p in e.presets})
    raise ValueError(f"preset {preset!r} is not a preset of any selected experiment; expected one of {offered}")
  return runnable, tuple(e.name for e in chosen if preset not in e.presets)


def command(experiment: Experiment, preset: str, results_dir: str, data_dir: str | None = None,
            root: str = ".") -> list[str]:
  """The command that runs `experiment`'s script (relative to `root`, the repository) at `preset`
  into results_dir/<folder>, with the experiment's `reproduce_args`."""
  script = os.path.join(root, experiment.script_path)     # an absolute script path stays as it is
  return [sys.executable, script, f"--preset={preset}", f"--out_dir={experiment.output_dir(results_dir)}",
          *experiment.reproduce_args(results_dir, preset, data_dir)]


def reproduce(preset: str, results_dir: str, *, data_dir: str | None = None,
              names: Sequence[str] | None = None, root: str = ".") -> str:
  """Runs the selected experiments (`select`) at `preset` into results_dir, then writes
  results_dir/REPORT.md (`report.build_report`, every registered experiment); returns its path.

  Raises:
    ValueError (see `select`) before anything runs; subprocess.CalledProcessError when a script fails.
  """
  runnable, skipped = select(names, preset)
  os.makedirs(results_dir, exist_ok=True)
  for name in skipped:
    logging.warning("reproduce: %s has no preset %r; skipped", name, preset)
  for experiment in runnable:
    cmd = command(experiment, preset, results_dir, data_dir, root)
    logging.info("reproduce: %s", " ".join(cmd))
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    logging.info("reproduce: %s done (%.1f s)", experiment.name, time.perf_counter() - start)
  out = os.path.join(results_dir, "REPORT.md")
  files.write_text(out, report.build_report(results_dir))
  logging.info("reproduce: wrote %s", out)
  return out
