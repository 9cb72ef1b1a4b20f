"""Replay bootstrapping of a single event into an episodic memory (seed 002, §6.2; Eq. 27 training).

Modules: `config` (settings, presets), `compute` (experience, replay rounds, measures), `report`
(rounds.csv, the figure, the REPORT.md section). `EXPERIMENT` is its registry entry.
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.bootstrapping import report
from assocmem.experiments.bootstrapping.compute import run
from assocmem.experiments.bootstrapping.config import PRESETS, BootstrappingConfig, get_preset


EXPERIMENT = Experiment(
    name="bootstrapping",
    title="Seed 002 §6.2: replay bootstrapping",
    config_cls=BootstrappingConfig,
    presets=PRESETS,
    run=run,
    report_section=report.report_section,
)

__all__ = ["EXPERIMENT", "BootstrappingConfig", "PRESETS", "get_preset", "run"]
