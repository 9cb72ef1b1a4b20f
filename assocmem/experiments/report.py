"""results/REPORT.md: every registered experiment's section (numbers beside the papers', figures).

The report lists the experiments of `assocmem.experiments.registry` in registry order: a header, then
per experiment its `report_section(out_dir, results_dir)` (or a 'not run' paragraph when its folder is
absent), then the benchmarks of `make bench`. An experiment registered by a user appears the same way.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from typing import Sequence

import jax

from assocmem.experiments import registry
from assocmem.experiments.base import Experiment


def header() -> str:
  """The report's title and the machine it was generated on."""
  now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
  return (f"# assocmem reproduction report\n\nGenerated {now} on {platform.node() or 'unknown'} "
          f"({os.cpu_count()} CPUs, {jax.default_backend()} backend, {jax.device_count()} device(s), "
          f"jax {jax.__version__}). Each section names the preset and settings it ran; "
          "quick-preset numbers are noisier than full-size runs. See docs/reproduction.md.\n")


def experiment_section(experiment: Experiment, results_dir: str) -> str:
  """`experiment`'s section: its `report_section` on results_dir/<folder>, or 'Not run' without that folder."""
  out_dir = experiment.output_dir(results_dir)
  if not os.path.isdir(out_dir):
    return f"## {experiment.title}\n\nNot run (no `{experiment.folder}/`).\n"
  return experiment.report_section(out_dir, results_dir)


def benchmark_section(results_dir: str) -> str:
  """results_dir/benchmarks.json (`make bench`) as a table, or "" when it is absent."""
  path = os.path.join(results_dir, "benchmarks.json")
  if not os.path.exists(path):
    return ""
  with open(path) as f:
    rows = json.load(f)
  lines = ["## Benchmarks (`make bench`)", "",
           "| case | seconds | GFLOP/s | matmul GFLOP/s | fraction of matmul | NumPy seconds | speed-up |",
           "|---|---|---|---|---|---|---|"]
  for r in rows:
    g, m, s, n = r.get("gflops"), r.get("matmul_gflops"), r.get("seconds"), r.get("numpy_seconds")
    frac = f"{g / m:.2f}" if g and m else "–"
    speed = f"{n / s:.1f}×" if n and s else "–"
    fmt = lambda v: f"{v:.4g}" if isinstance(v, (int, float)) else "–"  # noqa: E731
    lines.append(f"| {r['name']} | {fmt(s)} | {fmt(g)} | {fmt(m)} | {frac} | {fmt(n)} | {speed} |")
  return "\n".join(lines) + "\n"


def build_report(results_dir: str, experiments: Sequence[Experiment] | None = None) -> str:
  """Assembles the Markdown report from what the experiments wrote under `results_dir`.

  Args:
    results_dir: the directory each experiment wrote its folder into (`make reproduce`: results/).
    experiments: the experiments to report, in order; default: every registered one
      (`registry.experiments()`).
  """
  experiments = registry.experiments() if experiments is None else tuple(experiments)
  sections = [header(), *(experiment_section(e, results_dir) for e in experiments),
              benchmark_section(results_dir)]
  return "\n".join(s for s in sections if s)
