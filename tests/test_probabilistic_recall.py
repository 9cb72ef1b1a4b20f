"""Probabilistic recall (seed 002 §5.1): TV, the multinomial null, posterior weights, and the SDE/ODE contrast."""

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
from assocmem.experiments import registry
from assocmem.experiments import probabilistic_recall as pr

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_total_variation_hand_examples():
  p = jnp.array([0.5, 0.5, 0.0])
  q = jnp.array([0.2, 0.3, 0.5])
  assert float(pr.total_variation(p, q)) == pytest.approx(0.5)           # ½ (0.3 + 0.2 + 0.5)
  assert float(pr.total_variation(p, p)) == 0.0
  assert float(pr.total_variation(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))) == pytest.approx(1.0)
  batch = pr.total_variation(jnp.stack([p, q]), q)
  np.testing.assert_allclose(np.asarray(batch), [0.5, 0.0], atol=1e-7)
  with pytest.raises(ValueError, match="last axis"):
    pr.total_variation(jnp.ones(3) / 3, jnp.ones(4) / 4)


def test_null_percentile_matches_the_binomial_answer(key):
  # Two equally likely outcomes: TV = |k/n − ½| with k ~ Bin(n, ½), so its 99th percentile is
  # about z_0.995 · ½ / √n and its mean about √(2/π) · ½ / √n.
  n = 400
  tvs = np.asarray(pr.multinomial_null(key, jnp.array([0.5, 0.5]), n, 4000))
  assert np.mean(tvs) == pytest.approx(math.sqrt(2 / math.pi) * 0.5 / math.sqrt(n), rel=0.08)
  q99 = pr.null_quantile(key, jnp.array([0.5, 0.5]), n, 4000, 0.99)
  assert q99 == pytest.approx(2.5758 * 0.5 / math.sqrt(n), rel=0.12)
  # A certain outcome has no sampling noise at all.
  assert float(np.max(np.asarray(pr.multinomial_null(key, jnp.array([0.0, 1.0, 0.0]), 50, 100)))) < 1e-6


def test_nearest_pattern_and_frequencies():
  patterns = jnp.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]])
  assert int(pr.nearest_pattern(patterns, jnp.array([-0.9, 0.2]))) == 1
  f = pr.frequencies(jnp.array([[0, 0, 2, 1], [2, 2, 2, 2]]), 3)
  np.testing.assert_allclose(np.asarray(f), [[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]])


def test_posterior_weights_sum_to_one_and_match_a_hand_softmax(key):
  cfg = pr.RecallConfig(dim=6, n_patterns=5, thetas=(0.3, 0.6), cues_per_theta=2, learned=False)
  problem = pr.make_problem(cfg, key)
  sde = assocmem.VPSDE(cfg.gamma)
  w = np.asarray(pr.posterior_weights(problem["patterns"], problem["cues"], problem["t_starts"], sde), np.float64)
  np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
  y = np.asarray(problem["patterns"], np.float64)
  for c in range(w.shape[0]):
    th = float(problem["thetas"][c])
    np.testing.assert_allclose(problem["t_starts"][c], -2 * math.log(th) / cfg.gamma, rtol=1e-6)
    # At t_start(θ) the VP kernel is N(θ y, (1 − θ²) I): h ∝ exp(−‖x − θ y_n‖² / 2(1 − θ²)).
    logits = -np.sum((np.asarray(problem["cues"][c], np.float64) - th * y) ** 2, axis=1) / (2 * (1 - th**2))
    expected = np.exp(logits - logits.max())
    np.testing.assert_allclose(w[c], expected / expected.sum(), atol=2e-5)


def test_exact_sde_samples_the_posterior_and_the_ode_does_not(key):
  cfg = pr.RecallConfig(dim=6, n_patterns=4, thetas=(0.3,), cues_per_theta=2, n_trajectories=3000,
                        n_steps=200, learned=False)
  problem = pr.make_problem(cfg, key)
  sde = assocmem.VPSDE(cfg.gamma)
  w = np.asarray(pr.posterior_weights(problem["patterns"], problem["cues"], problem["t_starts"], sde), np.float64)
  bank = assocmem.make_bank(problem["patterns"])
  score = assocmem.exact_score_fn(sde)
  labels = pr.sde_endpoint_labels(jax.random.PRNGKey(1), score, bank, sde, problem["patterns"], problem["cues"],
                                  jnp.asarray(problem["t_starts"]), n_traj=cfg.n_trajectories, n_steps=cfg.n_steps,
                                  t_end=cfg.t_end, grid=cfg.grid)
  f = np.asarray(pr.frequencies(labels, cfg.n_patterns), np.float64)
  for c in range(2):
    q99 = pr.null_quantile(jax.random.PRNGKey(2 + c), w[c], cfg.n_trajectories, 2000, 0.99)
    assert float(pr.total_variation(f[c], w[c])) <= q99
    # Weights at the wrong time (a cue read as θ = 0.7 instead of 0.3) are far outside the null.
    wrong = np.asarray(assocmem.posterior(problem["patterns"], problem["cues"][c], cfg.t_start(0.7), sde))
    assert float(pr.total_variation(f[c], wrong)) > 2 * q99
  ode = np.asarray(pr.ode_endpoint_labels(score, bank, sde, problem["patterns"], problem["cues"],
                                          jnp.asarray(problem["t_starts"]), n_steps=cfg.n_steps, t_end=cfg.t_end,
                                          grid=cfg.grid))
  for c in range(2):
    end = assocmem.ode_sample(score, bank, sde, problem["cues"][c], float(problem["t_starts"][c]), cfg.t_end,
                              cfg.n_steps)
    assert ode[c] == int(np.argmin(np.sum((np.asarray(problem["patterns"]) - np.asarray(end)) ** 2, axis=1)))
    assert 1.0 - w[c, ode[c]] > 0.2     # these cues are ambiguous: one endpoint misses most of h


def test_run_writes_files_and_report(tmp_path):
  cfg = pr.RecallConfig(dim=5, n_patterns=3, thetas=(0.3, 0.5), cues_per_theta=1, n_trajectories=200,
                        n_null=200, n_steps=60, hidden=16, train_steps=30, learned_trajectories=100)
  summary = pr.EXPERIMENT.run(cfg, str(tmp_path))
  with open(tmp_path / "recall.csv") as f:
    rows = list(csv.DictReader(f))
  assert [r["theta"] for r in rows] == ["0.3", "0.5"]
  assert all(r["n_learned"] == "100" and r["n_sde"] == "200" for r in rows)
  for r in rows:
    assert (r["sde_within"] == "True") == (float(r["tv_sde"]) <= float(r["null_q_sde"]))
    assert 0.0 <= float(r["tv_ode"]) <= 1.0
  with open(tmp_path / "frequencies.csv") as f:
    freq = list(csv.DictReader(f))
  assert len(freq) == 2 * 3
  for c in ("0", "1"):
    block = [r for r in freq if r["cue"] == c]
    for col in ("weight", "f_sde", "f_ode", "f_learned"):
      assert sum(float(r[col]) for r in block) == pytest.approx(1.0, abs=1e-5)
  assert summary["cues"] == 2 and summary["sde_within"] == sum(r["sde_within"] == "True" for r in rows)
  assert (tmp_path / "probabilistic_recall.png").stat().st_size > 0
  section = pr.report_section(str(tmp_path), str(tmp_path.parent))
  assert section.count("\n| 0.") == 2 and f"{float(rows[0]['tv_sde']):.4f}" in section
  assert "probabilistic_recall.png" in section
  assert "No results" in pr.report_section(str(tmp_path / "missing"), str(tmp_path))


@pytest.mark.parametrize("overrides, name", [
    ({"thetas": (0.3, 1.0)}, "thetas"), ({"thetas": (0.0,)}, "thetas"), ({"thetas": ()}, "thetas"),
    ({"n_patterns": 1}, "n_patterns"), ({"dim": 0}, "dim"), ({"n_trajectories": 0}, "n_trajectories"),
    ({"n_null": 5}, "n_null"), ({"null_quantile": 1.0}, "null_quantile"), ({"grid": "log"}, "grid"),
    ({"train_theta_min": 0.4}, "train_theta_min"), ({"gamma": -1.0}, "gamma"), ({"t_end": 5.0}, "t_end"),
    ({"learned": 1}, "learned"), ({"cues_per_theta": 0}, "cues_per_theta"),
])
def test_bad_settings_raise_value_errors_naming_them(overrides, name):
  with pytest.raises(ValueError, match=name):
    pr.EXPERIMENT.config("quick", **overrides)


def test_bad_arguments_raise(key):
  with pytest.raises(ValueError, match="n "):
    pr.multinomial_null(key, jnp.array([0.5, 0.5]), 0, 10)
  with pytest.raises(ValueError, match="draws"):
    pr.multinomial_null(key, jnp.array([0.5, 0.5]), 10, 0)
  with pytest.raises(ValueError, match="quantile"):
    pr.null_quantile(key, jnp.array([0.5, 0.5]), 10, 10, 1.5)
  with pytest.raises(ValueError, match="preset"):
    pr.EXPERIMENT.config("huge")
  with pytest.raises(ValueError, match="RecallConfig"):
    pr.run({"dim": 3}, "/nonexistent")


def test_registered_and_presets_valid():
  assert registry.get("probabilistic_recall") is pr.EXPERIMENT
  assert set(pr.EXPERIMENT.presets) == {"quick", "paper"}
  assert pr.PRESETS["paper"].n_trajectories == 4000 and pr.PRESETS["paper"].n_learned_trajectories == 1000 and pr.PRESETS["paper"].hidden == 80 * pr.PRESETS["paper"].dim


def test_script_rejects_a_bad_theta():
  out = subprocess.run([sys.executable, "scripts/probabilistic_recall.py", "--thetas=0.3,1.2",
                        "--out_dir=/nonexistent/never"], cwd=REPO, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": REPO})
  assert out.returncode == 1 and "thetas" in out.stderr
  assert not os.path.exists("/nonexistent/never")
