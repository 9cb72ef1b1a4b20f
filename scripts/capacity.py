"""Capacity of exact diffusion models and Hopfield networks (seed 002, Figure 3 and Appendix A).

  python scripts/capacity.py --preset=quick --out_dir=results/capacity
  python scripts/capacity.py --preset=paper --out_dir=results/capacity_paper

Writes DIR/cells.jsonl (one record per grid cell, appended atomically; a rerun
resumes and recomputes no finished cell), DIR/capacity.csv, DIR/capacity_raw.csv,
DIR/fig3a_diffusion_error.png, DIR/fig3b_capacity.png and DIR/summary.json.
Queries are sharded over all JAX devices (fake several CPU devices with
XLA_FLAGS=--xla_force_host_platform_device_count=8).
"""

from __future__ import annotations

import dataclasses
import os

from absl import app, flags, logging

from assocmem import cli
from assocmem.experiments import capacity

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", sorted(capacity.PRESETS), "Preset grid and settings.")
flags.DEFINE_string("out_dir", "results/capacity", "Output directory (resumed if it holds cells.jsonl).")
flags.DEFINE_list("models", None, "Subset of models (diffusion, mhn, classic); default: the preset's.")
flags.DEFINE_list("dims", None, "Dimensionalities d; default: the preset's.")
flags.DEFINE_integer("n_max", None, "Largest pattern count N tried; default: the preset's.")
flags.DEFINE_integer("seed", None, "Seed of the sweep; default: the preset's.")
flags.DEFINE_bool("figures", True, "Write the Figure 3 PNGs.")
flags.DEFINE_integer("abort_after_cells", None,
                     "Testing only: exit abruptly (os._exit) after computing this many new cells.", lower_bound=1)


def main(argv):
  del argv
  cfg = capacity.PRESETS[FLAGS.preset]
  overrides = {}
  if FLAGS.models:
    overrides["models"] = tuple(FLAGS.models)
  if FLAGS.dims:
    overrides["dims"] = tuple(int(d) for d in FLAGS.dims)
  if FLAGS.n_max is not None:
    overrides["n_max"] = FLAGS.n_max
  if FLAGS.seed is not None:
    overrides["seed"] = FLAGS.seed
  cfg = dataclasses.replace(cfg, **overrides)

  on_record = None
  if FLAGS.abort_after_cells is not None:
    limit = FLAGS.abort_after_cells

    def on_record(record, stats):
      del record
      if stats.computed >= limit:
        logging.warning("--abort_after_cells=%d reached: exiting abruptly", limit)
        os._exit(3)

  summary = capacity.run(cfg, FLAGS.out_dir, figures=FLAGS.figures, on_record=on_record)
  logging.info("capacity: %s", summary)
  print(open(os.path.join(FLAGS.out_dir, "capacity.csv")).read(), end="")


if __name__ == "__main__":
  cli.run(main)
