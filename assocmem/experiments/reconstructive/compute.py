"""The run of the reconstructive-memory demo (seed 002, §6.1, Eq. 25): recall from cues, exact references."""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from assocmem import reconstructive as rc
from assocmem import files, samplers
from assocmem.experiments.reconstructive import report
from assocmem.experiments.reconstructive.config import ReconstructiveConfig
from assocmem.sde import VPSDE

# The demo memory (D = 2, W = 1): cores on x_0; φ's first coordinate predicts its second.
DEMO_CORES = np.array([[-1.6], [0.2], [1.7]])
DEMO_MEANS = np.array([[-2.0, -1.5], [0.0, 1.5], [2.0, -0.5]])
DEMO_SCALES = np.array([0.6, 0.5, 0.6])


def demo_state(semantic_weight: float) -> rc.ReconstructiveState:
  return rc.reconstructive_state(DEMO_CORES, np.array([[1.0, 0.0]]), DEMO_MEANS, DEMO_SCALES,
                                 semantic_weight=semantic_weight)


def random_state(cfg: ReconstructiveConfig, key: jax.Array, semantic_weight: float) -> rc.ReconstructiveState:
  """Random orthonormal maps, cores drawn as A_n y of φ samples (so cores lie in φ's support)."""
  k_map, k_mean, k_scale, k_core = jax.random.split(key, 4)
  d, w, n = cfg.dim, cfg.core_dim, cfg.n_memories
  q, _ = jnp.linalg.qr(jax.random.normal(k_map, (n, d, d)))
  maps = jnp.swapaxes(q, 1, 2)[:, :w]
  means = 1.5 * jax.random.normal(k_mean, (cfg.n_phi, d))
  scales = jax.random.uniform(k_scale, (cfg.n_phi,), minval=0.4, maxval=0.8)
  phi = rc.reconstructive_state(jnp.zeros((1, w)), maps[:1], means, scales)
  ys = jax.vmap(lambda k: rc.sample_component(k, phi, 1))(jax.random.split(k_core, n))
  cores = jnp.einsum("nwd,nd->nw", maps, ys)
  return rc.reconstructive_state(cores, maps, means, scales, semantic_weight=semantic_weight)


def free_basis(state: rc.ReconstructiveState) -> np.ndarray:
  """[N, D − W, D] orthonormal bases of the memories' free subspaces (complements of A_n's rows)."""
  maps = np.asarray(state.maps, np.float64)
  out = []
  for a in maps:
    _, _, vt = np.linalg.svd(a, full_matrices=True)
    out.append(vt[a.shape[0]:])
  return np.stack(out)


@functools.lru_cache(maxsize=8)
def _recall_fn(gamma: float, t0: float, t_end: float, n_steps: int):
  sde = VPSDE(gamma)
  score_fn = rc.reconstructive_score_fn(sde)
  return jax.jit(jax.vmap(lambda s, k, x: samplers.em_sample(k, score_fn, s, sde, x, t0, t_end, n_steps,
                                                            grid="geometric"), in_axes=(None, 0, 0)))


@functools.lru_cache(maxsize=8)
def _samples_fn(n_samples: int):
  """jit of `n_samples` exact samples of component n of a state (n and the state traced)."""
  return jax.jit(lambda state, n, key: jax.vmap(lambda k: rc.sample_component(k, state, n))(
      jax.random.split(key, n_samples)))


@functools.lru_cache(maxsize=8)
def _posterior_fn(gamma: float):
  sde = VPSDE(gamma)
  return jax.jit(lambda state, xs, t: jax.vmap(lambda x: rc.reconstructive_posterior(x, t, state, sde))(xs))


def recall_memory(cfg: ReconstructiveConfig, state: rc.ReconstructiveState, n: int, key: jax.Array) -> dict:
  """Recalls `n_cues` cues of memory n; returns recalls, expected recovery and the exact reference."""
  sde = VPSDE(cfg.gamma)
  t0 = float(sde.t_start(cfg.cue_theta))
  k_y, k_noise, k_em, k_ref, k_ref_noise = jax.random.split(key, 5)
  ys = _samples_fn(cfg.n_cues)(state, n, k_y)
  th = cfg.cue_theta
  cues = th * ys + np.sqrt(1.0 - th * th) * jax.random.normal(k_noise, ys.shape)
  recalls = _recall_fn(cfg.gamma, t0, cfg.t_end, cfg.n_steps)(state, jax.random.split(k_em, cfg.n_cues), cues)
  post = _posterior_fn(cfg.gamma)(state, cues, t0)
  ref = _samples_fn(cfg.n_reference)(state, n, k_ref)
  ref = sde.theta(cfg.t_end) * ref + jnp.sqrt(sde.variance(cfg.t_end)) * jax.random.normal(k_ref_noise, ref.shape)
  return {"cues": np.asarray(cues), "recalls": np.asarray(recalls), "expected": float(jnp.mean(post[:, n])),
          "reference": np.asarray(ref)}


