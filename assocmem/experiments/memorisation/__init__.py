"""Beyond seed 002: the transition from memorisation to generalisation of learned diffusion models.

For N from below the learned capacity C to 16 C, score networks (80·d hidden units, Eq. 27 with
θ ~ U(0.01, 1)) are trained on N random ±1 patterns and sampled from the prior with
Euler–Maruyama (Eq. 29); each sample is memorised, spurious or other (Pham et al. 2025). See
`compute` for the procedure and the choice of radii.

Modules: `config` (settings, presets, `make_config` with the capacity from a learned_capacity.csv),
`classify` (the sample classifier), `compute` (cells and the resumable run), `report`
(memorisation.csv, memorisation_exact.csv, the figure, the REPORT.md section).
"""

from __future__ import annotations

import os
from typing import Sequence

from assocmem.experiments import learned_capacity
from assocmem.experiments.base import Experiment
from assocmem.experiments.memorisation.classify import MEMORISED, OTHER, SPURIOUS, classify, fractions
from assocmem.experiments.memorisation.compute import ID_FIELDS, run, run_cell, run_hash
from assocmem.experiments.memorisation.config import (PRESETS, MemorisationConfig, capacity_table_from_csv,
                                                      get_preset, make_config)
from assocmem.experiments.memorisation.report import (CSV_FILES, CSV_HEADER, TITLE, csv_text, plot, report_section,
                                                      summary_table, write_results)

__all__ = ["CSV_FILES", "CSV_HEADER", "EXPERIMENT", "ID_FIELDS", "MEMORISED", "OTHER", "PRESETS", "SPURIOUS",
           "TITLE", "MemorisationConfig", "capacity_table_from_csv", "classify", "csv_text", "fractions",
           "get_preset", "make_config", "plot", "report_section", "reproduce_args", "run", "run_cell", "run_hash",
           "summary_table", "write_results"]


def reproduce_args(results_dir: str, preset: str, data_dir: str | None) -> Sequence[str]:
  """`make reproduce` sets C from the learned capacities it has just measured: the
  learned_capacity.csv of the learned_capacity experiment in the same results directory."""
  del preset, data_dir
  path = os.path.join(learned_capacity.EXPERIMENT.output_dir(results_dir), "learned_capacity.csv")
  return (f"--learned_capacity_csv={path}",)


EXPERIMENT: Experiment[MemorisationConfig] = Experiment(
    name="memorisation", title=TITLE, config_cls=MemorisationConfig, presets=PRESETS, run=run,
    report_section=report_section, out_subdir="memorisation", script="scripts/memorisation.py",
    reproduce_args=reproduce_args, make_config=make_config)
