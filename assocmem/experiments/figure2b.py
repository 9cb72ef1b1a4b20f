"""Exact against learned deterministic denoising trajectories (seed 002, Figure 2b).

Seed 002, §7 and the Figure 2 caption: d = 5, four random binary patterns, a three-layer ReLU
score network with 750 hidden units and θ_t appended to every layer, trained by the denoising
loss of Eq. 27 (θ_t ~ U(0.6, 1), Adam 1e-3, full batch, 5,000 iterations). From the same
denoising cues as Figure 2a (`assocmem.experiments.trajectories.make_problem`: θ = 0.68, same
seed) we integrate the probability-flow ODE (Euler, Eq. 28) with the exact score (Eqs. A3–A4)
and with the learned score −δ̂ / √(1 − θ_t²), on the same grid (γ = 0.8 as in Figure 2a; 300
steps at the quick preset, the caption's 2,000 at the paper preset).

Outputs: figure2b.png (one panel per cue, one colour per coordinate; exact solid, learned
dashed), figure2b.json (settings, loss, endpoint agreement) and figure2b.csv (one row per cue).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import time
from typing import Any, Callable

import jax
import numpy as np

from assocmem import _checks, files
from assocmem.bank import make_bank
from assocmem.experiments import trajectories
from assocmem.metrics import binarize
from assocmem.nn.score_mlp import ScoreMLP, learned_score
from assocmem.samplers import ode_sample, time_grid
from assocmem.scores import exact_score
from assocmem.sde import VPSDE
from assocmem.train import score as train_lib

Array = jax.Array

CSV_HEADER = ("cue", "target", "exact_pattern", "learned_pattern", "agree", "max_abs_endpoint_diff",
              "rms_path_diff")


@dataclasses.dataclass(frozen=True)
class Figure2bConfig:
  """Settings of Figure 2b (defaults: seed 002 §7; the problem is Figure 2a's).

  Attributes:
    dim, n_patterns, n_cues, theta, gamma, seed: the problem, as `trajectories.TrajectoryConfig`.
    n_steps, t_end: Euler steps of both ODEs and the final time.
    hidden: hidden width (750).
    n_iterations, learning_rate, theta_min, theta_max, chunk_size: training (Eq. 27).
    train_seed: seed of the network (initialisation and noise draws).
  """
  dim: int = 5
  n_patterns: int = 4
  n_cues: int = 4
  theta: float = 0.68
  gamma: float = 0.8
  seed: int = 0
  n_steps: int = 2000
  t_end: float = 1e-3
  hidden: int = 750
  n_iterations: int = 5000
  learning_rate: float = 1e-3
  theta_min: float = 0.6
  theta_max: float = 1.0
  chunk_size: int = 250
  train_seed: int = 1

  def __post_init__(self):
    self.problem()        # validates the problem settings
    self.train_config()   # validates the training settings
    _checks.check_int("hidden", self.hidden)
    _checks.check_int("train_seed", self.train_seed, 0)

  def problem(self) -> trajectories.TrajectoryConfig:
    """Figure 2a's configuration of the same problem (patterns, cues, grid)."""
    return trajectories.TrajectoryConfig(dim=self.dim, n_patterns=self.n_patterns, n_cues=self.n_cues,
                                         theta=self.theta, gamma=self.gamma, n_steps=self.n_steps,
                                         t_end=self.t_end, seed=self.seed)

  def train_config(self) -> train_lib.ScoreTrainConfig:
    return train_lib.ScoreTrainConfig(n_iterations=self.n_iterations, learning_rate=self.learning_rate,
                                      theta_min=self.theta_min, theta_max=self.theta_max,
                                      chunk_size=self.chunk_size)


PRESETS: dict[str, Figure2bConfig] = {
    "quick": Figure2bConfig(n_steps=300),   # §7's step count; full training (a few seconds)
    "paper": Figure2bConfig(),              # Figure 2's caption: 2,000 Euler steps
}


def get_preset(name: str, **overrides: Any) -> Figure2bConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return dataclasses.replace(PRESETS[name], **overrides)


def train_network(cfg: Figure2bConfig, patterns: Array, checkpoint_dir: str | None = None,
                  on_chunk: Callable | None = None) -> train_lib.TrainState:
  """Trains the 750-unit network on the stored patterns (Eq. 27), resumable from `checkpoint_dir`."""
  model = ScoreMLP(dim=cfg.dim, hidden=cfg.hidden)
  return train_lib.fit(model, jax.random.PRNGKey(cfg.train_seed), patterns, None, cfg.train_config(),
                       checkpoint_dir=checkpoint_dir, on_chunk=on_chunk, label="figure2b training")


def run_paths(cfg: Figure2bConfig, patterns: Array, cues: Array, params: Any) -> dict[str, np.ndarray]:
  """Exact and learned ODE trajectories from each cue: "times" (S + 1,), "exact"/"learned" (C, S + 1, d)."""
  sde = VPSDE(cfg.gamma)
  t0 = cfg.problem().t_start
  exact_fn, learned_fn = exact_score(sde), learned_score(sde)
  bank = make_bank(patterns)

  @jax.jit
  def paths(cues, params):
    ex = jax.vmap(lambda x: ode_sample(exact_fn, bank, sde, x, t0, cfg.t_end, cfg.n_steps,
                                       return_trajectory=True)[1])(cues)
    le = jax.vmap(lambda x: ode_sample(learned_fn, params, sde, x, t0, cfg.t_end, cfg.n_steps,
                                       return_trajectory=True)[1])(cues)
    return ex, le

  ex, le = paths(cues, params)
  return {"times": np.asarray(time_grid(t0, cfg.t_end, cfg.n_steps)), "exact": np.asarray(ex),
          "learned": np.asarray(le)}


def _pattern_index(patterns: np.ndarray, x: np.ndarray) -> int:
  hits = np.flatnonzero(np.all(patterns == np.asarray(binarize(x))[None], axis=1))
  return int(hits[0]) if hits.size else -1


def summarize(patterns: np.ndarray, targets: np.ndarray, paths: dict[str, np.ndarray]) -> dict[str, Any]:
  """Per cue: the pattern each endpoint binarises to (−1: none), agreement and distances."""
  rows = []
  for c, target in enumerate(np.asarray(targets)):
    ex, le = paths["exact"][c], paths["learned"][c]
    ie, il = _pattern_index(patterns, ex[-1]), _pattern_index(patterns, le[-1])
    rows.append({"cue": c, "target": int(target), "exact_pattern": ie, "learned_pattern": il,
                 "agree": bool(np.array_equal(np.asarray(binarize(ex[-1])), np.asarray(binarize(le[-1])))),
                 "max_abs_endpoint_diff": float(np.max(np.abs(ex[-1] - le[-1]))),
                 "rms_path_diff": float(np.sqrt(np.mean((ex - le) ** 2)))})
  return {"cues": rows,
          "fraction_endpoints_agree": float(np.mean([r["agree"] for r in rows])),
          "fraction_learned_recovers_target": float(np.mean([r["learned_pattern"] == r["target"] for r in rows])),
          "fraction_exact_recovers_target": float(np.mean([r["exact_pattern"] == r["target"] for r in rows])),
          "max_abs_endpoint_diff": float(max(r["max_abs_endpoint_diff"] for r in rows))}


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


def run(cfg: Figure2bConfig, out_dir: str, on_chunk: Callable | None = None) -> dict[str, Any]:
  """Trains (resuming from DIR/checkpoints), integrates both ODEs, writes figure2b.{png,json,csv}."""
  t0 = time.perf_counter()
  problem = trajectories.make_problem(cfg.problem())
  patterns, cues = problem["patterns"], problem["cues"]
  state = train_network(cfg, patterns, os.path.join(out_dir, "checkpoints"), on_chunk)
  t_train = time.perf_counter() - t0
  paths = run_paths(cfg, patterns, cues, state.params)
  patterns_np, targets = np.asarray(patterns), np.asarray(problem["targets"])
  summary = summarize(patterns_np, targets, paths)
  losses = train_lib.loss_curve(state)
  summary.update({"config": dataclasses.asdict(cfg), "t_start": cfg.problem().t_start,
                  "final_loss": float(np.mean(losses[-100:])), "initial_loss": float(np.mean(losses[:100])),
                  "train_seconds": round(t_train, 2), "total_seconds": round(time.perf_counter() - t0, 2),
                  "figures": ["figure2b.png"]})
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig = plot_figure2b(paths, targets, cfg)
  files.save_figure(fig, os.path.join(out_dir, "figure2b.png"), dpi=130)
  plt.close(fig)
  files.write_text(os.path.join(out_dir, "figure2b.csv"), csv_text(summary))
  files.write_json(os.path.join(out_dir, "figure2b.json"), summary)
  return summary


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section for REPORT.md: endpoint agreement table and the figure."""
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  path = os.path.join(out_dir, "figure2b.json")
  head = "## Learned against exact trajectories (seed 002, Figure 2b)"
  if not os.path.exists(path):
    return f"{head}\n\nNo results: run `scripts/train_score.py` first.\n"
  import json  # pylint: disable=import-outside-toplevel
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