def free_statistics(cfg: ReconstructiveConfig, state: rc.ReconstructiveState, n: int, out: dict) -> dict:
  """Core recovery and the recovered recalls' free coordinates against the exact reference."""
  sde = VPSDE(cfg.gamma)
  theta_end = float(sde.theta(cfg.t_end))
  a = np.asarray(state.maps[n], np.float64)
  core = theta_end * np.asarray(state.cores[n], np.float64)
  err = np.linalg.norm(out["recalls"] @ a.T - core, axis=1)
  hit = err < cfg.core_tol
  q = free_basis(state)[n]
  z, z_ref = out["recalls"][hit] @ q.T, out["reference"] @ q.T
  if hit.sum() >= 2:
    ks = [stats.ks_2samp(z[:, j], z_ref[:, j]) for j in range(q.shape[0])]
    ks_max, p_min = max(k.statistic for k in ks), min(k.pvalue for k in ks)
    mean_err = float(np.max(np.abs(z.mean(0) - z_ref.mean(0))))
    std_ratio = float(np.mean(z.std(0) / z_ref.std(0)))
  else:
    ks_max = p_min = mean_err = std_ratio = float("nan")
  return {"cues": int(len(hit)), "core_recovery": float(hit.mean()), "expected_recovery": out["expected"],
          "free_ks_max": float(ks_max), "free_ks_p_min": float(p_min), "free_mean_err": mean_err,
          "free_std_ratio": std_ratio}


def replays(cfg: ReconstructiveConfig, state: rc.ReconstructiveState, key: jax.Array) -> np.ndarray:
  """`n_replays` Euler–Maruyama samples from N(0, I) at θ = 0.01 (the demo figure)."""
  sde = VPSDE(cfg.gamma)
  t0 = float(sde.t_start(0.01))
  k0, k1 = jax.random.split(key)
  dim = state.maps.shape[2]
  x0 = jax.random.normal(k0, (cfg.n_replays, dim))
  return np.asarray(_recall_fn(cfg.gamma, t0, cfg.t_end, 2 * cfg.n_steps)(
      state, jax.random.split(k1, cfg.n_replays), x0))


def run_all(cfg: ReconstructiveConfig, key: jax.Array) -> dict[str, Any]:
  """Both settings: per memory, recall statistics; the demo's recalls and replays for the figure."""
  t_start = time.perf_counter()
  k_demo, k_rand_state, k_rand, k_replay = jax.random.split(key, 4)
  rows, demo = [], {}
  w_demo = max(cfg.semantic_weights)
  for sw in cfg.semantic_weights:
    for setting, state, k in (("demo", demo_state(sw), k_demo),
                              ("random", random_state(cfg, k_rand_state, sw), k_rand)):
      for n in range(state.cores.shape[0]):
        out = recall_memory(cfg, state, n, jax.random.fold_in(k, n))
        row = {"setting": setting, "semantic_weight": float(sw), "dim": int(state.maps.shape[2]),
               "core_dim": int(state.cores.shape[1]), "memory": n, **free_statistics(cfg, state, n, out)}
        rows.append(row)
        if setting == "demo" and sw == w_demo:
          demo[n] = out
  demo_st = demo_state(w_demo)
  return {"rows": rows, "demo": demo, "demo_state": demo_st, "replays": replays(cfg, demo_st, k_replay),
          "seconds": time.perf_counter() - t_start}


def run(cfg: ReconstructiveConfig, out_dir: str, *, key: Any = None) -> dict:
  """Recalls cues of every memory of both settings; writes DIR/recall.csv, DIR/reconstructive.png,
  DIR/summary.json; returns the summary."""
  if not isinstance(cfg, ReconstructiveConfig):
    raise ValueError(f"cfg must be a ReconstructiveConfig, got {type(cfg).__name__}")
  files.makedirs(out_dir)
  key = jax.random.PRNGKey(cfg.seed) if key is None else key
  out = run_all(cfg, key)
  report.write_recall_csv(out["rows"], out_dir)
  report.make_figure(out["demo_state"], out["demo"], out["replays"], cfg.gamma, cfg.t_end, cfg.core_tol, out_dir)
  summary = {"config": dataclasses.asdict(cfg), "seconds": round(out["seconds"], 2), "rows": out["rows"]}
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary
