"""Denoising trajectories of exact diffusion models and modern Hopfield updates (seed 002, Figure 2a).

Seed 002, §7 and the Figure 2 caption: d = 5, four random binary patterns; each
cue is a denoising cue ỹ = θ y + sqrt(1 − θ²) ε of a stored pattern (θ = 0.68,
App. A). From each cue we integrate the exact-score VP diffusion (γ = 0.8)

  * probability-flow ODE, Euler (Eq. 28 / A2), and
  * reverse SDE, Euler–Maruyama (Eq. 29),

with 2,000 steps (caption of Figure 2; §7's text says 300) from
t_start = −2 log θ / γ (so that the cue has the marginal's signal level) down to
t = 1e-3, and run 4 modern Hopfield updates ξ ← Yᵀ softmax(β Y ξ) with β = 5
from the same cue. The figure shows the marginal trajectories, each coordinate
against the denoising progress (0 = cue, 1 = end; MHN update k at k / 4).

Modules: `config` (settings, presets), `compute` (problem, trajectories, `run`), `report`
(figure2a.png and the REPORT.md section).
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.trajectories.compute import make_problem, run, run_trajectories, summarize
from assocmem.experiments.trajectories.config import PRESETS, TrajectoryConfig, get_preset
from assocmem.experiments.trajectories.report import (FIGURE, TITLE, plot_figure2a, report_section,
                                                       write_figure)

EXPERIMENT = Experiment(
    name="trajectories",
    title=TITLE,
    config_cls=TrajectoryConfig,
    presets=PRESETS,
    run=run,
    report_section=report_section,
)

__all__ = ["EXPERIMENT", "FIGURE", "PRESETS", "TrajectoryConfig", "get_preset", "make_problem", "plot_figure2a",
           "report_section", "run", "run_trajectories", "summarize", "write_figure"]
