"""Figure 1, computed: each panel's exact density and score on a grid, what the panels show in
numbers, and `run`."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, extended, files, semantic
from assocmem.experiments.landscapes import report
from assocmem.experiments.landscapes.config import (PANEL_MEMORY_TYPES, PANEL_TITLES, PANELS, POINTS, SEGMENTS,
                                                    LandscapeConfig, semantic_curve)
from assocmem.sde import VPSDE

Array = jax.Array
FieldFn = Callable[[Array], Array]


def grid_fields(log_density_fn: FieldFn, score_fn: FieldFn, extent: float,
                n_grid: int) -> dict[str, np.ndarray]:
  """Log-density and score of one 2-d landscape on a regular grid.

  Args:
    log_density_fn: x (2,) -> scalar log p(x).
    score_fn: x (2,) -> (2,) ∇ log p(x).
    extent: the grid covers [−extent, extent]².
    n_grid: points per axis.

  Returns:
    dict with "x" (n_grid,), "y" (n_grid,), "log_density" (n_grid, n_grid) and
    "score" (n_grid, n_grid, 2); row i is y[i], column j is x[j] (matplotlib's
    imshow/streamplot layout).
  """
  _checks.check_positive("extent", extent)
  n_grid = _checks.check_int("n_grid", n_grid, 2)
  axis = np.linspace(-extent, extent, n_grid)  # float64: streamplot wants exact spacing
  gx, gy = np.meshgrid(axis, axis, indexing="xy")
  pts = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], axis=-1), dtype=jnp.result_type(float))

  @jax.jit
  def fields(p):
    return jax.vmap(log_density_fn)(p), jax.vmap(score_fn)(p)

  log_p, s = fields(pts)
  return {
      "x": axis,
      "y": axis.copy(),
      "log_density": np.asarray(log_p).reshape(n_grid, n_grid),
      "score": np.asarray(s).reshape(n_grid, n_grid, 2),
  }


def panel_functions(panel: str, cfg: LandscapeConfig) -> tuple[FieldFn, FieldFn, dict[str, np.ndarray]]:
  """(log_density(x), score(x), memory geometry) of one panel at the config's time."""
  _checks.check_choice("panel", panel, PANELS)
  sde, t = VPSDE(cfg.gamma), cfg.t
  if panel == "points":
    pts = jnp.asarray(POINTS)
    edges = jnp.zeros((pts.shape[0], 0, 2))
    return (lambda x: extended.box_log_density(pts, edges, x, t, sde),
            lambda x: extended.box_score(pts, edges, x, t, sde),
            {"points": np.asarray(pts)})
  if panel == "segments":
    seg = jnp.asarray(SEGMENTS)
    a, b = seg[:, 0], seg[:, 1]
    return (lambda x: extended.segment_log_density(a, b, x, t, sde),
            lambda x: extended.segment_score(a, b, x, t, sde),
            {"a": np.asarray(a), "b": np.asarray(b)})
  # A polyline of closed-form segments (Eq. 23 machinery), so that the whole curve, not a set of
  # quadrature nodes, is the attractor as t → 0.
  state = semantic.semantic_state(semantic_curve, cfg.n_segments)
  curve = np.asarray(jax.vmap(semantic_curve)(jnp.linspace(0.0, 1.0, 400)))
  log_p, score = semantic.semantic_log_density_fn(sde), semantic.semantic_score_fn(sde)
  return (lambda x: log_p(state, x, t), lambda x: score(state, x, t), {"curve": curve})


def compute_panels(cfg: LandscapeConfig) -> dict[str, dict[str, np.ndarray]]:
  """Grid fields and memory geometry of the three panels of Figure 1."""
  out = {}
  for panel in PANELS:
    log_p, score, geometry = panel_functions(panel, cfg)
    out[panel] = {**grid_fields(log_p, score, cfg.extent, cfg.n_grid), **geometry}
  return out


def high_density_regions(log_density: np.ndarray, fraction: float = 0.5) -> tuple[int, float]:
  """Connected regions where p_t > `fraction` · max p_t (8-neighbour grid connectivity), and their area.

  Each region is the high-density set around one memory, where the score flow ends: one
  blob per point memory, one elongated ridge per segment, a single band along the curve of
  a semantic memory. (Counting grid maxima instead would count numerical ripples along a
  ridge that is not aligned with the grid.)

  Returns:
    (number of regions, fraction of the window's grid points they cover).
  """
  from scipy import ndimage  # pylint: disable=import-outside-toplevel
  _checks.check_open_unit("fraction", fraction)
  z = np.asarray(log_density)
  mask = z > z.max() + np.log(fraction)
  _, n_regions = ndimage.label(mask, structure=np.ones((3, 3), bool))
  return int(n_regions), float(mask.mean())


def panel_stats(fields: dict[str, np.ndarray]) -> dict[str, Any]:
  """What one panel shows, in numbers: the range of p_t over the window and its high-density regions."""
  log_p = np.asarray(fields["log_density"])
  n_regions, area = high_density_regions(log_p, 0.5)
  return {"density_min": float(np.exp(log_p.min())), "density_max": float(np.exp(log_p.max())),
          "n_regions_above_half_max": n_regions, "area_fraction_above_half_max": area}


def run(cfg: LandscapeConfig, out_dir: str, *, key: Array | None = None) -> dict[str, Any]:
  """Computes Figure 1 and writes figure1.png, one <panel>.npz per panel and summary.json.

  Figure 1 draws no random numbers: `key` (the registry's contract) is accepted and unused.
  """
  del key
  t0 = time.perf_counter()
  panels = compute_panels(cfg)
  seconds = time.perf_counter() - t0
  for panel, f in panels.items():
    files.save_npz(os.path.join(out_dir, f"{panel}.npz"), **f)
  report.write_figure(panels, cfg, out_dir)
  summary = {
      "config": dataclasses.asdict(cfg),
      "theta_t": float(VPSDE(cfg.gamma).theta(cfg.t)),
      "memories": {"points": [list(p) for p in POINTS],
                   "segments": [[list(a), list(b)] for a, b in SEGMENTS],
                   "semantic": "semantic_curve: uniform in arc length"},
      "panels": {panel: {"title": PANEL_TITLES[panel], "memory_type": PANEL_MEMORY_TYPES[panel],
                         **panel_stats(f)} for panel, f in panels.items()},
      "all_finite": bool(all(np.all(np.isfinite(f["log_density"])) and np.all(np.isfinite(f["score"]))
                             for f in panels.values())),
      "compute_seconds": round(seconds, 3),
      "figures": [report.FIGURE],
  }
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary
