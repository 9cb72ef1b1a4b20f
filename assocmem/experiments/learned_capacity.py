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
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import io
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

from assocmem import _checks, files
from assocmem.experiments import sweep
from assocmem.experiments.score_networks import ScoreNetworkSettings
from assocmem.nn.score_mlp import ScoreMLP, learned_score
from assocmem.samplers import ode_sample
from assocmem.sde import VPSDE
from assocmem.train import score as train_lib

Array = jax.Array

CSV_HEADER = ("d", "repeat", "capacity")
START_ROUNDINGS = ("floor", "nearest")
ID_FIELDS = ("d", "repeat", "n_patterns", "config")

_SALT_PATTERNS, _SALT_TRAIN, _SALT_CUES = 0x9A77, 0x7A1D, 0xC0E5


@dataclasses.dataclass(frozen=True)
class LearnedCapacityConfig(ScoreNetworkSettings):
  """Settings of the learned-capacity procedure (defaults: seed 002, App. A).

  The training fields (dims, hidden_per_dim, n_iterations, learning_rate, theta_min, theta_max,
  chunk_size, seed) are `ScoreNetworkSettings`'s.

  Attributes:
    dims: dimensionalities d (10, 12, 14, 16).
    repeats: independent repeats per d (8).
    margin: n_top = exact capacity + margin (4).
    start_rounding: how the real-valued exact capacity c gives the integer start n_top: "floor"
      (⌊c + margin⌋, the largest whole n not above c + margin) or "nearest" (round(c) + margin).
      The two differ only when c has a fractional part ≥ 0.5, and then only for a repeat whose walk
      would pass at round(c) + margin, i.e. whose capacity reaches the start (a lower bound either way).
    floor: smallest candidate n tried; capacity floor − 1 if none passes.
    block: candidates per repeat per round (1: sequential; None: all of n_top … floor at once).
    theta: signal level of the test cues (0.68).
    n_batches: test batches, each every training pattern corrupted once (30).
    threshold: largest passing mean Hamming error (3%).
    gamma, ode_steps, t_end: the recall ODE (VP γ = 0.8, 300 Euler steps to 1e-3).
    eval_group: test batches recalled per jitted call (a fixed grouping: results do not depend on
      `early_decision`).
    early_decision: stop testing a candidate once its verdict is settled (same verdicts; see
      `evaluate_candidates`).
    exact_capacity: fixed (d, capacity) table of the exact model (used before any CSV or computation).
  """
  repeats: int = 8
  margin: int = 4
  start_rounding: str = "floor"
  floor: int = 1
  block: int | None = 1
  theta: float = 0.68
  n_batches: int = 30
  threshold: float = 0.03
  gamma: float = 0.8
  ode_steps: int = 300
  t_end: float = 1e-3
  eval_group: int = 5
  early_decision: bool = True
  exact_capacity: tuple[tuple[int, int], ...] = ()

  def __post_init__(self):
    super().__post_init__()
    for name in ("repeats", "floor", "n_batches", "ode_steps", "eval_group"):
      _checks.check_int(name, getattr(self, name), 1)
    _checks.check_int("margin", self.margin, 0)
    _checks.check_choice("start_rounding", self.start_rounding, START_ROUNDINGS)
    if self.block is not None:
      _checks.check_int("block", self.block, 1)
    if not isinstance(self.early_decision, bool):
      raise ValueError(f"early_decision must be True or False, got {self.early_decision!r}")
    _checks.check_open_unit("theta", self.theta)
    _checks.check_open_unit("threshold", self.threshold)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_positive("t_end", self.t_end)
    for row in self.exact_capacity:
      if (not isinstance(row, tuple) or len(row) != 2 or not all(isinstance(v, int) for v in row)
          or row[1] < 0):
        raise ValueError(f"exact_capacity must hold (d, capacity) pairs of integers, got {row!r}")

  def config_hash(self) -> str:
    """Identity of the settings a candidate's result depends on (not dims, repeats, block, floor,
    margin, start_rounding: those choose which candidates run, not what a candidate gives)."""
    keys = ("hidden_per_dim", "n_iterations", "learning_rate", "theta_min", "theta_max", "theta",
            "n_batches", "threshold", "gamma", "ode_steps", "t_end", "seed", "eval_group")
    blob = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


