"""Capacity outputs: CSV tables, Figure 3a/3b and the REPORT.md section (all written atomically)."""

from __future__ import annotations

import csv
import json
import os
from typing import Sequence

import numpy as np

from assocmem import capacity as cap_lib
from assocmem import files
from assocmem.experiments.capacity.config import (MODEL_COLORS, MODEL_LABELS, MODEL_MARKERS, MODEL_STYLES,
                                                  MODELS, CSV_HEADER, CapacityConfig)
from assocmem.experiments.capacity.estimate import errors_by_series


def write_capacity_csv(rows: Sequence[dict], out_dir: str) -> str:
  """DIR/capacity.csv (header model,d,capacity,lower,upper: smoothed) and DIR/capacity_raw.csv."""
  path = os.path.join(out_dir, "capacity.csv")
  with files.atomic_open(path, "w") as f:
    w = csv.writer(f)
    w.writerow(CSV_HEADER)
    for r in rows:
      w.writerow([r["model"], r["d"], f"{r['capacity']:.4g}", f"{r['lower']:.4g}", f"{r['upper']:.4g}"])
  with files.atomic_open(os.path.join(out_dir, "capacity_raw.csv"), "w") as f:
    w = csv.writer(f)
    w.writerow(CSV_HEADER)
    for r in rows:
      w.writerow([r["model"], r["d"], r["raw_capacity"], f"{r['raw_lower']:.4g}", f"{r['raw_upper']:.4g}"])
  return path


