"""Seed 002 (Ambrogioni 2024), Table 1: how closely other memories track a modern Hopfield network.

For each task (denoising, completion) and each number of stored patterns N, one
*repeat* draws N random binary patterns y_n = sign(g), g ~ N(0, I_d) (App. A),
corrupts them into cues, and recalls every cue with four memories (§7):

  MHN        modern Hopfield network, ξ ← Yᵀ softmax(β Y ξ), β = 5, 150 updates;
  diffusion  exact-score VP diffusion, dx = −½γx dt + √γ dW with γ = 0.8, Euler on the
             probability-flow ODE from t_start = −2 log θ / γ down to t = 1e-3 in 300 steps;
  classic    classical Hopfield network, x ← sign(W x), Hebbian W = Σ_n y_n y_nᵀ (10 synchronous
             updates from the continuous cue; the "paper" preset keeps W's diagonal, see below);
  true       the stored pattern that was cued (ground truth).

All outputs are binarised with sign (§7) and the table reports the Pearson
correlation between the binarised MHN output and each of the other three.

Choices the paper leaves open (measured in docs/reproduction.md, "Seed 002 — Table 1"):

  cues          "all": every stored pattern is cued once per repeat (N cues), or
                "one": a single random stored pattern per repeat.
  aggregate     "per_repeat": correlation over the repeat's flattened (cues × d)
                outputs, averaged over repeats; or "pooled": one correlation over
                all repeats' outputs.
  classic_*     schedule ("sync" / "async" sweeps in a fresh random order), number of
                updates, zero diagonal, and whether the continuous cue ("cue") or its
                sign ("sign") is the start state.
  completion_theta
                signal level θ whose t_start the diffusion model starts from in the
                completion task (None: the denoising θ, the literal reading).
  precision     "float64" (the "paper" preset, run under `jax.enable_x64`) or "float32".
                A third of the completion cues tie exactly between stored patterns;
                the models then break the tie by rounding, and in float32 the MHN and
                the diffusion break it differently.

The JAX path is one jitted function per (task, N): vmap over repeats, vmap over
cues, `lax.scan` over time. `run_table1_numpy` is a plain NumPy reference of the
same computation on the same inputs (vectorised over repeats and cues) for the
benchmarks; the two agree to rounding (an exactly tied completion cue may rarely
be broken differently: at the paper preset the correlations differ by < 1e-4).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from assocmem import _checks, energies, hopfield, metrics, patterns as patterns_lib, samplers, scores
from assocmem.sde import VPSDE

Array = jax.Array

TASKS = ("denoising", "completion")
CUE_MODES = ("all", "one")
AGGREGATES = ("per_repeat", "pooled")
CLASSIC_STARTS = ("cue", "sign")
CLASSIC_MODES = hopfield.MODES
PRECISIONS = ("float64", "float32")
MODELS = ("diffusion", "classic", "true")

# Seed 002, Table 1 (Pearson correlation with the binarised MHN output).
PAPER_TABLE1: dict[tuple[str, int], dict[str, float]] = {
    ("denoising", 10): {"diffusion": 0.995, "classic": 0.732, "true": 0.893},
    ("denoising", 20): {"diffusion": 0.991, "classic": 0.704, "true": 0.822},
    ("denoising", 30): {"diffusion": 0.991, "classic": 0.715, "true": 0.810},
    ("completion", 10): {"diffusion": 0.996, "classic": 0.741, "true": 0.897},
    ("completion", 20): {"diffusion": 0.991, "classic": 0.707, "true": 0.838},
    ("completion", 30): {"diffusion": 0.989, "classic": 0.700, "true": 0.795},
}


@dataclasses.dataclass(frozen=True)
class Table1Config:
  """Settings of seed 002's Table 1 (§7, App. A) plus the switches for its open choices.

  Attributes:
    d: pattern dimension.
    n_patterns: numbers of stored patterns, one table row each.
    tasks: subset of TASKS, in row order.
    theta: cue signal level θ of the denoising task (and the diffusion start).
    repeats: independent pattern sets per (task, N).
    beta, mhn_steps: modern Hopfield inverse temperature and number of updates.
    gamma, ode_steps, t_end: VP schedule, Euler steps and final time of the diffusion.
    completion_p: probability that a unit of the completion cue is zeroed.
    completion_theta: θ whose t_start the diffusion uses for completion cues (None: `theta`).
    cues: "all" (each stored pattern cued once) or "one" (one random pattern) per repeat.
    aggregate: "per_repeat" (mean of per-repeat correlations) or "pooled".
    classic_mode, classic_steps, classic_zero_diagonal, classic_start: classical Hopfield
      (defaults: 10 synchronous updates from the continuous cue, Hebbian W with its diagonal).
    precision: "float64" or "float32" arithmetic for the four memories (the random inputs
      are drawn in float32 and cast, so both precisions see the same cues).
    seed: base PRNG seed.
  """
  d: int = 10
  n_patterns: tuple[int, ...] = (10, 20, 30)
  tasks: tuple[str, ...] = TASKS
  theta: float = 0.68
  repeats: int = 100
  beta: float = 5.0
  mhn_steps: int = 150
  gamma: float = 0.8
  ode_steps: int = 300
  t_end: float = samplers.DEFAULT_T_END
  completion_p: float = 0.5
  completion_theta: float | None = None
  cues: str = "all"
  aggregate: str = "per_repeat"
  classic_mode: str = "sync"
  classic_steps: int = 10
  classic_zero_diagonal: bool = False
  classic_start: str = "cue"
  precision: str = "float64"
  seed: int = 0

  def __post_init__(self):
    _checks.check_int("d", self.d, 1)
    if not self.n_patterns:
      raise ValueError("n_patterns must name at least one number of patterns")
    for n in self.n_patterns:
      _checks.check_int("n_patterns", n, 1)
    if not self.tasks:
      raise ValueError("tasks must name at least one task")
    for task in self.tasks:
      _checks.check_choice("task", task, TASKS)
    _checks.check_open_unit("theta", self.theta)
    _checks.check_int("repeats", self.repeats, 1)
    _checks.check_positive("beta", self.beta)
    _checks.check_int("mhn_steps", self.mhn_steps, 1)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_int("ode_steps", self.ode_steps, 1)
    _checks.check_positive("t_end", self.t_end)
    _checks.check_unit_closed("completion_p", self.completion_p)
    if self.completion_theta is not None:
      _checks.check_open_unit("completion_theta", self.completion_theta)
    _checks.check_choice("cues", self.cues, CUE_MODES)
    _checks.check_choice("aggregate", self.aggregate, AGGREGATES)
    _checks.check_choice("classic_mode", self.classic_mode, CLASSIC_MODES)
    _checks.check_int("classic_steps", self.classic_steps, 1)
    _checks.check_choice("classic_start", self.classic_start, CLASSIC_STARTS)
    _checks.check_choice("precision", self.precision, PRECISIONS)
    _checks.check_int("seed", self.seed, 0)
    t0 = -2.0 * np.log(max(self.theta, self.completion_theta or 0.0)) / self.gamma
    if t0 <= self.t_end:
      raise ValueError(f"t_end must be below the diffusion start time {t0:.4g}, got {self.t_end}")

  def start_theta(self, task: str) -> float:
    """θ whose VP time t_start(θ) = −2 log θ / γ starts the diffusion for `task`."""
    _checks.check_choice("task", task, TASKS)
    if task == "completion" and self.completion_theta is not None:
      return self.completion_theta
    return self.theta

  def n_cues(self, n_patterns: int) -> int:
    return n_patterns if self.cues == "all" else 1


# "paper": the stated settings with the two readings that reproduce every entry of Table 1 within
# 0.03: Hebbian weights W = Σ_n y_n y_nᵀ *with* their diagonal (Eq. 3 as printed; §2.1's
# null-diagonal W gives classic ≈ 0.38–0.48, far below the table), and float64 arithmetic (in
# float32 the many exactly tied completion cues are broken by rounding noise, differently by the
# MHN and the diffusion, which lowers the completion diffusion column by ~0.01–0.02).
# "literal" keeps §2.1's zero diagonal. "quick" is "paper" with 50 repeats. See docs/reproduction.md.
PRESETS: dict[str, Table1Config] = {
    "paper": Table1Config(classic_zero_diagonal=False, precision="float64"),
    "literal": Table1Config(classic_zero_diagonal=True, precision="float64"),
    "quick": Table1Config(classic_zero_diagonal=False, precision="float64", repeats=50),
}


def get_preset(name: str, **overrides: Any) -> Table1Config:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return dataclasses.replace(PRESETS[name], **overrides)


# ----------------------------------------------------------------------------- inputs

# Threefry keys cost seconds of XLA compile time per distinct shape on CPU (jax 0.10), which
# dominated the table's wall time; the RBG generator compiles in a fraction of a second.
PRNG_IMPL = "rbg"


def _task_key(seed: int, task: str, n_patterns: int) -> Array:
  key = jax.random.fold_in(jax.random.key(seed, impl=PRNG_IMPL), TASKS.index(task))
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


def sample_inputs(config: Table1Config, task: str, n_patterns: int) -> dict[str, Array]:
  """All repeats' inputs for one table row: patterns (R, N, d), cues/targets (R, C, d), orders (R, C, S, d)."""
  _checks.check_choice("task", task, TASKS)
  _checks.check_int("n_patterns", n_patterns, 1)
  return _inputs_jit(_task_key(config.seed, task, n_patterns), config, task, n_patterns)