PRESETS: dict[str, LearnedCapacityConfig] = {
    # ~1 minute here: d = 6, 8; 2 repeats; 2,000 steps; every candidate of a d in one ensemble.
    # Exact capacities: the smoothed estimates of the capacity sweep at the paper's settings
    # (d = 4…16, seed 0: 1.76 at d = 6, 2.30 at d = 8), rounded.
    "quick": LearnedCapacityConfig(dims=(6, 8), repeats=2, n_iterations=2000, block=None,
                                   exact_capacity=((6, 2), (8, 2))),
    # App. A: d = 10, 12, 14, 16; 8 repeats; 5,000 steps; sequential candidates, repeats batched.
    "paper": LearnedCapacityConfig(),
}


def get_preset(name: str, **overrides: Any) -> LearnedCapacityConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return dataclasses.replace(PRESETS[name], **overrides)


# ----------------------------------------------------------------------------- exact capacities

def read_exact_capacity_csv(path: str) -> dict[int, float]:
  """{d: smoothed capacity} of the exact diffusion model from a capacity.csv of scripts/capacity.py."""
  if not os.path.exists(path):
    raise ValueError(f"exact_capacity_csv {path!r} does not exist")
  with open(path) as f:
    rows = list(csv.DictReader(f))
  if not rows or not {"model", "d", "capacity"} <= set(rows[0]):
    raise ValueError(f"exact_capacity_csv {path!r} must have the columns model,d,capacity (capacity.csv)")
  return {int(r["d"]): float(r["capacity"]) for r in rows if r["model"] == "diffusion"}


def compute_exact_capacity(dims: Sequence[int], work_dir: str) -> dict[int, float]:
  """{d: smoothed capacity} of the exact model at the paper's settings (`assocmem.experiments.capacity`).

  The sweep runs over d = 4 … 20, widened to min − 4 … max + 4 when the requested d reach past
  it: a fixed range, so that a d gets the same smoothed value (Gaussian, σ = 1.5) whichever subset
  of dims is asked for, and no requested d is a boundary value. Its cells are kept in `work_dir`
  (resumable). Values (seed 0): d = 6, 8, 10, 12, 14, 16 → 1.76, 2.30, 3.95, 7.58, 15.6, 27.9.
  """
  from assocmem.experiments import capacity  # pylint: disable=import-outside-toplevel
  lo, hi = max(2, min(4, min(dims) - 4)), max(20, max(dims) + 4)
  cfg = dataclasses.replace(capacity.PRESETS["paper"], dims=tuple(range(lo, hi + 1)), models=("diffusion",))
  records, _ = capacity.run_cells(cfg, work_dir)
  return {int(r["d"]): float(r["capacity"]) for r in capacity.estimate(records, cfg)}


def integer_capacity(value: float, rounding: str = "floor") -> int:
  """The whole number of patterns an estimated capacity `value` stands for when the walk starts
  (seed 002, App. A: "n_d is the estimated capacity of the exact score model plus 4"):
  ⌊value⌋ ("floor"; so ⌊value⌋ + margin never exceeds value + margin) or round(value) ("nearest").

  A value within 1e-9 of an integer counts as that integer (a float64 estimate of exactly 7 is 7).
  """
  _checks.check_choice("rounding", rounding, START_ROUNDINGS)
  if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value) or value < 0:
    raise ValueError(f"value (an estimated capacity) must be a finite number >= 0, got {value!r}")
  nearest = int(round(float(value)))
  if rounding == "nearest" or abs(float(value) - nearest) <= 1e-9:
    return nearest
  return int(math.floor(float(value)))


