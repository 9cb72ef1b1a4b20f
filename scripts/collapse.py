"""Collapse times of the exact score (Biroli, Bonnaire, de Bortoli & Mézard 2024): measured against t_C.

  python scripts/collapse.py --preset=quick --out_dir=results/collapse   # d = 20, 50, 100; n = 10²…10⁴
  python scripts/collapse.py --preset=paper --out_dir=results/collapse   # d = 20…200; n = 10²…10⁵ (streaming)

Writes DIR/collapse.csv (per (d, n): predicted t_C in OU and VP time, the times at which the mean and
the median own-point posterior weight cross ½, and the mean own and largest weights at t_C),
DIR/curves.npz, DIR/collapse.png and DIR/summary.json, each atomically.
"""

from __future__ import annotations

import dataclasses

from absl import flags, logging

from assocmem.experiments import cli
from assocmem.experiments.collapse import EXPERIMENT as EXP
from assocmem.experiments.collapse import CollapseConfig

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(EXP.presets),
                  "quick: d = 20, 50, 100 and n = 10², 10³, 10⁴; paper: d = 20…200, n up to 10⁵ (streaming).")
flags.DEFINE_string("out_dir", "results/collapse", "Output directory.")
flags.DEFINE_integer("seed", None, "PRNG seed; default: the preset's.")
flags.DEFINE_list("dims", None, "Data dimensions d; default: the preset's.")
flags.DEFINE_list("ns", None, "Numbers n of stored points (>= 2); default: the preset's.")
flags.DEFINE_float("sigma", None, "Data standard deviation σ; default: the preset's (1).")
flags.DEFINE_float("gamma", None, "VP schedule γ; default: the preset's (0.8).")
flags.DEFINE_integer("n_samples", None, "Forward samples per cell; default: the preset's.")
flags.DEFINE_integer("n_times", None, "Time-grid points per cell; default: the preset's (33).")
flags.DEFINE_integer("chunk_size", None, "Banks above this many points stream; default: the preset's (8192).")
flags.DEFINE_enum("statistic", None, ["mean", "median"], "Crossing the tolerance check uses; default: mean.")

_NAMES = ("seed", "sigma", "gamma", "n_samples", "n_times", "chunk_size", "statistic")


@dataclasses.dataclass(frozen=True)
class Settings:
  """The configuration the flags ask for and where to write."""
  config: CollapseConfig
  out_dir: str


def settings() -> Settings:
  """The preset with the flags' overrides applied (a bad value raises ValueError naming it)."""
  overrides = cli.overrides(FLAGS, _NAMES)
  for name in ("dims", "ns"):
    values = cli.int_tuple(name, getattr(FLAGS, name))
    if values is not None:
      overrides[name] = values
  return Settings(EXP.config(FLAGS.preset, **overrides), FLAGS.out_dir)


def main(s: Settings) -> None:
  summary = EXP.run(s.config, s.out_dir)
  logging.info("collapse: %d cells, %s crossing within %.0f%% of t_C at %d of %d cells with d >= %d (%.1f s)",
               summary["cells"], summary["statistic"], 100 * s.config.tolerance, summary["within_tolerance"],
               summary["checked_cells"], s.config.tolerance_min_dim, summary["total_seconds"])


if __name__ == "__main__":
  cli.run(main, settings)
