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
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
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
from assocmem.bank import make_bank
from assocmem.experiments import learned_capacity as lc
from assocmem.nn.score_mlp import learned_score
from assocmem.samplers import em_sample
from assocmem.scores import exact_score
from assocmem.sde import VPSDE
from assocmem.train import score as train_lib

Array = jax.Array

CSV_HEADER = ("d", "n_patterns", "repeat", "memorised", "spurious", "other")
ID_FIELDS = ("model", "d", "n_patterns", "config")
MEMORISED, SPURIOUS, OTHER = 0, 1, 2
_SALT_SAMPLES, _SALT_TRAIN = 0x5A3F, 0x3E30


@dataclasses.dataclass(frozen=True)
class MemorisationConfig(ScoreNetworkSettings):
  """Settings of the memorisation → generalisation sweep.

  The training fields (dims, hidden_per_dim, n_iterations, learning_rate, theta_min, theta_max,
  chunk_size, seed) are `ScoreNetworkSettings`'s; here θ ~ U(0.01, 1), the full noise range, so that
  the networks can sample from the prior. The seed draws the patterns as learned_capacity does with
  the same seed, and the networks and samples.

  Attributes:
    dims: dimensionalities d (10, 12).
    capacity: (d, C) table of the learned capacity that sets the N grid (N = round(r · C)).
    ratios: the multiples r of C (up to ≥ 8).
    repeats: pattern sets (networks) per (d, N).
    n_samples: samples per network.
    sample_steps, t_end, gamma: Euler–Maruyama from θ = theta_min to t_end on a geometric grid (VP, γ).
    delta_m, delta_s: classification radii (Euclidean).
    exact: also sample the exact model of the same patterns (memorisation_exact.csv).
  """
  dims: tuple[int, ...] = (10, 12)
  theta_min: float = 0.01
  capacity: tuple[tuple[int, int], ...] = ((10, 4), (12, 8))
  ratios: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
  repeats: int = 3
  n_samples: int = 256
  sample_steps: int = 300
  t_end: float = 1e-3
  gamma: float = 0.8
  delta_m: float = 1.0
  delta_s: float = 1.0
  exact: bool = True

  def __post_init__(self):
    super().__post_init__()
    caps = dict(self.capacity)
    missing = [d for d in self.dims if d not in caps]
    if missing:
      raise ValueError(f"capacity has no entry for d = {missing}")
    if any(not isinstance(c, (int, float)) or c <= 0 for c in caps.values()):
      raise ValueError(f"capacity values must be > 0, got {self.capacity}")
    if not self.ratios or any(not isinstance(r, (int, float)) or r <= 0 for r in self.ratios):
      raise ValueError(f"ratios must be positive numbers, got {self.ratios}")
    for name in ("repeats", "n_samples", "sample_steps"):
      _checks.check_int(name, getattr(self, name), 1)
    _checks.check_positive("delta_m", self.delta_m)
    _checks.check_positive("delta_s", self.delta_s)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_positive("t_end", self.t_end)
    if self.theta_min >= 1:
      raise ValueError(f"theta_min must lie in (0, 1) to sample from the prior, got {self.theta_min}")

  def n_grid(self, d: int) -> list[int]:
    """Pattern counts N = max(1, round(r · C_d)), increasing, deduplicated."""
    c = dict(self.capacity)[d]
    return sorted({max(1, int(round(r * c))) for r in self.ratios})

  def config_hash(self) -> str:
    keys = ("hidden_per_dim", "n_iterations", "learning_rate", "theta_min", "theta_max", "n_samples",
            "sample_steps", "t_end", "gamma", "delta_m", "delta_s", "seed", "repeats")
    blob = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


