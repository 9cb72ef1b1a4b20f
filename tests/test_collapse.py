"""Collapse times (Biroli, Bonnaire, de Bortoli & Mézard 2024): the t_C formula, its VP time, the measurement."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem
from assocmem import mixture
from assocmem.experiments import collapse as col
from assocmem.experiments import registry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _annealed_root(d, n, sigma, gamma):
  """Bisection in VP time for the annealed balance of own and other points' posterior mass.

  Own point: E exp(−‖√v z‖²/2v) ≈ e^{−d/2}. The n others (independent of x): n (v / (v + θ²σ²))^{d/2}
  e^{−‖x‖²/2(v + θ²σ²)} with ‖x‖² ≈ d (θ²σ² + v), i.e. also e^{−d/2} times n (v / (v + θ²σ²))^{d/2}.
  They balance where n^{2/d} = 1 + θ_t² σ² / v_t, with θ_t, v_t taken from assocmem's own VPSDE.
  """
  sde = assocmem.VPSDE(gamma)

  def f(t):
    th, v = float(sde.theta(t)), float(sde.variance(t))
    return (2 / d) * math.log(n) - math.log1p(th**2 * sigma**2 / v)

  lo, hi = 1e-6, 200.0
  for _ in range(200):
    mid = 0.5 * (lo + hi)
    if f(mid) < 0:
      lo = mid
    else:
      hi = mid
  return 0.5 * (lo + hi)


@pytest.mark.parametrize("d, n, sigma, gamma", [(20, 100, 1.0, 0.8), (100, 10**4, 1.0, 0.8),
                                                (7, 3, 2.0, 1.0), (200, 10**5, 0.5, 2.5)])
def test_collapse_time_is_the_root_of_the_annealed_balance_in_vp_time(d, n, sigma, gamma, x64):
  del x64
  assert col.collapse_time(d, n, sigma, gamma) == pytest.approx(_annealed_root(d, n, sigma, gamma), rel=1e-7)
  # The OU time is the VP time scaled by γ/2 (θ = e^{−s} = e^{−γt/2}).
  assert col.collapse_time_ou(d, n, sigma) == pytest.approx(gamma / 2 * col.collapse_time(d, n, sigma, gamma))


def test_collapse_time_formula_values():
  # ½ ln(1 + 1/(100^{0.1} − 1)) by hand.
  assert col.collapse_time_ou(20, 100, 1.0) == pytest.approx(0.5 * math.log(1 + 1 / (100**0.1 - 1)), rel=1e-12)
  # t_C falls with n (more points: the posterior condenses earlier) and rises with d.
  assert col.collapse_time_ou(50, 1000) < col.collapse_time_ou(50, 100)
  assert col.collapse_time_ou(100, 1000) > col.collapse_time_ou(50, 1000)


def test_own_and_max_weight_match_the_posterior_in_every_mode(key):
  sde = assocmem.VPSDE(0.8)
  ys = jax.random.normal(key, (21, 5))
  dense = assocmem.make_bank(ys)
  x = 0.7 * ys[4] + 0.5 * jax.random.normal(jax.random.PRNGKey(3), (5,))
  t = 1.3
  h = np.asarray(assocmem.posterior(ys, x, t, sde))
  assert h.sum() == pytest.approx(1.0, abs=1e-6)
  for bank, mode in ((dense, mixture.DENSE), (dense, mixture.Streaming(4)),          # padded per call
                     (col.cell_bank(key, 5, 21, 1.0, 8), mixture.Streaming(8))):       # padded capacity 24
    own, top = col.own_and_max_weight(bank, 4, x, t, sde, mode)
    if bank is dense:
      np.testing.assert_allclose(float(own), h[4], rtol=1e-5)
      np.testing.assert_allclose(float(top), h.max(), rtol=1e-5)
    assert 0.0 < float(own) <= float(top) <= 1.0 + 1e-6
  # cell_bank draws its own points: compare it with the posterior of those points.
  bank = col.cell_bank(key, 5, 21, 1.0, 8)
  pts = bank.patterns[:21]
  own, top = col.own_and_max_weight(bank, 2, x, t, sde, mixture.Streaming(8))
  hp = np.asarray(assocmem.posterior(pts, x, t, sde))
  np.testing.assert_allclose([float(own), float(top)], [hp[2], hp.max()], rtol=1e-5)


def test_crossing_time_hand_example():
  ts = np.array([1.0, 2.0, 4.0])
  assert col.crossing_time(ts, np.array([1.0, 0.75, 0.25])) == pytest.approx(2 * math.sqrt(2))   # halfway in log t
  assert math.isnan(col.crossing_time(ts, np.array([0.9, 0.8, 0.7])))       # never below ½
  assert math.isnan(col.crossing_time(ts, np.array([0.4, 0.3, 0.2])))       # starts below ½
  with pytest.raises(ValueError, match="increasing"):
    col.crossing_time(np.array([2.0, 1.0]), np.array([1.0, 0.0]))


def test_measured_crossing_within_ten_percent_at_d_100():
  # Independent measurement: 4% at d = 100, n = 10³. A wrong time conversion (e.g. t = γ t_OU / 2,
  # or OU time taken for VP time) moves t_C by a factor 2/γ² or more and fails.
  cfg = col.CollapseConfig(dims=(100,), ns=(1000,), n_samples=96, n_times=17)
  cell = col.measure_cell(cfg, jax.random.PRNGKey(0), 100, 1000)
  assert abs(cell["t_mean"] / cell["t_c"] - 1) < 0.1
  assert abs(cell["t_median"] / cell["t_c"] - 1) < 0.1
  assert np.all(np.diff(cell["mean_own"]) <= 1e-6)        # the own weight only falls with t
  assert cell["mean_own"][0] > 0.95 and cell["mean_own"][-1] < 0.05
  assert np.all(cell["mean_max"] >= cell["mean_own"] - 1e-6)


def test_run_writes_files_and_report(tmp_path):
  cfg = col.CollapseConfig(dims=(8,), ns=(50, 100), n_samples=32, n_times=9, chunk_size=64)
  summary = col.EXPERIMENT.run(cfg, str(tmp_path))
  with open(tmp_path / "collapse.csv") as f:
    rows = list(csv.DictReader(f))
  assert [(r["d"], r["n"], r["mode"]) for r in rows] == [("8", "50", "dense"), ("8", "100", "streaming")]
  for r in rows:
    assert float(r["t_c"]) == pytest.approx(col.collapse_time(8, int(r["n"]), 1.0, 0.8), rel=1e-5)
    assert float(r["rel_err_mean"]) == pytest.approx(float(r["t_mean"]) / float(r["t_c"]) - 1, abs=2e-6)
  curves = np.load(tmp_path / "curves.npz")
  assert curves["mean_own"].shape == (2, 9)
  assert summary["cells"] == 2 and summary["checked_cells"] == 0
  section = col.report_section(str(tmp_path), str(tmp_path.parent))
  assert "| 8 | 100 |" in section and f"{float(rows[1]['t_c']):.4f}" in section and "collapse.png" in section
  assert "No results" in col.report_section(str(tmp_path / "missing"), str(tmp_path))


@pytest.mark.parametrize("fn, args, name", [
    (col.collapse_time_ou, (0, 100), "d"), (col.collapse_time_ou, (10, 1), "n"),
    (col.collapse_time_ou, (10, 100, 0.0), "sigma"), (col.collapse_time, (10, 100, 1.0, -0.8), "gamma"),
    (col.collapse_time_ou, (10.5, 100), "d"),
])
def test_bad_arguments_raise(fn, args, name):
  with pytest.raises(ValueError, match=name):
    fn(*args)


@pytest.mark.parametrize("overrides, name", [
    ({"ns": (1, 10)}, "ns"), ({"dims": (0,)}, "dims"), ({"dims": ()}, "dims"), ({"span": 1.0}, "span"),
    ({"statistic": "mode"}, "statistic"), ({"n_samples": 1}, "n_samples"), ({"sigma": -1.0}, "sigma"),
    ({"chunk_size": 0}, "chunk_size"), ({"n_times": 2}, "n_times"),
])
def test_bad_settings_raise_value_errors_naming_them(overrides, name):
  with pytest.raises(ValueError, match=name):
    col.EXPERIMENT.config("quick", **overrides)


def test_registered_and_presets():
  assert registry.get("collapse") is col.EXPERIMENT
  assert max(col.PRESETS["paper"].ns) == 10**5 and max(col.PRESETS["paper"].dims) == 200
  assert col.mode_for(10**5, 8192) == mixture.Streaming(8192) and col.mode_for(100, 8192) == mixture.DENSE


def test_script_rejects_n_below_two():
  out = subprocess.run([sys.executable, "scripts/collapse.py", "--ns=1,10", "--out_dir=/nonexistent/never"],
                       cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": REPO})
  assert out.returncode == 1 and "ns" in out.stderr
