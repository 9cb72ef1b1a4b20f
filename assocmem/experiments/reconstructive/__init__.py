"""Reconstructive memory (seed 002, §6.1, Eq. 25): a stored core recalled, the rest reconstructed from φ.

Modules: `config` (settings, presets), `compute` (recall from cues with the exact score of
`assocmem.reconstructive`, exact references), `report` (recall.csv, the demo figure, the REPORT.md
section). `EXPERIMENT` is its registry entry.
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.reconstructive import report
from assocmem.experiments.reconstructive.compute import run
from assocmem.experiments.reconstructive.config import PRESETS, ReconstructiveConfig, get_preset


EXPERIMENT = Experiment(
    name="reconstructive",
    title="Seed 002 §6.1: reconstructive memory (Eq. 25)",
    config_cls=ReconstructiveConfig,
    presets=PRESETS,
    run=run,
    report_section=report.report_section,
)

__all__ = ["EXPERIMENT", "ReconstructiveConfig", "PRESETS", "get_preset", "run"]
