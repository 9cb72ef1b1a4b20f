"""The capacity sweep's computation: one cell = store N patterns, recall 140 cues, count wrong bits.

See `assocmem.experiments.capacity` for the method (seed 002, App. A). A cell's patterns and cues
are drawn on the host from a generator seeded with the cell's key (fold_in of d and N), and are
zero-padded to shape buckets whose padding slots are *empty* bank slots (log-weight −inf), so
the draws and the per-query computation depend neither on the padding nor on the device count,
and one jit compilation serves every cell of a bucket.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import tempfile
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from assocmem import files, mixture
from assocmem.bank import PatternBank, make_bank
from assocmem.energies import hebbian_weights
from assocmem.experiments import sweep
from assocmem.experiments.capacity.config import (PRESETS, CapacityConfig, d_bucket, n_bucket, n_grid)
from assocmem.experiments.capacity.estimate import estimate
from assocmem.experiments.capacity.report import make_figures, write_capacity_csv
from assocmem.hopfield import classical_retrieve, mhn_retrieve
from assocmem.metrics import binarize
from assocmem.samplers import ode_sample
from assocmem.scores import exact_score_fn
from assocmem.sde import VPSDE

Array = jax.Array


def cell_data(key: Array, n: int, d: int, n_queries: int,
              theta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Patterns and denoising cues of one cell (seed 002, App. A), drawn on the host.

  Patterns y_n = sign(g_n), g_n ~ N(0, I_d); query q recalls pattern i_q ~ U{0..N−1}
  from the cue θ y + sqrt(1 − θ²) ε, ε ~ N(0, I_d). The draws come from a NumPy
  generator seeded with the cell's JAX key, so they are a pure function of the key
  and (N, d), independent of padding and devices, and need no compilation.

  Returns:
    patterns (N, d), targets (Q, d) and cues (Q, d), float32.
  """
  rng = np.random.default_rng([int(w) for w in np.asarray(jax.random.key_data(key)).ravel()])
  patterns = np.where(rng.standard_normal((n, d)) >= 0, 1.0, -1.0).astype(np.float32)
  idx = rng.integers(0, n, size=n_queries)
  targets = patterns[idx]
  eps = rng.standard_normal((n_queries, d))
  cues = (theta * targets + math.sqrt(1.0 - theta**2) * eps).astype(np.float32)
  return patterns, targets, cues


