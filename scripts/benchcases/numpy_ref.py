"""Plain NumPy reference of seed 002's Table 1 (Ambrogioni 2024, §7, App. A): the benchmark's baseline.

Not part of the library: scripts/benchmark.py times the JAX path
(`assocmem.experiments.table1`) against these functions, and tests/test_table1.py
checks that both compute the same correlations. Run with scripts/ on sys.path:

  from benchcases import numpy_ref
  rows = numpy_ref.run_table1_numpy(table1.PRESETS["reproduce"])

Everything is vectorised over a leading repeat axis R and a cue axis C, with
Python loops over time steps:

  mhn_retrieve_np   modern Hopfield updates ξ ← Yᵀ softmax(β Y ξ) (seed 002 Eq. 5; seed 000 Eq. 3);
  ode_sample_np     Euler on the VP probability-flow ODE dx/dt = −½γ(x + ∇log p_t) (App. A,
                    Eq. A2 as corrected in docs/reproduction.md) with the exact score of
                    Eqs. A3–A4 (corrected): (θ_t Σ h_n y_n − x) / v_t;
  classic_recall_np classical Hopfield x ← sign(Wx) (Eq. 1) with Hebbian W (Eq. 3);
  pearson_np / pearson_rows_np   Pearson correlation (Table 1), always in float64.

The inputs (patterns, cues, async orders) come from `table1.sample_inputs`, so the
two paths see identical random draws; they agree to rounding (an exactly tied
completion cue may rarely be broken differently: at full size the correlations
differ by < 1e-4).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from assocmem.experiments import table1


def sign_np(x: np.ndarray) -> np.ndarray:
  """sign(x) with sign(0) = +1, in x's dtype (seed 002 §7)."""
  return np.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def _softmax_mean_np(logits: np.ndarray, pats: np.ndarray) -> np.ndarray:
  """Σ_n softmax(logits)_n y_n for logits (R, C, N), patterns (R, N, d) -> (R, C, d)."""
  e = np.exp(logits - logits.max(axis=-1, keepdims=True))
  return np.matmul(e, pats) / e.sum(axis=-1, keepdims=True)


def mhn_retrieve_np(cues: np.ndarray, pats: np.ndarray, beta: float, n_steps: int) -> np.ndarray:
  """Batched modern Hopfield retrieval (seed 002 Eq. 5): cues (R, C, d), patterns (R, N, d) -> (R, C, d)."""
  pats_t = np.swapaxes(pats, 1, 2)
  x = cues
  for _ in range(n_steps):
    x = _softmax_mean_np(np.matmul(x, pats_t) * np.asarray(beta, x.dtype), pats)
  return x


def ode_sample_np(cues: np.ndarray, pats: np.ndarray, gamma: float, t_start: float, t_end: float,
                  n_steps: int) -> np.ndarray:
  """Batched Euler probability-flow ODE with the exact VP score (seed 002 App. A, Eqs. A2–A4).

  Same linear grid as `assocmem.samplers.ode_sample`: n_steps + 1 times from t_start to t_end.
  cues (R, C, d), patterns (R, N, d) -> (R, C, d).
  """
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


def classic_recall_np(cues: np.ndarray, pats: np.ndarray, orders: np.ndarray,
                      config: table1.Table1Config) -> np.ndarray:
  """Batched classical Hopfield recall (seed 002 Eqs. 1, 3); orders (R, C, S, d) drive "async" sweeps."""
  w = np.matmul(np.swapaxes(pats, 1, 2), pats)
  if config.classic_zero_diagonal:
    w = w * (1.0 - np.eye(w.shape[-1], dtype=w.dtype))
  x = sign_np(cues) if config.classic_start == "sign" else cues.copy()
  r_idx, c_idx = np.meshgrid(np.arange(x.shape[0]), np.arange(x.shape[1]), indexing="ij")
  for s in range(config.classic_steps):
    if config.classic_mode == "sync":
      x = sign_np(np.matmul(x, np.swapaxes(w, 1, 2)))
      continue
    for k in range(x.shape[-1]):
      unit = orders[:, :, s, k]                              # (R, C)
      rows = w[r_idx, unit]                                  # (R, C, d)
      x[r_idx, c_idx, unit] = sign_np(np.sum(rows * x, axis=-1))
  return x


