"""Learned capacity's files: learned_capacity.csv (d,repeat,capacity), the figure, the REPORT.md section."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any, Sequence

import numpy as np

from assocmem import files
from assocmem.experiments.learned_capacity.config import LearnedCapacityConfig

TITLE = "Learned diffusion capacity (seed 002, Figure 3b, black dots)"
CSV_HEADER = ("d", "repeat", "capacity")

def _start_text(conf: dict) -> str:
  margin = conf.get("margin", 4)
  if conf.get("start_rounding", "nearest") == "floor":
    return f"⌊exact capacity + {margin}⌋"
  return f"round(exact capacity) + {margin}"


def csv_text(rows: Sequence[dict[str, int]]) -> str:
  """learned_capacity.csv: the header d,repeat,capacity and one line per (d, repeat)."""
  buf = io.StringIO()
  w = csv.writer(buf, lineterminator="\n")
  w.writerow(CSV_HEADER)
  for r in rows:
    w.writerow([int(r["d"]), int(r["repeat"]), int(r["capacity"])])
  return buf.getvalue()


def write_csv(rows: Sequence[dict[str, int]], path: str) -> None:
  files.write_text(path, csv_text(rows))


def load_points(csv_path: str) -> list[tuple[int, int]]:
  """[(d, capacity)], one per (d, repeat), from a learned_capacity.csv (for Figure 3b's black dots)."""
  with open(csv_path) as f:
    reader = csv.reader(f)
    header = next(reader, None)
    if tuple(header or ()) != CSV_HEADER:
      raise ValueError(f"{csv_path} must start with the header {','.join(CSV_HEADER)}, got {header}")
    return [(int(row[0]), int(row[2])) for row in reader if row]


def plot(rows: Sequence[dict[str, int]], exact: dict[int, dict[str, Any]], cfg: LearnedCapacityConfig,
         path: str) -> None:
  """Learned capacities (dots, one per repeat, jittered) beside the exact model's capacity (line)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  fig, ax = plt.subplots(figsize=(5.0, 3.8))
  dims = list(cfg.dims)
  ax.plot(dims, [max(exact[d]["value"], 0.5) for d in dims], "-o", color="tab:blue", ms=3,
          label="exact diffusion (smoothed estimate)")
  rng = np.random.default_rng(0)
  xs = [r["d"] + rng.uniform(-0.15, 0.15) for r in rows]
  ax.plot(xs, [max(r["capacity"], 0.5) for r in rows], "o", color="k", ms=3.5, alpha=0.7,
          label=f"learned diffusion ({len(rows) // len(dims)} repeats per d)")
  means = [np.mean([r["capacity"] for r in rows if r["d"] == d]) for d in dims]
  ax.plot(dims, [max(m, 0.5) for m in means], "_", color="k", ms=14, mew=2, label="learned, mean")
  ax.set_yscale("log")
  ax.set_xlabel("dimensionality d")
  ax.set_ylabel(f"capacity (mean error ≤ {cfg.threshold:.0%})")
  ax.set_title("Learned vs exact diffusion capacity (seed 002, Fig. 3b)", fontsize=9)
  ax.legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)


def write_summary(summary: dict[str, Any], rows: Sequence[dict[str, int]], exact: dict[int, dict[str, Any]],
                  cfg: LearnedCapacityConfig, out_dir: str) -> None:
  """DIR/learned_capacity.json (`summary`) and DIR/learned_capacity.png, each atomically."""
  files.write_json(os.path.join(out_dir, "learned_capacity.json"), summary)
  plot(rows, exact, cfg, os.path.join(out_dir, "learned_capacity.png"))


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section for REPORT.md: learned capacity per d (mean, min–max, per repeat) beside the exact one."""
  head = f"## {TITLE}"
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  csv_path = os.path.join(out_dir, "learned_capacity.csv")
  if not os.path.exists(csv_path):
    return f"{head}\n\nNo results: run `scripts/learned_capacity.py` first.\n"
  points = load_points(csv_path)
  summary = {}
  if os.path.exists(os.path.join(out_dir, "learned_capacity.json")):
    with open(os.path.join(out_dir, "learned_capacity.json")) as f:
      summary = json.load(f)
  conf = summary.get("config", {})
  exact = summary.get("exact_capacity", {})
  dims = sorted({d for d, _ in points})
  lines = [head, "",
           f"App. A's procedure: per d, start at n = {_start_text(conf)}; "
           f"train a fresh network ({conf.get('hidden_per_dim', 80)}·d hidden units, "
           f"{conf.get('n_iterations', 5000)} Adam steps of Eq. 27, θ ~ U({conf.get('theta_min', 0.6)}, "
           f"{conf.get('theta_max', 1.0)})); test on {conf.get('n_batches', 30)} batches of unseen denoising "
           f"cues (θ = {conf.get('theta', 0.68)}) of every training pattern, {conf.get('ode_steps', 300)} Euler "
           f"steps of the probability-flow ODE; pass if the mean Hamming error is ≤ "
           f"{conf.get('threshold', 0.03):.0%}, else n − 1. The paper prints no numbers for these points: "
           "Figure 3b shows them as black dots close to the exact curve. Ours:", "",
           "| d | exact capacity (start − margin) | learned: mean | min–max | per repeat |", "|---|---|---|---|---|"]
  for d in dims:
    caps = [c for dd, c in points if dd == d]
    ex = exact.get(str(d), {})
    ex_txt = f"{ex.get('value', float('nan')):.3g} → {ex.get('capacity', '–')} ({ex.get('source', '?')})" if ex else "–"
    lines.append(f"| {d} | {ex_txt} | {np.mean(caps):.2f} | {min(caps)}–{max(caps)} | "
                 f"{', '.join(str(c) for c in caps)} |")
  lines.append("")
  if summary:
    lines.append(f"{summary.get('candidates_trained')} networks trained "
                 f"(≈ {summary.get('train_seconds_total')} s of training in all); last run "
                 f"{summary.get('seconds_this_run')} s.")
    lines.append("")
  rel = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))
  if os.path.exists(os.path.join(out_dir, "learned_capacity.png")):
    lines += [f"![Learned against exact capacity]({rel}/learned_capacity.png)", ""]
  return "\n".join(lines)
