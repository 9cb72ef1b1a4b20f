"""Memorisation's files: memorisation.csv and memorisation_exact.csv, the figure, the REPORT.md section."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any, Sequence

import numpy as np

from assocmem import files

TITLE = "Memorisation → generalisation (beyond seed 002; Pham et al. 2025)"
CSV_HEADER = ("d", "n_patterns", "repeat", "memorised", "spurious", "other")
CSV_FILES = (("learned", "memorisation.csv"), ("exact", "memorisation_exact.csv"))


def csv_text(records: Sequence[dict[str, Any]]) -> str:
  """One line per (d, N, repeat) with the fractions, under the header d,n_patterns,repeat,memorised,spurious,other."""
  buf = io.StringIO()
  w = csv.writer(buf, lineterminator="\n")
  w.writerow(CSV_HEADER)
  for r in sorted(records, key=lambda r: (r["d"], r["n_patterns"])):
    for rep in range(len(r["memorised"])):
      w.writerow([r["d"], r["n_patterns"], rep, f"{r['memorised'][rep]:.4f}", f"{r['spurious'][rep]:.4f}",
                  f"{r['other'][rep]:.4f}"])
  return buf.getvalue()


def summary_table(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
  """Per (model, d, N): N / C and the repeat means of the fractions and spurious-attractor counts."""
  out = []
  for r in sorted(records, key=lambda r: (r["model"], r["d"], r["n_patterns"])):
    out.append({"model": r["model"], "d": r["d"], "n_patterns": r["n_patterns"],
                "n_over_capacity": r["n_patterns"] / r["capacity"],
                **{k: float(np.mean(r[k])) for k in ("memorised", "spurious", "other", "spurious_attractors")}})
  return out


def plot(records: Sequence[dict[str, Any]], path: str) -> None:
  """Fractions of memorised / spurious / other samples against N / C (learned: solid; exact: dotted)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  table = summary_table(records)
  dims = sorted({r["d"] for r in table})
  fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
  colors = {"memorised": "tab:blue", "spurious": "tab:red", "other": "tab:green"}
  markers = ["o", "s", "^", "D"]
  for i, d in enumerate(dims):
    for kind, ls in (("learned", "-"), ("exact", ":")):
      rows = [r for r in table if r["d"] == d and r["model"] == kind]
      if not rows:
        continue
      x = [r["n_over_capacity"] for r in rows]
      for k, c in colors.items():
        axes[0].plot(x, [r[k] for r in rows], ls, marker=markers[i % 4], color=c, ms=3.5,
                     label=f"{k} ({kind}, d = {d})" if kind == "learned" or k == "memorised" else None)
      if kind == "learned":
        axes[1].plot(x, [r["spurious_attractors"] for r in rows], "-", marker=markers[i % 4], color="k",
                     ms=3.5, label=f"d = {d}")
  for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N / capacity")
  axes[0].set_ylabel("fraction of samples")
  axes[0].set_title("memorised / spurious / other (exact model dotted)", fontsize=9)
  axes[0].legend(fontsize=6)
  axes[1].set_ylabel("distinct spurious attractors (mean per network)")
  axes[1].set_title("spurious attractors of the learned networks", fontsize=9)
  axes[1].legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)


def write_results(records: Sequence[dict[str, Any]], summary: dict[str, Any], out_dir: str) -> None:
  """DIR/memorisation.csv and DIR/memorisation_exact.csv (the records of each model, if any),
  DIR/memorisation.json (`summary`) and DIR/memorisation.png, each atomically."""
  for kind, name in CSV_FILES:
    rows = [r for r in records if r["model"] == kind]
    if rows:
      files.write_text(os.path.join(out_dir, name), csv_text(rows))
  files.write_json(os.path.join(out_dir, "memorisation.json"), summary)
  plot(records, os.path.join(out_dir, "memorisation.png"))


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section for REPORT.md: the fractions per (d, N) for the learned and the exact model."""
  head = f"## {TITLE}"
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  path = os.path.join(out_dir, "memorisation.json")
  if not os.path.exists(path):
    return f"{head}\n\nNo results: run `scripts/memorisation.py` first.\n"
  with open(path) as f:
    s = json.load(f)
  c = s["config"]
  lines = [head, "",
           f"Score networks ({c['hidden_per_dim']}·d hidden units, {c['n_iterations']} Adam steps, θ ~ "
           f"U({c['theta_min']}, {c['theta_max']})) trained on N random ±1 patterns, N from below to "
           f"{max(c['ratios']):g}× the capacity C; {c['n_samples']} Euler–Maruyama samples per network from "
           f"the prior. Memorised: within δ_m = {c['delta_m']} (Euclidean) of a training pattern; spurious: "
           f"otherwise within δ_s = {c['delta_s']} of another such sample; other: the rest. Means over "
           f"{c['repeats']} networks; the exact score (last columns) memorises at every N.", "",
           "| d | N | N / C | memorised | spurious | other | spurious attractors | exact: memorised |",
           "|---|---|---|---|---|---|---|---|"]
  exact = {(r["d"], r["n_patterns"]): r for r in s["table"] if r["model"] == "exact"}
  for r in s["table"]:
    if r["model"] != "learned":
      continue
    e = exact.get((r["d"], r["n_patterns"]))
    lines.append(f"| {r['d']} | {r['n_patterns']} | {r['n_over_capacity']:.2g} | {r['memorised']:.2f} | "
                 f"{r['spurious']:.2f} | {r['other']:.2f} | {r['spurious_attractors']:.1f} | "
                 f"{'–' if e is None else format(e['memorised'], '.2f')} |")
  lines.append("")
  rel = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))
  if os.path.exists(os.path.join(out_dir, "memorisation.png")):
    lines += [f"![Memorisation to generalisation]({rel}/memorisation.png)", ""]
  return "\n".join(lines)
