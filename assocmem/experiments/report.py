"""results/REPORT.md: every experiment's numbers beside the papers' numbers, with figures."""

from __future__ import annotations

import datetime
import json
import os
import platform
from typing import Any

import jax


def _read(path: str) -> str | None:
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return f.read()


def _read_json(path: str) -> dict[str, Any] | None:
  raw = _read(path)
  if raw is None:
    return None
  try:
    out = json.loads(raw)
  except json.JSONDecodeError:
    return None
  return out if isinstance(out, dict) else None


def _table1_section(results_dir: str) -> str:
  """table1.md as a section (it names the preset, the classical network and the precision)."""
  md = _read(os.path.join(results_dir, "table1", "table1.md"))
  if md is None:
    return "## Seed 002, Table 1\n\nNot run (no `table1/table1.md`).\n"
  body = md.strip()
  if not body.startswith("#"):
    body = "## Seed 002, Table 1\n\n" + body
  else:
    body = "\n".join(("#" + line) if line.startswith("# ") else line for line in body.splitlines())
  return body + "\n\nConfiguration: `table1/table1.json`.\n"


def _capacity_section(results_dir: str) -> str:
  out_dir = os.path.join(results_dir, "capacity")
  if not os.path.exists(os.path.join(out_dir, "capacity.csv")):
    return "## Seed 002, capacity (Figure 3)\n\nNot run (no `capacity/capacity.csv`).\n"
  from assocmem.experiments import capacity  # pylint: disable=import-outside-toplevel
  learned_csv = os.path.join(results_dir, "learned_capacity", "learned_capacity.csv")
  if os.path.exists(learned_csv):
    draw_figure3b_with_learned(out_dir, learned_csv)
  return capacity.capacity_report_section(out_dir)


def draw_figure3b_with_learned(capacity_dir: str, learned_csv: str) -> str:
  """DIR/fig3b_capacity_learned.png: Figure 3b (exact curves of DIR/capacity.csv) with the learned
  model's capacities of `learned_csv` (learned_capacity.csv) as black dots (seed 002, App. A)."""
  from assocmem.experiments import capacity, learned_capacity  # pylint: disable=import-outside-toplevel
  rows = capacity.read_capacity_rows(capacity_dir)
  models = [m for m in capacity.MODELS if any(r["model"] == m for r in rows)]
  threshold = 0.03
  summary_path = os.path.join(capacity_dir, "summary.json")
  if os.path.exists(summary_path):
    with open(summary_path) as f:
      threshold = json.load(f).get("config", {}).get("threshold", threshold)
  return capacity.plot_capacity(rows, models, threshold, os.path.join(capacity_dir, "fig3b_capacity_learned.png"),
                                learned_capacity.load_points(learned_csv))


def _figure_lines(results_dir: str, sub: str, figures: list[str]) -> list[str]:
  return [f"![{fig}]({sub}/{fig})" for fig in figures if os.path.exists(os.path.join(results_dir, sub, fig))]


def _fmt(value: Any, spec: str = ".3g") -> str:
  """A number for the report (integers in full), or "–" when the summary lacks it."""
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    return "–"
  return str(value) if isinstance(value, int) else format(value, spec)


def _pattern(index: Any) -> str:
  if not isinstance(index, int):
    return "–"
  return "none" if index < 0 else str(index)


def _trajectories_section(results_dir: str) -> str:
  """Figure 2a: a sentence, the figure, and per cue the pattern each method ends on."""
  title = "## Seed 002, Figure 2a: denoising trajectories"
  summary = _read_json(os.path.join(results_dir, "trajectories", "summary.json"))
  figures = _figure_lines(results_dir, "trajectories", ["figure2a.png"])
  if summary is None or not figures:
    return f"{title}\n\nNot run (no `trajectories/summary.json` or `figure2a.png`).\n"
  cfg = summary.get("config", {})
  cues = summary.get("cues", [])
  lines = [title, "",
           f"From denoising cues (θ = {_fmt(cfg.get('theta'), 'g')}) of {_fmt(cfg.get('n_patterns'))} "
           f"random binary patterns in d = {_fmt(cfg.get('dim'))}, the exact-score diffusion's "
           f"probability-flow ODE (Euler, {_fmt(cfg.get('n_steps'))} steps) and reverse SDE "
           f"(Euler–Maruyama) are integrated next to {_fmt(cfg.get('mhn_steps'))} modern Hopfield "
           f"updates (β = {_fmt(cfg.get('beta'), 'g')}); the paper's claim is that the ODE and the "
           "MHN converge to the same stored pattern. The table gives, per cue, the stored pattern "
           "each method's binarised end point equals (\"none\": no stored pattern).", "",
           *figures, "",
           "| cue | cued pattern | ODE | SDE | MHN | ODE = MHN | max \\|ODE − MHN\\| |",
           "|---:|---:|---:|---:|---:|:-:|---:|"]
  for r in cues:
    agree = "yes" if r.get("ode_mhn_agree") else "no"
    lines.append(f"| {r.get('cue', '–')} | {_pattern(r.get('target'))} | {_pattern(r.get('ode'))} | "
                 f"{_pattern(r.get('sde'))} | {_pattern(r.get('mhn'))} | {agree} | "
                 f"{_fmt(r.get('max_abs_ode_minus_mhn'), '.3f')} |")
  if cues:
    n = len(cues)
    n_agree = sum(bool(r.get("ode_mhn_agree")) for r in cues)
    n_target = sum(r.get("ode") == r.get("target") for r in cues)
    lines += ["", f"ODE and MHN end on the same binary state for {n_agree} of {n} cues; the ODE "
              f"recovers the cued pattern for {n_target} of {n}. The SDE is stochastic and may land "
              "on another pattern. Data: `trajectories/summary.json`, `trajectories/trajectories.npz`."]
  return "\n".join(lines) + "\n"


