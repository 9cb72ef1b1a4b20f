"""Denoising trajectories of exact diffusion models and modern Hopfield updates (seed 002, Figure 2a).

Seed 002, §7 and the Figure 2 caption: d = 5, four random binary patterns; each
cue is a denoising cue ỹ = θ y + sqrt(1 − θ²) ε of a stored pattern (θ = 0.68,
App. A). From each cue we integrate the exact-score VP diffusion (γ = 0.8)

  * probability-flow ODE, Euler (Eq. 28 / A2), and
  * reverse SDE, Euler–Maruyama (Eq. 29),

with 2,000 steps (caption of Figure 2; §7's text says 300) from
t_start = −2 log θ / γ (so that the cue has the marginal's signal level) down to
t = 1e-3, and run 4 modern Hopfield updates ξ ← Yᵀ softmax(β Y ξ) with β = 5
from the same cue. The figure shows the marginal trajectories, each coordinate
against the denoising progress (0 = cue, 1 = end; MHN update k at k / 4).
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, files
from assocmem.hopfield import mhn_retrieve
from assocmem.metrics import binarize
from assocmem.patterns import denoising_cue, random_binary_patterns
from assocmem.samplers import em_sample, ode_sample, time_grid
from assocmem.scores import exact_score
from assocmem.bank import make_bank
from assocmem.sde import VPSDE

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class TrajectoryConfig:
  """Settings of Figure 2a.

  Attributes:
    dim, n_patterns: pattern dimension and number of stored binary patterns.
    n_cues: number of cues; cue i corrupts pattern i mod n_patterns.
    theta: signal level of the denoising cues and of the diffusion start.
    gamma: VP schedule γ.
    n_steps: Euler / Euler–Maruyama steps of the diffusion.
    t_end: final diffusion time.
    beta, mhn_steps: modern Hopfield inverse temperature and number of updates.
    seed: PRNG seed (patterns, cues and SDE noise).
  """
  dim: int = 5
  n_patterns: int = 4
  n_cues: int = 4
  theta: float = 0.68
  gamma: float = 0.8
  n_steps: int = 2000
  t_end: float = 1e-3
  beta: float = 5.0
  mhn_steps: int = 4
  seed: int = 0

  def __post_init__(self):
    _checks.check_int("dim", self.dim, 1)
    _checks.check_int("n_patterns", self.n_patterns, 1)
    _checks.check_int("n_cues", self.n_cues, 1)
    _checks.check_open_unit("theta", self.theta)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_int("n_steps", self.n_steps, 1)
    _checks.check_positive("t_end", self.t_end)
    _checks.check_positive("beta", self.beta)
    _checks.check_int("mhn_steps", self.mhn_steps, 1)
    _checks.check_int("seed", self.seed, 0)
    if self.t_start <= self.t_end:
      raise ValueError(f"t_end must be below t_start = {self.t_start:.4g}, got {self.t_end}")

  @property
  def t_start(self) -> float:
    """Start time of the diffusion, `VPSDE.t_start(θ)` = −2 log θ / γ (seed 002, App. A)."""
    return float(VPSDE(self.gamma).t_start(self.theta))


PRESETS: dict[str, TrajectoryConfig] = {
    "quick": TrajectoryConfig(n_steps=300),   # §7's step count
    "paper": TrajectoryConfig(),              # Figure 2's caption: 2,000 Euler steps
}


def get_preset(name: str, **overrides: Any) -> TrajectoryConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return dataclasses.replace(PRESETS[name], **overrides)


def make_problem(cfg: TrajectoryConfig) -> dict[str, Array]:
  """Patterns (N, d), cues (C, d), target index per cue (C,) and SDE keys (C, 2)."""
  k_pat, k_cue, k_sde = jax.random.split(jax.random.PRNGKey(cfg.seed), 3)
  patterns = random_binary_patterns(k_pat, cfg.n_patterns, cfg.dim)
  targets = jnp.arange(cfg.n_cues) % cfg.n_patterns
  cue_keys = jax.random.split(k_cue, cfg.n_cues)
  cues = jax.vmap(lambda k, y: denoising_cue(k, y, cfg.theta))(cue_keys, patterns[targets])
  return {"patterns": patterns, "cues": cues, "targets": targets,
          "sde_keys": jax.random.split(k_sde, cfg.n_cues)}


def run_trajectories(cfg: TrajectoryConfig, patterns: Array, cues: Array,
                     sde_keys: Array) -> dict[str, np.ndarray]:
  """ODE, SDE and MHN trajectories from each cue (seed 002, Figure 2a).

  Args:
    cfg: settings.
    patterns: (N, d) stored patterns.
    cues: (C, d) initial states.
    sde_keys: (C, 2) PRNG keys of the Euler–Maruyama noise.

  Returns:
    dict of NumPy arrays: "times" (S + 1,) diffusion times, "ode" and "sde"
    (C, S + 1, d), "mhn" (C, K + 1, d) (K = mhn_steps; index 0 is the cue).
  """
  sde = VPSDE(cfg.gamma)
  score_fn = exact_score(sde)
  bank = make_bank(patterns)
  t0, t1, n = cfg.t_start, cfg.t_end, cfg.n_steps

  @jax.jit
  def all_paths(cues, keys):
    ode = jax.vmap(lambda x: ode_sample(score_fn, bank, sde, x, t0, t1, n, return_trajectory=True)[1])(cues)
    em = jax.vmap(lambda k, x: em_sample(k, score_fn, bank, sde, x, t0, t1, n,
                                         return_trajectory=True)[1])(keys, cues)
    mhn = jax.vmap(lambda x: mhn_retrieve(x, patterns, cfg.beta, cfg.mhn_steps,
                                          return_trajectory=True)[1])(cues)
    return ode, em, mhn

  ode, em, mhn = all_paths(cues, sde_keys)
  return {"times": np.asarray(time_grid(t0, t1, n)), "ode": np.asarray(ode), "sde": np.asarray(em),
          "mhn": np.asarray(mhn)}


def summarize(patterns: np.ndarray, targets: np.ndarray, paths: dict[str, np.ndarray]) -> dict[str, Any]:
  """Per cue: the stored pattern each method's binarized end point equals (−1 if none)."""
  patterns = np.asarray(patterns)
  out = []
  for c, target in enumerate(np.asarray(targets)):
    row: dict[str, Any] = {"cue": c, "target": int(target)}
    ends = {}
    for method in ("ode", "sde", "mhn"):
      end = np.asarray(binarize(paths[method][c, -1]))
      ends[method] = end
      hits = np.flatnonzero(np.all(patterns == end[None], axis=1))
      row[method] = int(hits[0]) if hits.size else -1
    row["all_agree"] = bool(np.array_equal(ends["ode"], ends["mhn"])
                            and np.array_equal(ends["sde"], ends["mhn"]))
    row["ode_mhn_agree"] = bool(np.array_equal(ends["ode"], ends["mhn"]))
    row["max_abs_ode_minus_mhn"] = float(np.max(np.abs(paths["ode"][c, -1] - paths["mhn"][c, -1])))
    out.append(row)
  return {"cues": out,
          "fraction_all_agree": float(np.mean([r["all_agree"] for r in out])),
          "fraction_ode_mhn_agree": float(np.mean([r["ode_mhn_agree"] for r in out])),
          "fraction_ode_recovers_target": float(np.mean([r["ode"] == r["target"] for r in out]))}


def plot_figure2a(paths: dict[str, np.ndarray], targets: np.ndarray, cfg: TrajectoryConfig):
  """Figure 2a: marginal trajectories, one panel per cue, one colour per coordinate."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  from matplotlib.lines import Line2D  # pylint: disable=import-outside-toplevel

  n_cues, _, dim = paths["ode"].shape
  times = paths["times"]
  progress = (times[0] - times) / (times[0] - times[-1])
  mhn_progress = np.arange(paths["mhn"].shape[1]) / (paths["mhn"].shape[1] - 1)
  cols = min(n_cues, 4)
  rows = -(-n_cues // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False, sharey=True)
  colors = plt.get_cmap("tab10")
  for c in range(n_cues):
    ax = axes[c // cols, c % cols]
    for i in range(dim):
      col = colors(i % 10)
      ax.plot(progress, paths["sde"][c, :, i], "-", color=col, lw=0.6, alpha=0.45)
      ax.plot(progress, paths["ode"][c, :, i], "-", color=col, lw=1.6)
      ax.plot(mhn_progress, paths["mhn"][c, :, i], "o--", color=col, lw=0.9, ms=4, mfc="white")
    ax.axhline(0.0, color="0.7", lw=0.5)
    ax.set_title(f"cue {c} (pattern {int(targets[c])})", fontsize=9)
    ax.set_xlabel("denoising progress")
    if c % cols == 0:
      ax.set_ylabel("x_i")
  for c in range(n_cues, rows * cols):
    axes[c // cols, c % cols].axis("off")
  handles = [Line2D([], [], color="k", lw=1.6, label=f"ODE (Euler, {cfg.n_steps} steps)"),
             Line2D([], [], color="k", lw=0.6, alpha=0.6, label="SDE (Euler–Maruyama)"),
             Line2D([], [], color="k", ls="--", marker="o", mfc="white", lw=0.9,
                    label=f"MHN, β = {cfg.beta:g}, {cfg.mhn_steps} updates")]
  fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
  fig.suptitle(f"d = {cfg.dim}, {cfg.n_patterns} binary patterns, cues with θ = {cfg.theta}; "
               "one colour per coordinate", fontsize=10)
  fig.tight_layout(rect=(0, 0.06, 1, 1))
  return fig


def run(cfg: TrajectoryConfig, out_dir: str) -> dict[str, Any]:
  """Computes Figure 2a and writes figure2a.png, trajectories.npz and summary.json."""
  t0 = time.perf_counter()
  problem = make_problem(cfg)
  paths = run_trajectories(cfg, problem["patterns"], problem["cues"], problem["sde_keys"])
  seconds = time.perf_counter() - t0
  patterns, targets = np.asarray(problem["patterns"]), np.asarray(problem["targets"])
  files.save_npz(os.path.join(out_dir, "trajectories.npz"), patterns=patterns,
                 cues=np.asarray(problem["cues"]), targets=targets, **paths)
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig = plot_figure2a(paths, targets, cfg)
  files.save_figure(fig, os.path.join(out_dir, "figure2a.png"), dpi=130)
  plt.close(fig)
  summary = {"config": {**dataclasses.asdict(cfg), "t_start": cfg.t_start},
             **summarize(patterns, targets, paths),
             "compute_seconds": round(seconds, 3), "figures": ["figure2a.png"]}
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary
