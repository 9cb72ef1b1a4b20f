"""Probabilistic recall (seed 002, §5.1): the reverse SDE samples the posterior over stored patterns.

A denoising cue ỹ = θ y + √(1 − θ²) ε is a sample of the VP forward marginal at
t_start(θ) = −2 log θ / γ (App. A). Started there, the reverse SDE (Euler–Maruyama, Eq. 29 / Eq. 7)
ends at stored pattern y_n with probability h_n(ỹ, t_start), the exact posterior weight of Eq. A4:
"each denoising trajectory eventually reach[es] one of the possible fixed-points that are compatible
with the initial state" (§5.1). The probability-flow ODE (Eq. 28) is deterministic: from one cue it
reaches one pattern, so its endpoint frequencies are one-hot and do not reproduce the weights.

For each cue we run many parallel trajectories, label each endpoint with its nearest stored pattern,
and measure the total-variation distance ½ Σ_n |f_n − h_n| between the endpoint frequencies f and
the weights h, beside the `null_quantile` (99th percentile) of the TV that multinomial sampling
noise alone gives: f ~ Multinomial(M, h) / M with the same trajectory count M.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

import assocmem
from assocmem.experiments.probabilistic_recall import report
from assocmem.experiments.probabilistic_recall.config import RecallConfig

Array = jax.Array
ScoreFn = Callable[[Any, Array, Array], Array]


def total_variation(p: Array, q: Array) -> Array:
  """Total-variation distance ½ Σ_n |p_n − q_n| along the last axis: (..., N), (..., N) → (...)."""
  p = jnp.asarray(p)
  q = jnp.asarray(q)
  if p.shape[-1:] != q.shape[-1:]:
    raise ValueError(f"p and q must share their last axis (the outcomes), got shapes {p.shape} and {q.shape}")
  return 0.5 * jnp.sum(jnp.abs(p - q), axis=-1)


def multinomial_null(key: Array, weights: Array, n: int, draws: int) -> np.ndarray:
  """(draws,) total-variation distances TV(c / n, w) of c ~ Multinomial(n, w): pure sampling noise.

  The multinomial draws come from a NumPy generator seeded from `key` (exact counts, no compile).
  Args:
    key: PRNG key.
    weights: (N,) probabilities (renormalised, in float64, to sum to 1).
    n: trials per draw (the trajectory count), >= 1.
    draws: number of null draws, >= 1.
  """
  weights = np.asarray(weights, np.float64)
  if weights.ndim != 1 or weights.shape[0] < 1 or not np.all(np.isfinite(weights)) or np.any(weights < 0):
    raise ValueError(f"weights must be a 1-d array of non-negative probabilities, got {weights!r}")
  if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
    raise ValueError(f"n (trials per draw) must be an integer >= 1, got {n!r}")
  if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
    raise ValueError(f"draws must be an integer >= 1, got {draws!r}")
  weights = weights / weights.sum()
  seed = np.asarray(jax.random.randint(key, (2,), 0, np.iinfo(np.int32).max)).tolist()
  counts = np.random.default_rng(seed).multinomial(int(n), weights, size=int(draws))
  return 0.5 * np.abs(counts / n - weights).sum(axis=1)


def null_quantile(key: Array, weights: Array, n: int, draws: int, q: float) -> float:
  """The q-quantile of `multinomial_null` (e.g. q = 0.99: the 99th percentile of pure noise)."""
  if not 0 < q < 1:
    raise ValueError(f"q (the quantile) must lie in (0, 1), got {q!r}")
  return float(np.quantile(multinomial_null(key, weights, n, draws), q))


def nearest_pattern(patterns: Array, x: Array) -> Array:
  """Index of the stored pattern nearest to x in Euclidean distance: (N, d), (d,) → () int."""
  return jnp.argmin(jnp.sum((patterns - x) ** 2, axis=-1))


def frequencies(labels: Array, n_patterns: int) -> Array:
  """(..., M) pattern labels → (..., N) relative frequencies."""
  one_hot = jax.nn.one_hot(labels, n_patterns, dtype=jnp.float32)
  return jnp.mean(one_hot, axis=-2)


def make_problem(cfg: RecallConfig, key: Array) -> dict[str, Array]:
  """Patterns (N, d); per cue (C = len(thetas)·cues_per_theta): cue (C, d), θ, target and t_start.

  Cue j of each θ corrupts pattern j mod N: ỹ = θ y + √(1 − θ²) ε (`assocmem.denoising_cue`).
  """
  thetas = np.repeat(np.asarray(cfg.thetas, np.float32), cfg.cues_per_theta)
  targets = np.tile(np.arange(cfg.cues_per_theta) % cfg.n_patterns, len(cfg.thetas))
  patterns, cues = _patterns_and_cues(cfg, key)
  t_starts = np.asarray([cfg.t_start(float(th)) for th in thetas], np.float32)
  return {"patterns": patterns, "cues": cues, "thetas": thetas, "targets": targets, "t_starts": t_starts}


@functools.partial(jax.jit, static_argnames=("cfg",))
def _patterns_and_cues(cfg: RecallConfig, key: Array) -> tuple[Array, Array]:
  k_pat, k_cue = jax.random.split(key)
  patterns = assocmem.random_binary_patterns(k_pat, cfg.n_patterns, cfg.dim)
  per_theta = cfg.cues_per_theta
  targets = np.arange(per_theta) % cfg.n_patterns
  keys = jax.random.split(k_cue, len(cfg.thetas) * per_theta).reshape(len(cfg.thetas), per_theta, -1)
  cues = jnp.concatenate([jax.vmap(lambda k, y, th=th: assocmem.denoising_cue(k, y, th))(keys[i], patterns[targets])
                          for i, th in enumerate(cfg.thetas)])
  return patterns, cues


def posterior_weights(patterns: Array, cues: Array, t_starts: Array, sde: Any) -> Array:
  """(C, N) exact posterior weights h_n(ỹ_c, t_c) of Eq. A4 (`assocmem.posterior`); rows sum to 1."""
  return _posterior_weights(jnp.asarray(patterns), jnp.asarray(cues), jnp.asarray(t_starts), sde)


@jax.jit
def _posterior_weights(patterns: Array, cues: Array, t_starts: Array, sde: Any) -> Array:
  return jax.vmap(lambda x, t: assocmem.posterior(patterns, x, t, sde))(cues, t_starts)


@functools.partial(jax.jit, static_argnames=("score_fn", "n_traj", "n_steps", "t_end", "grid"))
def sde_endpoint_labels(key: Array, score_fn: ScoreFn, state: Any, sde: Any, patterns: Array,
                        cues: Array, t_starts: Array, *, n_traj: int, n_steps: int, t_end: float,
                        grid: str) -> Array:
  """(C, n_traj) nearest-pattern labels of Euler–Maruyama endpoints (seed 002, Eq. 29).

  Every trajectory of cue c starts at ỹ_c at t_starts[c] and runs `n_steps` steps down to `t_end`
  through `score_fn(state, x, t)` (exact: `assocmem.exact_score_fn(sde)` with a bank; learned: a
  network's score with its parameters); all C·n_traj trajectories run in one vmapped scan.
  """
  keys = jax.random.split(key, (cues.shape[0], n_traj))

  def one(k, x, t0):
    end = assocmem.em_sample(k, score_fn, state, sde, x, t0, t_end, n_steps, grid=grid)
    return nearest_pattern(patterns, end)

  per_cue = jax.vmap(lambda ks, x, t0: jax.vmap(lambda k: one(k, x, t0))(ks))
  return per_cue(keys, cues, t_starts)


@functools.partial(jax.jit, static_argnames=("score_fn", "n_steps", "t_end", "grid"))
def ode_endpoint_labels(score_fn: ScoreFn, state: Any, sde: Any, patterns: Array, cues: Array,
                        t_starts: Array, *, n_steps: int, t_end: float, grid: str) -> Array:
  """(C,) nearest-pattern label of the probability-flow ODE's endpoint from each cue (Eq. 28)."""
  def one(x, t0):
    end = assocmem.ode_sample(score_fn, state, sde, x, t0, t_end, n_steps, grid=grid)
    return nearest_pattern(patterns, end)

  return jax.vmap(one)(cues, t_starts)


def train_learned(cfg: RecallConfig, key: Array, patterns: Array) -> tuple[Any, ScoreFn]:
  """A `LearnedDiffusion` trained on the patterns (Eq. 27, θ ~ U(train_theta_min, 1)): (params, score_fn)."""
  memory = assocmem.LearnedDiffusion(sde=assocmem.VPSDE(cfg.gamma), hidden=cfg.hidden)
  params = memory.fit(key, patterns, n_iterations=cfg.train_steps, learning_rate=cfg.learning_rate,
                      theta_min=cfg.train_theta_min, log_every_s=60.0)
  return params, memory.score_fn


def _labels(cfg: RecallConfig, key: Array, score_fn: ScoreFn, state: Any, sde: Any,
            problem: dict[str, Array], n_traj: int) -> np.ndarray:
  return np.asarray(sde_endpoint_labels(
      key, score_fn, state, sde, problem["patterns"], problem["cues"], jnp.asarray(problem["t_starts"]),
      n_traj=n_traj, n_steps=cfg.n_steps, t_end=cfg.t_end, grid=cfg.grid))


def compute(cfg: RecallConfig, key: Array) -> dict[str, Any]:
  """Runs the experiment; returns per-cue arrays (weights, frequencies, TVs, null quantiles) and timings."""
  k_prob, k_sde, k_null, k_train, k_lsde, k_lnull = jax.random.split(key, 6)
  sde = assocmem.VPSDE(cfg.gamma)
  problem = make_problem(cfg, k_prob)
  patterns = problem["patterns"]
  n_cues = problem["cues"].shape[0]
  weights = np.asarray(posterior_weights(patterns, problem["cues"], problem["t_starts"], sde), np.float64)

  t0 = time.perf_counter()
  bank = assocmem.make_bank(patterns)
  exact = assocmem.exact_score_fn(sde)
  sde_labels = _labels(cfg, k_sde, exact, bank, sde, problem, cfg.n_trajectories)
  ode_labels = np.asarray(ode_endpoint_labels(exact, bank, sde, patterns, problem["cues"],
                                              jnp.asarray(problem["t_starts"]), n_steps=cfg.n_steps,
                                              t_end=cfg.t_end, grid=cfg.grid))
  seconds_exact = time.perf_counter() - t0
  f_sde = np.asarray(frequencies(jnp.asarray(sde_labels), cfg.n_patterns), np.float64)
  f_ode = np.eye(cfg.n_patterns)[ode_labels]
  null_keys = jax.random.split(k_null, n_cues)
  q_sde = np.asarray([null_quantile(null_keys[c], weights[c], cfg.n_trajectories, cfg.n_null,
                                    cfg.null_quantile) for c in range(n_cues)])
  out = {**{k: np.asarray(v) for k, v in problem.items()}, "weights": weights, "f_sde": f_sde,
         "f_ode": f_ode, "ode_labels": ode_labels, "tv_sde": np.asarray(total_variation(f_sde, weights)),
         "tv_ode": np.asarray(total_variation(f_ode, weights)), "null_q_sde": q_sde,
         "seconds_exact": seconds_exact}
  logging.info("probabilistic_recall: exact SDE/ODE over %d cues in %.2f s", n_cues, seconds_exact)

  if cfg.learned:
    t0 = time.perf_counter()
    params, learned_score = train_learned(cfg, k_train, patterns)
    seconds_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_l = cfg.n_learned_trajectories
    l_labels = _labels(cfg, k_lsde, learned_score, params, sde, problem, n_l)
    f_learned = np.asarray(frequencies(jnp.asarray(l_labels), cfg.n_patterns), np.float64)
    lnull_keys = jax.random.split(k_lnull, n_cues)
    out.update(f_learned=f_learned, tv_learned=np.asarray(total_variation(f_learned, weights)),
               null_q_learned=np.asarray([null_quantile(lnull_keys[c], weights[c], n_l, cfg.n_null,
                                                        cfg.null_quantile) for c in range(n_cues)]),
               seconds_train=seconds_train, seconds_learned=time.perf_counter() - t0)
    logging.info("probabilistic_recall: learned score trained in %.2f s, sampled in %.2f s",
                 seconds_train, out["seconds_learned"])
  return out


def run(cfg: RecallConfig, out_dir: str, *, key: Array | None = None) -> dict[str, Any]:
  """Computes and writes recall.csv, frequencies.csv, probabilistic_recall.png and summary.json."""
  if not isinstance(cfg, RecallConfig):
    raise ValueError(f"cfg must be a RecallConfig, got {type(cfg).__name__}")
  key = jax.random.PRNGKey(cfg.seed) if key is None else key
  t0 = time.perf_counter()
  result = compute(cfg, key)
  return report.write_results(cfg, result, out_dir, total_seconds=time.perf_counter() - t0)
