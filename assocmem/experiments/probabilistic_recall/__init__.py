"""Probabilistic recall (seed 002, §5.1): reverse-SDE endpoints sample the exact posterior over patterns.

Modules: `config` (`RecallConfig`, `PRESETS`), `compute` (the run: `run`, `compute`, `total_variation`,
`multinomial_null`, `null_quantile`, `sde_endpoint_labels`, `ode_endpoint_labels`), `report` (CSV,
figure, `report_section`).
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.probabilistic_recall.compute import (compute, frequencies, make_problem,
                                                               multinomial_null, nearest_pattern,
                                                               null_quantile, ode_endpoint_labels,
                                                               posterior_weights, run,
                                                               sde_endpoint_labels, total_variation)
from assocmem.experiments.probabilistic_recall.config import PRESETS, RecallConfig
from assocmem.experiments.probabilistic_recall.report import TITLE, report_section

EXPERIMENT = Experiment(name="probabilistic_recall", title=TITLE, config_cls=RecallConfig, presets=PRESETS,
                        run=run, report_section=report_section)
