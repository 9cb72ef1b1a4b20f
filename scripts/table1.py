"""Seed 002 (Ambrogioni 2024), Table 1: correlation of other memories with a modern Hopfield network.

  python scripts/table1.py --preset=reproduce --out_dir=results/table1   # reproduces the table (default)
  python scripts/table1.py --preset=paper --out_dir=results/table1_paper  # the stated settings (zero diagonal)
  python scripts/table1.py --preset=quick --out_dir=results/table1_quick  # reproduce, 50 repeats

Writes DIR/table1.csv (header task,n_patterns,diffusion,classic,true), DIR/table1.md (ours beside
the paper's, with the differences, and which classical network and precision ran) and
DIR/table1.json (the configuration used). Variant flags override the preset; see
docs/reproduction.md, "Seed 002 — Table 1". The experiment is `assocmem.experiments.table1`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from absl import flags

from assocmem.experiments import cli, registry, table1

EXP = registry.get("table1")

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "reproduce", list(EXP.presets),
                  "paper: the stated settings (zero-diagonal classical network, 100 repeats); "
                  "reproduce: diagonal kept, float64, 100 repeats (reproduces the table); "
                  "quick: reproduce with 50 repeats.")
flags.DEFINE_string("out_dir", "results/table1", "Output directory.")
flags.DEFINE_integer("seed", None, "PRNG seed; default: the preset's.")
flags.DEFINE_integer("repeats", None, "Repeats (pattern sets) per row; default: the preset's.")
flags.DEFINE_bool("classic_zero_diagonal", None,
                  "Zero the Hebbian diagonal (seed 002 §2.1; preset 'paper'); default: the preset's.")
flags.DEFINE_enum("classic_mode", None, list(table1.CLASSIC_MODES), "Classical Hopfield schedule.")
flags.DEFINE_integer("classic_steps", None, "Classical Hopfield synchronous updates or async sweeps.")
flags.DEFINE_enum("classic_start", None, list(table1.CLASSIC_STARTS),
                  "Classical Hopfield start state: the continuous cue or its sign.")
flags.DEFINE_enum("cues", None, list(table1.CUE_MODES),
                  "Cues per repeat: every stored pattern ('all') or one random pattern ('one').")
flags.DEFINE_enum("aggregate", None, list(table1.AGGREGATES),
                  "Mean of per-repeat correlations ('per_repeat') or one pooled correlation.")
flags.DEFINE_enum("precision", None, list(table1.PRECISIONS),
                  "Arithmetic of the four memories; float32 breaks completion ties by rounding noise.")
flags.DEFINE_float("completion_theta", None,
                   "θ of the diffusion start time in the completion task; default: the cue θ.")
flags.DEFINE_enum("mixture_mode", None, list(table1.MIXTURE_MODES),
                  "Mixture mode of the MHN and exact-score retrieval (the mesh setting: 'sharded' splits "
                  "each bank over all devices).")
flags.DEFINE_integer("chunk_size", None, "Bank chunk of the streaming mode.")

_OVERRIDES = ("mixture_mode", "chunk_size", "seed", "repeats", "classic_zero_diagonal", "classic_mode", "classic_steps",
              "classic_start", "cues", "aggregate", "completion_theta", "precision")


@dataclasses.dataclass(frozen=True)
class Settings:
  """What the flags ask for: the configuration, the preset it came from and where to write."""
  config: Any
  preset: str
  out_dir: str


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  return Settings(EXP.config(FLAGS.preset, **cli.overrides(FLAGS, _OVERRIDES)), FLAGS.preset, FLAGS.out_dir)


def main(s: Settings) -> None:
  EXP.run(s.config, s.out_dir, preset=s.preset)


if __name__ == "__main__":
  cli.run(main, settings)