def exact_capacities(cfg: LearnedCapacityConfig, csv_path: str | None = None,
                     work_dir: str | None = None) -> dict[int, dict[str, Any]]:
  """{d: {"capacity": int, "value": float, "source": str}} for every d of cfg.

  Sources in order: the config's fixed table, the CSV (capacity.csv of scripts/capacity.py), a
  computation with `compute_exact_capacity` (in work_dir) for the rest. "value" is the estimate,
  "capacity" the whole number the walk starts from (n_top = capacity + margin), made from the value
  by `cfg.start_rounding` (`integer_capacity`).
  """
  out: dict[int, dict[str, Any]] = {}
  for d, c in cfg.exact_capacity:
    if d in cfg.dims:
      out[d] = {"capacity": int(c), "value": float(c), "source": "table"}
  if csv_path:
    table = read_exact_capacity_csv(csv_path)
    for d in cfg.dims:
      if d not in out and d in table:
        out[d] = {"capacity": integer_capacity(table[d], cfg.start_rounding), "value": table[d],
                  "source": os.path.basename(csv_path)}
  missing = [d for d in cfg.dims if d not in out]
  if missing:
    if work_dir is None:
      raise ValueError(f"no exact capacity for d = {missing}: give exact_capacity_csv or a work_dir")
    computed = compute_exact_capacity(missing, work_dir)
    for d in missing:
      out[d] = {"capacity": integer_capacity(computed[d], cfg.start_rounding), "value": computed[d],
                "source": "computed"}
  return out


# ----------------------------------------------------------------------------- candidates

def _key(cfg: LearnedCapacityConfig, *ints: int) -> Array:
  key = jax.random.PRNGKey(cfg.seed)
  for v in ints:
    key = jax.random.fold_in(key, v)
  return key


def repeat_patterns(cfg: LearnedCapacityConfig, d: int, repeat: int, n: int) -> np.ndarray:
  """(n, d) ±1 patterns of repeat r: row i = sign(N(0, I_d)) drawn from (seed, d, r, i); nested in n."""
  base = _key(cfg, _SALT_PATTERNS, d, repeat)
  rows = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(base, i), (d,)))(jnp.arange(n))
  return np.where(np.asarray(rows) >= 0, 1.0, -1.0).astype(np.float32)


def candidate_key(cfg: LearnedCapacityConfig, d: int, repeat: int, n: int) -> Array:
  """PRNG key of candidate n's network (initialisation and noise draws)."""
  return _key(cfg, _SALT_TRAIN, d, repeat, n)


def candidate_cues(cfg: LearnedCapacityConfig, patterns: np.ndarray, d: int, repeat: int) -> np.ndarray:
  """(n_batches, n, d) test cues θ y + √(1 − θ²) ε of the n patterns, ε from (seed, d, r, n)."""
  n = patterns.shape[0]
  words = np.asarray(jax.random.key_data(_key(cfg, _SALT_CUES, d, repeat, n))).ravel()
  eps = np.random.default_rng([int(w) for w in words]).standard_normal((cfg.n_batches, n, d))
  return (cfg.theta * patterns[None] + math.sqrt(1.0 - cfg.theta ** 2) * eps).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _recall_fn(model: ScoreMLP, gamma: float, theta: float, ode_steps: int, t_end: float) -> Callable:
  """jit: params of one network, cues (Q, d) -> recalls (Q, d) (the ODE vmapped over the cues)."""
  sde = VPSDE(gamma)
  t0 = float(sde.t_start(theta))
  score_fn = learned_score(sde, model)
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


def _plan(cfg: LearnedCapacityConfig, d: int, n_top: int, done: dict[str, dict]) -> list[tuple[int, int]]:
  """The (repeat, n) candidates of the next round: per repeat, walking down from n_top until a
  passing candidate, the next `block` (None: all) candidates not run yet."""
  chash = cfg.config_hash()
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
                            n_tops: dict[int, int]) -> list[dict[str, int]]:
  """[{d, repeat, capacity}]: the first passing n walking down from n_top (floor − 1 if none).

  Raises ValueError if a repeat's walk reaches an untried candidate (the run is incomplete).
  """
  chash = cfg.config_hash()
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
              on_chunk: Callable | None = None) -> list[dict[str, Any]]:
  """Trains the round's candidates as one masked ensemble and tests them; returns their records."""
  t0 = time.perf_counter()
  sizes = [n for _, n in plan]
  n_max = max(sizes)
  e = len(plan)
  patterns = np.zeros((e, n_max, d), np.float32)
  masks = np.zeros((e, n_max), np.float32)
  cues = np.zeros((e, cfg.n_batches, n_max, d), np.float32)
  keys = []
  for k, (r, n) in enumerate(plan):
    p = repeat_patterns(cfg, d, r, n)
    patterns[k, :n], masks[k, :n] = p, 1.0
    cues[k, :, :n] = candidate_cues(cfg, p, d, r)
    keys.append(np.asarray(candidate_key(cfg, d, r, n)))
  state = train_lib.fit_ensemble(cfg.model(d), np.stack(keys), patterns, masks, cfg.train_config(),
                                 checkpoint_dir=checkpoint_dir, on_chunk=on_chunk,
                                 label=f"learned capacity d={d} ({e} networks, N <= {n_max})")
  t_train = time.perf_counter() - t0
  errors, taken, verdicts = evaluate_candidates(cfg, d, state.params, patterns, sizes, cues)
  losses = train_lib.loss_curve(state)
  seconds = time.perf_counter() - t0
  chash = cfg.config_hash()
  out = []
  for k, (r, n) in enumerate(plan):
    out.append({"d": d, "repeat": r, "n_patterns": n, "config": chash, "mean_error": float(errors[k]),
                "batches_evaluated": int(taken[k]), "passed": bool(verdicts[k]),
                "final_loss": float(np.mean(losses[k, -100:])),
                "round_networks": e, "round_train_seconds": round(t_train, 2),
                "round_seconds": round(seconds, 2)})
  return out


def run(cfg: LearnedCapacityConfig, out_dir: str, exact: dict[int, dict[str, Any]],
        on_chunk: Callable | None = None) -> dict[str, Any]:
  """Runs (or resumes) every round; writes learned_capacity.csv, learned_capacity.json and the figure.

  Args:
    cfg: settings.
    out_dir: DIR; DIR/candidates.jsonl holds finished candidates, DIR/checkpoints the round in progress.
    exact: exact capacities per d (`exact_capacities`).
    on_chunk: passed to training (tests and --abort_after_chunks).
  Returns:
    the summary written to learned_capacity.json.
  """
  t0 = time.perf_counter()
  os.makedirs(out_dir, exist_ok=True)
  store = sweep.JsonlStore(os.path.join(out_dir, "candidates.jsonl"), ID_FIELDS)
  n_tops = {d: int(exact[d]["capacity"]) + cfg.margin for d in cfg.dims}
  rounds = 0
  for d in cfg.dims:
    while True:
      plan = _plan(cfg, d, n_tops[d], store.load())
      if not plan:
        break
      tag = hashlib.sha256(json.dumps(plan).encode()).hexdigest()[:10]
      ckpt = os.path.join(out_dir, "checkpoints", f"d{d}_{cfg.config_hash()}_{tag}")
      logging.info("learned capacity d=%d: round of %d candidates %s", d, len(plan), plan)
      for rec in run_round(cfg, d, plan, ckpt, on_chunk):
        store.append(rec)
      rounds += 1
      shutil.rmtree(ckpt, ignore_errors=True)
  records = list(store.load().values())
  rows = capacities_from_records(cfg, records, n_tops)
  write_csv(rows, os.path.join(out_dir, "learned_capacity.csv"))
  chash = cfg.config_hash()
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
  files.write_json(os.path.join(out_dir, "learned_capacity.json"), summary)
  plot(rows, exact, cfg, os.path.join(out_dir, "learned_capacity.png"))
  return summary


# ----------------------------------------------------------------------------- outputs

def _start_text(conf: dict) -> str:
  margin = conf.get("margin", 4)
  if conf.get("start_rounding", "nearest") == "floor":
    return f"⌊exact capacity + {margin}⌋"
  return f"round(exact capacity) + {margin}"


def csv_text(rows: Sequence[dict[str, int]]) -> str:
  """learned_capacity.csv: the header d,repeat,capacity and one line per (d, repeat)."""
  buf = io.StringIO()
  w = csv.writer(buf, lineterminator="\n")
  w.writerow(CSV_HEADER)
  for r in rows:
    w.writerow([int(r["d"]), int(r["repeat"]), int(r["capacity"])])
  return buf.getvalue()


def write_csv(rows: Sequence[dict[str, int]], path: str) -> None:
  files.write_text(path, csv_text(rows))


def load_points(csv_path: str) -> list[tuple[int, int]]:
  """[(d, capacity)], one per (d, repeat), from a learned_capacity.csv (for Figure 3b's black dots)."""
  with open(csv_path) as f:
    reader = csv.reader(f)
    header = next(reader, None)
    if tuple(header or ()) != CSV_HEADER:
      raise ValueError(f"{csv_path} must start with the header {','.join(CSV_HEADER)}, got {header}")
    return [(int(row[0]), int(row[2])) for row in reader if row]


