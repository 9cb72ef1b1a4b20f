"""Seed 002's Table 1, computed: inputs, the four memories in JAX, the rows, and `run`.

One jitted function per (task, N): vmap over repeats, vmap over cues, `lax.scan` over time (see
`assocmem.experiments.table1` for the method). `run` is the registry's entry point: it computes the
table and writes table1.csv, table1.md and table1.json (`report.write_outputs`).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import jax
import jax.numpy as jnp
from absl import logging

from assocmem.bank import make_bank
from assocmem import _checks, energies, mixture, hopfield, metrics, patterns as patterns_lib, samplers, scores
from assocmem.experiments.table1 import report
from assocmem.experiments.table1.config import MODELS, TASKS, Table1Config
from assocmem.sde import VPSDE

Array = jax.Array

# ----------------------------------------------------------------------------- inputs

# Threefry keys cost seconds of XLA compile time per distinct shape on CPU (jax 0.10), which
# dominated the table's wall time; the RBG generator compiles in a fraction of a second.
PRNG_IMPL = "rbg"


def base_key(config: Table1Config) -> Array:
  """The table's PRNG key when none is given: `jax.random.key(config.seed)` with the RBG generator."""
  return jax.random.key(config.seed, impl=PRNG_IMPL)


def _task_key(key: Array, task: str, n_patterns: int) -> Array:
  key = jax.random.fold_in(key, TASKS.index(task))
  return jax.random.fold_in(key, n_patterns)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _inputs_jit(key: Array, config: Table1Config, task: str, n_patterns: int) -> dict[str, Array]:
  """All repeats' inputs, drawn as a few batched random arrays (cheap to compile)."""
  k_pat, k_idx, k_cue, k_ord = jax.random.split(key, 4)
  r, d, c, s = config.repeats, config.d, config.n_cues(n_patterns), config.classic_steps
  pats = patterns_lib.random_binary_patterns(k_pat, r * n_patterns, d).reshape(r, n_patterns, d)
  if config.cues == "all":
    targets = pats
  else:
    idx = jax.random.randint(k_idx, (r, 1, 1), 0, n_patterns)
    targets = jnp.take_along_axis(pats, idx, axis=1)
  # The cue functions are elementwise, so one call on the flattened targets draws every cue.
  flat = targets.reshape(-1)
  if task == "denoising":
    cues = patterns_lib.denoising_cue(k_cue, flat, config.theta)
  else:
    cues = patterns_lib.completion_cue(k_cue, flat, config.completion_p)
  if config.classic_mode == "async":
    orders = jnp.argsort(jax.random.uniform(k_ord, (r, c, s, d)), axis=-1).astype(jnp.int32)
  else:
    orders = jnp.zeros((r, c, s, d), jnp.int32)   # unused by synchronous updates
  return {"patterns": pats, "cues": cues.reshape(targets.shape), "targets": targets, "orders": orders}


def sample_inputs(config: Table1Config, task: str, n_patterns: int, key: Array | None = None) -> dict[str, Array]:
  """All repeats' inputs for one table row: patterns (R, N, d), cues/targets (R, C, d), orders (R, C, S, d).

  `key` is the table's key (None: `base_key(config)`); each row folds in its task and N.
  """
  _checks.check_choice("task", task, TASKS)
  _checks.check_int("n_patterns", n_patterns, 1)
  key = base_key(config) if key is None else key
  return _inputs_jit(_task_key(key, task, n_patterns), config, task, n_patterns)


# ----------------------------------------------------------------------------- JAX models

def _classic_recall(cue: Array, weights: Array, orders: Array, config: Table1Config) -> Array:
  """Classical Hopfield recall of one cue: `classic_steps` sync updates or async sweeps (Eq. 1)."""
  x = metrics.binarize(cue).astype(cue.dtype) if config.classic_start == "sign" else cue

  def body(state, order):
    return hopfield.classical_step(weights, state, config.classic_mode, order), None

  final, _ = jax.lax.scan(body, x, orders)
  return final


def _one_repeat_outputs(inputs: dict[str, Array], config: Table1Config, task: str) -> dict[str, Array]:
  """Binarised outputs (C, d) of the four memories for one repeat."""
  pats, cues = inputs["patterns"], inputs["cues"]
  sde = VPSDE(config.gamma)
  t0 = config.t_start(task)
  mode = mixture.mode_from_name(config.mixture_mode, config.chunk_size)
  score_fn = scores.exact_score_fn(sde, mode)
  bank = make_bank(pats)
  weights = energies.hebbian_weights(pats, config.classic_zero_diagonal)
  mhn = jax.vmap(lambda c: hopfield.mhn_retrieve(bank, c, config.beta, config.mhn_steps, mode=mode))(cues)
  diff = jax.vmap(lambda c: samplers.ode_sample(score_fn, bank, sde, c, t0, config.t_end, config.ode_steps))(cues)
  classic = jax.vmap(lambda c, o: _classic_recall(c, weights, o, config))(cues, inputs["orders"])
  return {"mhn": metrics.binarize(mhn), "diffusion": metrics.binarize(diff),
          "classic": metrics.binarize(classic), "true": inputs["targets"]}


def _aggregate(mhn: Array, other: Array, aggregate: str) -> tuple[Array, Array]:
  """(correlation, number of undefined correlations) of one model's outputs with the MHN's.

  `metrics.pearson` over each repeat's flattened (cues × d) outputs, then the mean
  over repeats ("per_repeat"); or one correlation over all repeats ("pooled"). Under
  tracing a constant output gives NaN, which is counted and left out of the mean.
  """
  if aggregate == "pooled":
    r = metrics.pearson(mhn, other)
    return r, jnp.isnan(r).astype(jnp.int32)
  r = jax.vmap(metrics.pearson)(mhn, other)
  return jnp.nanmean(r), jnp.sum(jnp.isnan(r))


@functools.partial(jax.jit, static_argnums=(1, 2))
def _row_from_inputs(inputs, config, task):
  out = jax.vmap(lambda inp: _one_repeat_outputs(inp, config, task))(inputs)
  return {m: _aggregate(out["mhn"], out[m], config.aggregate) for m in MODELS}


def _cast_inputs(inputs: dict[str, Array], precision: str) -> dict[str, Array]:
  return {k: (v.astype(getattr(jnp, precision)) if k != "orders" else v) for k, v in inputs.items()}


def run_row(config: Table1Config, task: str, n_patterns: int, key: Array | None = None) -> dict[str, Any]:
  """One row of Table 1 with the JAX path: {task, n_patterns, diffusion, classic, true}."""
  _checks.check_choice("task", task, TASKS)
  inputs = sample_inputs(config, task, n_patterns, key)
  with jax.enable_x64(config.precision == "float64"):
    res = jax.device_get(_row_from_inputs(_cast_inputs(inputs, config.precision), config, task))
  return row_record(task, n_patterns, res)


def row_record(task: str, n_patterns: int, res: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
  """A table row {task, n_patterns, diffusion, classic, true} from {model: (correlation, n_undefined)}."""
  row: dict[str, Any] = {"task": task, "n_patterns": int(n_patterns)}
  for m in MODELS:
    r, n_nan = res[m]
    if int(n_nan):
      logging.warning("table1 %s N=%d: %d undefined (constant-output) correlations for %s were skipped",
                      task, n_patterns, int(n_nan), m)
    row[m] = float(r)
  return row


def run_table1(config: Table1Config, key: Array | None = None) -> list[dict[str, Any]]:
  """Seed 002's Table 1: rows (task, n_patterns, diffusion, classic, true) in task-major order.

  `key` (None: `base_key(config)`, the RBG key of `config.seed`) draws every row's inputs.
  """
  if not isinstance(config, Table1Config):
    raise ValueError(f"config must be a Table1Config, got {type(config).__name__}")
  rows = []
  for task in config.tasks:
    for n in config.n_patterns:
      start = time.perf_counter()
      row = run_row(config, task, n, key)
      logging.info("table1 %s N=%d: diffusion %.3f classic %.3f true %.3f (%.2fs)", task, n,
                   row["diffusion"], row["classic"], row["true"], time.perf_counter() - start)
      rows.append(row)
  return rows


def run(config: Table1Config, out_dir: str, *, key: Array | None = None,
        preset: str | None = None) -> dict[str, Any]:
  """Computes Table 1 and writes out_dir/table1.{csv,md,json} (atomically); returns a summary.

  Args:
    config: the settings (a preset of `PRESETS`, possibly with overrides).
    out_dir: where the files go.
    key: PRNG key of the inputs; None: `base_key(config)` (the RBG key of `config.seed`), so the
      configuration alone fixes the table.
    preset: the preset `config` came from, named in the files (None: `report.nearest_preset(config)`,
      the preset it equals or differs least from).
  Returns:
    {"preset": the preset label (`report.preset_label`, e.g. "quick + repeats=6"), "rows": the table rows,
     "max_abs_diff_from_paper": the largest |ours − published| over the table, "wall_seconds"}.
  """
  if not isinstance(config, Table1Config):
    raise ValueError(f"config must be a Table1Config, got {type(config).__name__}")
  start = time.perf_counter()
  rows = run_table1(config, key)
  seconds = time.perf_counter() - start
  report.write_outputs(out_dir, rows, config, seconds, preset)
  logging.info("table1: wrote %s/table1.{csv,md,json} (%.1f s)", out_dir, seconds)
  return {"preset": report.preset_label(config, preset), "rows": rows,
          "max_abs_diff_from_paper": report.max_abs_diff_from_paper(rows), "wall_seconds": round(seconds, 2)}