def make_figures(records: Sequence[dict], rows: Sequence[dict], cfg: CapacityConfig, out_dir: str,
                 learned_points: Sequence[tuple[int, float]] | None = None) -> list[str]:
  """Figure 3a (diffusion error against d, several N) and 3b (capacity against d, log scale; with
  `learned_points`, the learned model's capacities as black dots, see `plot_capacity`)."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  series = errors_by_series(records)
  paths = []
  fig, ax = plt.subplots(figsize=(5.5, 4))
  cmap = plt.get_cmap("viridis")
  for i, n in enumerate(cfg.fig_ns):
    pts = []
    for d in cfg.dims:
      if ("diffusion", d) in series:
        ns, errs = series[("diffusion", d)]
        if n in ns:
          pts.append((d, *cap_lib.bootstrap_mean_interval(errs[ns.index(n)], cfg.n_boot, seed=cfg.seed)))
    if not pts:
      continue
    p = np.asarray(pts)
    c = cmap(i / max(len(cfg.fig_ns) - 1, 1))
    ax.plot(p[:, 0], p[:, 1], "o-", color=c, ms=3, label=f"N = {n}")
    ax.fill_between(p[:, 0], p[:, 2], p[:, 3], color=c, alpha=0.12, lw=0)
  ax.axhline(cfg.threshold, color="k", ls="--", lw=1, label=f"threshold {cfg.threshold:.0%}")
  ax.set_xlabel("dimensionality d")
  ax.set_ylabel("Hamming error (bootstrap median of the mean)")
  ax.set_title("(a) exact diffusion model")
  ax.legend(fontsize=7)
  fig.tight_layout()
  paths.append(os.path.join(out_dir, "fig3a_diffusion_error.png"))
  files.save_figure(fig, paths[-1], dpi=130)
  plt.close(fig)

  paths.append(os.path.join(out_dir, "fig3b_capacity.png"))
  plot_capacity(rows, cfg.models, cfg.threshold, paths[-1], learned_points)
  return paths


def plot_capacity(rows: Sequence[dict], models: Sequence[str], threshold: float, path: str,
                  learned_points: Sequence[tuple[int, float]] | None = None) -> str:
  """Figure 3b: capacity against d (log scale), smoothed lines with intervals, raw grid markers, and
  the learned diffusion model's capacities as black dots (seed 002, App. A), one per (d, repeat).

  Args:
    rows: capacity rows (model, d, capacity, lower, upper, raw_capacity), as `estimate` returns
      them or `read_capacity_rows` reads them back.
    models: the models to draw, in order.
    threshold: the error threshold (axis label).
    path: the PNG to write (atomically).
    learned_points: [(d, capacity)] of `learned_capacity.load_points`, or None.
  Returns:
    path.
  """
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(5.5, 4))
  for model in models:
    rs = [r for r in rows if r["model"] == model]
    if not rs:
      continue
    d = [r["d"] for r in rs]
    c = MODEL_COLORS[model]
    ax.plot(d, [max(r["capacity"], 0.5) for r in rs], MODEL_STYLES[model], color=c, lw=1.5,
            label=MODEL_LABELS[model])
    ax.fill_between(d, [max(r["lower"], 0.5) for r in rs], [max(r["upper"], 0.5) for r in rs],
                    color=c, alpha=0.2)
    ax.plot(d, [max(r["raw_capacity"], 0.5) for r in rs], MODEL_MARKERS[model], color=c, ms=3.5,
            alpha=0.7, mfc="none")
  if learned_points:
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(learned_points))
    ax.plot([d + j for (d, _), j in zip(learned_points, jitter)],
            [max(c, 0.5) for _, c in learned_points], "o", color="k", ms=3.5,
            label="learned diffusion (App. A; one dot per repeat)")
  ax.set_yscale("log")
  ax.set_xlabel("dimensionality d")
  ax.set_ylabel(f"capacity (largest N with mean error ≤ {threshold:.0%})")
  ax.set_title("(b) capacity; lines smoothed (σ = 1.5), markers raw")
  ax.legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)
  return path


def read_capacity_rows(out_dir: str) -> list[dict]:
  """The rows of DIR/capacity.csv (smoothed) joined with DIR/capacity_raw.csv (raw_capacity), as numbers."""
  with open(os.path.join(out_dir, "capacity.csv")) as f:
    rows = list(csv.DictReader(f))
  raw: dict[tuple[str, str], dict] = {}
  raw_path = os.path.join(out_dir, "capacity_raw.csv")
  if os.path.exists(raw_path):
    with open(raw_path) as f:
      raw = {(r["model"], r["d"]): r for r in csv.DictReader(f)}
  out = []
  for r in rows:
    rr = raw.get((r["model"], r["d"]), r)
    out.append({"model": r["model"], "d": int(r["d"]), "capacity": float(r["capacity"]),
                "lower": float(r["lower"]), "upper": float(r["upper"]),
                "raw_capacity": float(rr["capacity"])})
  return out


# ---------------------------------------------------------------- Figure 3b with the learned capacities

# Where `make reproduce` puts the learned model's capacities (seed 002, App. A), relative to the
# results directory: the learned_capacity experiment's CSV.
LEARNED_CSV = os.path.join("learned_capacity", "learned_capacity.csv")


def draw_figure3b_with_learned(capacity_dir: str, learned_csv: str) -> str:
  """DIR/fig3b_capacity_learned.png: Figure 3b (the exact curves of DIR/capacity.csv) with the learned
  model's capacities of `learned_csv` (a learned_capacity.csv) as black dots (seed 002, App. A).

  Returns:
    The PNG's path.
  """
  from assocmem.experiments import learned_capacity  # pylint: disable=import-outside-toplevel
  rows = read_capacity_rows(capacity_dir)
  models = [m for m in MODELS if any(r["model"] == m for r in rows)]
  threshold = CapacityConfig().threshold
  summary_path = os.path.join(capacity_dir, "summary.json")
  if os.path.exists(summary_path):
    with open(summary_path) as f:
      threshold = json.load(f).get("config", {}).get("threshold", threshold)
  return plot_capacity(rows, models, threshold, os.path.join(capacity_dir, "fig3b_capacity_learned.png"),
                       learned_capacity.load_points(learned_csv))


# ---------------------------------------------------------------- report section

TITLE = "Seed 002, capacity (Figure 3)"


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section: the capacity table and the Figure 3 images (links relative to results_dir).

  When results_dir holds the learned model's capacities (`LEARNED_CSV`), first draws
  DIR/fig3b_capacity_learned.png (`draw_figure3b_with_learned`) and shows it too.
  """
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  csv_path = os.path.join(out_dir, "capacity.csv")
  if not os.path.exists(csv_path):
    return f"## {TITLE}\n\nNot run (no `{os.path.basename(out_dir)}/capacity.csv`).\n"
  if os.path.exists(os.path.join(results_dir, LEARNED_CSV)):
    draw_figure3b_with_learned(out_dir, os.path.join(results_dir, LEARNED_CSV))
  with open(csv_path) as f:
    rows = list(csv.DictReader(f))
  raw = {}
  raw_path = os.path.join(out_dir, "capacity_raw.csv")
  if os.path.exists(raw_path):
    with open(raw_path) as f:
      raw = {(r["model"], r["d"]): r for r in csv.DictReader(f)}
  summary = {}
  if os.path.exists(os.path.join(out_dir, "summary.json")):
    with open(os.path.join(out_dir, "summary.json")) as f:
      summary = json.load(f)
  conf = summary.get("config", {})
  models = [m for m in MODELS if any(r["model"] == m for r in rows)]
  dims = sorted({int(r["d"]) for r in rows})
  by = {(r["model"], int(r["d"])): r for r in rows}

  def num(x):
    x = float(x)
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"

  def fmt(r):
    return f"{num(r['capacity'])} [{num(r['lower'])}, {num(r['upper'])}]"

  lines = [f"## {TITLE}", ""]
  lines.append(
      f"Mean Hamming error of recalling {conf.get('n_queries', 140)} denoising cues "
      f"(θ = {conf.get('theta', 0.68)}) per grid cell (d, N); capacity = largest N on the grid "
      f"(4 per octave) whose mean error is ≤ {conf.get('threshold', 0.03):.0%}; 95% bootstrap "
      f"intervals ({conf.get('n_boot', 1000)} resamples of the per-query errors); capacity and bounds "
      f"smoothed over d with a Gaussian kernel σ = {conf.get('sigma', 1.5)} (in log(1 + N)). "
      "Entries: smoothed capacity [lower, upper]; raw grid value in parentheses.")
  if summary:
    lines.append(f"Cells: {summary.get('cells')} ({summary.get('computed')} computed in the last run, "
                 f"{summary.get('sweep_seconds')} s, {summary.get('devices')} device(s)).")
  lines += ["", "| d | " + " | ".join(MODEL_LABELS[m] for m in models) + " |",
            "|---|" + "---|" * len(models)]
  for d in dims:
    cells = []
    for m in models:
      r = by.get((m, d))
      if r is None:
        cells.append("–")
        continue
      rr = raw.get((m, str(d)))
      cells.append(fmt(r) + (f" ({rr['capacity']})" if rr else ""))
    lines.append(f"| {d} | " + " | ".join(cells) + " |")
  lines.append("")
  if "mhn" in models and "diffusion" in models:
    overlap = [d for d in dims if (("mhn", d) in by and ("diffusion", d) in by
               and float(by[("mhn", d)]["lower"]) <= float(by[("diffusion", d)]["upper"])
               and float(by[("diffusion", d)]["lower"]) <= float(by[("mhn", d)]["upper"]))]
    lines.append(f"MHN and exact-diffusion intervals overlap at {len(overlap)} of {len(dims)} dimensionalities.")
    lines.append("")
  if len(dims) >= 2:
    growth = []
    for m in models:
      ds = [d for d in dims if (m, d) in by]
      slope = np.polyfit(ds, np.log2([max(float(by[(m, d)]["capacity"]), 1e-9) for d in ds]), 1)[0]
      growth.append(f"{MODEL_LABELS[m]}: ×{2 ** slope:.2f} per unit of d"
                    + (f" (doubling every {1 / slope:.1f} units of d)" if slope > 0 else ""))
    lines.append("Least-squares growth of the smoothed capacity, log₂ N against d: " + "; ".join(growth) + ".")
    lines.append("")
  rel = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))
  for name, cap in (("fig3a_diffusion_error.png", "Figure 3a: exact diffusion model, error against d"),
                    ("fig3b_capacity.png", "Figure 3b: capacity against d (log scale, 95% intervals)"),
                    ("fig3b_capacity_learned.png", "Figure 3b with the learned model's capacities "
                     "(black dots, one per repeat; App. A)")):
    if os.path.exists(os.path.join(out_dir, name)):
      lines.append(f"![{cap}]({rel}/{name})")
      lines.append("")
  return "\n".join(lines)