# ----------------------------------------------------------------------------- JAX models

def _classic_recall(cue: Array, weights: Array, orders: Array, config: Table1Config) -> Array:
  """Classical Hopfield recall of one cue: `classic_steps` sync updates or async sweeps (Eq. 1)."""
  x = metrics.binarize(cue).astype(cue.dtype) if config.classic_start == "sign" else cue

  def body(state, order):
    return hopfield.classical_step(state, weights, config.classic_mode, order), None

  final, _ = jax.lax.scan(body, x, orders)
  return final


def _one_repeat_outputs(inputs: dict[str, Array], config: Table1Config, task: str) -> dict[str, Array]:
  """Binarised outputs (C, d) of the four memories for one repeat."""
  pats, cues = inputs["patterns"], inputs["cues"]
  sde = VPSDE(config.gamma)
  t0 = -2.0 * np.log(config.start_theta(task)) / config.gamma
  score_fn = scores.exact_score(sde, pats)
  weights = energies.hebbian_weights(pats, config.classic_zero_diagonal)
  mhn = jax.vmap(lambda c: hopfield.mhn_retrieve(c, pats, config.beta, config.mhn_steps))(cues)
  diff = jax.vmap(lambda c: samplers.ode_sample(score_fn, sde, c, t0, config.t_end, config.ode_steps))(cues)
  classic = jax.vmap(lambda c, o: _classic_recall(c, weights, o, config))(cues, inputs["orders"])
  return {"mhn": metrics.binarize(mhn), "diffusion": metrics.binarize(diff),
          "classic": metrics.binarize(classic), "true": inputs["targets"]}


