"""Result files, figure and REPORT.md section of the probabilistic-recall experiment (seed 002, §5.1)."""

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
from assocmem.experiments.probabilistic_recall.config import CSV_HEADER, RecallConfig

TITLE = "Seed 002 §5.1: probabilistic recall"
RECALL_CSV = "recall.csv"
FREQ_CSV = "frequencies.csv"
FIGURE = "probabilistic_recall.png"
FREQ_HEADER = ("cue", "theta", "pattern", "weight", "f_sde", "f_ode", "f_learned")


def _f(x: float) -> str:
  return "nan" if not np.isfinite(x) else f"{x:.6f}"


def recall_rows(cfg: RecallConfig, result: dict[str, Any]) -> list[dict[str, str]]:
  """One row per cue (CSV_HEADER), numbers formatted to 6 decimals."""
  rows = []
  learned = "tv_learned" in result
  for c in range(len(result["thetas"])):
    tv_l = float(result["tv_learned"][c]) if learned else float("nan")
    q_l = float(result["null_q_learned"][c]) if learned else float("nan")
    rows.append({
        "theta": f"{float(result['thetas'][c]):g}", "cue": str(c), "target": str(int(result["targets"][c])),
        "t_start": _f(float(result["t_starts"][c])), "max_weight": _f(float(np.max(result["weights"][c]))),
        "n_sde": str(cfg.n_trajectories), "tv_sde": _f(float(result["tv_sde"][c])),
        "null_q_sde": _f(float(result["null_q_sde"][c])),
        "sde_within": str(bool(result["tv_sde"][c] <= result["null_q_sde"][c])),
        "ode_pattern": str(int(result["ode_labels"][c])), "tv_ode": _f(float(result["tv_ode"][c])),
        "n_learned": str(cfg.n_learned_trajectories if learned else 0), "tv_learned": _f(tv_l),
        "null_q_learned": _f(q_l), "learned_within": str(bool(learned and tv_l <= q_l)) if learned else "",
    })
  return rows


def _csv_text(header, rows) -> str:
  buf = io.StringIO()
  w = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n")
  w.writeheader()
  w.writerows(rows)
  return buf.getvalue()


def frequency_rows(result: dict[str, Any]) -> list[dict[str, str]]:
  """One row per (cue, pattern): exact weight and the endpoint frequencies of SDE, ODE and learned SDE."""
  rows = []
  n_cues, n_pat = result["weights"].shape
  for c in range(n_cues):
    for n in range(n_pat):
      rows.append({"cue": str(c), "theta": f"{float(result['thetas'][c]):g}", "pattern": str(n),
                   "weight": _f(result["weights"][c, n]), "f_sde": _f(result["f_sde"][c, n]),
                   "f_ode": _f(result["f_ode"][c, n]),
                   "f_learned": _f(result["f_learned"][c, n]) if "f_learned" in result else "nan"})
  return rows


