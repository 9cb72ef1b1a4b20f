"""Exact against learned deterministic denoising trajectories (seed 002, Figure 2b): the run.

Seed 002, §7 and the Figure 2 caption: d = 5, four random binary patterns, a three-layer ReLU
score network with 750 hidden units and θ_t appended to every layer, trained by the denoising
loss of Eq. 27 (θ_t ~ U(0.6, 1), Adam 1e-3, full batch, 5,000 iterations). From the same
denoising cues as Figure 2a (`assocmem.experiments.trajectories.make_problem`: θ = 0.68, same
seed) we integrate the probability-flow ODE (Euler, Eq. 28) with the exact score (Eqs. A3–A4)
and with the learned score −δ̂ / √(1 − θ_t²), on the same grid (γ = 0.8 as in Figure 2a; 300
steps at the quick preset, the caption's 2,000 at the paper preset).
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable

import jax
import numpy as np

from assocmem.bank import make_bank
from assocmem.experiments import trajectories
from assocmem.experiments.figure2b import report
from assocmem.experiments.figure2b.config import Figure2bConfig
from assocmem.metrics import binarize
from assocmem.nn.score_mlp import ScoreMLP, learned_score_fn
from assocmem.samplers import ode_sample, time_grid
from assocmem.scores import exact_score_fn
from assocmem.sde import VPSDE
from assocmem.train import score as train_lib

Array = jax.Array


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
  exact_fn, learned_fn = exact_score_fn(sde), learned_score_fn(sde)
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


def _check_key(key: Array | None, seed: int) -> None:
  """Figure 2b's patterns and cues are Figure 2a's, drawn from `seed`: only that key is accepted."""
  if key is None:
    return
  words = lambda k: np.asarray(jax.random.key_data(k)).ravel()
  if not np.array_equal(words(key), words(jax.random.PRNGKey(seed))):
    raise ValueError("key must be None or jax.random.PRNGKey(config.seed): Figure 2b reuses Figure 2a's "
                     "patterns and cues, drawn from config.seed (and the network from config.train_seed); "
                     "change those seeds instead")


def run(cfg: Figure2bConfig, out_dir: str, *, key: Array | None = None,
        on_chunk: Callable | None = None) -> dict[str, Any]:
  """Trains (resuming from DIR/checkpoints), integrates both ODEs, writes figure2b.{png,json,csv}.

  Args:
    cfg: settings.
    out_dir: DIR.
    key: None or `PRNGKey(cfg.seed)` (the problem is Figure 2a's, drawn from cfg.seed; the network's
      key is `PRNGKey(cfg.train_seed)`); another key raises ValueError.
    on_chunk: passed to training (tests and --abort_after_chunks).
  Returns:
    the summary written to figure2b.json.
  """
  _check_key(key, cfg.seed)
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
  report.write_results(summary, paths, targets, cfg, out_dir)
  return summary