def _pearson_rows(a: Array, b: Array) -> Array:
  """Pearson correlation of each leading-axis slice of a and b, flattened ((R, ...) -> (R,))."""
  a = a.reshape(a.shape[0], -1)
  b = b.reshape(b.shape[0], -1)
  da = a - a.mean(axis=1, keepdims=True)
  db = b - b.mean(axis=1, keepdims=True)
  return jnp.sum(da * db, axis=1) / jnp.sqrt(jnp.sum(da * da, axis=1) * jnp.sum(db * db, axis=1))


def _aggregate(mhn: Array, other: Array, aggregate: str) -> tuple[Array, Array]:
  """(correlation, number of undefined per-repeat correlations) for one model."""
  if aggregate == "pooled":
    r = _pearson_rows(mhn.reshape(1, -1), other.reshape(1, -1))[0]
    return r, jnp.isnan(r).astype(jnp.int32)
  r = _pearson_rows(mhn, other)
  return jnp.nanmean(r), jnp.sum(jnp.isnan(r))


@functools.partial(jax.jit, static_argnums=(1, 2))
def _row_from_inputs(inputs, config, task):
  out = jax.vmap(lambda inp: _one_repeat_outputs(inp, config, task))(inputs)
  return {m: _aggregate(out["mhn"], out[m], config.aggregate) for m in MODELS}


def _cast_inputs(inputs: dict[str, Any], precision: str, xp=jnp) -> dict[str, Any]:
  return {k: (v.astype(getattr(xp, precision)) if k != "orders" else v) for k, v in inputs.items()}


