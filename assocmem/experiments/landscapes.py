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
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, extended, files
from assocmem.sde import VPSDE

Array = jax.Array
FieldFn = Callable[[Array], Array]

PANELS = ("points", "segments", "semantic")
PANEL_TITLES = {
    "points": "(a) point memories",
    "segments": "(b) extended memories",
    "semantic": "(c) semantic memory",
}
PANEL_MEMORY_TYPES = {
    "points": "point-like: 5 points (Eq. 12)",
    "segments": "extended: 4 line segments, uniform density on each (Eq. 23)",
    "semantic": "semantic: 1 curve across the window, uniform in arc length (Eq. 24)",
}

# Memories of the three panels, in the window [-2.5, 2.5]².
POINTS = ((-1.4, 1.2), (1.3, 1.4), (0.3, -0.2), (-1.2, -1.5), (1.6, -1.3))
SEGMENTS = (
    ((-2.0, 1.0), (-0.6, 1.8)),
    ((0.6, 0.2), (1.8, 1.6)),
    ((-1.6, -1.6), (0.2, -0.7)),
    ((1.0, -0.8), (1.6, -2.0)),
)


def semantic_curve(s: Array) -> Array:
  """The curve of panel (c): a wave across the window, y(s) = (4.4 s − 2.2, sin-bumps)."""
  return jnp.stack([4.4 * s - 2.2, 1.1 * jnp.sin(2.5 * jnp.pi * s) - 0.3 * jnp.cos(5.0 * jnp.pi * s)])


@dataclasses.dataclass(frozen=True)
class LandscapeConfig:
  """Settings of Figure 1.

  Attributes:
    t: diffusion time of the VP process (θ_t = exp(−γt/2), v_t = 1 − θ_t²).
    gamma: VP schedule γ (seed 002, App. A: 0.8).
    extent: half-width of the square window [−extent, extent]².
    n_grid: grid points per axis.
    n_segments: segments of the polyline that carries the semantic curve's density.
    stream_density: matplotlib streamplot density.
  """
  t: float = 0.08
  gamma: float = 0.8
  extent: float = 2.5
  n_grid: int = 241
  n_segments: int = 512
  stream_density: float = 1.3

  def __post_init__(self):
    _checks.check_positive("t", self.t)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_positive("extent", self.extent)
    _checks.check_int("n_grid", self.n_grid, 2)
    _checks.check_int("n_segments", self.n_segments, 1)
    _checks.check_positive("stream_density", self.stream_density)


PRESETS: dict[str, LandscapeConfig] = {
    "quick": LandscapeConfig(n_grid=101, stream_density=1.0),
    "paper": LandscapeConfig(),
}


def get_preset(name: str, **overrides: Any) -> LandscapeConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return dataclasses.replace(PRESETS[name], **overrides)


def t_for_theta(theta: float, gamma: float = 0.8) -> float:
  """VP time with signal level θ: t = −2 log θ / γ (seed 002, App. A)."""
  return float(VPSDE(gamma).t_start(theta))


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
    return (lambda x: extended.box_log_density(x, t, pts, edges, sde),
            lambda x: extended.box_score(x, t, pts, edges, sde),
            {"points": np.asarray(pts)})
  if panel == "segments":
    seg = jnp.asarray(SEGMENTS)
    a, b = seg[:, 0], seg[:, 1]
    return (lambda x: extended.segment_log_density(x, t, a, b, sde),
            lambda x: extended.segment_score(x, t, a, b, sde),
            {"a": np.asarray(a), "b": np.asarray(b)})
  # A polyline of closed-form segments (Eq. 23 machinery), so that the whole curve, not a set of
  # quadrature nodes, is the attractor as t → 0.
  state = extended.semantic_state(semantic_curve, cfg.n_segments)
  curve = np.asarray(jax.vmap(semantic_curve)(jnp.linspace(0.0, 1.0, 400)))
  log_p, score = extended.semantic_log_density_fn(sde), extended.semantic_score_fn(sde)
  return (lambda x: log_p(state, x, t), lambda x: score(state, x, t), {"curve": curve})


def compute_panels(cfg: LandscapeConfig) -> dict[str, dict[str, np.ndarray]]:
  """Grid fields and memory geometry of the three panels of Figure 1."""
  out = {}
  for panel in PANELS:
    log_p, score, geometry = panel_functions(panel, cfg)
    out[panel] = {**grid_fields(log_p, score, cfg.extent, cfg.n_grid), **geometry}
  return out


def plot_figure1(panels: dict[str, dict[str, np.ndarray]], cfg: LandscapeConfig):
  """Figure 1: density p_t (colour) and score integral lines (streamlines), three panels."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  from matplotlib import colors  # pylint: disable=import-outside-toplevel

  theta = float(VPSDE(cfg.gamma).theta(cfg.t))
  fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 4.4))
  for ax, panel in zip(axes, PANELS):
    f = panels[panel]
    x, y = f["x"], f["y"]
    density = np.exp(f["log_density"])
    ax.imshow(density, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), cmap="magma",
              norm=colors.PowerNorm(0.5, vmin=0.0, vmax=float(density.max())), interpolation="bilinear")
    u, v = f["score"][..., 0], f["score"][..., 1]
    speed = np.hypot(u, v)
    ax.streamplot(x, y, u / np.maximum(speed, 1e-12), v / np.maximum(speed, 1e-12),
                  density=cfg.stream_density, color="white", linewidth=0.6, arrowsize=0.6)
    # Memories are drawn where p_t centres them, at θ_t y.
    if "points" in f:
      p = theta * f["points"]
      ax.plot(p[:, 0], p[:, 1], "o", ms=4, color="tab:cyan")
    if "a" in f:
      for a, b in zip(theta * f["a"], theta * f["b"]):
        ax.plot([a[0], b[0]], [a[1], b[1]], "-", lw=2, color="tab:cyan")
    if "curve" in f:
      c = theta * f["curve"]
      ax.plot(c[:, 0], c[:, 1], "-", lw=1.2, color="tab:cyan")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(PANEL_TITLES[panel])
  fig.suptitle(f"exact VP diffusion density p_t (colour) and integral lines of its score, "
               f"t = {cfg.t:g} (θ_t = {theta:.3f}); memories in cyan at θ_t y", fontsize=10)
  fig.tight_layout(rect=(0, 0, 1, 0.95))
  return fig


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


def run(cfg: LandscapeConfig, out_dir: str) -> dict[str, Any]:
  """Computes Figure 1 and writes figure1.png, one <panel>.npz per panel and summary.json."""
  t0 = time.perf_counter()
  panels = compute_panels(cfg)
  seconds = time.perf_counter() - t0
  for panel, f in panels.items():
    files.save_npz(os.path.join(out_dir, f"{panel}.npz"), **f)
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig = plot_figure1(panels, cfg)
  files.save_figure(fig, os.path.join(out_dir, "figure1.png"), dpi=130)
  plt.close(fig)
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
      "figures": ["figure1.png"],
  }
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary
