"""Capacity of learned diffusion models, as seed 002 estimates it (App. A; the black dots of Figure 3b).

Per (d, repeat): walk down from n_top = ⌊exact capacity + 4⌋, training a fresh score network
(80·d hidden units, Eq. 27) on n nested random ±1 patterns and testing it on 30 batches of
denoising cues (θ = 0.68, probability-flow ODE), until the mean Hamming error is ≤ 3%. See
`compute` for the full reading of App. A.

Modules: `config` (settings, presets), `exact` (the exact model's capacity where the walk starts),
`compute` (candidates, rounds as masked ensembles, the resumable run), `report`
(learned_capacity.csv, the figure, the REPORT.md section; `load_points` for Figure 3b's dots).
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.learned_capacity.compute import (ID_FIELDS, candidate_cues, candidate_key,
                                                           capacities_from_records, evaluate_candidates,
                                                           is_default_key, repeat_patterns, run, run_hash,
                                                           run_round)
from assocmem.experiments.learned_capacity.config import (PRESETS, START_ROUNDINGS, LearnedCapacityConfig,
                                                          get_preset)
from assocmem.experiments.learned_capacity.exact import (compute_exact_capacity, exact_capacities,
                                                         integer_capacity, read_exact_capacity_csv)
from assocmem.experiments.learned_capacity.report import (CSV_HEADER, TITLE, csv_text, load_points, plot,
                                                          report_section, write_csv, write_summary)

__all__ = ["CSV_HEADER", "EXPERIMENT", "ID_FIELDS", "PRESETS", "START_ROUNDINGS", "TITLE", "LearnedCapacityConfig",
           "candidate_cues", "candidate_key", "capacities_from_records", "compute_exact_capacity", "csv_text",
           "evaluate_candidates", "exact_capacities", "get_preset", "integer_capacity", "is_default_key",
           "load_points", "plot", "read_exact_capacity_csv", "repeat_patterns", "report_section", "run",
           "run_hash", "run_round", "write_csv", "write_summary"]

EXPERIMENT: Experiment[LearnedCapacityConfig] = Experiment(
    name="learned_capacity", title=TITLE, config_cls=LearnedCapacityConfig, presets=PRESETS, run=run,
    report_section=report_section, out_subdir="learned_capacity", script="scripts/learned_capacity.py")
