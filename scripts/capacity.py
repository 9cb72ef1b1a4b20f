"""Capacity of exact diffusion models and Hopfield networks (seed 002, Figure 3 and Appendix A).

  python scripts/capacity.py --preset=quick --out_dir=results/capacity
  python scripts/capacity.py --preset=paper --out_dir=results/capacity_paper

Writes DIR/cells.jsonl (one record per grid cell, appended atomically; a rerun
resumes and recomputes no finished cell), DIR/capacity.csv, DIR/capacity_raw.csv,
DIR/fig3a_diffusion_error.png, DIR/fig3b_capacity.png and DIR/summary.json.
Queries are sharded over all JAX devices (fake several CPU devices with
XLA_FLAGS=--xla_force_host_platform_device_count=8); --mode=sharded also splits
each bank over them. The experiment is `assocmem.experiments.capacity`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from absl import flags, logging

from assocmem import files, mixture
from assocmem.experiments import cli, registry

EXP = registry.get("capacity")

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(EXP.presets), "Preset grid and settings.")
flags.DEFINE_string("out_dir", "results/capacity", "Output directory (resumed if it holds cells.jsonl).")
flags.DEFINE_list("models", None, "Subset of models (diffusion, mhn, classic); default: the preset's.")
flags.DEFINE_list("dims", None, "Dimensionalities d; default: the preset's.")
flags.DEFINE_integer("n_max", None, "Largest pattern count N tried; default: the preset's.")
flags.DEFINE_integer("seed", None, "Seed of the sweep; default: the preset's.")
flags.DEFINE_bool("figures", True, "Write the Figure 3 PNGs.")
flags.DEFINE_enum("mode", "dense", ["dense", "streaming", "sharded", "sharded_streaming"],
                  "Mixture mode of the MHN and exact-score retrieval: the bank dense, in chunks "
                  "(--chunk_size), or split over a mesh of all devices (sharded).")
flags.DEFINE_integer("chunk_size", 1024, "Bank chunk of the streaming modes.", lower_bound=1)
flags.DEFINE_integer("abort_after_cells", None,
                     "Testing only: exit abruptly (os._exit) after computing this many new cells.", lower_bound=1)


@dataclasses.dataclass(frozen=True)
class Settings:
  """What the flags ask for: the configuration, where to write, and how to run the sweep."""
  config: Any
  out_dir: str
  mode: object
  figures: bool
  abort_after_cells: int | None


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  overrides = {}
  if FLAGS.models:
    overrides["models"] = tuple(FLAGS.models)
  if FLAGS.dims:
    overrides["dims"] = cli.int_tuple("dims", FLAGS.dims)
  overrides.update(cli.overrides(FLAGS, ("n_max", "seed")))
  return Settings(EXP.config(FLAGS.preset, **overrides), FLAGS.out_dir,
                  mixture.mode_from_name(FLAGS.mode, FLAGS.chunk_size), FLAGS.figures, FLAGS.abort_after_cells)


def main(s: Settings) -> None:
  on_record = None
  if s.abort_after_cells is not None:
    limit = s.abort_after_cells

    def on_record(record, stats):
      del record
      if stats.computed >= limit:
        logging.warning("--abort_after_cells=%d reached: exiting abruptly", limit)
        os._exit(3)

  summary = EXP.run(s.config, s.out_dir, figures=s.figures, on_record=on_record, mode=s.mode)
  logging.info("capacity: %s", summary)
  if files.is_writer():
    print(open(os.path.join(s.out_dir, "capacity.csv")).read(), end="")


if __name__ == "__main__":
  cli.run(main, settings)
