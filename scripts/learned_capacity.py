"""Seed 002, App. A / Figure 3b: capacity of learned diffusion models (the black dots).

  python scripts/learned_capacity.py --preset=quick --out_dir=results/learned_capacity
  python scripts/learned_capacity.py --preset=paper --out_dir=results/learned_capacity_paper \
      --exact_capacity_csv=results/capacity_paper/capacity.csv

Per d and repeat: start at the exact model's capacity + 4 (rounded down to a whole number;
--start_rounding=nearest rounds the capacity to the nearest one first), train a score network, test it on 30
batches of unseen denoising cues of its patterns, lower n by one until the mean Hamming error is
≤ 3% (see assocmem/experiments/learned_capacity/). The exact capacity comes from the preset's
table (quick), else from --exact_capacity_csv (capacity.csv of scripts/capacity.py), else it is
computed with the capacity sweep (d = 4 … 20 at the paper's settings, cells kept in DIR/exact_capacity).

Writes DIR/learned_capacity.csv (header d,repeat,capacity), DIR/learned_capacity.json,
DIR/learned_capacity.png and DIR/candidates.jsonl (one line per trained candidate; a rerun skips
finished candidates and resumes the round in progress from DIR/checkpoints).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from absl import flags, logging

from assocmem.experiments import cli, registry
from assocmem.experiments.learned_capacity import START_ROUNDINGS

EXP = registry.get("learned_capacity")

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(EXP.presets),
                  "quick: d = 6, 8, 2 repeats, 2,000 steps (about a minute); paper: App. A (d = 10…16, 8 repeats).")
flags.DEFINE_string("out_dir", "results/learned_capacity", "Output directory (resumed if it holds candidates.jsonl).")
flags.DEFINE_string("exact_capacity_csv", None,
                    "capacity.csv of scripts/capacity.py giving the exact model's capacity per d; "
                    "default: the preset's table, else computed.")
flags.DEFINE_list("dims", None, "Dimensionalities d; default: the preset's.")
flags.DEFINE_integer("repeats", None, "Repeats per d; default: the preset's.")
flags.DEFINE_integer("n_iterations", None, "Adam steps per network; default: the preset's.")
flags.DEFINE_integer("block", None, "Candidates per repeat per round (0: all at once); default: the preset's.")
flags.DEFINE_integer("seed", None, "Seed; default: the preset's.")
flags.DEFINE_enum("start_rounding", None, list(START_ROUNDINGS),
                  "How the exact capacity c gives the first candidate: floor = floor(c + 4) (the default), "
                  "nearest = round(c) + 4 (the reading of runs before 2026-11-24); default: the preset's.")
flags.DEFINE_integer("abort_after_chunks", None,
                     "Testing only: exit abruptly (os._exit) after this many training chunks.", lower_bound=1)


@dataclasses.dataclass(frozen=True)
class Settings:
  """The configuration the flags ask for and where to write."""
  config: Any
  out_dir: str
  abort_after_chunks: int | None


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  overrides = {}
  if FLAGS.dims:
    overrides["dims"] = cli.int_tuple("dims", FLAGS.dims)
  overrides.update(cli.overrides(FLAGS, ("repeats", "n_iterations", "seed", "start_rounding")))
  if FLAGS.block is not None:
    if FLAGS.block < 0:
      raise ValueError(f"block must be >= 0 (0: all candidates at once), got {FLAGS.block}")
    overrides["block"] = FLAGS.block or None
  if FLAGS.exact_capacity_csv is not None:
    if not os.path.exists(FLAGS.exact_capacity_csv):
      raise ValueError(f"exact_capacity_csv {FLAGS.exact_capacity_csv!r} does not exist")
    overrides["exact_capacity_csv"] = FLAGS.exact_capacity_csv
  return Settings(EXP.config(FLAGS.preset, **overrides), FLAGS.out_dir, FLAGS.abort_after_chunks)


def main(s: Settings) -> None:
  summary = EXP.run(s.config, s.out_dir, on_chunk=cli.abort_after(s.abort_after_chunks))
  logging.info("learned capacity: mean per d %s (exact %s), %s s",
               summary["mean_capacity"], {d: e["capacity"] for d, e in summary["exact_capacity"].items()},
               summary["seconds_this_run"])


if __name__ == "__main__":
  cli.run(main, settings)
