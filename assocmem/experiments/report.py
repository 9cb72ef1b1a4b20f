"""results/REPORT.md: every experiment's numbers beside the papers' numbers, with figures."""

from __future__ import annotations

import csv
import datetime
import json
import os
import platform

import jax


def _read(path: str) -> str | None:
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return f.read()


def _table1_section(results_dir: str) -> str:
  md = _read(os.path.join(results_dir, "table1", "table1.md"))
  if md is None:
    return "## Seed 002, Table 1\n\nNot run (no `table1/table1.md`).\n"
  cfg = _read(os.path.join(results_dir, "table1", "table1.json"))
  extra = ""
  if cfg:
    extra = "\n<details><summary>Configuration</summary>\n\n```json\n" + cfg.strip() + "\n```\n</details>\n"
  body = md.strip()
  if not body.startswith("#"):
    body = "## Seed 002, Table 1\n\n" + body
  else:
    body = "\n".join(("#" + line) if line.startswith("# ") else line for line in body.splitlines())
  return body + "\n" + extra


def _capacity_section(results_dir: str) -> str:
  out_dir = os.path.join(results_dir, "capacity")
  if not os.path.exists(os.path.join(out_dir, "capacity.csv")):
    return "## Seed 002, capacity (Figure 3)\n\nNot run (no `capacity/capacity.csv`).\n"
  from assocmem.experiments import capacity  # pylint: disable=import-outside-toplevel
  return capacity.capacity_report_section(out_dir)


def _figure_section(results_dir: str, sub: str, title: str, figures: list[str]) -> str:
  d = os.path.join(results_dir, sub)
  lines = [f"## {title}", ""]
  found = False
  for fig in figures:
    if os.path.exists(os.path.join(d, fig)):
      lines.append(f"![{fig}]({sub}/{fig})")
      found = True
  summary = _read(os.path.join(d, "summary.json"))
  if summary:
    lines += ["", "```json", summary.strip(), "```"]
  if not found:
    lines.append(f"Not run (no figures in `{sub}/`).")
  return "\n".join(lines) + "\n"


def _benchmark_section(results_dir: str) -> str:
  raw = _read(os.path.join(results_dir, "benchmarks.json"))
  if raw is None:
    return ""
  rows = json.loads(raw)
  lines = ["## Benchmarks (`make bench`)", "",
           "| case | seconds | GFLOP/s | matmul GFLOP/s | fraction of matmul | NumPy seconds | speed-up |",
           "|---|---|---|---|---|---|---|"]
  for r in rows:
    g, m, s, n = r.get("gflops"), r.get("matmul_gflops"), r.get("seconds"), r.get("numpy_seconds")
    frac = f"{g / m:.2f}" if g and m else "–"
    speed = f"{n / s:.1f}×" if n and s else "–"
    fmt = lambda v: f"{v:.4g}" if isinstance(v, (int, float)) else "–"
    lines.append(f"| {r['name']} | {fmt(s)} | {fmt(g)} | {fmt(m)} | {frac} | {fmt(n)} | {speed} |")
  return "\n".join(lines) + "\n"


def build_report(results_dir: str) -> str:
  """Assembles the Markdown report from what the experiments wrote under `results_dir`."""
  now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
  header = (f"# assocmem reproduction report\n\nGenerated {now} on {platform.node() or 'unknown'} "
            f"({os.cpu_count()} CPUs, {jax.default_backend()} backend, {jax.device_count()} device(s), "
            f"jax {jax.__version__}). Quick-preset numbers are noisier than the paper presets "
            "(`--preset=paper`); see docs/reproduction.md.\n")
  sections = [
      header,
      _table1_section(results_dir),
      _capacity_section(results_dir),
      _figure_section(results_dir, "trajectories", "Seed 002, Figure 2a: denoising trajectories",
                      ["figure2a.png"]),
      _figure_section(results_dir, "landscapes", "Seed 002, Figure 1: energy landscapes",
                      ["figure1.png"]),
      _benchmark_section(results_dir),
  ]
  return "\n".join(s for s in sections if s)