def plot(rows: Sequence[dict[str, int]], exact: dict[int, dict[str, Any]], cfg: LearnedCapacityConfig,
         path: str) -> None:
  """Learned capacities (dots, one per repeat, jittered) beside the exact model's capacity (line)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  fig, ax = plt.subplots(figsize=(5.0, 3.8))
  dims = list(cfg.dims)
  ax.plot(dims, [max(exact[d]["value"], 0.5) for d in dims], "-o", color="tab:blue", ms=3,
          label="exact diffusion (smoothed estimate)")
  rng = np.random.default_rng(0)
  xs = [r["d"] + rng.uniform(-0.15, 0.15) for r in rows]
  ax.plot(xs, [max(r["capacity"], 0.5) for r in rows], "o", color="k", ms=3.5, alpha=0.7,
          label=f"learned diffusion ({len(rows) // len(dims)} repeats per d)")
  means = [np.mean([r["capacity"] for r in rows if r["d"] == d]) for d in dims]
  ax.plot(dims, [max(m, 0.5) for m in means], "_", color="k", ms=14, mew=2, label="learned, mean")
  ax.set_yscale("log")
  ax.set_xlabel("dimensionality d")
  ax.set_ylabel(f"capacity (mean error ≤ {cfg.threshold:.0%})")
  ax.set_title("Learned vs exact diffusion capacity (seed 002, Fig. 3b)", fontsize=9)
  ax.legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section for REPORT.md: learned capacity per d (mean, min–max, per repeat) beside the exact one."""
  head = "## Learned diffusion capacity (seed 002, Figure 3b, black dots)"
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  csv_path = os.path.join(out_dir, "learned_capacity.csv")
  if not os.path.exists(csv_path):
    return f"{head}\n\nNo results: run `scripts/learned_capacity.py` first.\n"
  points = load_points(csv_path)
  summary = {}
  if os.path.exists(os.path.join(out_dir, "learned_capacity.json")):
    with open(os.path.join(out_dir, "learned_capacity.json")) as f:
      summary = json.load(f)
  conf = summary.get("config", {})
  exact = summary.get("exact_capacity", {})
  dims = sorted({d for d, _ in points})
  lines = [head, "",
           f"App. A's procedure: per d, start at n = {_start_text(conf)}; "
           f"train a fresh network ({conf.get('hidden_per_dim', 80)}·d hidden units, "
           f"{conf.get('n_iterations', 5000)} Adam steps of Eq. 27, θ ~ U({conf.get('theta_min', 0.6)}, "
           f"{conf.get('theta_max', 1.0)})); test on {conf.get('n_batches', 30)} batches of unseen denoising "
           f"cues (θ = {conf.get('theta', 0.68)}) of every training pattern, {conf.get('ode_steps', 300)} Euler "
           f"steps of the probability-flow ODE; pass if the mean Hamming error is ≤ "
           f"{conf.get('threshold', 0.03):.0%}, else n − 1. The paper prints no numbers for these points: "
           "Figure 3b shows them as black dots close to the exact curve. Ours:", "",
           "| d | exact capacity (start − margin) | learned: mean | min–max | per repeat |", "|---|---|---|---|---|"]
  for d in dims:
    caps = [c for dd, c in points if dd == d]
    ex = exact.get(str(d), {})
    ex_txt = f"{ex.get('value', float('nan')):.3g} → {ex.get('capacity', '–')} ({ex.get('source', '?')})" if ex else "–"
    lines.append(f"| {d} | {ex_txt} | {np.mean(caps):.2f} | {min(caps)}–{max(caps)} | "
                 f"{', '.join(str(c) for c in caps)} |")
  lines.append("")
  if summary:
    lines.append(f"{summary.get('candidates_trained')} networks trained "
                 f"(≈ {summary.get('train_seconds_total')} s of training in all); last run "
                 f"{summary.get('seconds_this_run')} s.")
    lines.append("")
  rel = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))
  if os.path.exists(os.path.join(out_dir, "learned_capacity.png")):
    lines += [f"![Learned against exact capacity]({rel}/learned_capacity.png)", ""]
  return "\n".join(lines)
