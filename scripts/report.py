"""Writes results/REPORT.md from the experiments' outputs (`make reproduce` calls this last)."""

from absl import app, flags

from assocmem import cli, files
from assocmem.experiments import report

FLAGS = flags.DEFINE_string("results_dir", "results", "Directory the experiments wrote to.")
OUT = flags.DEFINE_string("out", "results/REPORT.md", "Report path.")


def main(argv):
  del argv
  files.write_text(OUT.value, report.build_report(FLAGS.value))


if __name__ == "__main__":
  cli.run(main)