def plot(cfg: RecallConfig, result: dict[str, Any]):
  """Per cue: exact posterior weights against SDE (exact and learned) endpoint frequencies; ODE's pattern."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  n_cues, n_pat = result["weights"].shape
  cols = cfg.cues_per_theta if cfg.cues_per_theta <= 5 else 5
  rows = -(-n_cues // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(max(3.0 * cols, 8.0), 2.3 * rows + 0.6), squeeze=False,
                           sharey=True)
  x = np.arange(n_pat)
  learned = "f_learned" in result
  width = 0.27 if learned else 0.4
  for c in range(n_cues):
    ax = axes[c // cols, c % cols]
    ax.bar(x - width, result["weights"][c], width, color="0.55", label="exact posterior h_n(ỹ, t_start)")
    ax.bar(x, result["f_sde"][c], width, color="tab:blue", label=f"SDE, exact score ({cfg.n_trajectories})")
    if learned:
      ax.bar(x + width, result["f_learned"][c], width, color="tab:orange",
             label=f"SDE, learned score ({cfg.n_learned_trajectories})")
    ode = int(result["ode_labels"][c])
    ax.plot([ode], [1.02], "v", color="tab:red", ms=7, label="probability-flow ODE (one endpoint)")
    ax.set_ylim(0, 1.1)
    ax.set_xticks(x)
    ax.tick_params(labelsize=7)
    ax.set_title(f"θ = {float(result['thetas'][c]):g}, cue of y{int(result['targets'][c])}: "
                 f"TV {float(result['tv_sde'][c]):.3f}", fontsize=8)
  for c in range(n_cues, rows * cols):
    axes[c // cols, c % cols].axis("off")
  handles, labels = axes[0, 0].get_legend_handles_labels()
  fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False)
  fig.suptitle(f"Probabilistic recall (seed 002 §5.1): d = {cfg.dim}, N = {cfg.n_patterns}; "
               "endpoint frequency per stored pattern", fontsize=9)
  fig.tight_layout(rect=(0, 0.09, 1, 1))
  return fig


def write_results(cfg: RecallConfig, result: dict[str, Any], out_dir: str, *,
                  total_seconds: float) -> dict[str, Any]:
  """Writes recall.csv, frequencies.csv, the figure and summary.json (atomically); returns the summary."""
  rows = recall_rows(cfg, result)
  files.write_text(os.path.join(out_dir, RECALL_CSV), _csv_text(CSV_HEADER, rows))
  files.write_text(os.path.join(out_dir, FREQ_CSV), _csv_text(FREQ_HEADER, frequency_rows(result)))
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig = plot(cfg, result)
  files.save_figure(fig, os.path.join(out_dir, FIGURE), dpi=120)
  plt.close(fig)
  within = [r["sde_within"] == "True" for r in rows]
  summary = {
      "config": dataclasses.asdict(cfg), "cues": len(rows), "sde_within": int(sum(within)),
      "all_sde_within": bool(all(within)),
      "tv_sde_max": float(np.max(result["tv_sde"])), "tv_ode_min": float(np.min(result["tv_ode"])),
      "seconds_exact": round(float(result["seconds_exact"]), 3),
      "total_seconds": round(float(total_seconds), 3), "figures": [FIGURE],
  }
  if "tv_learned" in result:
    summary.update(learned_within=int(sum(r["learned_within"] == "True" for r in rows)),
                   tv_learned_max=float(np.max(result["tv_learned"])),
                   seconds_train=round(float(result["seconds_train"]), 3),
                   seconds_learned=round(float(result["seconds_learned"]), 3))
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary


def read_rows(out_dir: str) -> list[dict[str, str]]:
  """The rows of recall.csv ([] if absent)."""
  path = os.path.join(out_dir, RECALL_CSV)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return list(csv.DictReader(f))


def report_section(out_dir: str, results_dir: str) -> str:
  """Markdown: per cue, TV of the exact SDE beside the null's quantile, TV of the ODE and of the learned SDE."""
  rows = read_rows(out_dir)
  if not rows:
    return f"## {TITLE}\n\nNo results: run `scripts/probabilistic_recall.py` first.\n"
  summary: dict[str, Any] = {}
  if os.path.exists(os.path.join(out_dir, "summary.json")):
    with open(os.path.join(out_dir, "summary.json")) as f:
      summary = json.load(f)
  conf = summary.get("config", {})
  q = conf.get("null_quantile", 0.99)
  learned = any(r["n_learned"] != "0" for r in rows)
  lines = [f"## {TITLE}", ""]
  lines.append(
      f"Seed 002 §5.1: from a denoising cue ỹ = θy + √(1 − θ²)ε of a stored pattern (d = {conf.get('dim')}, "
      f"N = {conf.get('n_patterns')} random binary patterns), the reverse SDE (Euler–Maruyama, Eq. 29, "
      f"{conf.get('n_steps')} {conf.get('grid')} steps from t_start = −2 log θ / γ, γ = {conf.get('gamma')}, to "
      f"{conf.get('t_end')}) should end at stored pattern n with the exact posterior probability h_n(ỹ, t_start) "
      "(Eq. A4). Endpoints are labelled by their nearest stored pattern; TV = ½ Σ|f − h|. The null is the TV of "
      f"Multinomial(M, h)/M with the same count M ({conf.get('n_null')} draws); 'within' = TV ≤ its "
      f"{100 * q:g}th percentile. The probability-flow ODE (Eq. 28) is deterministic: one endpoint per cue.")
  lines.append("")
  head = "| θ | cue (of y) | max h | TV SDE, exact | null p{p} | within? | ODE → | TV ODE |".format(p=f"{100 * q:g}")
  sep = "|---|---|---|---|---|---|---|---|"
  if learned:
    head += " TV SDE, learned | null p{p} (learned) | within? |".format(p=f"{100 * q:g}")
    sep += "---|---|---|"
  lines += [head, sep]
  for r in rows:
    line = (f"| {r['theta']} | {r['cue']} (y{r['target']}) | {float(r['max_weight']):.3f} | "
            f"{float(r['tv_sde']):.4f} | {float(r['null_q_sde']):.4f} | {'yes' if r['sde_within'] == 'True' else 'NO'} | "
            f"y{r['ode_pattern']} | {float(r['tv_ode']):.3f} |")
    if learned:
      line += (f" {float(r['tv_learned']):.4f} | {float(r['null_q_learned']):.4f} | "
               f"{'yes' if r['learned_within'] == 'True' else 'no'} |")
    lines.append(line)
  n_within = sum(r["sde_within"] == "True" for r in rows)
  lines += ["", f"Exact SDE within the null's {100 * q:g}th percentile at {n_within} of {len(rows)} cues "
            f"(M = {rows[0]['n_sde']} trajectories per cue); the ODE's TV is 1 − h of the one pattern it reaches."]
  ref = references.PROBABILISTIC_RECALL_CHECK
  lines.append(f"An independent check (issue 16) found TV {ref['tv_range'][0]}–{ref['tv_range'][1]} with "
               f"{ref['n_trajectories']:,} trajectories from {ref['n_cues']} cues (d = {ref['dim']}, "
               f"N = {ref['n_patterns']}, θ = {ref['theta']}).")
  if learned:
    n_l = sum(r["learned_within"] == "True" for r in rows)
    lines.append(f"Learned score (ScoreMLP, {conf.get('hidden')} wide, {conf.get('train_steps')} Adam steps, "
                 f"θ ~ U({conf.get('train_theta_min')}, 1); M = {rows[0]['n_learned']}): within the null at "
                 f"{n_l} of {len(rows)} cues.")
  if summary:
    lines.append(f"Run time {summary.get('total_seconds')} s.")
  fig = os.path.join(out_dir, FIGURE)
  if os.path.exists(fig):
    lines += ["", f"![probabilistic recall]({os.path.relpath(fig, results_dir)})"]
  return "\n".join(lines) + "\n"
