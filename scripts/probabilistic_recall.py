"""Seed 002 §5.1: probabilistic recall — reverse-SDE endpoints against the exact posterior weights.

  python scripts/probabilistic_recall.py --preset=quick --out_dir=results/probabilistic_recall
  python scripts/probabilistic_recall.py --preset=paper --out_dir=results/probabilistic_recall

Writes DIR/recall.csv (per cue: TV of the exact SDE, the multinomial null's percentile, the ODE and the
learned SDE), DIR/frequencies.csv, DIR/probabilistic_recall.png and DIR/summary.json, each atomically.
"""

from __future__ import annotations

import dataclasses

from absl import flags, logging

from assocmem.experiments import cli
from assocmem.experiments.probabilistic_recall import EXPERIMENT as EXP
from assocmem.experiments.probabilistic_recall import RecallConfig

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(EXP.presets),
                  "quick: 2 cues per θ, 2,000 trajectories, a tiny network; paper: 5 cues per θ, 4,000 "
                  "trajectories, the paper's 80·d network.")
flags.DEFINE_string("out_dir", "results/probabilistic_recall", "Output directory.")
flags.DEFINE_integer("seed", None, "PRNG seed; default: the preset's.")
flags.DEFINE_list("thetas", None, "Cue signal levels θ in (0, 1); default: the preset's (0.2, 0.3, 0.5).")
flags.DEFINE_integer("cues_per_theta", None, "Cues per θ; default: the preset's.")
flags.DEFINE_integer("n_trajectories", None, "Exact-score trajectories per cue; default: the preset's.")
flags.DEFINE_integer("n_steps", None, "Euler(–Maruyama) steps; default: the preset's (300).")
flags.DEFINE_integer("n_null", None, "Multinomial null draws; default: the preset's.")
flags.DEFINE_bool("learned", None, "Also sample through a trained score network; default: the preset's (yes).")
flags.DEFINE_integer("hidden", None, "Hidden width of the score network; default: the preset's.")
flags.DEFINE_integer("train_steps", None, "Adam steps of the score network; default: the preset's.")
flags.DEFINE_integer("learned_trajectories", None, "Learned-score trajectories per cue (0: as exact).")

_NAMES = ("seed", "cues_per_theta", "n_trajectories", "n_steps", "n_null", "learned", "hidden", "train_steps",
          "learned_trajectories")


@dataclasses.dataclass(frozen=True)
class Settings:
  """The configuration the flags ask for and where to write."""
  config: RecallConfig
  out_dir: str


def _floats(name: str, values) -> tuple[float, ...] | None:
  if not values:
    return None
  try:
    return tuple(float(v) for v in values)
  except ValueError as err:
    raise ValueError(f"{name} must be numbers, got {list(values)}") from err


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  overrides = cli.overrides(FLAGS, _NAMES)
  thetas = _floats("thetas", FLAGS.thetas)
  if thetas is not None:
    overrides["thetas"] = thetas
  return Settings(EXP.config(FLAGS.preset, **overrides), FLAGS.out_dir)


def main(s: Settings) -> None:
  summary = EXP.run(s.config, s.out_dir)
  logging.info("probabilistic_recall: exact SDE within the null at %d of %d cues (max TV %.4f), %.1f s",
               summary["sde_within"], summary["cues"], summary["tv_sde_max"], summary["total_seconds"])


if __name__ == "__main__":
  cli.run(main, settings)
