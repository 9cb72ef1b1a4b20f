"""Figure 2b's files: figure2b.csv (one row per cue), the figure, and the REPORT.md section."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import numpy as np

from assocmem import files
from assocmem.experiments.figure2b.config import Figure2bConfig

TITLE = "Learned against exact trajectories (seed 002, Figure 2b)"
CSV_HEADER = ("cue", "target", "exact_pattern", "learned_pattern", "agree", "max_abs_endpoint_diff",
              "rms_path_diff")


def csv_text(summary: dict[str, Any]) -> str:
  """figure2b.csv: one row per cue with the header CSV_HEADER."""
  buf = io.StringIO()
  w = csv.writer(buf, lineterminator="\n")
  w.writerow(CSV_HEADER)
  for r in summary["cues"]:
    w.writerow([r["cue"], r["target"], r["exact_pattern"], r["learned_pattern"], int(r["agree"]),
                f"{r['max_abs_endpoint_diff']:.4f}", f"{r['rms_path_diff']:.4f}"])
  return buf.getvalue()


def plot_figure2b(paths: dict[str, np.ndarray], targets: np.ndarray, cfg: Figure2bConfig):
  """Figure 2b: exact (solid) and learned (dashed) ODE trajectories, one panel per cue."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  from matplotlib.lines import Line2D  # pylint: disable=import-outside-toplevel

  n_cues, _, dim = paths["exact"].shape
  times = paths["times"]
  progress = (times[0] - times) / (times[0] - times[-1])
  cols = min(n_cues, 4)
  rows = -(-n_cues // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False, sharey=True)
  colors = plt.get_cmap("tab10")
  for c in range(n_cues):
    ax = axes[c // cols, c % cols]
    for i in range(dim):
      col = colors(i % 10)
      ax.plot(progress, paths["exact"][c, :, i], "-", color=col, lw=1.6, alpha=0.8)
      ax.plot(progress, paths["learned"][c, :, i], "--", color=col, lw=1.2)
    ax.axhline(0.0, color="0.7", lw=0.5)
    ax.set_title(f"cue {c} (pattern {int(targets[c])})", fontsize=9)
    ax.set_xlabel("denoising progress")
    if c % cols == 0:
      ax.set_ylabel("x_i")
  for c in range(n_cues, rows * cols):
    axes[c // cols, c % cols].axis("off")
  handles = [Line2D([], [], color="k", lw=1.6, label="exact score (Eqs. A3–A4)"),
             Line2D([], [], color="k", lw=1.2, ls="--", label=f"learned score ({cfg.hidden} hidden units)")]
  fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
  fig.suptitle(f"(b) d = {cfg.dim}, {cfg.n_patterns} binary patterns, θ = {cfg.theta}, "
               f"{cfg.n_steps} Euler steps of the probability-flow ODE", fontsize=10)
  fig.tight_layout(rect=(0, 0.06, 1, 1))
  return fig


def write_results(summary: dict[str, Any], paths: dict[str, np.ndarray], targets: np.ndarray,
                  cfg: Figure2bConfig, out_dir: str) -> None:
  """DIR/figure2b.png, DIR/figure2b.csv and DIR/figure2b.json (`summary`), each atomically."""
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig = plot_figure2b(paths, targets, cfg)
  files.save_figure(fig, os.path.join(out_dir, "figure2b.png"), dpi=130)
  plt.close(fig)
  files.write_text(os.path.join(out_dir, "figure2b.csv"), csv_text(summary))
  files.write_json(os.path.join(out_dir, "figure2b.json"), summary)


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section for REPORT.md: endpoint agreement table and the figure."""
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  path = os.path.join(out_dir, "figure2b.json")
  head = f"## {TITLE}"
  if not os.path.exists(path):
    return f"{head}\n\nNo results: run `scripts/train_score.py` first.\n"
  with open(path) as f:
    s = json.load(f)
  c = s["config"]
  lines = [head, "",
           f"d = {c['dim']}, {c['n_patterns']} binary patterns, {c['hidden']} hidden units, "
           f"{c['n_iterations']} Adam steps (loss {s['initial_loss']:.3f} → {s['final_loss']:.3f}); the "
           f"cues of Figure 2a (θ = {c['theta']}), {c['n_steps']} Euler steps of the probability-flow ODE "
           "with the exact and the learned score. The paper shows the two sets of trajectories "
           "converging to the same patterns and prints no numbers.", "",
           "| cue | target | exact → pattern | learned → pattern | endpoints agree (sign) | max abs endpoint diff |",
           "|---|---|---|---|---|---|"]
  for r in s["cues"]:
    lines.append(f"| {r['cue']} | {r['target']} | {r['exact_pattern']} | {r['learned_pattern']} | "
                 f"{'yes' if r['agree'] else 'no'} | {r['max_abs_endpoint_diff']:.3f} |")
  lines += ["", f"Binarised endpoints agree on {s['fraction_endpoints_agree']:.0%} of cues; the learned "
            f"network recovers the cued pattern on {s['fraction_learned_recovers_target']:.0%} "
            f"(exact: {s['fraction_exact_recovers_target']:.0%}).", ""]
  rel = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))
  if os.path.exists(os.path.join(out_dir, "figure2b.png")):
    lines += [f"![Figure 2b: exact (solid) and learned (dashed) trajectories]({rel}/figure2b.png)", ""]
  return "\n".join(lines)
