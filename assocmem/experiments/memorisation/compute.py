"""Beyond seed 002: the transition from memorisation to generalisation of learned diffusion models.

Seed 002 shows that a network trained by denoising stores its patterns as attractors, up to a
capacity. Pham et al. (2025, "Memorization to generalization: emergence of diffusion models from
associative memory") describe what happens past it: spurious attractors (stable states that are
not training patterns) appear at the transition, then generalisation. Here, per dimensionality d:

* N runs from below the learned capacity C to ≥ 8 C: N = max(1, round(r · C)) for r in `ratios`;
* for each N and repeat, a ScoreMLP (80·d hidden units) is trained on N random ±1 patterns (the
  nested pattern sequence of `learned_capacity.repeat_patterns`), with θ ~ U(θ_min, 1) over the
  whole noise range (θ_min = 0.01, not the paper's 0.6: sampling starts from the prior);
* `n_samples` samples are drawn from N(0, I) at θ = θ_min (t ≈ 11.5 for γ = 0.8) with
  Euler–Maruyama (Eq. 29) on a geometric grid down to t = 1e-3;
* each sample is classified (`classify`), with Euclidean distances:
    memorised  within δ_m of a training pattern;
    spurious   not memorised, but within δ_s of another non-memorised sample (a shared attractor
               that is not a training pattern);
    other      neither;
  and the distinct spurious attractors are counted (connected components of spurious samples
  linked at distance ≤ δ_s).

δ_m = δ_s = 1, half the distance between neighbouring corners of the hypercube: distinct ±1
patterns are ≥ 2 apart, so a sample within 1 of y_n is closer to y_n than to any other binary
state, and balls of radius 1 around different corners are disjoint. The radius has to be that
wide for learned networks: the exact score's samples end ≈ 0.065 from their pattern (the residual
noise √(1 − θ²) ≈ 0.03 per unit at t = 1e-3), but a network's end ≈ 0.4–0.9 away (its noise
prediction must grow like 1/√(1 − θ²) as θ → 1, which a ReLU MLP only approximates), so two
samples of one attractor end up to ≈ 1 apart.

Check: the exact score of the N patterns memorises at every N (every sample within δ_m of a
pattern); with `exact=True` the same patterns and sampler with the exact score are written to
memorisation_exact.csv.

Outputs: DIR/memorisation.csv (header d,n_patterns,repeat,memorised,spurious,other: fractions of
the samples), DIR/memorisation_exact.csv, DIR/cells.jsonl (one line per (model, d, N) with the
per-repeat fractions, spurious-attractor counts and distances; resumable), DIR/memorisation.png
and DIR/memorisation.json.

The base key of every draw (patterns, networks, samples) is `run`'s `key` (default
`PRNGKey(seed)`, so the patterns are learned_capacity's of the same seed); a key other than the
default tags the cells with its own hash (`run_hash`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from typing import Any, Callable

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from assocmem import files
from assocmem.bank import make_bank
from assocmem.experiments import sweep
from assocmem.experiments.learned_capacity import compute as lc_compute
from assocmem.experiments.learned_capacity.config import LearnedCapacityConfig
from assocmem.experiments.memorisation import report
from assocmem.experiments.memorisation.classify import classify, fractions
from assocmem.experiments.memorisation.config import MemorisationConfig
from assocmem.nn.score_mlp import learned_score_fn
from assocmem.samplers import em_sample
from assocmem.scores import exact_score_fn
from assocmem.sde import VPSDE
from assocmem.train import score as train_lib

Array = jax.Array

ID_FIELDS = ("model", "d", "n_patterns", "config")
_SALT_SAMPLES, _SALT_TRAIN = 0x5A3F, 0x3E30


def run_hash(cfg: MemorisationConfig, key: Array | None = None) -> str:
  """The tag of a run's cells: `cfg.config_hash()` for None or `PRNGKey(cfg.seed)`, else a hash of
  it and the key's words (so results of different keys never mix in DIR/cells.jsonl)."""
  words = lambda k: [int(w) for w in np.asarray(jax.random.key_data(k)).ravel()]
  if key is None or words(key) == words(jax.random.PRNGKey(cfg.seed)):
    return cfg.config_hash()
  return hashlib.sha256(json.dumps([cfg.config_hash(), words(key)]).encode()).hexdigest()[:12]


def _key(cfg: MemorisationConfig, key: Array | None, *ints: int) -> Array:
  """fold_in of `ints` into the base key (`key`, default `PRNGKey(cfg.seed)`)."""
  out = jax.random.PRNGKey(cfg.seed) if key is None else key
  for v in ints:
    out = jax.random.fold_in(out, v)
  return out


def _patterns(cfg: MemorisationConfig, d: int, repeat: int, n: int, key: Array | None = None) -> np.ndarray:
  """Repeat r's first n patterns: `learned_capacity.repeat_patterns` with the same seed (and key)."""
  return lc_compute.repeat_patterns(LearnedCapacityConfig(seed=cfg.seed), d, repeat, n, key=key)


