"""Seed 002, Figure 2b: trains the 750-unit score network and compares its ODE trajectories with the exact ones.

  python scripts/train_score.py --preset=quick --out_dir=results/figure2b   # 300 Euler steps
  python scripts/train_score.py --preset=paper --out_dir=results/figure2b   # Figure 2's 2,000 steps

Trains the network of §7 (d = 5, 4 binary patterns, 750 hidden units, 5,000 Adam steps of Eq. 27)
with orbax checkpoints in DIR/checkpoints (a rerun resumes there), then writes DIR/figure2b.png,
DIR/figure2b.csv (per cue: the pattern each endpoint binarises to, agreement, distances) and
DIR/figure2b.json (settings, loss, summary), each atomically.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from absl import flags, logging

from assocmem.experiments import cli, registry

EXP = registry.get("figure2b")

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(EXP.presets),
                  "quick: 300 Euler steps (§7's text); paper: 2,000 (Figure 2's caption). Both train fully.")
flags.DEFINE_string("out_dir", "results/figure2b", "Output directory (resumes from DIR/checkpoints).")
flags.DEFINE_integer("seed", None, "Seed of patterns and cues (Figure 2a's); default: the preset's.")
flags.DEFINE_integer("train_seed", None, "Seed of the network; default: the preset's.")
flags.DEFINE_integer("n_iterations", None, "Adam steps; default: the preset's (5,000).")
flags.DEFINE_integer("hidden", None, "Hidden width; default: the preset's (750).")
flags.DEFINE_integer("n_steps", None, "Euler steps of the ODEs; default: the preset's.")
flags.DEFINE_integer("abort_after_chunks", None,
                     "Testing only: exit abruptly (os._exit) after this many training chunks.", lower_bound=1)

_OVERRIDES = ("seed", "train_seed", "n_iterations", "hidden", "n_steps")


@dataclasses.dataclass(frozen=True)
class Settings:
  """The configuration the flags ask for and where to write."""
  config: Any
  out_dir: str
  abort_after_chunks: int | None


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  overrides = cli.overrides(FLAGS, _OVERRIDES)
  return Settings(EXP.config(FLAGS.preset, **overrides), FLAGS.out_dir, FLAGS.abort_after_chunks)


def main(s: Settings) -> None:
  summary = EXP.run(s.config, s.out_dir, on_chunk=cli.abort_after(s.abort_after_chunks))
  logging.info("figure2b: endpoints agree on %.0f%% of cues, loss %.3f, %.1f s",
               100 * summary["fraction_endpoints_agree"], summary["final_loss"], summary["total_seconds"])


if __name__ == "__main__":
  cli.run(main, settings)
