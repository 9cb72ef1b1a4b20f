"""Table 1's files (table1.csv, table1.md, table1.json) and its REPORT.md section.

The published table these files compare against is `assocmem.experiments.references.TABLE1`
(seed 002, Table 1).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Sequence

from assocmem import _checks, files
from assocmem.experiments import references
from assocmem.experiments.table1.config import (MODELS, PRESET_NOTES, PRESETS, TASKS, Table1Config,
                                                classic_description, precision_description)

CSV_HEADER = "task,n_patterns,diffusion,classic,true"
TITLE = "Seed 002, Table 1"


def paper_row(task: str, n_patterns: int) -> dict[str, float] | None:
  """The paper's Table 1 entries for (task, N) (`references.TABLE1`), or None where it has no such row."""
  _checks.check_choice("task", task, TASKS)
  return references.TABLE1.get((task, int(n_patterns)))


def max_abs_diff_from_paper(rows: Sequence[dict[str, Any]]) -> float | None:
  """The largest |ours − published| over the rows the paper has (None if it has none of them)."""
  diffs = [abs(r[m] - paper[m]) for r in rows if (paper := paper_row(r["task"], r["n_patterns"]))
           for m in MODELS]
  return max(diffs) if diffs else None


def nearest_preset(config: Table1Config) -> str:
  """The preset `config` equals, or else the one it differs from in the fewest settings (first wins)."""
  def n_changed(name: str) -> int:
    base = PRESETS[name]
    return sum(getattr(config, f.name) != getattr(base, f.name) for f in dataclasses.fields(config))
  return min(PRESETS, key=n_changed)


def preset_label(config: Table1Config, preset: str | None = None) -> str:
  """`preset` (default: `nearest_preset(config)`), followed by the settings in which `config` differs
  from it, e.g. "reproduce + classic_mode=async, precision=float32"."""
  preset = nearest_preset(config) if preset is None else preset
  base = PRESETS.get(preset)
  if base is None:
    return preset
  changed = [f"{f.name}={getattr(config, f.name)}" for f in dataclasses.fields(config)
             if getattr(config, f.name) != getattr(base, f.name)]
  return preset + (f" + {', '.join(changed)}" if changed else "")


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
  """table1.csv: the header task,n_patterns,diffusion,classic,true and one line per row."""
  lines = [CSV_HEADER]
  for r in rows:
    if r["task"] not in TASKS:
      raise ValueError(f"unknown task {r['task']!r}; expected one of {TASKS}")
    lines.append(f"{r['task']},{int(r['n_patterns'])}," + ",".join(f"{float(r[m]):.4f}" for m in MODELS))
  return "\n".join(lines) + "\n"


def read_rows(out_dir: str) -> list[dict[str, Any]]:
  """The rows of out_dir/table1.csv as numbers: {task, n_patterns, diffusion, classic, true}."""
  with open(os.path.join(out_dir, "table1.csv")) as f:
    lines = f.read().splitlines()
  if not lines or lines[0] != CSV_HEADER:
    raise ValueError(f"out_dir {out_dir!r}: table1.csv does not start with {CSV_HEADER!r}")
  rows = []
  for line in lines[1:]:
    task, n, *values = line.split(",")
    rows.append({"task": task, "n_patterns": int(n), **{m: float(v) for m, v in zip(MODELS, values)}})
  return rows


def _expectation(config: Table1Config) -> str:
  """What the largest difference should be for this configuration (docs/reproduction.md)."""
  tol = references.TABLE1_TOLERANCE
  if config.classic_zero_diagonal:
    return ("with the zero diagonal the classic column is expected 0.27–0.33 below the paper "
            f"(docs/reproduction.md); the target ≤ {tol:g} holds for the diagonal kept (preset `reproduce`)")
  if config.repeats < 100:
    return f"target ≤ {tol:g} at 100 repeats; {config.repeats} repeats add sampling noise"
  return f"target ≤ {tol:g}"


def markdown_text(rows: Sequence[dict[str, Any]], config: Table1Config, seconds: float | None = None,
                  preset: str | None = None) -> str:
  """table1.md: our correlations beside seed 002's Table 1, with the differences and what ran.

  `preset` names the preset the configuration came from (default: `nearest_preset(config)`).
  """
  preset = nearest_preset(config) if preset is None else preset
  out = [f"# {TITLE} (preset `{preset_label(config, preset)}`)", ""]
  if preset in PRESET_NOTES:
    out += [f"Preset `{preset}`: {PRESET_NOTES[preset]}.", ""]
  out += [f"Ran: {classic_description(config)}; {precision_description(config)}; "
          f"{config.repeats} repeats.", "",
          "Pearson correlation between the binarised output of the modern Hopfield network and each "
          "model: ours / paper / difference (ours − paper).", ""]
  head = "| task | N |" + "".join(f" {m} | paper | Δ |" for m in MODELS)
  out += [head, "|---|---|" + "---:|---:|---:|" * len(MODELS)]
  worst = 0.0
  for r in rows:
    paper = paper_row(r["task"], r["n_patterns"])
    cells = []
    for m in MODELS:
      if paper is None:
        cells.append(f" {r[m]:.3f} | – | – |")
      else:
        diff = r[m] - paper[m]
        worst = max(worst, abs(diff))
        cells.append(f" {r[m]:.3f} | {paper[m]:.3f} | {diff:+.3f} |")
    out.append(f"| {r['task']} | {r['n_patterns']} |" + "".join(cells))
  out += ["", f"Largest |difference|: {worst:.3f} ({_expectation(config)}).", ""]
  settings = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(config).items())
  out += [f"Settings: {settings}.", ""]
  if seconds is not None:
    out += [f"Wall time: {seconds:.1f} s.", ""]
  return "\n".join(out)


def config_json(config: Table1Config, seconds: float | None = None, preset: str | None = None) -> str:
  """table1.json: the preset, the configuration, and the classical network and precision in words."""
  preset = nearest_preset(config) if preset is None else preset
  record: dict[str, Any] = {"preset": preset, "config": dataclasses.asdict(config),
                            "classic_network": classic_description(config),
                            "precision": precision_description(config)}
  if seconds is not None:
    record["wall_seconds"] = round(seconds, 2)
  return json.dumps(record, indent=2, sort_keys=True) + "\n"


def write_outputs(out_dir: str, rows: Sequence[dict[str, Any]], config: Table1Config,
                  seconds: float | None = None, preset: str | None = None) -> None:
  """Writes table1.csv, table1.md and table1.json into `out_dir`, each atomically."""
  files.write_text(os.path.join(out_dir, "table1.csv"), csv_text(rows))
  files.write_text(os.path.join(out_dir, "table1.md"), markdown_text(rows, config, seconds, preset))
  files.write_text(os.path.join(out_dir, "table1.json"), config_json(config, seconds, preset))


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """table1.md as a REPORT.md section (its heading one level down), or a 'not run' paragraph."""
  del results_dir
  path = os.path.join(out_dir, "table1.md")
  if not os.path.exists(path):
    return f"## {TITLE}\n\nNot run (no `{os.path.basename(out_dir)}/table1.md`).\n"
  with open(path) as f:
    body = f.read().strip()
  if not body.startswith("#"):
    body = f"## {TITLE}\n\n" + body
  else:
    body = "\n".join(("#" + line) if line.startswith("# ") else line for line in body.splitlines())
  return body + f"\n\nConfiguration: `{os.path.basename(out_dir)}/table1.json`.\n"
