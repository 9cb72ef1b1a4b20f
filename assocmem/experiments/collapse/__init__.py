"""Collapse times of the exact score (Biroli, Bonnaire, de Bortoli & Mézard 2024; beyond the seeds).

Modules: `config` (`CollapseConfig`, `PRESETS`), `compute` (`collapse_time_ou`, `collapse_time`,
`own_and_max_weight`, `weight_curves`, `crossing_time`, `measure_cell`, `run`), `report` (CSV, curves,
figure, `report_section`).
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.collapse.compute import (cell_bank, collapse_time, collapse_time_ou, compute,
                                                   crossing_time, measure_cell, mode_for,
                                                   own_and_max_weight, run, time_grid, weight_curves)
from assocmem.experiments.collapse.config import PRESETS, CollapseConfig
from assocmem.experiments.collapse.report import TITLE, report_section

EXPERIMENT = Experiment(name="collapse", title=TITLE, config_cls=CollapseConfig, presets=PRESETS, run=run,
                        report_section=report_section)
