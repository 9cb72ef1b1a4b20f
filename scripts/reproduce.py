"""Runs every registered experiment at one preset, then writes REPORT.md (`make reproduce` calls this).

  python scripts/reproduce.py --preset=quick --results_dir=results
  python scripts/reproduce.py --preset=paper --results_dir=results_paper --data_dir=DIR
  python scripts/reproduce.py --experiments=table1,capacity       # a subset, in registry order

Each experiment of `assocmem.experiments.registry` runs its own script in a subprocess with
--preset and --out_dir=<results_dir>/<folder> (plus its `reproduce_args`), in registry order; the
first failure stops the run. Then <results_dir>/REPORT.md is written from every registered
experiment's report section. An experiment without the requested preset is skipped with a warning
(`assocmem.experiments.reproduce`).
"""

from __future__ import annotations

import dataclasses
import os

from absl import flags

from assocmem.experiments import cli, reproduce

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FLAGS = flags.FLAGS
flags.DEFINE_string("preset", "quick", "Preset every experiment runs: quick (make reproduce) or paper "
                    "(full size); an experiment's own extra preset (e.g. table1's reproduce) works too.")
flags.DEFINE_string("results_dir", "results", "Directory each experiment writes its folder into, and REPORT.md.")
flags.DEFINE_string("data_dir", None, "Prepared tfds data for the experiments that read datasets (seed 000).")
flags.DEFINE_list("experiments", None, "Experiments to run, by name, comma-separated (default: all registered).")


@dataclasses.dataclass(frozen=True)
class Settings:
  """The preset, the experiments by name (None: all), where to write, and the data."""
  preset: str
  names: tuple[str, ...] | None
  results_dir: str
  data_dir: str | None


def settings() -> Settings:
  """The flags, checked against the registry (ValueError naming --experiments or --preset)."""
  names = tuple(FLAGS.experiments) if FLAGS.experiments else None
  reproduce.select(names, FLAGS.preset)
  return Settings(FLAGS.preset, names, FLAGS.results_dir, FLAGS.data_dir)


def main(s: Settings) -> None:
  reproduce.reproduce(s.preset, s.results_dir, data_dir=s.data_dir, names=s.names, root=ROOT)


if __name__ == "__main__":
  cli.run(main, settings)
