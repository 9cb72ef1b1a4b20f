"""Exact against learned deterministic denoising trajectories (seed 002, Figure 2b).

Seed 002, §7 and the Figure 2 caption: a 750-unit score network trained on Figure 2a's four
binary patterns (d = 5, Eq. 27), and the probability-flow ODE (Eq. 28) from Figure 2a's cues with
the exact score (Eqs. A3–A4) and with the learned one.

Modules: `config` (settings, presets), `compute` (training, both ODEs, the run), `report`
(figure2b.csv, figure2b.png, the REPORT.md section). Outputs: figure2b.png (one panel per cue,
one colour per coordinate; exact solid, learned dashed), figure2b.json (settings, loss, endpoint
agreement) and figure2b.csv (one row per cue).
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.figure2b.compute import run, run_paths, summarize, train_network
from assocmem.experiments.figure2b.config import PRESETS, Figure2bConfig, get_preset
from assocmem.experiments.figure2b.report import (CSV_HEADER, TITLE, csv_text, plot_figure2b, report_section,
                                                  write_results)

__all__ = ["CSV_HEADER", "EXPERIMENT", "PRESETS", "TITLE", "Figure2bConfig", "csv_text", "get_preset",
           "plot_figure2b", "report_section", "run", "run_paths", "summarize", "train_network", "write_results"]

EXPERIMENT: Experiment[Figure2bConfig] = Experiment(
    name="figure2b", title=TITLE, config_cls=Figure2bConfig, presets=PRESETS, run=run,
    report_section=report_section, out_subdir="figure2b", script="scripts/train_score.py")
