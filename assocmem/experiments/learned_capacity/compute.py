"""Capacity of learned diffusion models, as seed 002 estimates it (App. A; the black dots of Figure 3b).

App. A: "for a given dimensionality d, we trained the network with n_d patterns, where n_d is the
estimated capacity of the exact score model plus 4. After training, we evaluated the error on 30
batches of unseen noise corrupted versions of the training patterns. If the error was below
threshold, we returned n_d as the estimated capacity, otherwise, we reduced n_d by one and repeated
the training until the error was below threshold. This procedure was repeated 8 times for d equal
to 10, 12, 14, and 16."

Our reading, per (d, repeat r) (every choice is listed in `LearnedCapacityConfig`):

* n_top = ⌊exact capacity at d + 4⌋, the largest whole number of patterns not above "capacity
  plus 4" (`start_rounding="floor"`; `"nearest"`: round(capacity) + 4), the exact capacity being the
  smoothed estimate of `assocmem.experiments.capacity` (from a capacity.csv, from a fixed table, or
  computed here);
* candidate n trains a fresh ScoreMLP (80·d hidden units; Eq. 27, θ ~ U(0.6, 1), Adam 1e-3, full
  batch, 5,000 steps) on the first n patterns of repeat r's pattern sequence (pattern i = sign of a
  Gaussian drawn from (seed, d, r, i), so the sets are nested);
* test: 30 batches, each every training pattern corrupted once, ỹ = θ y + √(1 − θ²) ε (θ = 0.68),
  recalled by 300 Euler steps of the probability-flow ODE with the learned score (as for the exact
  model); error = mean Hamming error over the 30·n cues; pass ⇔ error ≤ 3%;
* capacity(d, r) = the first passing n walking down from n_top (floor − 1 = 0 if none passes).

Every candidate's network, cues and error are a pure function of (seed, d, r, n), so the order of
computation cannot change the answer. Candidates are trained in rounds, each round one masked
ensemble (`assocmem.train.score.fit_ensemble`): `block=None` trains every candidate n_top … floor of
every repeat at once and takes the largest passing n; `block=k` trains the next k untried candidates
of every repeat that has not passed yet (k = 1 is the paper's sequential procedure, with the repeats
batched), which trains only the candidates the sequential procedure visits. Both give the same
capacities. Finished candidates are appended to DIR/candidates.jsonl (a rerun skips them) and a
round in progress resumes from its orbax checkpoints.

The base key of every draw is `run`'s `key` (default `PRNGKey(seed)`); a key other than the
default tags the records with its own hash (`run_hash`), so they never mix with the seed's.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import shutil
import time
from typing import Any, Callable, Sequence

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from assocmem import files
from assocmem.experiments import sweep
from assocmem.experiments.learned_capacity import report
from assocmem.experiments.learned_capacity.config import LearnedCapacityConfig
from assocmem.experiments.learned_capacity.exact import exact_capacities
from assocmem.nn.score_mlp import ScoreMLP, learned_score_fn
from assocmem.samplers import ode_sample
from assocmem.sde import VPSDE
from assocmem.train import score as train_lib

Array = jax.Array

ID_FIELDS = ("d", "repeat", "n_patterns", "config")

_SALT_PATTERNS, _SALT_TRAIN, _SALT_CUES = 0x9A77, 0x7A1D, 0xC0E5


def _key_words(key: Array) -> list[int]:
  """The integers of a PRNG key (raw uint32 or typed)."""
  return [int(w) for w in np.asarray(jax.random.key_data(key)).ravel()]


def is_default_key(cfg: LearnedCapacityConfig, key: Array | None) -> bool:
  """Whether `key` is None or `PRNGKey(cfg.seed)` (the records of the seed)."""
  return key is None or _key_words(key) == _key_words(jax.random.PRNGKey(cfg.seed))


def run_hash(cfg: LearnedCapacityConfig, key: Array | None = None) -> str:
  """The tag of a run's candidate records: `cfg.config_hash()` for the default key, else a hash of
  it and the key's words (so results of different keys never mix in DIR/candidates.jsonl)."""
  if is_default_key(cfg, key):
    return cfg.config_hash()
  blob = json.dumps([cfg.config_hash(), _key_words(key)])
  return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _key(cfg: LearnedCapacityConfig, key: Array | None, *ints: int) -> Array:
  """fold_in of `ints` into the base key (`key`, default `PRNGKey(cfg.seed)`)."""
  out = jax.random.PRNGKey(cfg.seed) if key is None else key
  for v in ints:
    out = jax.random.fold_in(out, v)
  return out


def repeat_patterns(cfg: LearnedCapacityConfig, d: int, repeat: int, n: int, *,
                    key: Array | None = None) -> np.ndarray:
  """(n, d) ±1 patterns of repeat r: row i = sign(N(0, I_d)) drawn from (key, d, r, i); nested in n."""
  base = _key(cfg, key, _SALT_PATTERNS, d, repeat)
  rows = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(base, i), (d,)))(jnp.arange(n))
  return np.where(np.asarray(rows) >= 0, 1.0, -1.0).astype(np.float32)


def candidate_key(cfg: LearnedCapacityConfig, d: int, repeat: int, n: int, *, key: Array | None = None) -> Array:
  """PRNG key of candidate n's network (initialisation and noise draws), from (key, d, r, n)."""
  return _key(cfg, key, _SALT_TRAIN, d, repeat, n)


def candidate_cues(cfg: LearnedCapacityConfig, patterns: np.ndarray, d: int, repeat: int, *,
                   key: Array | None = None) -> np.ndarray:
  """(n_batches, n, d) test cues θ y + √(1 − θ²) ε of the n patterns, ε from (key, d, r, n)."""
  n = patterns.shape[0]
  words = np.asarray(jax.random.key_data(_key(cfg, key, _SALT_CUES, d, repeat, n))).ravel()
  eps = np.random.default_rng([int(w) for w in words]).standard_normal((cfg.n_batches, n, d))
  return (cfg.theta * patterns[None] + math.sqrt(1.0 - cfg.theta ** 2) * eps).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _recall_fn(model: ScoreMLP, gamma: float, theta: float, ode_steps: int, t_end: float) -> Callable:
  """jit: params of one network, cues (Q, d) -> recalls (Q, d) (the ODE vmapped over the cues)."""
  sde = VPSDE(gamma)
  t0 = float(sde.t_start(theta))
  score_fn = learned_score_fn(sde, model)
  return jax.jit(lambda params, cues: jax.vmap(
      lambda x: ode_sample(score_fn, params, sde, x, t0, t_end, ode_steps))(cues))


def evaluate_candidates(cfg: LearnedCapacityConfig, d: int, params: Any, patterns: np.ndarray,
                        sizes: Sequence[int], cues: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Mean Hamming error of each network over its real cues, the test batches it took, and its verdict.

  Each network's cues are recalled `cfg.eval_group` batches per jitted call (always the same
  groups, so a group's recalls do not depend on what else is evaluated). With
  `cfg.early_decision`, a network's evaluation stops after the first group that settles its
  verdict: failed when the wrong bits so far already exceed threshold × all its test bits, passed
  when they cannot reach it even if every remaining bit were wrong. The verdict is the one the
  full evaluation gives (the wrong-bit count only grows); its error is then over the batches taken.

  Args:
    params: stacked parameters of E networks.
    patterns: (E, N_max, d) padded pattern sets; sizes: the E real sizes.
    cues: (E, n_batches, N_max, d) padded cues.
  Returns:
    (E,) mean Hamming errors over the batches taken, (E,) batches taken, (E,) bool: passed, i.e.
    the mean error over all n_batches is ≤ threshold.
  """
  e, b, n_max, _ = cues.shape
  fn = _recall_fn(cfg.model(d), cfg.gamma, cfg.theta, cfg.ode_steps, cfg.t_end)
  group = min(cfg.eval_group, b)
  errors, taken, passed = np.zeros(e), np.zeros(e, np.int64), np.zeros(e, bool)
  for k, n in enumerate(sizes):
    net = jax.tree.map(lambda leaf: leaf[k], params)
    total = b * n * d                        # test bits of network k
    wrong = 0
    for start in range(0, b, group):
      batch = cues[k, start:start + group]
      rows = np.zeros((group,) + batch.shape[1:], np.float32)
      rows[:len(batch)] = batch              # the last group padded to a full one (one compilation)
      out = np.asarray(fn(net, jnp.asarray(rows.reshape(-1, d)))).reshape(group, n_max, d)[:len(batch)]
      wrong += int(np.sum(np.where(out[:, :n] >= 0, 1.0, -1.0) != patterns[k, None, :n]))
      taken[k] = start + len(batch)
      if cfg.early_decision and (wrong / total > cfg.threshold
                                 or (wrong + (b - taken[k]) * n * d) / total <= cfg.threshold):
        break
    errors[k] = wrong / (taken[k] * n * d)
    # Wrong bits so far plus every untested bit wrong: the worst case, and the full count when taken == b.
    passed[k] = (wrong + (b - taken[k]) * n * d) / total <= cfg.threshold
  return errors, taken, passed


def _plan(cfg: LearnedCapacityConfig, d: int, n_top: int, done: dict[str, dict],
          chash: str | None = None) -> list[tuple[int, int]]:
  """The (repeat, n) candidates of the next round: per repeat, walking down from n_top until a
  passing candidate, the next `block` (None: all) candidates not run yet (records tagged `chash`,
  default `cfg.config_hash()`)."""
  chash = chash or cfg.config_hash()
  plan = []
  for r in range(cfg.repeats):
    todo: list[int] = []
    for n in range(n_top, cfg.floor - 1, -1):
      rec = done.get(sweep.cell_id({"d": d, "repeat": r, "n_patterns": n, "config": chash}))
      if rec is not None and rec["passed"]:
        break
      if rec is None:
        todo.append(n)
        if cfg.block is not None and len(todo) == cfg.block:
          break
    plan += [(r, n) for n in todo]
  return plan


def capacities_from_records(cfg: LearnedCapacityConfig, records: Sequence[dict],
                            n_tops: dict[int, int], chash: str | None = None) -> list[dict[str, int]]:
  """[{d, repeat, capacity}]: the first passing n walking down from n_top (floor − 1 if none), from
  the records tagged `chash` (default `cfg.config_hash()`).

  Raises ValueError if a repeat's walk reaches an untried candidate (the run is incomplete).
  """
  chash = chash or cfg.config_hash()
  table = {(int(r["d"]), int(r["repeat"]), int(r["n_patterns"])): r for r in records if r["config"] == chash}
  rows = []
  for d in cfg.dims:
    for rep in range(cfg.repeats):
      cap = cfg.floor - 1
      for n in range(n_tops[d], cfg.floor - 1, -1):
        rec = table.get((d, rep, n))
        if rec is None:
          raise ValueError(f"candidate d={d}, repeat={rep}, n={n} has not been run")
        if rec["passed"]:
          cap = n
          break
      rows.append({"d": d, "repeat": rep, "capacity": cap})
  return rows


def run_round(cfg: LearnedCapacityConfig, d: int, plan: Sequence[tuple[int, int]], checkpoint_dir: str | None,
              on_chunk: Callable | None = None, *, key: Array | None = None) -> list[dict[str, Any]]:
  """Trains the round's candidates as one masked ensemble and tests them; returns their records
  (tagged `run_hash(cfg, key)`)."""
  t0 = time.perf_counter()
  sizes = [n for _, n in plan]
  n_max = max(sizes)
  e = len(plan)
  patterns = np.zeros((e, n_max, d), np.float32)
  masks = np.zeros((e, n_max), np.float32)
  cues = np.zeros((e, cfg.n_batches, n_max, d), np.float32)
  keys = []
  for k, (r, n) in enumerate(plan):
    p = repeat_patterns(cfg, d, r, n, key=key)
    patterns[k, :n], masks[k, :n] = p, 1.0
    cues[k, :, :n] = candidate_cues(cfg, p, d, r, key=key)
    keys.append(np.asarray(candidate_key(cfg, d, r, n, key=key)))
  state = train_lib.fit_ensemble(cfg.model(d), np.stack(keys), patterns, masks, cfg.train_config(),
                                 checkpoint_dir=checkpoint_dir, on_chunk=on_chunk,
                                 label=f"learned capacity d={d} ({e} networks, N <= {n_max})")
  t_train = time.perf_counter() - t0
  errors, taken, verdicts = evaluate_candidates(cfg, d, state.params, patterns, sizes, cues)
  losses = train_lib.loss_curve(state)
  seconds = time.perf_counter() - t0
  chash = run_hash(cfg, key)
  out = []
  for k, (r, n) in enumerate(plan):
    out.append({"d": d, "repeat": r, "n_patterns": n, "config": chash, "mean_error": float(errors[k]),
                "batches_evaluated": int(taken[k]), "passed": bool(verdicts[k]),
                "final_loss": float(np.mean(losses[k, -100:])),
                "round_networks": e, "round_train_seconds": round(t_train, 2),
                "round_seconds": round(seconds, 2)})
  return out


def run(cfg: LearnedCapacityConfig, out_dir: str, *, key: Array | None = None,
        exact: dict[int, dict[str, Any]] | None = None, on_chunk: Callable | None = None) -> dict[str, Any]:
  """Runs (or resumes) every round; writes learned_capacity.csv, learned_capacity.json and the figure.

  Args:
    cfg: settings.
    out_dir: DIR; DIR/candidates.jsonl holds finished candidates, DIR/checkpoints the round in progress.
    key: base key of every draw (patterns, networks, cues); None: `PRNGKey(cfg.seed)`.
    exact: exact capacities per d (`exact.exact_capacities`); None: from cfg's table, then
      `cfg.exact_capacity_csv`, then computed in DIR/exact_capacity.
    on_chunk: passed to training (tests and --abort_after_chunks).
  Returns:
    the summary written to learned_capacity.json.
  """
  t0 = time.perf_counter()
  files.makedirs(out_dir)
  if exact is None:
    exact = exact_capacities(cfg, work_dir=os.path.join(out_dir, "exact_capacity"))
  store = sweep.JsonlStore(os.path.join(out_dir, "candidates.jsonl"), ID_FIELDS)
  n_tops = {d: int(exact[d]["capacity"]) + cfg.margin for d in cfg.dims}
  chash = run_hash(cfg, key)
  rounds = 0
  for d in cfg.dims:
    while True:
      plan = _plan(cfg, d, n_tops[d], store.load(), chash)
      if not plan:
        break
      tag = hashlib.sha256(json.dumps(plan).encode()).hexdigest()[:10]
      ckpt = os.path.join(out_dir, "checkpoints", f"d{d}_{chash}_{tag}")
      logging.info("learned capacity d=%d: round of %d candidates %s", d, len(plan), plan)
      for rec in run_round(cfg, d, plan, ckpt, on_chunk, key=key):
        store.append(rec)
      rounds += 1
      if files.is_writer():
        shutil.rmtree(ckpt, ignore_errors=True)
  records = list(store.load().values())
  rows = capacities_from_records(cfg, records, n_tops, chash)
  report.write_csv(rows, os.path.join(out_dir, "learned_capacity.csv"))
  mine = [r for r in records if r["config"] == chash and r["d"] in cfg.dims]
  summary = {"config": dataclasses.asdict(cfg), "config_hash": chash,
             "exact_capacity": {str(d): exact[d] for d in cfg.dims}, "n_top": {str(d): n_tops[d] for d in cfg.dims},
             "capacity": {str(d): [r["capacity"] for r in rows if r["d"] == d] for d in cfg.dims},
             "mean_capacity": {str(d): float(np.mean([r["capacity"] for r in rows if r["d"] == d]))
                               for d in cfg.dims},
             "candidates_trained": len(mine), "rounds_this_run": rounds,
             "train_seconds_total": round(sum(r["round_train_seconds"] / r["round_networks"] for r in mine), 1),
             "seconds_this_run": round(time.perf_counter() - t0, 1),
             "figures": ["learned_capacity.png"]}
  report.write_summary(summary, rows, exact, cfg, out_dir)
  return summary
