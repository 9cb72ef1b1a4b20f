"""Seed 002, Figure 1: energy landscapes of point, extended and semantic memories.

  python scripts/landscapes.py --preset=paper --out_dir=results/landscapes   # 241² grid
  python scripts/landscapes.py --preset=quick --out_dir=results/landscapes   # 101² grid
  python scripts/landscapes.py --preset=paper --t=0.2 --out_dir=results/landscapes_t02

Writes DIR/figure1.png, DIR/{points,segments,semantic}.npz (grid, log-density,
score field, memory geometry) and DIR/summary.json, each atomically. The experiment is
`assocmem.experiments.landscapes`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from absl import flags, logging

from assocmem.experiments import cli, landscapes, registry

EXP = registry.get("landscapes")

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(EXP.presets),
                  "quick: 101² grid; paper: 241² grid and denser streamlines.")
flags.DEFINE_string("out_dir", "results/landscapes", "Output directory.")
flags.DEFINE_float("t", None, "VP diffusion time (noise level); default: the preset's.")
flags.DEFINE_float("theta", None, "Signal level θ_t in (0, 1) instead of --t: t = -2 log θ / γ.")
flags.DEFINE_integer("n_grid", None, "Grid points per axis; default: the preset's.")


@dataclasses.dataclass(frozen=True)
class Settings:
  """The configuration the flags ask for and where to write."""
  config: Any
  out_dir: str


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  if FLAGS.t is not None and FLAGS.theta is not None:
    raise ValueError("give --t or --theta, not both")
  overrides = {}
  if FLAGS.t is not None:
    overrides["t"] = FLAGS.t
  if FLAGS.theta is not None:
    overrides["t"] = landscapes.t_for_theta(FLAGS.theta, EXP.config(FLAGS.preset).gamma)
  overrides.update(cli.overrides(FLAGS, ("n_grid",)))
  return Settings(EXP.config(FLAGS.preset, **overrides), FLAGS.out_dir)


def main(s: Settings) -> None:
  summary = EXP.run(s.config, s.out_dir)
  logging.info("landscapes: wrote %s/figure1.png (%.2f s)", s.out_dir, summary["compute_seconds"])


if __name__ == "__main__":
  cli.run(main, settings)
