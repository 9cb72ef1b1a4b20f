"""Figure 2a's figure and its REPORT.md section (a sentence, the figure, and per cue where each method ends)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from assocmem import files
from assocmem.experiments.markdown import figure_lines, fmt, read_json
from assocmem.experiments.trajectories.config import TrajectoryConfig

FIGURE = "figure2a.png"
TITLE = "Seed 002, Figure 2a: denoising trajectories"


def plot_figure2a(paths: dict[str, np.ndarray], targets: np.ndarray, cfg: TrajectoryConfig):
  """Figure 2a: marginal trajectories, one panel per cue, one colour per coordinate."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  from matplotlib.lines import Line2D  # pylint: disable=import-outside-toplevel

  n_cues, _, dim = paths["ode"].shape
  times = paths["times"]
  progress = (times[0] - times) / (times[0] - times[-1])
  mhn_progress = np.arange(paths["mhn"].shape[1]) / (paths["mhn"].shape[1] - 1)
  cols = min(n_cues, 4)
  rows = -(-n_cues // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False, sharey=True)
  colors = plt.get_cmap("tab10")
  for c in range(n_cues):
    ax = axes[c // cols, c % cols]
    for i in range(dim):
      col = colors(i % 10)
      ax.plot(progress, paths["sde"][c, :, i], "-", color=col, lw=0.6, alpha=0.45)
      ax.plot(progress, paths["ode"][c, :, i], "-", color=col, lw=1.6)
      ax.plot(mhn_progress, paths["mhn"][c, :, i], "o--", color=col, lw=0.9, ms=4, mfc="white")
    ax.axhline(0.0, color="0.7", lw=0.5)
    ax.set_title(f"cue {c} (pattern {int(targets[c])})", fontsize=9)
    ax.set_xlabel("denoising progress")
    if c % cols == 0:
      ax.set_ylabel("x_i")
  for c in range(n_cues, rows * cols):
    axes[c // cols, c % cols].axis("off")
  handles = [Line2D([], [], color="k", lw=1.6, label=f"ODE (Euler, {cfg.n_steps} steps)"),
             Line2D([], [], color="k", lw=0.6, alpha=0.6, label="SDE (Euler–Maruyama)"),
             Line2D([], [], color="k", ls="--", marker="o", mfc="white", lw=0.9,
                    label=f"MHN, β = {cfg.beta:g}, {cfg.mhn_steps} updates")]
  fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
  fig.suptitle(f"d = {cfg.dim}, {cfg.n_patterns} binary patterns, cues with θ = {cfg.theta}; "
               "one colour per coordinate", fontsize=10)
  fig.tight_layout(rect=(0, 0.06, 1, 1))
  return fig


def write_figure(paths: dict[str, np.ndarray], targets: np.ndarray, cfg: TrajectoryConfig, out_dir: str) -> str:
  """Draws Figure 2a (`plot_figure2a`) into out_dir/figure2a.png (atomically); returns its path."""
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  path = os.path.join(out_dir, FIGURE)
  fig = plot_figure2a(paths, targets, cfg)
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)
  return path


def _pattern(index: Any) -> str:
  if not isinstance(index, int):
    return "–"
  return "none" if index < 0 else str(index)


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Figure 2a for REPORT.md: a sentence, the figure, and per cue the pattern each method ends on."""
  folder = os.path.basename(os.path.normpath(out_dir))
  summary = read_json(os.path.join(out_dir, "summary.json"))
  figures = figure_lines(out_dir, results_dir, [FIGURE])
  if summary is None or not figures:
    return f"## {TITLE}\n\nNot run (no `{folder}/summary.json` or `{FIGURE}`).\n"
  cfg = summary.get("config", {})
  cues = summary.get("cues", [])
  lines = [f"## {TITLE}", "",
           f"From denoising cues (θ = {fmt(cfg.get('theta'), 'g')}) of {fmt(cfg.get('n_patterns'))} "
           f"random binary patterns in d = {fmt(cfg.get('dim'))}, the exact-score diffusion's "
           f"probability-flow ODE (Euler, {fmt(cfg.get('n_steps'))} steps) and reverse SDE "
           f"(Euler–Maruyama) are integrated next to {fmt(cfg.get('mhn_steps'))} modern Hopfield "
           f"updates (β = {fmt(cfg.get('beta'), 'g')}); the paper's claim is that the ODE and the "
           "MHN converge to the same stored pattern. The table gives, per cue, the stored pattern "
           "each method's binarised end point equals (\"none\": no stored pattern).", "",
           *figures, "",
           "| cue | cued pattern | ODE | SDE | MHN | ODE = MHN | max \\|ODE − MHN\\| |",
           "|---:|---:|---:|---:|---:|:-:|---:|"]
  for r in cues:
    agree = "yes" if r.get("ode_mhn_agree") else "no"
    lines.append(f"| {r.get('cue', '–')} | {_pattern(r.get('target'))} | {_pattern(r.get('ode'))} | "
                 f"{_pattern(r.get('sde'))} | {_pattern(r.get('mhn'))} | {agree} | "
                 f"{fmt(r.get('max_abs_ode_minus_mhn'), '.3f')} |")
  if cues:
    n = len(cues)
    n_agree = sum(bool(r.get("ode_mhn_agree")) for r in cues)
    n_target = sum(r.get("ode") == r.get("target") for r in cues)
    lines += ["", f"ODE and MHN end on the same binary state for {n_agree} of {n} cues; the ODE "
              f"recovers the cued pattern for {n_target} of {n}. The SDE is stochastic and may land "
              f"on another pattern. Data: `{folder}/summary.json`, `{folder}/trajectories.npz`."]
  return "\n".join(lines) + "\n"