def _sample_fn(score_fn, cfg: MemorisationConfig, d: int) -> Callable:
  """jit: states (E, …), keys (E, 2) -> (E, n_samples, d) Euler–Maruyama samples from the prior."""
  sde = VPSDE(cfg.gamma)
  t0 = float(sde.t_start(cfg.theta_min))

  def one(state, key):
    k0, k1 = jax.random.split(key)
    x0 = sde.prior_sampling(k0, (cfg.n_samples, d))
    keys = jax.random.split(k1, cfg.n_samples)
    return jax.vmap(lambda x, k: em_sample(k, score_fn, state, sde, x, t0, cfg.t_end, cfg.sample_steps,
                                           grid="geometric"))(x0, keys)

  return jax.jit(lambda states, keys: jax.lax.map(lambda a: one(*a), (states, keys)))


def _cell_result(cfg: MemorisationConfig, samples: np.ndarray, patterns: np.ndarray) -> dict[str, Any]:
  per = []
  for s, p in zip(samples, patterns):
    labels, n_att = classify(s, p, cfg.delta_m, cfg.delta_s)
    dist = np.sqrt(((s[:, None] - p[None]) ** 2).sum(-1)).min(axis=1)
    per.append({**fractions(labels), "spurious_attractors": int(n_att),
                "median_distance_to_pattern": float(np.median(dist))})
  return {k: [r[k] for r in per] for k in per[0]}


def run_cell(cfg: MemorisationConfig, model_kind: str, d: int, n: int, checkpoint_dir: str | None = None,
             on_chunk: Callable | None = None, *, key: Array | None = None) -> dict[str, Any]:
  """Trains (learned) the `repeats` networks of (d, N) as one ensemble, samples and classifies them.

  Args:
    model_kind: "learned" (score networks, Eq. 27) or "exact" (the exact score of the same patterns).
    key: base key (None: `PRNGKey(cfg.seed)`).
  """
  if model_kind not in ("learned", "exact"):
    raise ValueError(f"model_kind must be 'learned' or 'exact', got {model_kind!r}")
  t0 = time.perf_counter()
  patterns = np.stack([_patterns(cfg, d, r, n, key) for r in range(cfg.repeats)])
  sample_keys = jnp.stack([_key(cfg, key, _SALT_SAMPLES, d, n, r) for r in range(cfg.repeats)])
  extra: dict[str, Any] = {}
  if model_kind == "learned":
    model = cfg.model(d)
    keys = jnp.stack([_key(cfg, key, _SALT_TRAIN, d, n, r) for r in range(cfg.repeats)])
    state = train_lib.fit_ensemble(model, keys, patterns, None, cfg.train_config(),
                                   checkpoint_dir=checkpoint_dir, on_chunk=on_chunk,
                                   label=f"memorisation d={d} N={n}")
    extra["final_loss"] = [float(v) for v in np.mean(train_lib.loss_curve(state)[:, -100:], axis=1)]
    states, score_fn = state.params, learned_score_fn(VPSDE(cfg.gamma), model)
  else:
    states = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[make_bank(p) for p in patterns])
    score_fn = exact_score_fn(VPSDE(cfg.gamma))
  samples = np.asarray(_sample_fn(score_fn, cfg, d)(states, sample_keys))
  return {**_cell_result(cfg, samples, patterns), **extra, "seconds": round(time.perf_counter() - t0, 2)}


def run(cfg: MemorisationConfig, out_dir: str, *, key: Array | None = None,
        on_chunk: Callable | None = None) -> dict[str, Any]:
  """Runs (or resumes) every (model, d, N) cell; writes the CSVs, the figure and memorisation.json.

  Args:
    cfg: settings.
    out_dir: DIR; DIR/cells.jsonl holds finished cells, DIR/checkpoints the training in progress.
    key: base key of every draw; None: `PRNGKey(cfg.seed)`.
    on_chunk: passed to training (tests and --abort_after_chunks).
  Returns:
    the summary written to memorisation.json.
  """
  t0 = time.perf_counter()
  files.makedirs(out_dir)
  store = sweep.JsonlStore(os.path.join(out_dir, "cells.jsonl"), ID_FIELDS)
  chash = run_hash(cfg, key)
  models = ("learned", "exact") if cfg.exact else ("learned",)
  computed = 0
  for d in cfg.dims:
    for n in cfg.n_grid(d):
      for kind in models:
        params = {"model": kind, "d": d, "n_patterns": n, "config": chash}
        if store.record_id(params) in store.load():
          continue
        ckpt = os.path.join(out_dir, "checkpoints", f"{kind}_d{d}_n{n}_{chash}")
        logging.info("memorisation: %s model, d=%d, N=%d", kind, d, n)
        rec = {**params, "capacity": dict(cfg.capacity)[d], **run_cell(cfg, kind, d, n, ckpt, on_chunk, key=key)}
        store.append(rec)
        if files.is_writer():
          shutil.rmtree(ckpt, ignore_errors=True)
        computed += 1
  records = [r for r in store.load().values() if r["config"] == chash and r["d"] in cfg.dims]
  summary = {"config": dataclasses.asdict(cfg), "config_hash": chash, "cells_computed_this_run": computed,
             "seconds_this_run": round(time.perf_counter() - t0, 1), "table": report.summary_table(records),
             "figures": ["memorisation.png"]}
  report.write_results(records, summary, out_dir)
  return summary