def _landscapes_section(results_dir: str) -> str:
  """Figure 1: a sentence, the figure, and per panel the memory type and what its density does."""
  title = "## Seed 002, Figure 1: energy landscapes"
  summary = _read_json(os.path.join(results_dir, "landscapes", "summary.json"))
  figures = _figure_lines(results_dir, "landscapes", ["figure1.png"])
  if summary is None or not figures:
    return f"{title}\n\nNot run (no `landscapes/summary.json` or `figure1.png`).\n"
  cfg = summary.get("config", {})
  lines = [title, "",
           f"The exact VP diffusion density p_t (colour) and the integral lines of its score (lines) "
           f"at t = {_fmt(cfg.get('t'), 'g')} (θ_t = {_fmt(summary.get('theta_t'), '.3f')}, "
           f"γ = {_fmt(cfg.get('gamma'), 'g')}) on a {_fmt(cfg.get('n_grid'))}² grid over "
           f"[−{_fmt(cfg.get('extent'), 'g')}, {_fmt(cfg.get('extent'), 'g')}]², for three kinds of "
           "memory. Point memories are isolated attractors, one density peak each; extended and "
           "semantic memories spread the density along the memory, where the flow ends on a whole "
           "set of states rather than on one point. The paper gives no coordinates or noise level, "
           "so the figure is qualitative; the table counts the connected high-density regions "
           "(p_t above half its maximum), one per memory, and the share of the window they cover.", "",
           *figures, "",
           "| panel | memory type | regions with p_t > ½ max | their share of the window | p_t range |",
           "|---|---|---:|---:|---|"]
  for name, panel in summary.get("panels", {}).items():
    share = panel.get("area_fraction_above_half_max")
    lines.append(f"| {panel.get('title', name)} | {panel.get('memory_type', '–')} | "
                 f"{_fmt(panel.get('n_regions_above_half_max'))} | "
                 f"{_fmt(100 * share, '.1f') + ' %' if isinstance(share, float) else '–'} | "
                 f"{_fmt(panel.get('density_min'), '.2g')} … {_fmt(panel.get('density_max'), '.3g')} |")
  finite = summary.get("all_finite")
  lines += ["", f"All densities and scores finite: {'yes' if finite else 'no' if finite is not None else '–'}. "
            "Data: `landscapes/summary.json` and one `.npz` per panel."]
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


def _module_section(results_dir: str, sub: str, module: str, title: str) -> str:
  """The `report_section(out_dir, results_dir)` of `assocmem.experiments.<module>`, or a 'not run' line."""
  import importlib  # pylint: disable=import-outside-toplevel
  out_dir = os.path.join(results_dir, sub)
  if not os.path.isdir(out_dir):
    return f"## {title}\n\nNot run (no `{sub}/`).\n"
  mod = importlib.import_module(f"assocmem.experiments.{module}")
  return mod.report_section(out_dir, results_dir)


def build_report(results_dir: str) -> str:
  """Assembles the Markdown report from what the experiments wrote under `results_dir`."""
  now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
  header = (f"# assocmem reproduction report\n\nGenerated {now} on {platform.node() or 'unknown'} "
            f"({os.cpu_count()} CPUs, {jax.default_backend()} backend, {jax.device_count()} device(s), "
            f"jax {jax.__version__}). Each section names the preset and settings it ran; "
            "quick-preset numbers are noisier than full-size runs. See docs/reproduction.md.\n")
  sections = [
      header,
      _table1_section(results_dir),
      _capacity_section(results_dir),
      _trajectories_section(results_dir),
      _landscapes_section(results_dir),
      _module_section(results_dir, "figure2b", "figure2b", "Seed 002, Figure 2b (learned vs exact trajectories)"),
      _module_section(results_dir, "learned_capacity", "learned_capacity", "Seed 002, learned capacity (Figure 3b, black dots)"),
      _module_section(results_dir, "memorisation", "memorisation", "Beyond seed 002: memorisation → generalisation"),
      _module_section(results_dir, "consolidation", "consolidation", "Seed 000: generative consolidation"),
      _benchmark_section(results_dir),
  ]
  return "\n".join(s for s in sections if s)