def pearson_rows_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Pearson correlation (seed 002 Table 1) of each leading-axis slice, flattened: (R, ...) -> (R,).

  Computed in float64; a constant slice gives NaN.
  """
  a = a.reshape(a.shape[0], -1).astype(np.float64)
  b = b.reshape(b.shape[0], -1).astype(np.float64)
  da = a - a.mean(axis=1, keepdims=True)
  db = b - b.mean(axis=1, keepdims=True)
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.sum(da * db, axis=1) / np.sqrt(np.sum(da * da, axis=1) * np.sum(db * db, axis=1))


def pearson_np(a: np.ndarray, b: np.ndarray) -> float:
  """Pearson correlation of all entries of a and b (NumPy reference of `assocmem.metrics.pearson`)."""
  return float(pearson_rows_np(np.ravel(a)[None], np.ravel(b)[None])[0])


def _cast_np(inputs: dict[str, Any], precision: str) -> dict[str, np.ndarray]:
  """The shared inputs as NumPy arrays, floats cast to `precision` (orders stay integer)."""
  return {k: (np.asarray(v).astype(precision) if k != "orders" else np.asarray(v))
          for k, v in inputs.items()}


def _outputs_np(inputs: dict[str, np.ndarray], config: table1.Table1Config,
                task: str) -> dict[str, np.ndarray]:
  """Binarised outputs (R, C, d) of the four memories for the repeats in `inputs`."""
  pats, cues = inputs["patterns"], inputs["cues"]
  t0 = config.t_start(task)
  return {
      "mhn": sign_np(mhn_retrieve_np(cues, pats, config.beta, config.mhn_steps)),
      "diffusion": sign_np(ode_sample_np(cues, pats, config.gamma, t0, config.t_end, config.ode_steps)),
      "classic": sign_np(classic_recall_np(cues, pats, inputs["orders"], config)),
      "true": inputs["targets"],
  }


def row_from_inputs_np(inputs: dict[str, Any], config: table1.Table1Config, task: str,
                       batched: bool = True) -> dict[str, tuple[float, int]]:
  """One row's {model: (correlation, number of undefined correlations)} from the shared inputs.

  batched=True runs all repeats at once with stacked (R, C, d)·(R, d, N) matmuls;
  batched=False is the plain reference: a Python loop over repeats, each repeat
  vectorised over its cues with (C, d)·(d, N) matmuls.
  """
  inputs = _cast_np(inputs, config.precision)
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
      r = pearson_rows_np(mhn.reshape(1, -1), other.reshape(1, -1))[0]
      res[m] = (float(r), int(np.isnan(r)))
    else:
      r = pearson_rows_np(mhn, other)
      res[m] = (float(np.nanmean(r)), int(np.isnan(r).sum()))
  return res


def run_table1_numpy(config: table1.Table1Config, batched: bool = True) -> list[dict[str, Any]]:
  """NumPy reference of `table1.run_table1` on the same random inputs (same numbers up to rounding).

  The inputs are drawn with the JAX path's own `table1.sample_inputs`; everything
  after that (the four memories and the correlations) is NumPy. batched=True
  vectorises over repeats and cues; batched=False loops over repeats.
  """
  if not isinstance(config, table1.Table1Config):
    raise ValueError(f"config must be a Table1Config, got {type(config).__name__}")
  rows = []
  for task in config.tasks:
    for n in config.n_patterns:
      inputs = table1.sample_inputs(config, task, n)
      rows.append(table1.row_record(task, n, row_from_inputs_np(inputs, config, task, batched)))
  return rows
