"""Tests of capacity estimation (assocmem.capacity) and the capacity experiment (seed 002, Fig. 3, App. A)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import capacity as cap
from assocmem import hopfield
from assocmem.experiments import capacity as exp
from assocmem.experiments import references
from assocmem.memories import ClassicalHopfield, ExactDiffusion
from assocmem.metrics import binarize

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "capacity.py")


# ---------------------------------------------------------------- estimator on synthetic tables

@pytest.mark.parametrize("errors, expected", [
    ([0.0, 0.01, 0.02, 0.05, 0.2], 4),       # monotone: the last N below 3%
    ([0.0, 0.01, 0.03, 0.05, 0.2], 4),       # exactly at the threshold counts
    ([0.0, 0.04, 0.02, 0.05, 0.2], 4),       # non-monotone: the largest N that passes
    ([0.0, 0.0, 0.0, 0.0, 0.0], 16),         # everything passes: the top of the grid
    ([0.1, 0.2, 0.3, 0.4, 0.5], 0),          # nothing passes
])
def test_capacity_from_errors_known_answers(errors, expected):
  assert cap.capacity_from_errors([1, 2, 4, 8, 16], errors, 0.03) == expected


def test_capacity_from_errors_validates():
  with pytest.raises(ValueError, match="increasing"):
    cap.capacity_from_errors([1, 4, 2], [0, 0, 0])
  with pytest.raises(ValueError, match="same length"):
    cap.capacity_from_errors([1, 2], [0.0])


def test_bootstrap_degenerate_and_clear_cases():
  ns = [1, 2, 4, 8]
  # Constant per-query errors: every replicate equals the point estimate.
  errs = [np.full(50, e) for e in (0.0, 0.02, 0.05, 0.1)]
  assert cap.bootstrap_capacity(ns, errs, 0.03, n_boot=200) == (2, 2.0, 2.0)
  # Far from the threshold on both sides: a tight interval around the point.
  rng = np.random.default_rng(0)
  errs = [0.5 * (rng.random(140) < p) for p in (0.0, 0.01, 0.3, 0.6)]
  point, lo, hi = cap.bootstrap_capacity(ns, errs, 0.03, n_boot=300)
  assert point == 2 and lo == 2 and hi == 2


def test_bootstrap_is_deterministic_given_seed():
  rng = np.random.default_rng(1)
  errs = [0.5 * (rng.random(140) < p) for p in (0.02, 0.05, 0.07, 0.1)]
  a = cap.bootstrap_capacity([1, 2, 3, 4], errs, seed=3)
  assert a == cap.bootstrap_capacity([1, 2, 3, 4], errs, seed=3)


def test_bootstrap_mean_interval_coverage():
  """The 95% bootstrap interval of a mean covers the true mean ~95% of the time."""
  rng = np.random.default_rng(0)
  p, hits, trials = 0.1, 0, 300
  for i in range(trials):
    e = 0.5 * (rng.random(140) < p)        # per-query errors: wrong pattern -> half the bits
    _, lo, hi = cap.bootstrap_mean_interval(e, n_boot=400, seed=i)
    hits += lo <= 0.5 * p <= hi
  assert 0.89 <= hits / trials <= 0.99


def test_bootstrap_capacity_coverage():
  """On synthetic tables with a known error curve, the capacity interval covers the true capacity."""
  ns = np.array([1, 2, 3, 4, 6, 8, 11, 16, 23, 32])
  mean_err = 0.005 * ns ** 0.9            # true mean error; the 3% threshold is crossed between 6 and 8
  true_cap = cap.capacity_from_errors(ns, mean_err, 0.03)
  assert true_cap == 6
  rng = np.random.default_rng(1)
  hits, trials, widths = 0, 200, []
  for i in range(trials):
    errs = [0.5 * (rng.random(140) < 2 * m) for m in mean_err]
    _, lo, hi = cap.bootstrap_capacity(ns, errs, 0.03, n_boot=300, seed=i)
    hits += lo <= true_cap <= hi
    widths.append(hi - lo)
  assert hits / trials >= 0.9
  assert np.median(widths) > 0                  # the interval is not degenerate


def test_gaussian_smooth():
  d = np.arange(10, 31)
  np.testing.assert_allclose(cap.gaussian_smooth(d, np.full(d.shape, 7.0)), 7.0, rtol=1e-12)
  # Log-space smoothing leaves an exponential unchanged away from the ends.
  expo = 2.0 ** (0.5 * d) - 1
  sm = cap.gaussian_smooth(d, expo, 1.5, log=True)
  np.testing.assert_allclose(sm[6:-6], expo[6:-6], rtol=1e-3)
  # Linear smoothing leaves a line unchanged away from the ends, and reduces noise.
  line = 3.0 * d + 1
  np.testing.assert_allclose(cap.gaussian_smooth(d, line, 1.5, log=False)[6:-6], line[6:-6], rtol=1e-4)
  noisy = line + np.random.default_rng(0).normal(0, 5, d.shape)
  sm = cap.gaussian_smooth(d, noisy, 1.5, log=False)
  assert np.std((sm - line)[5:-5]) < np.std((noisy - line)[5:-5])
  np.testing.assert_array_equal(cap.gaussian_smooth(d, noisy, 0.0), noisy)


def test_paper_preset_has_the_stated_protocol():
  paper = exp.PRESETS["paper"]
  assert {k: getattr(paper, k) for k in references.CAPACITY_SETTINGS} == references.CAPACITY_SETTINGS
  assert set(references.CAPACITY_FIGURE_DIMS) <= set(paper.dims)
  assert paper.models == exp.MODELS


def test_grids_and_buckets():
  g = exp.n_grid(64, 4)
  assert g[:8] == [1, 2, 3, 4, 5, 6, 7, 8] and g[-1] == 64 and all(np.diff(g) > 0)
  assert [exp.n_bucket(n) for n in (1, 8, 9, 100, 4096)] == [8, 8, 16, 128, 4096]
  assert [exp.d_bucket(d) for d in (5, 16, 17, 30)] == [16, 16, 24, 32]


# ---------------------------------------------------------------- cells against the core models

def _reference_wrong_bits(model, cfg, key, n, d):
  patterns, targets, cues = exp.cell_data(key, n, d, cfg.n_queries, cfg.theta)
  if model == "diffusion":
    mem = ExactDiffusion(cue_theta=cfg.theta, n_steps=cfg.ode_steps, t_end=cfg.t_end)
    out = mem.recall(mem.store(None, jnp.asarray(patterns)), jnp.asarray(cues))
  elif model == "mhn":
    out = jax.vmap(lambda c: hopfield.mhn_retrieve(jnp.asarray(patterns), c, cfg.mhn_beta,
                                                   cfg.mhn_steps))(jnp.asarray(cues))
  else:
    mem = ClassicalHopfield(n_steps=cfg.classic_steps)
    w = mem.store(None, jnp.asarray(patterns))
    out = mem.recall(w, jnp.asarray(cues))
  return np.sum(np.asarray(binarize(out)) != targets, axis=-1)


@pytest.mark.parametrize("model", exp.MODELS)
def test_padded_cell_matches_core_model(model):
  """The bucketed, masked, sharded recall equals the core model run on the unpadded patterns."""
  cfg = dataclasses.replace(exp.PRESETS["quick"], n_queries=40, ode_steps=60, mhn_steps=20)
  key = jax.random.PRNGKey(3)
  n, d = 11, 9                                    # padded to (16, 16)
  got = exp.cell_wrong_bits(model, cfg, key, n, d)
  want = _reference_wrong_bits(model, cfg, key, n, d)
  np.testing.assert_array_equal(got, want)
  assert got.shape == (40,)


def test_cell_data_is_pure_in_key_and_shape():
  a = exp.cell_data(jax.random.PRNGKey(0), 5, 10, 7, 0.68)
  b = exp.cell_data(jax.random.PRNGKey(0), 5, 10, 7, 0.68)
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x, y)
  patterns, targets, cues = a
  assert set(np.unique(patterns)) <= {-1.0, 1.0}
  assert all(any((t == p).all() for p in patterns) for t in targets)


# ---------------------------------------------------------------- the script: resume and sharding

_TINY = ["--preset=quick", "--dims=8,9", "--models=mhn,classic", "--n_max=16", "--nofigures"]


def _run_script(out_dir, *extra, env_extra=None, check=True):
  env = {**os.environ, "JAX_PLATFORMS": "cpu", **(env_extra or {})}
  return subprocess.run([sys.executable, SCRIPT, f"--out_dir={out_dir}", *_TINY, *extra],
                        cwd=REPO, env=env, capture_output=True, text=True, check=check, timeout=300)


def _cells(out_dir):
  with open(os.path.join(out_dir, "cells.jsonl")) as f:
    return sorted(json.dumps(json.loads(line), sort_keys=True) for line in f if line.strip())


def _runs(out_dir):
  with open(os.path.join(out_dir, "runs.jsonl")) as f:
    return [json.loads(line) for line in f]


@pytest.mark.slow
def test_resume_after_abort_equals_uninterrupted(tmp_path):
  full, resumed = str(tmp_path / "full"), str(tmp_path / "resumed")
  _run_script(full)
  n_total = len(_cells(full))
  assert n_total > 6
  aborted = _run_script(resumed, "--abort_after_cells=4", check=False)
  assert aborted.returncode == 3, aborted.stderr[-2000:]
  assert len(_cells(resumed)) == 4
  _run_script(resumed)
  assert _cells(resumed) == _cells(full)                  # identical content, order-insensitive
  (run,) = _runs(resumed)                                 # the aborted run never reached its log line
  assert run["computed"] == n_total - 4 and run["reused"] == 4   # no cell recomputed
  with open(os.path.join(resumed, "capacity.csv")) as f:
    rows = list(csv.reader(f))
  assert rows[0] == ["model", "d", "capacity", "lower", "upper"]
  assert {r[0] for r in rows[1:]} == {"mhn", "classic"}
  _run_script(resumed)                                    # a finished run recomputes nothing
  assert _runs(resumed)[-1]["computed"] == 0


_SHARD_SCRIPT = textwrap.dedent("""
  import dataclasses, json, sys
  import jax
  from assocmem.experiments import capacity as exp
  cfg = dataclasses.replace(exp.PRESETS["quick"], dims=(8, 11), n_max=12, fig_ns=(4,))
  records, _ = exp.run_cells(cfg, sys.argv[1])
  print(json.dumps({"devices": len(jax.devices())}))
""")


@pytest.mark.slow
def test_sharded_over_8_devices_equals_one_device(tmp_path):
  script = tmp_path / "shard.py"
  script.write_text(_SHARD_SCRIPT)
  outs = {}
  for n_dev in (1, 8):
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={n_dev}"}
    out_dir = str(tmp_path / f"dev{n_dev}")
    res = subprocess.run([sys.executable, str(script), out_dir], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert json.loads(res.stdout.strip().splitlines()[-1])["devices"] == n_dev
    outs[n_dev] = _cells(out_dir)
  assert len(outs[1]) > 10
  assert outs[1] == outs[8]                               # identical per-query errors, every cell


# ---------------------------------------------------------------- files, figures and report section

def _image_links(md):
  return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)


def test_run_writes_files_and_figures_the_section_links(tmp_path):
  """EXPERIMENT.run on a tiny grid: the CSVs hold the estimate, the figures exist, the section links them."""
  results = tmp_path / "results"
  experiment = exp.EXPERIMENT
  cfg = experiment.config("quick", dims=(8, 9), models=("mhn", "classic"), n_max=8, fig_ns=(4,), n_boot=50)
  out_dir = experiment.output_dir(str(results))
  summary = experiment.run(cfg, out_dir)
  assert summary["figures"] == ["fig3a_diffusion_error.png", "fig3b_capacity.png"]
  for name in ("capacity.csv", "capacity_raw.csv", "cells.jsonl", "summary.json", *summary["figures"]):
    assert os.path.getsize(os.path.join(out_dir, name)) > 0, name
  rows = exp.read_capacity_rows(out_dir)
  assert {(r["model"], r["d"]) for r in rows} == {(m, d) for m in cfg.models for d in cfg.dims}
  for r in rows:
    assert 0 <= r["lower"] <= r["capacity"] <= r["upper"] <= cfg.n_max, r
    assert r["raw_capacity"] in [0, *exp.n_grid(cfg.n_max, cfg.per_octave)], r
  md = experiment.report_section(out_dir, str(results))
  links = _image_links(md)
  assert sorted(os.path.basename(link) for link in links) == sorted(summary["figures"])
  assert all(os.path.exists(results / link) for link in links), links
  with pytest.raises(ValueError, match="key"):
    experiment.run(cfg, out_dir, key=jax.random.PRNGKey(1))


def test_report_section_draws_figure3b_with_the_learned_capacities(tmp_path):
  """With results/learned_capacity/learned_capacity.csv present, the section first draws Figure 3b with
  the learned model's capacities as black dots (seed 002, App. A) and links that figure too."""
  results = tmp_path / "results"
  cap_dir = results / "capacity"
  cap_dir.mkdir(parents=True)
  rows = [{"model": m, "d": d, "capacity": c, "lower": 0.8 * c, "upper": 1.2 * c, "raw_capacity": c,
           "raw_lower": 0.8 * c, "raw_upper": 1.2 * c} for m in ("mhn", "diffusion") for d, c in ((10, 4.0), (12, 8.0))]
  exp.write_capacity_csv(rows, str(cap_dir))
  back = exp.read_capacity_rows(str(cap_dir))
  assert [(r["model"], r["d"], r["capacity"], r["raw_capacity"]) for r in back] == \
      [(r["model"], r["d"], r["capacity"], r["raw_capacity"]) for r in rows]
  plain = exp.plot_capacity(back, ("mhn", "diffusion"), 0.03, str(tmp_path / "plain.png"))
  section = exp.report_section(str(cap_dir), str(results))
  assert not (cap_dir / "fig3b_capacity_learned.png").exists()        # no learned results yet
  assert _image_links(section) == []
  (results / "learned_capacity").mkdir()
  (results / "learned_capacity" / "learned_capacity.csv").write_text("d,repeat,capacity\n10,0,3\n12,0,6\n")
  section = exp.report_section(str(cap_dir), str(results))
  with_dots = cap_dir / "fig3b_capacity_learned.png"
  assert with_dots.exists() and with_dots.read_bytes() != open(plain, "rb").read()
  assert _image_links(section) == ["capacity/fig3b_capacity_learned.png"]


def test_report_section_without_results(tmp_path):
  md = exp.report_section(str(tmp_path / "missing"), str(tmp_path))
  assert "Not run" in md and _image_links(md) == []
