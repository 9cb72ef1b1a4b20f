"""Seed 002, Figure 2a: diffusion ODE/SDE denoising trajectories against modern Hopfield updates.

  python scripts/trajectories.py --preset=paper --out_dir=results/trajectories   # 2,000 Euler steps
  python scripts/trajectories.py --preset=quick --out_dir=results/trajectories   # 300 steps

Writes DIR/figure2a.png, DIR/trajectories.npz (patterns, cues, times and the
ODE, SDE and MHN trajectories) and DIR/summary.json (per cue, the stored
pattern each method's binarized end point equals), each atomically. The experiment is
`assocmem.experiments.trajectories`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from absl import flags, logging

from assocmem.experiments import cli, registry

EXP = registry.get("trajectories")

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "paper", list(EXP.presets),
                  "paper: Figure 2's caption, 2,000 Euler steps; quick: 300 steps (§7 text).")
flags.DEFINE_string("out_dir", "results/trajectories", "Output directory.")
flags.DEFINE_integer("seed", None, "PRNG seed of patterns, cues and SDE noise; default: the preset's.")
flags.DEFINE_integer("n_cues", None, "Number of cues; default: the preset's.")
flags.DEFINE_integer("n_steps", None, "Euler / Euler–Maruyama steps; default: the preset's.")


@dataclasses.dataclass(frozen=True)
class Settings:
  """The configuration the flags ask for and where to write."""
  config: Any
  out_dir: str


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  return Settings(EXP.config(FLAGS.preset, **cli.overrides(FLAGS, ("seed", "n_cues", "n_steps"))), FLAGS.out_dir)


def main(s: Settings) -> None:
  summary = EXP.run(s.config, s.out_dir)
  logging.info("trajectories: ODE/SDE/MHN agree on %.0f%% of cues (%.2f s)",
               100 * summary["fraction_all_agree"], summary["compute_seconds"])


if __name__ == "__main__":
  cli.run(main, settings)
