"""Seed 002, Figure 2a: diffusion ODE/SDE denoising trajectories against modern Hopfield updates.

  python scripts/trajectories.py --preset=paper --out_dir=results/trajectories

Writes DIR/figure2a.png, DIR/trajectories.npz (patterns, cues, times and the
ODE, SDE and MHN trajectories) and DIR/summary.json (per cue, the stored
pattern each method's binarized end point equals), each atomically.
"""

from __future__ import annotations

from absl import app, flags, logging

from assocmem import cli
from assocmem.experiments import trajectories

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "paper", sorted(trajectories.PRESETS),
                  "quick: 300 Euler steps (§7 text); paper: 2,000 (Figure 2 caption).")
flags.DEFINE_string("out_dir", "results/trajectories", "Output directory.")
flags.DEFINE_integer("seed", None, "PRNG seed of patterns, cues and SDE noise; default: the preset's.")
flags.DEFINE_integer("n_cues", None, "Number of cues; default: the preset's.")


def main(argv):
  del argv
  overrides = {}
  if FLAGS.seed is not None:
    overrides["seed"] = FLAGS.seed
  if FLAGS.n_cues is not None:
    overrides["n_cues"] = FLAGS.n_cues
  cfg = trajectories.get_preset(FLAGS.preset, **overrides)
  summary = trajectories.run(cfg, FLAGS.out_dir)
  logging.info("trajectories: ODE/SDE/MHN agree on %.0f%% of cues (%.2f s)",
               100 * summary["fraction_all_agree"], summary["compute_seconds"])


if __name__ == "__main__":
  cli.run(main)
