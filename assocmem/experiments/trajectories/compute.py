"""Figure 2a, computed: the problem (patterns, cues, keys), the ODE/SDE/MHN trajectories, and `run`."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import files
from assocmem.bank import make_bank
from assocmem.experiments.trajectories import report
from assocmem.experiments.trajectories.config import TrajectoryConfig
from assocmem.hopfield import mhn_retrieve
from assocmem.metrics import binarize
from assocmem.patterns import denoising_cue, random_binary_patterns
from assocmem.samplers import em_sample, ode_sample, time_grid
from assocmem.scores import exact_score_fn
from assocmem.sde import VPSDE

Array = jax.Array


def make_problem(cfg: TrajectoryConfig, key: Array | None = None) -> dict[str, Array]:
  """Patterns (N, d), cues (C, d), target index per cue (C,) and SDE keys (C, 2), drawn from `key`
  (None: `jax.random.PRNGKey(cfg.seed)`)."""
  key = jax.random.PRNGKey(cfg.seed) if key is None else key
  k_pat, k_cue, k_sde = jax.random.split(key, 3)
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
  score_fn = exact_score_fn(sde)
  bank = make_bank(patterns)
  t0, t1, n = cfg.t_start, cfg.t_end, cfg.n_steps

  @jax.jit
  def all_paths(cues, keys):
    ode = jax.vmap(lambda x: ode_sample(score_fn, bank, sde, x, t0, t1, n, return_trajectory=True)[1])(cues)
    em = jax.vmap(lambda k, x: em_sample(k, score_fn, bank, sde, x, t0, t1, n,
                                         return_trajectory=True)[1])(keys, cues)
    mhn = jax.vmap(lambda x: mhn_retrieve(patterns, x, cfg.beta, cfg.mhn_steps,
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


def run(cfg: TrajectoryConfig, out_dir: str, *, key: Array | None = None) -> dict[str, Any]:
  """Computes Figure 2a and writes figure2a.png, trajectories.npz and summary.json; returns the summary.

  `key` draws the patterns, cues and SDE noise (None: `jax.random.PRNGKey(cfg.seed)`).
  """
  t0 = time.perf_counter()
  problem = make_problem(cfg, key)
  paths = run_trajectories(cfg, problem["patterns"], problem["cues"], problem["sde_keys"])
  seconds = time.perf_counter() - t0
  patterns, targets = np.asarray(problem["patterns"]), np.asarray(problem["targets"])
  files.save_npz(os.path.join(out_dir, "trajectories.npz"), patterns=patterns,
                 cues=np.asarray(problem["cues"]), targets=targets, **paths)
  report.write_figure(paths, targets, cfg, out_dir)
  summary = {"config": {**dataclasses.asdict(cfg), "t_start": cfg.t_start},
             **summarize(patterns, targets, paths),
             "compute_seconds": round(seconds, 3), "figures": [report.FIGURE]}
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary
