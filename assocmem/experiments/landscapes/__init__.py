"""Energy landscapes of point, extended and semantic memories (seed 002, Figure 1).

Three 2-d panels of the exact diffusion density p_t (colour) and the integral
lines of its score field ∇ log p_t (streamlines), for a VP diffusion at time t:

  (a) point memories       Eq. 12: a uniform mixture of points;
  (b) extended memories    Eq. 23: a uniform mixture of uniform line segments;
  (c) semantic memory      Eq. 24: the uniform (arc-length) density on a curve
                           that crosses the whole window.

The paper gives no coordinates or noise level for Figure 1; the memories below
are our choice (recorded in the summary). Fields are computed on a regular grid
with one jit-compiled `jax.vmap` over the grid points.

Modules: `config` (panels, memories, settings, presets), `compute` (grid fields, panel statistics,
`run`), `report` (figure1.png and the REPORT.md section).
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.landscapes.compute import (compute_panels, grid_fields, high_density_regions,
                                                     panel_functions, panel_stats, run)
from assocmem.experiments.landscapes.config import (PANEL_MEMORY_TYPES, PANEL_TITLES, PANELS, POINTS, PRESETS,
                                                    SEGMENTS, LandscapeConfig, get_preset, semantic_curve,
                                                    t_for_theta)
from assocmem.experiments.landscapes.report import FIGURE, TITLE, plot_figure1, report_section, write_figure

EXPERIMENT = Experiment(
    name="landscapes",
    title=TITLE,
    config_cls=LandscapeConfig,
    presets=PRESETS,
    run=run,
    report_section=report_section,
)

__all__ = ["EXPERIMENT", "FIGURE", "LandscapeConfig", "PANELS", "PANEL_MEMORY_TYPES", "PANEL_TITLES", "POINTS",
           "PRESETS", "SEGMENTS", "compute_panels", "get_preset", "grid_fields", "high_density_regions",
           "panel_functions", "panel_stats", "plot_figure1", "report_section", "run", "semantic_curve",
           "t_for_theta", "write_figure"]
