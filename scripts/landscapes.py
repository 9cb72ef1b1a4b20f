"""Seed 002, Figure 1: energy landscapes of point, extended and semantic memories.

  python scripts/landscapes.py --preset=quick --out_dir=results/landscapes
  python scripts/landscapes.py --preset=paper --t=0.2 --out_dir=results/landscapes_t02

Writes DIR/figure1.png, DIR/{points,segments,semantic}.npz (grid, log-density,
score field, memory geometry) and DIR/summary.json, each atomically.
"""

from __future__ import annotations

from absl import app, flags, logging

from assocmem import cli
from assocmem.experiments import landscapes

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", sorted(landscapes.PRESETS), "Grid resolution preset.")
flags.DEFINE_string("out_dir", "results/landscapes", "Output directory.")
flags.DEFINE_float("t", None, "VP diffusion time (noise level); default: the preset's.")
flags.DEFINE_float("theta", None, "Signal level θ_t in (0, 1) instead of --t: t = -2 log θ / γ.")
flags.DEFINE_integer("n_grid", None, "Grid points per axis; default: the preset's.")


def main(argv):
  del argv
  overrides = {}
  if FLAGS.t is not None and FLAGS.theta is not None:
    raise app.UsageError("give --t or --theta, not both")
  if FLAGS.t is not None:
    overrides["t"] = FLAGS.t
  if FLAGS.theta is not None:
    overrides["t"] = landscapes.t_for_theta(FLAGS.theta, landscapes.PRESETS[FLAGS.preset].gamma)
  if FLAGS.n_grid is not None:
    overrides["n_grid"] = FLAGS.n_grid
  cfg = landscapes.get_preset(FLAGS.preset, **overrides)
  summary = landscapes.run(cfg, FLAGS.out_dir)
  logging.info("landscapes: wrote %s/figure1.png (%.2f s)", FLAGS.out_dir, summary["compute_seconds"])


if __name__ == "__main__":
  cli.run(main)
