"""Seed 002 §6.2: can replays bootstrap a single event into a localized episodic memory?

  python scripts/bootstrapping.py --preset=quick --out_dir=results/bootstrapping
  python scripts/bootstrapping.py --preset=paper --out_dir=results/bootstrapping

Writes DIR/rounds.csv (per event weight, seed and round: P(replay within δ of y*), the model's
log density at y* relative to φ), DIR/bootstrapping.png, DIR/replays.npz and DIR/summary.json.
"""

from __future__ import annotations

import dataclasses

from absl import flags, logging

from assocmem.experiments import cli
from assocmem.experiments import bootstrapping

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(bootstrapping.PRESETS), "quick (make reproduce) or paper (larger).")
flags.DEFINE_string("out_dir", "results/bootstrapping", "Output directory.")
flags.DEFINE_integer("seed", None, "PRNG seed; default: the preset's.")
flags.DEFINE_integer("n_rounds", None, "Replay rounds; default: the preset's.")
flags.DEFINE_integer("seeds", None, "Networks per event weight; default: the preset's.")
flags.DEFINE_list("event_weights", None, "Event weights w in [0, 1] (the event's share of one step's loss).")


@dataclasses.dataclass(frozen=True)
class Settings:
  config: bootstrapping.BootstrappingConfig
  out_dir: str


def settings() -> Settings:
  overrides = cli.overrides(FLAGS, ("seed", "n_rounds", "seeds"))
  if FLAGS.event_weights:
    try:
      overrides["event_weights"] = tuple(float(v) for v in FLAGS.event_weights)
    except ValueError as err:
      raise ValueError(f"event_weights must be numbers, got {FLAGS.event_weights}") from err
  return Settings(bootstrapping.get_preset(FLAGS.preset, **overrides), FLAGS.out_dir)


def main(s: Settings) -> None:
  summary = bootstrapping.run(s.config, s.out_dir)
  logging.info("bootstrapping: %s (%.1f s)", summary["finding"], summary["seconds"])


if __name__ == "__main__":
  cli.run(main, settings)