def run_row(config: Table1Config, task: str, n_patterns: int) -> dict[str, Any]:
  """One row of Table 1 with the JAX path: {task, n_patterns, diffusion, classic, true}."""
  _checks.check_choice("task", task, TASKS)
  inputs = sample_inputs(config, task, n_patterns)
  with jax.enable_x64(config.precision == "float64"):
    res = jax.device_get(_row_from_inputs(_cast_inputs(inputs, config.precision), config, task))
  return _row_dict(task, n_patterns, res)


def _row_dict(task: str, n_patterns: int, res: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
  row: dict[str, Any] = {"task": task, "n_patterns": int(n_patterns)}
  for m in MODELS:
    r, n_nan = res[m]
    if int(n_nan):
      logging.warning("table1 %s N=%d: %d undefined (constant-output) correlations for %s were skipped",
                      task, n_patterns, int(n_nan), m)
    row[m] = float(r)
  return row


def run_table1(config: Table1Config) -> list[dict[str, Any]]:
  """Seed 002's Table 1: rows (task, n_patterns, diffusion, classic, true) in task-major order."""
  if not isinstance(config, Table1Config):
    raise ValueError(f"config must be a Table1Config, got {type(config).__name__}")
  rows = []
  for task in config.tasks:
    for n in config.n_patterns:
      start = time.perf_counter()
      row = run_row(config, task, n)
      logging.info("table1 %s N=%d: diffusion %.3f classic %.3f true %.3f (%.2fs)", task, n,
                   row["diffusion"], row["classic"], row["true"], time.perf_counter() - start)
      rows.append(row)
  return rows


# ----------------------------------------------------------------------------- NumPy reference

def _sign_np(x: np.ndarray) -> np.ndarray:
  return np.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def _softmax_mean_np(logits: np.ndarray, pats: np.ndarray) -> np.ndarray:
  """Σ_n softmax(logits)_n y_n for logits (R, C, N), patterns (R, N, d) -> (R, C, d)."""
  e = np.exp(logits - logits.max(axis=-1, keepdims=True))
  return np.matmul(e, pats) / e.sum(axis=-1, keepdims=True)


def mhn_retrieve_np(cues: np.ndarray, pats: np.ndarray, beta: float, n_steps: int) -> np.ndarray:
  """Batched modern Hopfield retrieval: cues (R, C, d), patterns (R, N, d)."""
  pats_t = np.swapaxes(pats, 1, 2)
  x = cues
  for _ in range(n_steps):
    x = _softmax_mean_np(np.matmul(x, pats_t) * np.asarray(beta, x.dtype), pats)
  return x


def ode_sample_np(cues: np.ndarray, pats: np.ndarray, gamma: float, t_start: float, t_end: float,
                  n_steps: int) -> np.ndarray:
  """Batched Euler probability-flow ODE with the exact VP score (same grid as `samplers.ode_sample`)."""
  dtype = cues.dtype
  ts = np.linspace(t_start, t_end, n_steps + 1).astype(dtype)
  pats_t = np.swapaxes(pats, 1, 2)
  sq = np.sum(pats * pats, axis=-1)[:, None, :]  # (R, 1, N)
  g = dtype.type(gamma)
  x = cues
  for t0, t1 in zip(ts[:-1], ts[1:]):
    theta = np.exp(dtype.type(-0.5) * g * t0)
    var = -np.expm1(-g * t0)
    a = theta / var
    logits = np.matmul(x * a, pats_t) - (dtype.type(0.5) * a * theta) * sq
    s = (theta * _softmax_mean_np(logits, pats) - x) / var
    x = x + (t1 - t0) * (dtype.type(-0.5) * g * x - dtype.type(0.5) * g * s)
  return x


def classic_recall_np(cues: np.ndarray, pats: np.ndarray, orders: np.ndarray, config: Table1Config
                      ) -> np.ndarray:
  """Batched classical Hopfield recall; orders (R, C, S, d) are used by "async" sweeps."""
  w = np.matmul(np.swapaxes(pats, 1, 2), pats)
  if config.classic_zero_diagonal:
    w = w * (1.0 - np.eye(w.shape[-1], dtype=w.dtype))
  x = _sign_np(cues) if config.classic_start == "sign" else cues.copy()
  r_idx, c_idx = np.meshgrid(np.arange(x.shape[0]), np.arange(x.shape[1]), indexing="ij")
  for s in range(config.classic_steps):
    if config.classic_mode == "sync":
      x = _sign_np(np.matmul(x, np.swapaxes(w, 1, 2)))
      continue
    for k in range(x.shape[-1]):
      unit = orders[:, :, s, k]                              # (R, C)
      rows = w[r_idx, unit]                                  # (R, C, d)
      x[r_idx, c_idx, unit] = _sign_np(np.sum(rows * x, axis=-1))
  return x


def _pearson_rows_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  a = a.reshape(a.shape[0], -1).astype(np.float64)
  b = b.reshape(b.shape[0], -1).astype(np.float64)
  da = a - a.mean(axis=1, keepdims=True)
  db = b - b.mean(axis=1, keepdims=True)
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.sum(da * db, axis=1) / np.sqrt(np.sum(da * da, axis=1) * np.sum(db * db, axis=1))


def _outputs_np(inputs: dict[str, np.ndarray], config: Table1Config, task: str) -> dict[str, np.ndarray]:
  """Binarised outputs (R, C, d) of the four memories, in NumPy, for the repeats in `inputs`."""
  pats, cues = inputs["patterns"], inputs["cues"]
  t0 = float(-2.0 * np.log(config.start_theta(task)) / config.gamma)
  return {
      "mhn": _sign_np(mhn_retrieve_np(cues, pats, config.beta, config.mhn_steps)),
      "diffusion": _sign_np(ode_sample_np(cues, pats, config.gamma, t0, config.t_end, config.ode_steps)),
      "classic": _sign_np(classic_recall_np(cues, pats, np.asarray(inputs["orders"]), config)),
      "true": np.asarray(inputs["targets"]),
  }


def row_from_inputs_np(inputs: dict[str, np.ndarray], config: Table1Config, task: str,
                       batched: bool = True) -> dict[str, tuple[float, int]]:
  """NumPy reference of one row's correlations from the shared inputs.

  batched=True runs all repeats at once with stacked (R, C, d)·(R, d, N) matmuls;
  batched=False is the plain reference: a Python loop over repeats, each repeat
  vectorised over its cues with (C, d)·(d, N) matmuls.
  """
  inputs = _cast_inputs({k: np.asarray(v) for k, v in inputs.items()}, config.precision, np)
  if batched:
    outs = _outputs_np(inputs, config, task)
  else:
    per_repeat = [_outputs_np({k: v[r:r + 1] for k, v in inputs.items()}, config, task)
                  for r in range(inputs["cues"].shape[0])]
    outs = {m: np.concatenate([o[m] for o in per_repeat]) for m in per_repeat[0]}
  mhn = outs.pop("mhn")
  res = {}
  for m, other in outs.items():
    if config.aggregate == "pooled":
      r = _pearson_rows_np(mhn.reshape(1, -1), other.reshape(1, -1))[0]
      res[m] = (float(r), int(np.isnan(r)))
    else:
      r = _pearson_rows_np(mhn, other)
      res[m] = (float(np.nanmean(r)), int(np.isnan(r).sum()))
  return res


def run_table1_numpy(config: Table1Config, batched: bool = True) -> list[dict[str, Any]]:
  """NumPy reference of `run_table1` on the same random inputs (same numbers up to rounding).

  The inputs (patterns, cues, orders) are drawn with the same JAX PRNG calls as
  the JAX path; everything after that (the four memories and the correlations)
  is NumPy with Python loops over time steps. batched=True vectorises over
  repeats and cues; batched=False loops over repeats (see `row_from_inputs_np`).
  """
  if not isinstance(config, Table1Config):
    raise ValueError(f"config must be a Table1Config, got {type(config).__name__}")
  rows = []
  for task in config.tasks:
    for n in config.n_patterns:
      inputs = {k: np.asarray(v) for k, v in sample_inputs(config, task, n).items()}
      rows.append(_row_dict(task, n, row_from_inputs_np(inputs, config, task, batched)))
  return rows


def paper_row(task: str, n_patterns: int) -> dict[str, float] | None:
  """The paper's Table 1 entries for (task, N), or None where the paper has no such row."""
  _checks.check_choice("task", task, TASKS)
  return PAPER_TABLE1.get((task, int(n_patterns)))
