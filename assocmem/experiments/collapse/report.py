"""Result files, figure and REPORT.md section of the collapse-time experiment (Biroli et al. 2024)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from typing import Any

import numpy as np

from assocmem import files
from assocmem.experiments import references
from assocmem.experiments.collapse.config import CSV_HEADER, CollapseConfig

TITLE = "Collapse times of the exact score (Biroli, Bonnaire, de Bortoli & Mézard 2024)"
CSV_FILE = "collapse.csv"
CURVES_FILE = "curves.npz"
FIGURE = "collapse.png"


def _f(x: float) -> str:
  return "nan" if not np.isfinite(x) else f"{x:.6f}"


def rows(cells: list[dict[str, Any]]) -> list[dict[str, str]]:
  """One CSV row per cell (CSV_HEADER), numbers to 6 decimals."""
  out = []
  for c in cells:
    out.append({"d": str(c["d"]), "n": str(c["n"]), "t_c_ou": _f(c["t_c_ou"]), "t_c": _f(c["t_c"]),
                "t_mean": _f(c["t_mean"]), "rel_err_mean": _f(c["t_mean"] / c["t_c"] - 1),
                "t_median": _f(c["t_median"]), "rel_err_median": _f(c["t_median"] / c["t_c"] - 1),
                "own_at_t_c": _f(c["own_at_t_c"]), "max_at_t_c": _f(c["max_at_t_c"]), "mode": c["mode"]})
  return out


def plot(cfg: CollapseConfig, cells: list[dict[str, Any]]):
  """Left: mean own-point weight against t / t_C per cell; right: measured crossing against t_C."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  import matplotlib.ticker  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
  dims = sorted({c["d"] for c in cells})
  ns = sorted({c["n"] for c in cells})
  cmap = plt.get_cmap("viridis")
  styles = ["-", "--", "-.", ":", (0, (5, 1, 1, 1))]
  for c in cells:
    col = cmap(dims.index(c["d"]) / max(1, len(dims) - 1))
    ls = styles[ns.index(c["n"]) % len(styles)]
    ax.plot(c["ts"] / c["t_c"], c["mean_own"], ls=ls, color=col, lw=1.3,
            label=f"d={c['d']}, n={c['n']:,}")
  ax.axhline(0.5, color="0.6", lw=0.8)
  ax.axvline(1.0, color="k", lw=0.8, ls=":")
  ax.set_xscale("log")
  ticks = [cfg.span ** k for k in (-1.0, -0.5, 0.0, 0.5, 1.0)]
  ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
  ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
  ax.set_xlabel("t / t_C")
  ax.set_ylabel("mean posterior weight of the own point")
  ax.set_title("Own-point weight (colour: d, line style: n)", fontsize=9)
  ax.legend(fontsize=6, ncol=2)
  for c in cells:
    col = cmap(dims.index(c["d"]) / max(1, len(dims) - 1))
    bx.plot(c["t_c"], c["t_mean"], "o", color=col, ms=5)
    bx.plot(c["t_c"], c["t_median"], "x", color=col, ms=5)
  lo = min(c["t_c"] for c in cells) * 0.8
  hi = max(c["t_c"] for c in cells) * 1.2
  grid = np.linspace(lo, hi, 10)
  bx.plot(grid, grid, "k-", lw=0.8, label="t = t_C")
  bx.fill_between(grid, grid * (1 - cfg.tolerance), grid * (1 + cfg.tolerance), color="0.85",
                  label=f"±{cfg.tolerance:.0%}")
  bx.plot([], [], "ko", ms=5, label="mean crosses ½")
  bx.plot([], [], "kx", ms=5, label="median crosses ½")
  bx.set_xlabel(f"predicted t_C (VP time, γ = {cfg.gamma:g})")
  bx.set_ylabel("measured crossing time")
  bx.set_title("Measured against predicted collapse time", fontsize=9)
  bx.legend(fontsize=7)
  fig.suptitle(f"Collapse of the exact posterior onto the own point: y ~ N(0, {cfg.sigma:g}² I_d), "
               f"{cfg.n_samples} forward samples per cell", fontsize=10)
  fig.tight_layout()
  return fig


