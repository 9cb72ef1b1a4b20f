"""Seed 000's memory phenomena on Shapes3D: consolidation into the large VAE, then the Shapes3D analyses.

  python scripts/consolidate_shapes3d.py --preset=quick --out_dir=results/consolidation_shapes3d
  python scripts/consolidate_shapes3d.py --preset=paper --offline --out_dir=/tmp/c3d     # procedural scenes
  python scripts/consolidate_shapes3d.py --preset=paper --data_dir=DIR                  # real Shapes3D

The consolidation pipeline (scripts/consolidate.py) with the presets of
`assocmem.experiments.consolidation_shapes3d`; the same outputs (consolidation.csv, summary.md,
summary.json, per source its checkpoints and the analyses' analysis.json and figures), resumed when
run again with the same settings.
"""

from __future__ import annotations

import dataclasses

from absl import flags

from assocmem.experiments import cli
from assocmem.experiments import consolidation, consolidation_shapes3d

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(consolidation_shapes3d.PRESETS),
                  "quick: procedural Shapes3D, small sizes; paper: the full-size consolidation settings.")
flags.DEFINE_string("out_dir", "results/consolidation_shapes3d", "Output directory (resumed if it holds this run).")
flags.DEFINE_bool("offline", False, "Allow --preset=paper without --data_dir (procedural Shapes3D).")
flags.DEFINE_string("data_dir", None, "Prepared tfds directory (ArrayRecord); none: the procedural scenes.")
flags.DEFINE_integer("epochs", None, "Maximum VAE epochs (may be raised when resuming).")
flags.DEFINE_integer("seed", None, "PRNG seed of the run.")


@dataclasses.dataclass(frozen=True)
class Settings:
  """What the flags ask for."""
  config: consolidation.ConsolidationConfig
  preset: str
  out_dir: str


def settings() -> Settings:
  """The preset with the flags applied (a bad value raises ValueError naming the setting)."""
  overrides = {a: v for a, v in (("data.data_dir", FLAGS.data_dir), ("vae.epochs", FLAGS.epochs),
                                 ("seed", FLAGS.seed)) if v is not None}
  config = consolidation_shapes3d.make_config(FLAGS.preset, offline=FLAGS.offline, **overrides)
  return Settings(config, FLAGS.preset, FLAGS.out_dir)


def main(s: Settings) -> None:
  consolidation.run_experiment(s.config, s.out_dir, preset=f"{s.preset} (consolidation_shapes3d)")


if __name__ == "__main__":
  cli.run(main, settings)
