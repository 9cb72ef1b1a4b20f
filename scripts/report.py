"""Writes results/REPORT.md from the experiments' outputs (`make reproduce` calls this last).

  python scripts/report.py --results_dir=results --out=results/REPORT.md
"""

from __future__ import annotations

import dataclasses
import os

from absl import flags, logging

from assocmem import files
from assocmem.experiments import cli
from assocmem.experiments import report

RESULTS_DIR = flags.DEFINE_string("results_dir", "results", "Directory the experiments wrote to.")
OUT = flags.DEFINE_string("out", "results/REPORT.md", "Report path.")


@dataclasses.dataclass(frozen=True)
class Settings:
  """Where the results are and where the report goes."""
  results_dir: str
  out: str


def settings() -> Settings:
  """The two paths (raises ValueError when the results directory does not exist)."""
  if not os.path.isdir(RESULTS_DIR.value):
    raise ValueError(f"results_dir {RESULTS_DIR.value!r} is not a directory")
  return Settings(RESULTS_DIR.value, OUT.value)


def main(s: Settings) -> None:
  files.write_text(s.out, report.build_report(s.results_dir))
  logging.info("report: wrote %s", s.out)


if __name__ == "__main__":
  cli.run(main, settings)