PRESETS: dict[str, MemorisationConfig] = {
    # About a minute here: d = 6 (C = 2), N = 1 … 32, 2 repeats, 1,500 steps, 128 samples.
    "quick": MemorisationConfig(dims=(6,), capacity=((6, 2),), repeats=2, n_iterations=1500, n_samples=128),
    # d = 10, 12 with C = the exact model's smoothed capacity (4, 8; learned ≈ exact, see
    # learned_capacity); N = 0.5 C … 16 C; 3 repeats; 5,000 steps; 256 samples per network.
    "paper": MemorisationConfig(),
}


def get_preset(name: str, **overrides: Any) -> MemorisationConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return dataclasses.replace(PRESETS[name], **overrides)


def capacity_table_from_csv(path: str) -> dict[int, int]:
  """{d: round(mean learned capacity)} from a learned_capacity.csv (at least 1)."""
  by_d: dict[int, list[int]] = {}
  for d, c in lc.load_points(path):
    by_d.setdefault(d, []).append(c)
  return {d: max(1, int(round(float(np.mean(v))))) for d, v in by_d.items()}


# ----------------------------------------------------------------------------- classification

def classify(samples: np.ndarray, patterns: np.ndarray, delta_m: float = 1.0,
             delta_s: float = 1.0) -> tuple[np.ndarray, int]:
  """Labels (S,) MEMORISED / SPURIOUS / OTHER and the number of distinct spurious attractors.

  Args:
    samples: (S, d) generated samples.
    patterns: (N, d) training patterns.
    delta_m: a sample within δ_m (Euclidean) of a training pattern is memorised.
    delta_s: a non-memorised sample within δ_s of another non-memorised sample is spurious.
  Returns:
    (labels, n_attractors): the spurious samples linked at distance ≤ δ_s form n_attractors
    connected components (single linkage).
  """
  samples = np.asarray(samples, np.float64)
  patterns = np.asarray(patterns, np.float64)
  if samples.ndim != 2 or patterns.ndim != 2 or samples.shape[1] != patterns.shape[1]:
    raise ValueError(f"samples (S, d) and patterns (N, d) must share d, got {samples.shape} and {patterns.shape}")
  if not delta_m > 0 or not delta_s > 0:
    raise ValueError(f"delta_m and delta_s must be > 0, got {delta_m}, {delta_s}")
  d_pat = np.sqrt(np.maximum(((samples[:, None] - patterns[None]) ** 2).sum(-1), 0.0)).min(axis=1)
  labels = np.full(samples.shape[0], OTHER, np.int64)
  labels[d_pat <= delta_m] = MEMORISED
  rest = np.flatnonzero(labels != MEMORISED)
  if rest.size < 2:
    return labels, 0
  x = samples[rest]
  dist = np.sqrt(np.maximum(((x[:, None] - x[None]) ** 2).sum(-1), 0.0))
  np.fill_diagonal(dist, np.inf)
  close = dist <= delta_s
  spurious = close.any(axis=1)
  labels[rest[spurious]] = SPURIOUS
  # connected components among the spurious samples
  idx = np.flatnonzero(spurious)
  seen = np.zeros(rest.size, bool)
  n_att = 0
  for i in idx:
    if seen[i]:
      continue
    n_att += 1
    stack = [i]
    seen[i] = True
    while stack:
      j = stack.pop()
      for k in np.flatnonzero(close[j] & ~seen):
        seen[k] = True
        stack.append(k)
  return labels, n_att


def fractions(labels: np.ndarray) -> dict[str, float]:
  """Fractions of memorised, spurious and other samples."""
  n = max(labels.size, 1)
  return {"memorised": float(np.sum(labels == MEMORISED) / n), "spurious": float(np.sum(labels == SPURIOUS) / n),
          "other": float(np.sum(labels == OTHER) / n)}


# ----------------------------------------------------------------------------- sampling

def _key(cfg: MemorisationConfig, *ints: int) -> Array:
  key = jax.random.PRNGKey(cfg.seed)
  for v in ints:
    key = jax.random.fold_in(key, v)
  return key


