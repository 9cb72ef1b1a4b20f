"""Beyond seed 002: memorisation → spurious attractors → generalisation of learned diffusion models.

  python scripts/memorisation.py --preset=quick --out_dir=results/memorisation
  python scripts/memorisation.py --preset=paper --out_dir=results/memorisation_paper \
      --learned_capacity_csv=results/learned_capacity_paper/learned_capacity.csv

For N from below the learned capacity C to 16 C, trains score networks on N random ±1 patterns,
samples them from the prior with Euler–Maruyama and classifies each sample as memorised (within
δ_m of a training pattern), spurious (otherwise within δ_s of another sample) or other, following
Pham et al. (2025); see assocmem/experiments/memorisation/. C comes from the preset's table,
or from --learned_capacity_csv (the mean learned capacity per d, rounded).

Writes DIR/memorisation.csv (header d,n_patterns,repeat,memorised,spurious,other),
DIR/memorisation_exact.csv (the exact score on the same patterns: it memorises at every N),
DIR/cells.jsonl (resumable), DIR/memorisation.png and DIR/memorisation.json.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from absl import flags, logging

from assocmem.experiments import cli, registry

EXP = registry.get("memorisation")

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(EXP.presets),
                  "quick: d = 6, N = 1…32, 2 repeats, 1,500 steps; paper: d = 10, 12, N up to 16 C, 5,000 steps.")
flags.DEFINE_string("out_dir", "results/memorisation", "Output directory (resumed if it holds cells.jsonl).")
flags.DEFINE_string("learned_capacity_csv", None,
                    "learned_capacity.csv of scripts/learned_capacity.py; its mean capacity per d sets the "
                    "N grid (default: the preset's table).")
flags.DEFINE_list("dims", None, "Dimensionalities d (each needs a capacity); default: the preset's.")
flags.DEFINE_integer("repeats", None, "Networks per (d, N); default: the preset's.")
flags.DEFINE_integer("n_iterations", None, "Adam steps per network; default: the preset's.")
flags.DEFINE_integer("n_samples", None, "Samples per network; default: the preset's.")
flags.DEFINE_float("delta_m", None, "Memorisation radius (Euclidean); default 1.")
flags.DEFINE_float("delta_s", None, "Spurious-attractor radius (Euclidean); default 1.")
flags.DEFINE_bool("exact", None, "Also sample the exact model of the same patterns; default: the preset's.")
flags.DEFINE_integer("abort_after_chunks", None,
                     "Testing only: exit abruptly (os._exit) after this many training chunks.", lower_bound=1)


@dataclasses.dataclass(frozen=True)
class Settings:
  """The configuration the flags ask for and where to write."""
  config: Any
  out_dir: str
  abort_after_chunks: int | None


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  overrides = {}
  if FLAGS.dims:
    overrides["dims"] = cli.int_tuple("dims", FLAGS.dims)
  overrides.update(cli.overrides(FLAGS, ("repeats", "n_iterations", "n_samples", "delta_m", "delta_s", "exact",
                                         "learned_capacity_csv")))
  return Settings(EXP.config(FLAGS.preset, **overrides), FLAGS.out_dir, FLAGS.abort_after_chunks)


def main(s: Settings) -> None:
  summary = EXP.run(s.config, s.out_dir, on_chunk=cli.abort_after(s.abort_after_chunks))
  for r in summary["table"]:
    logging.info("%s d=%d N=%d (N/C=%.2g): memorised %.2f spurious %.2f other %.2f attractors %.1f",
                 r["model"], r["d"], r["n_patterns"], r["n_over_capacity"], r["memorised"], r["spurious"],
                 r["other"], r["spurious_attractors"])


if __name__ == "__main__":
  cli.run(main, settings)