def write_results(cfg: CollapseConfig, cells: list[dict[str, Any]], out_dir: str, *,
                  total_seconds: float) -> dict[str, Any]:
  """Writes collapse.csv, curves.npz, the figure and summary.json (atomically); returns the summary."""
  table = rows(cells)
  buf = io.StringIO()
  w = csv.DictWriter(buf, fieldnames=list(CSV_HEADER), lineterminator="\n")
  w.writeheader()
  w.writerows(table)
  files.write_text(os.path.join(out_dir, CSV_FILE), buf.getvalue())
  files.save_npz(os.path.join(out_dir, CURVES_FILE),
                 d=np.asarray([c["d"] for c in cells]), n=np.asarray([c["n"] for c in cells]),
                 ts=np.stack([c["ts"] for c in cells]), mean_own=np.stack([c["mean_own"] for c in cells]),
                 median_own=np.stack([c["median_own"] for c in cells]),
                 mean_max=np.stack([c["mean_max"] for c in cells]))
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig = plot(cfg, cells)
  files.save_figure(fig, os.path.join(out_dir, FIGURE), dpi=120)
  plt.close(fig)
  key = f"t_{cfg.statistic}"
  checked = [c for c in cells if c["d"] >= cfg.tolerance_min_dim]
  errs = [abs(c[key] / c["t_c"] - 1) for c in checked]
  summary = {
      "config": dataclasses.asdict(cfg), "cells": len(cells), "statistic": cfg.statistic,
      "checked_cells": len(checked),
      "within_tolerance": int(sum(bool(np.isfinite(e) and e <= cfg.tolerance) for e in errs)),
      "max_rel_err_checked": float(max(errs)) if errs else None,
      "cell_seconds": {f"{c['d']}x{c['n']}": round(float(c["seconds"]), 3) for c in cells},
      "total_seconds": round(float(total_seconds), 3), "figures": [FIGURE],
  }
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary


def read_rows(out_dir: str) -> list[dict[str, str]]:
  """The rows of collapse.csv ([] if absent)."""
  path = os.path.join(out_dir, CSV_FILE)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return list(csv.DictReader(f))


def _pct(x: str) -> str:
  v = float(x)
  return "—" if not np.isfinite(v) else f"{100 * v:+.1f}%"


def report_section(out_dir: str, results_dir: str) -> str:
  """Markdown: per (d, n), predicted t_C against the measured crossings of ½, and the mean largest weight."""
  table = read_rows(out_dir)
  if not table:
    return f"## {TITLE}\n\nNo results: run `scripts/collapse.py` first.\n"
  summary: dict[str, Any] = {}
  if os.path.exists(os.path.join(out_dir, "summary.json")):
    with open(os.path.join(out_dir, "summary.json")) as f:
      summary = json.load(f)
  conf = summary.get("config", {})
  gamma, tol = conf.get("gamma", 0.8), conf.get("tolerance", 0.1)
  min_dim = conf.get("tolerance_min_dim", 100)
  stat = summary.get("statistic", "mean")
  lines = [f"## {TITLE}", ""]
  lines.append(
      f"n points y ~ N(0, σ² I_d) (σ = {conf.get('sigma', 1.0)}) stored in an exact-score bank; "
      f"{conf.get('n_samples')} forward samples x_t = θ_t y_i + √(1 − θ_t²) z per cell from uniformly drawn "
      "stored points. Measured: the time at which the mean (and the median) over samples of the exact posterior "
      "weight h_i(x_t, t) of the own point (seed 002 Eq. A4) falls through ½, interpolated in log t on a "
      f"{conf.get('n_times')}-point geometric grid over [t_C / {conf.get('span')}, {conf.get('span')} t_C]. "
      "Predicted: t_C = ½ ln(1 + σ²/(n^{2/d} − 1)) in Ornstein–Uhlenbeck time (Biroli et al. 2024), "
      f"t_C^VP = 2 t_C^OU / γ with γ = {gamma} (docs/reproduction.md). Banks above "
      f"{conf.get('chunk_size')} points stream (`mixture.Streaming`).")
  lines += ["", "| d | n | t_C (OU) | t_C (VP) | mean crosses ½ | error | median crosses ½ | error | "
            "mean own weight at t_C | mean largest weight at t_C |",
            "|---|---|---|---|---|---|---|---|---|---|"]
  for r in table:
    lines.append(f"| {r['d']} | {int(r['n']):,} | {float(r['t_c_ou']):.4f} | {float(r['t_c']):.4f} | "
                 f"{float(r['t_mean']):.4f} | {_pct(r['rel_err_mean'])} | {float(r['t_median']):.4f} | "
                 f"{_pct(r['rel_err_median'])} | {float(r['own_at_t_c']):.3f} | {float(r['max_at_t_c']):.3f} |")
  if summary:
    lines += ["", f"Target: the {stat} crossing within {tol:.0%} of t_C at d ≥ {min_dim}: "
              f"{summary.get('within_tolerance')} of {summary.get('checked_cells')} cells "
              f"(largest error {100 * (summary.get('max_rel_err_checked') or 0):.1f}%). "
              f"Run time {summary.get('total_seconds')} s."]
    indep = ", ".join(f"{100 * e:.0f}% at d = {d}, n = {n:,}"
                      for (d, n), e in sorted(references.COLLAPSE_INDEPENDENT_REL_ERR.items()))
    lines.append(f"An independent measurement (issue 16) found {indep}.")
  fig = os.path.join(out_dir, FIGURE)
  if os.path.exists(fig):
    lines += ["", f"![collapse times]({os.path.relpath(fig, results_dir)})"]
  return "\n".join(lines) + "\n"
