"""Figure 1's figure and its REPORT.md section (a sentence, the figure, and per panel what its density does)."""

from __future__ import annotations

import os

import numpy as np

from assocmem import files
from assocmem.experiments.landscapes.config import PANEL_TITLES, PANELS, LandscapeConfig
from assocmem.experiments.markdown import figure_lines, fmt, read_json
from assocmem.sde import VPSDE

FIGURE = "figure1.png"
TITLE = "Seed 002, Figure 1: energy landscapes"


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


def write_figure(panels: dict[str, dict[str, np.ndarray]], cfg: LandscapeConfig, out_dir: str) -> str:
  """Draws Figure 1 (`plot_figure1`) into out_dir/figure1.png (atomically); returns its path."""
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  path = os.path.join(out_dir, FIGURE)
  fig = plot_figure1(panels, cfg)
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)
  return path


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Figure 1 for REPORT.md: a sentence, the figure, and per panel the memory type and what its density does."""
  folder = os.path.basename(os.path.normpath(out_dir))
  summary = read_json(os.path.join(out_dir, "summary.json"))
  figures = figure_lines(out_dir, results_dir, [FIGURE])
  if summary is None or not figures:
    return f"## {TITLE}\n\nNot run (no `{folder}/summary.json` or `{FIGURE}`).\n"
  cfg = summary.get("config", {})
  lines = [f"## {TITLE}", "",
           f"The exact VP diffusion density p_t (colour) and the integral lines of its score (lines) "
           f"at t = {fmt(cfg.get('t'), 'g')} (θ_t = {fmt(summary.get('theta_t'), '.3f')}, "
           f"γ = {fmt(cfg.get('gamma'), 'g')}) on a {fmt(cfg.get('n_grid'))}² grid over "
           f"[−{fmt(cfg.get('extent'), 'g')}, {fmt(cfg.get('extent'), 'g')}]², for three kinds of "
           "memory. Point memories are isolated attractors, one density peak each; extended and "
           "semantic memories spread the density along the memory, where the flow ends on a whole "
           "set of states rather than on one point. The paper gives no coordinates or noise level, "
           "so the figure is qualitative; the table counts the connected high-density regions "
           "(p_t above half its maximum), one per memory, and the share of the window they cover.", "",
           *figures, "",
           "| panel | memory type | regions with p_t > ½ max | their share of the window | p_t range |",
           "|---|---|---:|---:|---|"]
  for name, panel in summary.get("panels", {}).items():
    share = panel.get("area_fraction_above_half_max")
    lines.append(f"| {panel.get('title', name)} | {panel.get('memory_type', '–')} | "
                 f"{fmt(panel.get('n_regions_above_half_max'))} | "
                 f"{fmt(100 * share, '.1f') + ' %' if isinstance(share, float) else '–'} | "
                 f"{fmt(panel.get('density_min'), '.2g')} … {fmt(panel.get('density_max'), '.3g')} |")
  finite = summary.get("all_finite")
  lines += ["", f"All densities and scores finite: {'yes' if finite else 'no' if finite is not None else '–'}. "
            f"Data: `{folder}/summary.json` and one `.npz` per panel."]
  return "\n".join(lines) + "\n"