def _patterns(cfg: MemorisationConfig, d: int, repeat: int, n: int) -> np.ndarray:
  return lc.repeat_patterns(lc.LearnedCapacityConfig(seed=cfg.seed), d, repeat, n)


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
             on_chunk: Callable | None = None) -> dict[str, Any]:
  """Trains (learned) the `repeats` networks of (d, N) as one ensemble, samples and classifies them."""
  t0 = time.perf_counter()
  patterns = np.stack([_patterns(cfg, d, r, n) for r in range(cfg.repeats)])
  sample_keys = jnp.stack([_key(cfg, _SALT_SAMPLES, d, n, r) for r in range(cfg.repeats)])
  extra: dict[str, Any] = {}
  if model_kind == "learned":
    model = cfg.model(d)
    keys = jnp.stack([_key(cfg, _SALT_TRAIN, d, n, r) for r in range(cfg.repeats)])
    state = train_lib.fit_ensemble(model, keys, patterns, None, cfg.train_config(),
                                   checkpoint_dir=checkpoint_dir, on_chunk=on_chunk,
                                   label=f"memorisation d={d} N={n}")
    extra["final_loss"] = [float(v) for v in np.mean(train_lib.loss_curve(state)[:, -100:], axis=1)]
    states, score_fn = state.params, learned_score(VPSDE(cfg.gamma), model)
  else:
    states = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[make_bank(p) for p in patterns])
    score_fn = exact_score(VPSDE(cfg.gamma))
  samples = np.asarray(_sample_fn(score_fn, cfg, d)(states, sample_keys))
  return {**_cell_result(cfg, samples, patterns), **extra, "seconds": round(time.perf_counter() - t0, 2)}


def run(cfg: MemorisationConfig, out_dir: str, on_chunk: Callable | None = None) -> dict[str, Any]:
  """Runs (or resumes) every (model, d, N) cell; writes the CSVs, the figure and memorisation.json."""
  t0 = time.perf_counter()
  os.makedirs(out_dir, exist_ok=True)
  store = sweep.JsonlStore(os.path.join(out_dir, "cells.jsonl"), ID_FIELDS)
  chash = cfg.config_hash()
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
        rec = {**params, "capacity": dict(cfg.capacity)[d], **run_cell(cfg, kind, d, n, ckpt, on_chunk)}
        store.append(rec)
        shutil.rmtree(ckpt, ignore_errors=True)
        computed += 1
  records = [r for r in store.load().values() if r["config"] == chash and r["d"] in cfg.dims]
  for kind, name in (("learned", "memorisation.csv"), ("exact", "memorisation_exact.csv")):
    rows = [r for r in records if r["model"] == kind]
    if rows:
      files.write_text(os.path.join(out_dir, name), csv_text(rows))
  summary = {"config": dataclasses.asdict(cfg), "config_hash": chash, "cells_computed_this_run": computed,
             "seconds_this_run": round(time.perf_counter() - t0, 1), "table": summary_table(records),
             "figures": ["memorisation.png"]}
  files.write_json(os.path.join(out_dir, "memorisation.json"), summary)
  plot(records, os.path.join(out_dir, "memorisation.png"))
  return summary


# ----------------------------------------------------------------------------- outputs

def csv_text(records: Sequence[dict[str, Any]]) -> str:
  """One line per (d, N, repeat) with the fractions, under the header d,n_patterns,repeat,memorised,spurious,other."""
  buf = io.StringIO()
  w = csv.writer(buf, lineterminator="\n")
  w.writerow(CSV_HEADER)
  for r in sorted(records, key=lambda r: (r["d"], r["n_patterns"])):
    for rep in range(len(r["memorised"])):
      w.writerow([r["d"], r["n_patterns"], rep, f"{r['memorised'][rep]:.4f}", f"{r['spurious'][rep]:.4f}",
                  f"{r['other'][rep]:.4f}"])
  return buf.getvalue()


