"""Replay bootstrapping (seed 002, §6.2): the measures, the loss of the event step, a tiny run."""

from __future__ import annotations

import csv
import dataclasses
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import VPSDE
from assocmem.experiments import registry
from assocmem.experiments.bootstrapping import EXPERIMENT, compute, config, report
from assocmem.nn.score_mlp import ScoreMLP

TINY = dict(dim=2, hidden=8, event_weights=(0.0, 1.0), seeds=1, batch_size=8, experience_steps=5,
            n_rounds=2, replays_per_round=32, round_steps=3, replay_steps=10, density_steps=20)


@pytest.mark.parametrize("s", [1.0, 0.5, 2.0])
def test_flow_log_density_of_a_gaussian(s):
  """With the exact score of N(0, s² I) data, the probability-flow log density is log N(y; 0, c I)."""
  sde = VPSDE(0.8)

  def score_fn(params, x, t):
    del params
    return -x / (sde.theta(t) ** 2 * s * s + sde.variance(t))

  t_end, t_start = 1e-3, float(sde.t_start(0.01))
  for y in (jnp.array([0.3, -1.2]), jnp.array([2.0, 0.0])):
    got = compute.flow_log_density(score_fn, None, sde, y, t_end, t_start, 400)
    c = float(sde.theta(t_end)) ** 2 * s * s + float(sde.variance(t_end))
    want = -0.5 * float(jnp.sum(y * y)) / c - math.log(2 * math.pi * c)
    assert abs(float(got) - want) < 0.03 * (1 + abs(want)), (s, y, got, want)


def test_p_near_phi_matches_monte_carlo():
  cfg = config.BootstrappingConfig(dim=3, event_distance=1.5, delta=0.7)
  z = np.random.default_rng(0).standard_normal((400_000, 3))
  mc = np.mean(np.linalg.norm(z - compute.event(cfg), axis=1) < cfg.delta)
  assert abs(compute.p_near_phi(cfg) - mc) < 4 * math.sqrt(mc / 400_000)
  assert abs(compute.log_phi(cfg) - (-0.5 * 1.5**2 - 1.5 * math.log(2 * math.pi))) < 1e-12


def test_event_step_weights():
  """w = 0 is exactly a plain step; w = 1 ignores the φ batch (the loss is the event's alone)."""
  cfg = config.BootstrappingConfig(**TINY)
  model = ScoreMLP(dim=2, hidden=8)
  params = model.init_params(jax.random.PRNGKey(0))
  opt = compute._optimizer(cfg).init(params)
  key = jax.random.PRNGKey(1)
  plain = compute._step(model, cfg, params, opt, key, None, None)
  zero = compute._step(model, cfg, params, opt, key, None, jnp.float32(0.0))
  np.testing.assert_allclose(zero[2], plain[2], rtol=1e-6)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7), zero[0], plain[0])
  one = compute._step(model, cfg, params, opt, key, None, jnp.float32(1.0))
  # the w = 1 loss is the event's Eq. 27 term over batch_size draws: recompute it directly
  k_event = jax.random.split(key, 4)[3]
  y_star = jnp.broadcast_to(jnp.asarray(compute.event(cfg)), (cfg.batch_size, 2))
  np.testing.assert_allclose(one[2], compute._mean_loss(model, params, y_star, k_event, cfg), rtol=1e-6)


def test_tiny_run_writes_rounds_and_report(tmp_path):
  cfg = EXPERIMENT.config("quick", **TINY)
  out = str(tmp_path / "bootstrapping")
  summary = EXPERIMENT.run(cfg, out)
  with open(os.path.join(out, "rounds.csv")) as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == cfg.n_networks * (cfg.n_rounds + 1)
  assert {int(r["round"]) for r in rows} == {0, 1, 2}
  for r in rows:
    assert 0.0 <= float(r["p_near"]) <= 1.0 and math.isfinite(float(r["log_density_ratio"]))
  # the control and the event network share initialisation and φ stream: before the event they are
  # the same network, so their round-0 replays differ only through the one event step
  assert os.path.exists(os.path.join(out, "bootstrapping.png"))
  assert summary["finding"]
  summ = report.summarize(report.read_rounds_csv(out))
  assert all(r["delta_vs_control"] == 0.0 for r in summ if r["event_weight"] == 0.0)
  section = EXPERIMENT.report_section(out, str(tmp_path))
  assert "| 1 | 2 |" in section
  assert "Not run" in EXPERIMENT.report_section(str(tmp_path / "missing"), str(tmp_path))


def test_registered():
  assert registry.get("bootstrapping") is EXPERIMENT
  assert set(EXPERIMENT.presets) == {"quick", "paper"}


@pytest.mark.parametrize("overrides, match", [
    (dict(event_weights=(0.0, 1.5)), "event_weights"),
    (dict(event_weights=()), "event_weights"),
    (dict(event_weights=(0.1, 0.1)), "distinct"),
    (dict(dim=0), "dim"),
    (dict(theta_min=0.0), "theta_min"),
    (dict(theta_min=0.9, theta_max=0.5), "theta_min"),
    (dict(replay_fraction=1.2), "replay_fraction"),
    (dict(n_rounds=-1), "n_rounds"),
    (dict(delta=0.0), "delta"),
    (dict(t_end=100.0), "t_end"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(nonsense=1), "unknown"),
])
def test_bad_settings(overrides, match):
  with pytest.raises(ValueError, match=match):
    config.get_preset("quick", **overrides)


def test_bad_preset_and_config():
  with pytest.raises(ValueError, match="preset"):
    config.get_preset("huge")
  with pytest.raises(ValueError, match="BootstrappingConfig"):
    EXPERIMENT.run(dataclasses.asdict(config.PRESETS["quick"]), "/tmp/unused")