def _pad(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
  out = np.zeros(shape, np.float32)
  out[: x.shape[0], : x.shape[1]] = x
  return out


def _recall_fn(model: str, cfg: CapacityConfig, mode: mixture.Mode) -> Callable[[Array, PatternBank, Array], Array]:
  """recall(cue (db,), bank of (nb, db) padded patterns, padded patterns) -> (db,) for one query.

  Padding slots are empty in the bank (log-weight −inf), so the shared mixture primitive gives
  them no weight in the score or the Hopfield update; zero padding rows add nothing to the
  Hebbian weights.
  """
  if model == "diffusion":
    sde = VPSDE(cfg.gamma)
    t_start = float(sde.t_start(cfg.theta))
    score_fn = exact_score_fn(sde, mode)

    def recall(cue, bank, patterns):
      del patterns
      return ode_sample(score_fn, bank, sde, cue, t_start, cfg.t_end, cfg.ode_steps)
    return recall

  if model == "mhn":
    def recall(cue, bank, patterns):
      del patterns
      return mhn_retrieve(bank, cue, cfg.mhn_beta, cfg.mhn_steps, mode=mode)
    return recall

  def recall(cue, bank, patterns):
    del bank
    return classical_retrieve(hebbian_weights(patterns), cue, cfg.classic_steps, "sync")
  return recall


@functools.lru_cache(maxsize=None)
def _compiled_cell(model: str, cfg: CapacityConfig, nb: int, db: int, devices: tuple,
                   mode: mixture.Mode = mixture.DENSE) -> tuple[Callable, NamedSharding, NamedSharding]:
  """jit of one cell's recall on a (nb, db) bucket, queries sharded over `devices`."""
  mesh = Mesh(np.asarray(devices), ("q",))
  q_sharding = NamedSharding(mesh, PartitionSpec("q"))
  replicated = NamedSharding(mesh, PartitionSpec())
  recall = _recall_fn(model, cfg, mode)

  def wrong_bits(patterns, n, d, targets, cues):
    pmask = jnp.arange(nb) < n
    dmask = jnp.arange(db) < d
    bank = make_bank(patterns, log_weights=jnp.where(pmask, 0.0, -jnp.inf))
    out = jax.vmap(lambda c: recall(c, bank, patterns))(cues)
    return jnp.sum((binarize(out) != targets) & dmask[None, :], axis=-1).astype(jnp.int32)

  fn = jax.jit(wrong_bits, in_shardings=(replicated, replicated, replicated, q_sharding, q_sharding),
               out_shardings=q_sharding)
  return fn, q_sharding, replicated


def cell_wrong_bits(model: str, cfg: CapacityConfig, key: Array, n: int, d: int,
                    devices: Sequence | None = None, mode: mixture.Mode = mixture.DENSE) -> np.ndarray:
  """Per-query number of wrongly recalled units (n_queries,) of one cell, sharded over `devices`.

  Patterns are zero-padded to (n_bucket(N), d_bucket(d)) and masked; the queries are
  padded to a multiple of the device count (padding queries recall pattern 0's cue
  and are dropped).
  """
  devices = tuple(jax.devices() if devices is None else devices)
  n_dev = len(devices)
  q_pad = -(-cfg.n_queries // n_dev) * n_dev
  nb, db = n_bucket(n), d_bucket(d)
  fn, q_sharding, replicated = _compiled_cell(model, cfg, nb, db, devices, mode)
  patterns, targets, cues = cell_data(key, n, d, cfg.n_queries, cfg.theta)
  targets = np.concatenate([targets, np.repeat(targets[:1], q_pad - cfg.n_queries, 0)])
  cues = np.concatenate([cues, np.repeat(cues[:1], q_pad - cfg.n_queries, 0)])
  out = fn(jax.device_put(_pad(patterns, (nb, db)), replicated), np.int32(n), np.int32(d),
           jax.device_put(_pad(targets, (q_pad, db)), q_sharding),
           jax.device_put(_pad(cues, (q_pad, db)), q_sharding))
  if not out.is_fully_addressable:     # queries sharded over several processes: gather them
    from jax.experimental import multihost_utils  # pylint: disable=import-outside-toplevel
    out = multihost_utils.process_allgather(out, tiled=True)
  return np.asarray(out)[: cfg.n_queries]


def make_cell_fn(cfg: CapacityConfig, devices: Sequence | None = None,
                 mode: mixture.Mode = mixture.DENSE) -> sweep.CellFn:
  """The sweep's cell function: (params {model, d, n_patterns, config}, key) -> result fields."""
  def cell_fn(params, key):
    model, d, n = params["model"], int(params["d"]), int(params["n_patterns"])
    if params["config"] != cfg.config_hash(model):
      raise ValueError(f"cell {params} does not belong to this configuration")
    wrong = cell_wrong_bits(model, cfg, key, n, d, devices, mode)
    err = wrong / d
    return {"mean_error": float(err.mean()), "median_error": float(np.median(err)),
            "n_wrong": wrong.tolist()}
  return cell_fn


def cell_cost(params: dict) -> float:
  """Relative cost of a cell, for the ETA: steps × N_bucket × d_bucket."""
  steps = {"diffusion": 300, "mhn": 150, "classic": 2}[params["model"]]
  return steps * n_bucket(params["n_patterns"]) * d_bucket(params["d"]) + 2e4


# ---------------------------------------------------------------- the sweep

def _stop_rule(cfg: CapacityConfig) -> Callable[[list[dict]], bool]:
  def stop(records):
    tail = records[-cfg.patience:]
    return len(tail) == cfg.patience and all(r["mean_error"] > cfg.stop_error for r in tail)
  return stop


def _expected_len(model: str, d: int, grid: Sequence[int]) -> int:
  """Rough guess of how far an adaptive series walks (for the ETA only): a few times the capacity."""
  n_stop = 16 if model == "classic" else 32 * 2 ** (0.42 * (d - 10))
  return sum(1 for n in grid if n <= n_stop) + 1


def build_series(cfg: CapacityConfig) -> list[sweep.Series]:
  """Adaptive series per (model, d) over the N grid, plus the fixed Figure 3a cells."""
  grid = n_grid(cfg.n_max, cfg.per_octave)
  out = []
  for model in cfg.models:
    for d in cfg.dims:
      out.append(sweep.Series({"model": model, "d": d, "config": cfg.config_hash(model)},
                              "n_patterns", grid, _stop_rule(cfg), _expected_len(model, d, grid)))
  if "diffusion" in cfg.models:
    for d in cfg.dims:
      out.append(sweep.Series({"model": "diffusion", "d": d, "config": cfg.config_hash("diffusion")},
                              "n_patterns", [n for n in cfg.fig_ns if n <= cfg.n_max]))
  return out


ID_FIELDS = ("model", "d", "n_patterns", "config")


def run_cells(cfg: CapacityConfig, out_dir: str, devices: Sequence | None = None,
              on_record: Callable | None = None,
              mode: mixture.Mode = mixture.DENSE) -> tuple[list[dict], sweep.SweepStats]:
  """Runs (or resumes) the sweep into out_dir/cells.jsonl; returns (records, stats)."""
  files.makedirs(out_dir)
  store = sweep.JsonlStore(os.path.join(out_dir, "cells.jsonl"), ID_FIELDS)
  records, stats = sweep.run_sweep(
      build_series(cfg), make_cell_fn(cfg, devices, mode), store, jax.random.PRNGKey(cfg.seed),
      key_fields=("d", "n_patterns"), cost_fn=cell_cost, on_record=on_record, label="capacity")
  sweep.JsonlStore(os.path.join(out_dir, "runs.jsonl"), ("seconds",)).append(
      {"computed": stats.computed, "reused": stats.reused, "seconds": round(stats.seconds, 3),
       "devices": len(devices or jax.devices())})
  return records, stats


BENCHMARK_CONFIG = dataclasses.replace(PRESETS["paper"], dims=tuple(range(10, 17)), models=("diffusion",))


def benchmark_case() -> Callable[[], dict]:
  """Zero-argument callable running the paper preset's exact-diffusion sweep, d = 10..16, in a temp dir.

  Returns a dict: seconds, cells, compute_seconds, and per-cell cost breakdowns.
  """
  cfg = BENCHMARK_CONFIG

  def case() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
      t0 = time.perf_counter()
      records, stats = run_cells(cfg, tmp)
      seconds = time.perf_counter() - t0
    by_d: dict[int, float] = {}
    by_n: dict[int, list[float]] = {}
    for params, sec in stats.cell_seconds:
      by_d[int(params["d"])] = by_d.get(int(params["d"]), 0.0) + sec
      by_n.setdefault(n_bucket(int(params["n_patterns"])), []).append(sec)
    return {"seconds": round(seconds, 3), "cells": len(records), "compute_seconds": round(stats.compute_seconds, 3),
            "max_n": max(int(r["n_patterns"]) for r in records),
            "seconds_by_d": {str(k): round(v, 3) for k, v in sorted(by_d.items())},
            # mean seconds per cell, by the padded pattern-count bucket N (a power of two)
            "mean_cell_seconds_by_n_bucket": {str(k): round(sum(v) / len(v), 4)
                                              for k, v in sorted(by_n.items())},
            "devices": len(jax.devices())}
  return case


# ---------------------------------------------------------------- the experiment

def run(cfg: CapacityConfig, out_dir: str, *, key: Array | None = None, devices: Sequence | None = None,
        figures: bool = True, on_record: Callable | None = None,
        mode: mixture.Mode = mixture.DENSE) -> dict[str, Any]:
  """Sweep (resumable), estimate, write cells.jsonl, capacity.csv, capacity_raw.csv, the Figure 3
  PNGs and summary.json into `out_dir`; returns the summary.

  Args:
    cfg: the settings.
    out_dir: the experiment's folder (a rerun resumes its cells.jsonl and recomputes no cell).
    key: must be None: every cell's key is `jax.random.PRNGKey(cfg.seed)` folded with its (d, N),
      and finished cells are found again by `cfg.seed`, so another key would mix two sweeps in one
      cells.jsonl; change `seed` instead (ValueError otherwise).
    devices: devices the queries are sharded over (default: all).
    figures: write fig3a_diffusion_error.png and fig3b_capacity.png.
    on_record: called as `on_record(record, stats)` after every new cell (testing: abort).
    mode: mixture mode of the MHN and exact-score retrieval (`assocmem.mixture`).
  """
  if key is not None:
    raise ValueError("key must be None for the capacity sweep: its cells are keyed and resumed by "
                     "config.seed; set seed instead")
  t0 = time.perf_counter()
  records, stats = run_cells(cfg, out_dir, devices, on_record, mode)
  t_cells = time.perf_counter() - t0
  rows = estimate(records, cfg)
  write_capacity_csv(rows, out_dir)
  paths = make_figures(records, rows, cfg, out_dir) if figures else []
  summary = {"cells": len(records), "computed": stats.computed, "reused": stats.reused,
             "sweep_seconds": round(t_cells, 3), "compute_seconds": round(stats.compute_seconds, 3),
             "total_seconds": round(time.perf_counter() - t0, 3), "devices": len(devices or jax.devices()),
             "figures": [os.path.basename(p) for p in paths]}
  files.write_json(os.path.join(out_dir, "summary.json"), {"config": dataclasses.asdict(cfg), **summary})
  return summary