def summary_table(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
  """Per (model, d, N): N / C and the repeat means of the fractions and spurious-attractor counts."""
  out = []
  for r in sorted(records, key=lambda r: (r["model"], r["d"], r["n_patterns"])):
    out.append({"model": r["model"], "d": r["d"], "n_patterns": r["n_patterns"],
                "n_over_capacity": r["n_patterns"] / r["capacity"],
                **{k: float(np.mean(r[k])) for k in ("memorised", "spurious", "other", "spurious_attractors")}})
  return out


def plot(records: Sequence[dict[str, Any]], path: str) -> None:
  """Fractions of memorised / spurious / other samples against N / C (learned: solid; exact: dotted)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  table = summary_table(records)
  dims = sorted({r["d"] for r in table})
  fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
  colors = {"memorised": "tab:blue", "spurious": "tab:red", "other": "tab:green"}
  markers = ["o", "s", "^", "D"]
  for i, d in enumerate(dims):
    for kind, ls in (("learned", "-"), ("exact", ":")):
      rows = [r for r in table if r["d"] == d and r["model"] == kind]
      if not rows:
        continue
      x = [r["n_over_capacity"] for r in rows]
      for k, c in colors.items():
        axes[0].plot(x, [r[k] for r in rows], ls, marker=markers[i % 4], color=c, ms=3.5,
                     label=f"{k} ({kind}, d = {d})" if kind == "learned" or k == "memorised" else None)
      if kind == "learned":
        axes[1].plot(x, [r["spurious_attractors"] for r in rows], "-", marker=markers[i % 4], color="k",
                     ms=3.5, label=f"d = {d}")
  for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N / capacity")
  axes[0].set_ylabel("fraction of samples")
  axes[0].set_title("memorised / spurious / other (exact model dotted)", fontsize=9)
  axes[0].legend(fontsize=6)
  axes[1].set_ylabel("distinct spurious attractors (mean per network)")
  axes[1].set_title("spurious attractors of the learned networks", fontsize=9)
  axes[1].legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=130)
  plt.close(fig)


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """Markdown section for REPORT.md: the fractions per (d, N) for the learned and the exact model."""
  head = "## Memorisation → generalisation (beyond seed 002; Pham et al. 2025)"
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  path = os.path.join(out_dir, "memorisation.json")
  if not os.path.exists(path):
    return f"{head}\n\nNo results: run `scripts/memorisation.py` first.\n"
  with open(path) as f:
    s = json.load(f)
  c = s["config"]
  lines = [head, "",
           f"Score networks ({c['hidden_per_dim']}·d hidden units, {c['n_iterations']} Adam steps, θ ~ "
           f"U({c['theta_min']}, {c['theta_max']})) trained on N random ±1 patterns, N from below to "
           f"{max(c['ratios']):g}× the capacity C; {c['n_samples']} Euler–Maruyama samples per network from "
           f"the prior. Memorised: within δ_m = {c['delta_m']} (Euclidean) of a training pattern; spurious: "
           f"otherwise within δ_s = {c['delta_s']} of another such sample; other: the rest. Means over "
           f"{c['repeats']} networks; the exact score (last columns) memorises at every N.", "",
           "| d | N | N / C | memorised | spurious | other | spurious attractors | exact: memorised |",
           "|---|---|---|---|---|---|---|---|"]
  exact = {(r["d"], r["n_patterns"]): r for r in s["table"] if r["model"] == "exact"}
  for r in s["table"]:
    if r["model"] != "learned":
      continue
    e = exact.get((r["d"], r["n_patterns"]))
    lines.append(f"| {r['d']} | {r['n_patterns']} | {r['n_over_capacity']:.2g} | {r['memorised']:.2f} | "
                 f"{r['spurious']:.2f} | {r['other']:.2f} | {r['spurious_attractors']:.1f} | "
                 f"{'–' if e is None else format(e['memorised'], '.2f')} |")
  lines.append("")
  rel = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))
  if os.path.exists(os.path.join(out_dir, "memorisation.png")):
    lines += [f"![Memorisation to generalisation]({rel}/memorisation.png)", ""]
  return "\n".join(lines)
