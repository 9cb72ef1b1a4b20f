"""Capacity of exact diffusion models and Hopfield networks (seed 002, §7 Figure 3, Appendix A).

For every cell (model, d, N) of a grid: store N random binary patterns, recall
`n_queries` (140) denoising cues ỹ = θ y + sqrt(1 − θ²) ε (θ = 0.68) of randomly
chosen stored patterns, and record each query's Hamming error. The capacity at
d is the largest N whose mean error is <= 3%, with a bootstrap 95% interval,
smoothed over d with a Gaussian kernel σ = 1.5 applied to log(1 + N) (`assocmem.capacity`).

Models (App. A):
  diffusion  exact-score VP diffusion, γ = 0.8, 300 Euler steps of the probability-flow
             ODE from t_start = −2 log θ / γ down to t = 1e-3;
  mhn        modern Hopfield network, β = 5, 150 updates;
  classic    classical Hopfield network, Hebbian weights with zero diagonal, 10
             synchronous sign updates started from the (continuous) cue.

The grid over N is adaptive: for each (model, d) it walks a geometric grid
(4 points per octave) upwards and stops once `patience` consecutive cells have a
mean error above `stop_error` (twice the threshold). All three models see the same
patterns and cues (a cell's key depends on (d, N) only), so they are compared
pairwise. Cells run through `assocmem.sweep` (resumable JSON lines); within a cell
the queries are sharded over all devices.

A cell's patterns and cues are drawn on the host from a generator seeded with the
cell's key (fold_in of d and N), and are zero-padded to shape buckets (masked), so
the draws and the per-query computation depend neither on the padding nor on the
device count, and one jit compilation serves every cell of a bucket.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
import math
import os
import tempfile
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from assocmem import capacity as cap_lib
from assocmem import sweep
from assocmem.energies import hebbian_weights
from assocmem.hopfield import classical_retrieve
from assocmem.metrics import binarize
from assocmem.samplers import ode_sample
from assocmem.scores import score_with_norms
from assocmem.sde import VPSDE

Array = jax.Array

MODELS = ("diffusion", "mhn", "classic")
MODEL_LABELS = {"diffusion": "exact diffusion (VP)", "mhn": "modern Hopfield (β = 5)",
                "classic": "classical Hopfield"}
MODEL_COLORS = {"diffusion": "tab:blue", "mhn": "tab:green", "classic": "tab:red"}
MODEL_STYLES = {"diffusion": "-", "mhn": "--", "classic": "-"}
MODEL_MARKERS = {"diffusion": "o", "mhn": "x", "classic": "s"}
CSV_HEADER = ("model", "d", "capacity", "lower", "upper")
_MASKED_SQ_NORM = 1e30   # ‖y‖² given to padding patterns: their softmax weight underflows to 0


@dataclasses.dataclass(frozen=True)
class CapacityConfig:
  """Settings of a capacity sweep (defaults: seed 002, App. A)."""
  dims: tuple[int, ...] = tuple(range(10, 17))
  models: tuple[str, ...] = MODELS
  n_max: int = 4096               # largest N tried
  per_octave: int = 4             # N grid: round(2^(k / per_octave)), deduplicated
  n_queries: int = 140
  theta: float = 0.68
  threshold: float = 0.03
  stop_error: float = 0.06        # a series stops after `patience` cells above this mean error
  patience: int = 2
  gamma: float = 0.8
  ode_steps: int = 300
  t_end: float = 1e-3
  mhn_beta: float = 5.0
  mhn_steps: int = 150
  classic_steps: int = 10
  fig_ns: tuple[int, ...] = (4, 8, 16, 32, 64, 128)   # Figure 3a: N values run at every d (diffusion)
  n_boot: int = 1000
  sigma: float = 1.5
  seed: int = 0

  def __post_init__(self):
    for m in self.models:
      if m not in MODELS:
        raise ValueError(f"unknown model {m!r}; expected one of {MODELS}")
    if not self.dims or min(self.dims) < 1:
      raise ValueError(f"dims must be a non-empty tuple of positive integers, got {self.dims}")
    if not 0 < self.theta < 1:
      raise ValueError(f"theta must lie in (0, 1), got {self.theta}")
    if self.n_queries < 1 or self.n_max < 1 or self.per_octave < 1 or self.patience < 1:
      raise ValueError("n_queries, n_max, per_octave and patience must be >= 1")

  def model_settings(self, model: str) -> dict[str, Any]:
    """The settings a cell of `model` depends on (hashed into the cell's identity)."""
    common = {"theta": self.theta, "n_queries": self.n_queries, "seed": self.seed}
    if model == "diffusion":
      return {**common, "gamma": self.gamma, "steps": self.ode_steps, "t_end": self.t_end}
    if model == "mhn":
      return {**common, "beta": self.mhn_beta, "steps": self.mhn_steps}
    return {**common, "steps": self.classic_steps, "mode": "sync", "zero_diagonal": True}

  def config_hash(self, model: str) -> str:
    blob = json.dumps({"model": model, **self.model_settings(model)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


PRESETS: dict[str, CapacityConfig] = {
    # A few seconds of compute: three small d, N up to 64.
    "quick": CapacityConfig(dims=(8, 10, 12), n_max=64, fig_ns=(4, 8, 16), n_boot=300),
    # Seed 002's range d = 10..16 and beyond, up to d = 30.
    "paper": CapacityConfig(dims=tuple(range(10, 31)), n_max=16384, fig_ns=(4, 16, 64, 256, 1024)),
}


# ---------------------------------------------------------------- grids and buckets

def n_grid(n_max: int, per_octave: int = 4) -> list[int]:
  """Geometric grid of pattern counts: round(2^(k / per_octave)) for k >= 0, deduplicated, <= n_max."""
  out: list[int] = []
  k = 0
  while True:
    n = int(round(2 ** (k / per_octave)))
    if n > n_max:
      return out
    if not out or n > out[-1]:
      out.append(n)
    k += 1


def n_bucket(n: int) -> int:
  """Padded pattern count: the next power of two >= max(n, 8)."""
  return max(8, 1 << (int(n) - 1).bit_length())


def d_bucket(d: int) -> int:
  """Padded dimensionality: the next multiple of 8 >= max(d, 16)."""
  return max(16, -(-int(d) // 8) * 8)


# ---------------------------------------------------------------- one cell

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


def _recall_fn(model: str, cfg: CapacityConfig) -> Callable[[Array, Array, Array], Array]:
  """recall(cue (db,), patterns (nb, db), pattern mask (nb,)) -> (db,) for one query."""
  if model == "diffusion":
    sde = VPSDE(cfg.gamma)
    t_start = float(sde.t_start(cfg.theta))

    def recall(cue, patterns, pmask):
      sq = jnp.where(pmask, jnp.sum(patterns**2, axis=-1), _MASKED_SQ_NORM)
      score_fn = lambda x, t: score_with_norms(x, t, patterns, sq, sde)  # noqa: E731
      return ode_sample(score_fn, sde, cue, t_start, cfg.t_end, cfg.ode_steps)
    return recall

  if model == "mhn":
    beta = cfg.mhn_beta

    def recall(cue, patterns, pmask):
      # Masked form of hopfield.mhn_update (seed 000 Eq. 3 / seed 002 Eq. 5): padding gets no weight.
      def step(x, _):
        logits = jnp.where(pmask, patterns @ (beta * x), -jnp.inf)
        e = jnp.exp(logits - jax.lax.stop_gradient(jnp.max(logits)))
        return (e @ patterns) / jnp.sum(e), None
      out, _ = jax.lax.scan(step, cue, None, length=cfg.mhn_steps)
      return out
    return recall

  def recall(cue, patterns, pmask):
    del pmask   # zero padding rows add nothing to the Hebbian weights
    return classical_retrieve(cue, hebbian_weights(patterns), cfg.classic_steps, "sync")
  return recall


@functools.lru_cache(maxsize=None)
def _compiled_cell(model: str, cfg: CapacityConfig, nb: int, db: int,
                   devices: tuple) -> tuple[Callable, NamedSharding, NamedSharding]:
  """jit of one cell's recall on a (nb, db) bucket, queries sharded over `devices`."""
  mesh = Mesh(np.asarray(devices), ("q",))
  q_sharding = NamedSharding(mesh, PartitionSpec("q"))
  replicated = NamedSharding(mesh, PartitionSpec())
  recall = _recall_fn(model, cfg)

  def wrong_bits(patterns, n, d, targets, cues):
    pmask = jnp.arange(nb) < n
    dmask = jnp.arange(db) < d
    out = jax.vmap(lambda c: recall(c, patterns, pmask))(cues)
    return jnp.sum((binarize(out) != targets) & dmask[None, :], axis=-1).astype(jnp.int32)

  fn = jax.jit(wrong_bits, in_shardings=(replicated, replicated, replicated, q_sharding, q_sharding),
               out_shardings=q_sharding)
  return fn, q_sharding, replicated


def cell_wrong_bits(model: str, cfg: CapacityConfig, key: Array, n: int, d: int,
                    devices: Sequence | None = None) -> np.ndarray:
  """Per-query number of wrongly recalled units (n_queries,) of one cell, sharded over `devices`.

  Patterns are zero-padded to (n_bucket(N), d_bucket(d)) and masked; the queries are
  padded to a multiple of the device count (padding queries recall pattern 0's cue
  and are dropped).
  """
  devices = tuple(jax.devices() if devices is None else devices)
  n_dev = len(devices)
  q_pad = -(-cfg.n_queries // n_dev) * n_dev
  nb, db = n_bucket(n), d_bucket(d)
  fn, q_sharding, replicated = _compiled_cell(model, cfg, nb, db, devices)
  patterns, targets, cues = cell_data(key, n, d, cfg.n_queries, cfg.theta)
  targets = np.concatenate([targets, np.repeat(targets[:1], q_pad - cfg.n_queries, 0)])
  cues = np.concatenate([cues, np.repeat(cues[:1], q_pad - cfg.n_queries, 0)])
  out = fn(jax.device_put(_pad(patterns, (nb, db)), replicated), np.int32(n), np.int32(d),
           jax.device_put(_pad(targets, (q_pad, db)), q_sharding),
           jax.device_put(_pad(cues, (q_pad, db)), q_sharding))
  return np.asarray(out)[: cfg.n_queries]


def make_cell_fn(cfg: CapacityConfig, devices: Sequence | None = None) -> sweep.CellFn:
  """The sweep's cell function: (params {model, d, n_patterns, config}, key) -> result fields."""
  def cell_fn(params, key):
    model, d, n = params["model"], int(params["d"]), int(params["n_patterns"])
    if params["config"] != cfg.config_hash(model):
      raise ValueError(f"cell {params} does not belong to this configuration")
    wrong = cell_wrong_bits(model, cfg, key, n, d, devices)
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
              on_record: Callable | None = None) -> tuple[list[dict], sweep.SweepStats]:
  """Runs (or resumes) the sweep into out_dir/cells.jsonl; returns (records, stats)."""
  os.makedirs(out_dir, exist_ok=True)
  store = sweep.JsonlStore(os.path.join(out_dir, "cells.jsonl"), ID_FIELDS)
  records, stats = sweep.run_sweep(
      build_series(cfg), make_cell_fn(cfg, devices), store, jax.random.PRNGKey(cfg.seed),
      key_fields=("d", "n_patterns"), cost_fn=cell_cost, on_record=on_record, label="capacity")
  with open(os.path.join(out_dir, "runs.jsonl"), "a") as f:
    f.write(json.dumps({"computed": stats.computed, "reused": stats.reused,
                        "seconds": round(stats.seconds, 3), "devices": len(devices or jax.devices())})
            + "\n")
  return records, stats


# ---------------------------------------------------------------- estimation

def errors_by_series(records: Sequence[dict]) -> dict[tuple[str, int], tuple[list[int], list[np.ndarray]]]:
  """{(model, d): (sorted N values, per-query error arrays)} from cell records."""
  table: dict[tuple[str, int], dict[int, np.ndarray]] = {}
  for r in records:
    table.setdefault((r["model"], int(r["d"])), {})[int(r["n_patterns"])] = (
        np.asarray(r["n_wrong"], dtype=float) / int(r["d"]))
  return {k: (sorted(v), [v[n] for n in sorted(v)]) for k, v in table.items()}


def estimate(records: Sequence[dict], cfg: CapacityConfig) -> list[dict]:
  """Capacity rows {model, d, capacity, lower, upper, raw_*} per (model, d), smoothed over d."""
  series = errors_by_series(records)
  rows = []
  for model in cfg.models:
    dims = [d for d in cfg.dims if (model, d) in series]
    raw = []
    for d in dims:
      ns, errs = series[(model, d)]
      raw.append(cap_lib.bootstrap_capacity(ns, errs, cfg.threshold, cfg.n_boot, seed=cfg.seed + d))
    if not raw:
      continue
    raw_arr = np.asarray(raw, dtype=float)
    smooth = [cap_lib.gaussian_smooth(dims, raw_arr[:, j], cfg.sigma) for j in range(3)]
    for i, d in enumerate(dims):
      rows.append({"model": model, "d": d, "capacity": float(smooth[0][i]), "lower": float(smooth[1][i]),
                   "upper": float(smooth[2][i]), "raw_capacity": int(raw_arr[i, 0]),
                   "raw_lower": float(raw_arr[i, 1]), "raw_upper": float(raw_arr[i, 2])})
  return rows


def write_capacity_csv(rows: Sequence[dict], out_dir: str) -> str:
  """DIR/capacity.csv (header model,d,capacity,lower,upper: smoothed) and DIR/capacity_raw.csv."""
  path = os.path.join(out_dir, "capacity.csv")
  with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(CSV_HEADER)
    for r in rows:
      w.writerow([r["model"], r["d"], f"{r['capacity']:.4g}", f"{r['lower']:.4g}", f"{r['upper']:.4g}"])
  with open(os.path.join(out_dir, "capacity_raw.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(CSV_HEADER)
    for r in rows:
      w.writerow([r["model"], r["d"], r["raw_capacity"], f"{r['raw_lower']:.4g}", f"{r['raw_upper']:.4g}"])
  return path


def make_figures(records: Sequence[dict], rows: Sequence[dict], cfg: CapacityConfig, out_dir: str) -> list[str]:
  """Figure 3a (diffusion error against d, several N) and 3b (capacity against d, log scale)."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  series = errors_by_series(records)
  paths = []
  fig, ax = plt.subplots(figsize=(5.5, 4))
  cmap = plt.get_cmap("viridis")
  for i, n in enumerate(cfg.fig_ns):
    pts = []
    for d in cfg.dims:
      if ("diffusion", d) in series:
        ns, errs = series[("diffusion", d)]
        if n in ns:
          pts.append((d, *cap_lib.bootstrap_mean_interval(errs[ns.index(n)], cfg.n_boot, seed=cfg.seed)))
    if not pts:
      continue
    p = np.asarray(pts)
    c = cmap(i / max(len(cfg.fig_ns) - 1, 1))
    ax.plot(p[:, 0], p[:, 1], "o-", color=c, ms=3, label=f"N = {n}")
    ax.fill_between(p[:, 0], p[:, 2], p[:, 3], color=c, alpha=0.12, lw=0)
  ax.axhline(cfg.threshold, color="k", ls="--", lw=1, label=f"threshold {cfg.threshold:.0%}")
  ax.set_xlabel("dimensionality d")
  ax.set_ylabel("Hamming error (bootstrap median of the mean)")
  ax.set_title("(a) exact diffusion model")
  ax.legend(fontsize=7)
  fig.tight_layout()
  paths.append(os.path.join(out_dir, "fig3a_diffusion_error.png"))
  fig.savefig(paths[-1], dpi=130)
  plt.close(fig)

  fig, ax = plt.subplots(figsize=(5.5, 4))
  for model in cfg.models:
    rs = [r for r in rows if r["model"] == model]
    if not rs:
      continue
    d = [r["d"] for r in rs]
    c = MODEL_COLORS[model]
    ax.plot(d, [max(r["capacity"], 0.5) for r in rs], MODEL_STYLES[model], color=c, lw=1.5,
            label=MODEL_LABELS[model])
    ax.fill_between(d, [max(r["lower"], 0.5) for r in rs], [max(r["upper"], 0.5) for r in rs],
                    color=c, alpha=0.2)
    ax.plot(d, [max(r["raw_capacity"], 0.5) for r in rs], MODEL_MARKERS[model], color=c, ms=3.5,
            alpha=0.7, mfc="none")
  ax.set_yscale("log")
  ax.set_xlabel("dimensionality d")
  ax.set_ylabel(f"capacity (largest N with mean error ≤ {cfg.threshold:.0%})")
  ax.set_title("(b) capacity; lines smoothed (σ = 1.5), markers raw")
  ax.legend(fontsize=7)
  fig.tight_layout()
  paths.append(os.path.join(out_dir, "fig3b_capacity.png"))
  fig.savefig(paths[-1], dpi=130)
  plt.close(fig)
  return paths


def run(cfg: CapacityConfig, out_dir: str, devices: Sequence | None = None, figures: bool = True,
        on_record: Callable | None = None) -> dict:
  """Sweep (resumable), estimate, write cells.jsonl, capacity.csv and the figures; returns a summary."""
  t0 = time.perf_counter()
  records, stats = run_cells(cfg, out_dir, devices, on_record)
  t_cells = time.perf_counter() - t0
  rows = estimate(records, cfg)
  write_capacity_csv(rows, out_dir)
  paths = make_figures(records, rows, cfg, out_dir) if figures else []
  summary = {"cells": len(records), "computed": stats.computed, "reused": stats.reused,
             "sweep_seconds": round(t_cells, 3), "compute_seconds": round(stats.compute_seconds, 3),
             "total_seconds": round(time.perf_counter() - t0, 3), "devices": len(devices or jax.devices()),
             "figures": [os.path.basename(p) for p in paths]}
  with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump({"config": dataclasses.asdict(cfg), **summary}, f, indent=1)
  return summary


# ---------------------------------------------------------------- report and benchmark

def capacity_report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section: the capacity table and the Figure 3 images (links relative to results_dir)."""
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  csv_path = os.path.join(out_dir, "capacity.csv")
  if not os.path.exists(csv_path):
    return "## Capacity (seed 002, Figure 3)\n\nNo results: run `scripts/capacity.py` first.\n"
  with open(csv_path) as f:
    rows = list(csv.DictReader(f))
  raw = {}
  raw_path = os.path.join(out_dir, "capacity_raw.csv")
  if os.path.exists(raw_path):
    with open(raw_path) as f:
      raw = {(r["model"], r["d"]): r for r in csv.DictReader(f)}
  summary = {}
  if os.path.exists(os.path.join(out_dir, "summary.json")):
    with open(os.path.join(out_dir, "summary.json")) as f:
      summary = json.load(f)
  conf = summary.get("config", {})
  models = [m for m in MODELS if any(r["model"] == m for r in rows)]
  dims = sorted({int(r["d"]) for r in rows})
  by = {(r["model"], int(r["d"])): r for r in rows}

  def num(x):
    x = float(x)
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"

  def fmt(r):
    return f"{num(r['capacity'])} [{num(r['lower'])}, {num(r['upper'])}]"

  lines = ["## Capacity (seed 002, Figure 3)", ""]
  lines.append(
      f"Mean Hamming error of recalling {conf.get('n_queries', 140)} denoising cues "
      f"(θ = {conf.get('theta', 0.68)}) per grid cell (d, N); capacity = largest N on the grid "
      f"(4 per octave) whose mean error is ≤ {conf.get('threshold', 0.03):.0%}; 95% bootstrap "
      f"intervals ({conf.get('n_boot', 1000)} resamples of the per-query errors); capacity and bounds "
      f"smoothed over d with a Gaussian kernel σ = {conf.get('sigma', 1.5)} (in log(1 + N)). "
      "Entries: smoothed capacity [lower, upper]; raw grid value in parentheses.")
  if summary:
    lines.append(f"Cells: {summary.get('cells')} ({summary.get('computed')} computed in the last run, "
                 f"{summary.get('sweep_seconds')} s, {summary.get('devices')} device(s)).")
  lines += ["", "| d | " + " | ".join(MODEL_LABELS[m] for m in models) + " |",
            "|---|" + "---|" * len(models)]
  for d in dims:
    cells = []
    for m in models:
      r = by.get((m, d))
      if r is None:
        cells.append("–")
        continue
      rr = raw.get((m, str(d)))
      cells.append(fmt(r) + (f" ({rr['capacity']})" if rr else ""))
    lines.append(f"| {d} | " + " | ".join(cells) + " |")
  lines.append("")
  if "mhn" in models and "diffusion" in models:
    overlap = [d for d in dims if (("mhn", d) in by and ("diffusion", d) in by
               and float(by[("mhn", d)]["lower"]) <= float(by[("diffusion", d)]["upper"])
               and float(by[("diffusion", d)]["lower"]) <= float(by[("mhn", d)]["upper"]))]
    lines.append(f"MHN and exact-diffusion intervals overlap at {len(overlap)} of {len(dims)} dimensionalities.")
    lines.append("")
  if len(dims) >= 2:
    growth = []
    for m in models:
      ds = [d for d in dims if (m, d) in by]
      slope = np.polyfit(ds, np.log2([max(float(by[(m, d)]["capacity"]), 1e-9) for d in ds]), 1)[0]
      growth.append(f"{MODEL_LABELS[m]}: ×{2 ** slope:.2f} per unit of d"
                    + (f" (doubling every {1 / slope:.1f} units of d)" if slope > 0 else ""))
    lines.append("Least-squares growth of the smoothed capacity, log₂ N against d: " + "; ".join(growth) + ".")
    lines.append("")
  rel = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))
  for name, cap in (("fig3a_diffusion_error.png", "Figure 3a: exact diffusion model, error against d"),
                    ("fig3b_capacity.png", "Figure 3b: capacity against d (log scale, 95% intervals)")):
    if os.path.exists(os.path.join(out_dir, name)):
      lines.append(f"![{cap}]({rel}/{name})")
      lines.append("")
  return "\n".join(lines)


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
