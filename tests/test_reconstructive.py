"""Reconstructive memory (seed 002, §6.1, Eq. 25): closed form, recall, the experiment."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from assocmem import VESDE, VPSDE, em_sample, ode_sample
from assocmem import reconstructive as rc

# φ has two well separated components whose first (core) coordinate predicts the second (free)
# one, so the free coordinates' conditional φ(· | core) differs sharply from φ's marginal.
MEANS = np.array([[1.0, 2.0, 0.5], [-1.0, -2.0, -0.5]])
SCALES = np.array([0.6, 0.5])
CORES = np.array([[0.8], [-1.2]])
MAP = np.array([[1.0, 0.0, 0.0]])           # f(x) = x_0: one core coordinate, two free ones


def _state(semantic_weight=0.25, dtype=jnp.float32):
  return rc.reconstructive_state(jnp.asarray(CORES, dtype), jnp.asarray(MAP, dtype),
                                 jnp.asarray(MEANS, dtype), jnp.asarray(SCALES, dtype),
                                 semantic_weight=semantic_weight)


def _random_state(key, d=5, w=2, n=3, k=4, dtype=jnp.float64):
  k1, k2, k3, k4 = jax.random.split(key, 4)
  q, _ = jnp.linalg.qr(jax.random.normal(k1, (n, d, d), dtype))
  maps = jnp.swapaxes(q, 1, 2)[:, :w]      # per-memory orthonormal rows
  return rc.reconstructive_state(jax.random.normal(k2, (n, w), dtype), maps,
                                 2.0 * jax.random.normal(k3, (k, d), dtype),
                                 jnp.exp(0.5 * jax.random.normal(k4, (k,), dtype)),
                                 phi_weights=jnp.arange(1.0, k + 1.0, dtype=dtype), semantic_weight=0.3)


@pytest.mark.parametrize("sde", [VPSDE(0.8), VESDE(1.0)], ids=["vp", "ve"])
def test_score_is_grad_of_log_density(sde, x64):
  if True:
    state = _random_state(jax.random.PRNGKey(0))
    score_fn = jax.jit(rc.reconstructive_score_fn(sde))
    grad_fn = jax.jit(jax.grad(rc.reconstructive_log_density_fn(sde), argnums=1))
    for i, t in enumerate((1e-3, 0.05, 0.5, 2.0, 8.0)):
      x = 2.5 * jax.random.normal(jax.random.PRNGKey(10 + i), (5,), jnp.float64)
      auto = grad_fn(state, x, t)
      closed = score_fn(state, x, t)
      np.testing.assert_allclose(closed, auto, rtol=1e-9, atol=1e-9 * (1 + float(jnp.max(jnp.abs(auto)))))
      np.testing.assert_allclose(rc.reconstructive_score(x, t, state, sde), closed, rtol=1e-12)
      np.testing.assert_allclose(rc.reconstructive_energy(x, t, state, sde),
                                 -rc.reconstructive_log_density(x, t, state, sde))


def test_density_is_the_diffused_data_distribution(x64):
  """p_t(x) == E_y N(x; θ_t y, v_t I) over exact samples y ~ p_0 (independent code paths), and ∫ p_t = 1."""
  if True:
    state = _random_state(jax.random.PRNGKey(1), d=2, w=1, n=2, k=2)
    sde, t = VPSDE(0.8), 0.6
    theta, var = float(sde.theta(t)), float(sde.variance(t))
    ys, _ = jax.vmap(lambda k: rc.sample_data(k, state))(jax.random.split(jax.random.PRNGKey(2), 100_000))
    grid = np.linspace(-6, 6, 121)
    xx = jnp.asarray(np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2))
    log_p = jax.jit(jax.vmap(lambda x: rc.reconstructive_log_density(x, t, state, sde)))
    dens = np.exp(np.asarray(log_p(xx)))
    assert abs(dens.sum() * (grid[1] - grid[0]) ** 2 - 1.0) < 2e-3
    probe = xx[np.argsort(-dens)[:: len(dens) // 40][:40]]      # points across the density's range
    mc = jax.vmap(lambda x: jnp.mean(jnp.exp(-0.5 * jnp.sum((x - theta * ys) ** 2, -1) / var))
                  / (2 * np.pi * var))(probe)
    exact = np.exp(np.asarray(log_p(probe)))
    np.testing.assert_allclose(mc, exact, rtol=0.05, atol=3e-3 * exact.max())


def test_core_conditional_weights():
  state = _state()
  lw = np.exp(np.asarray(rc.core_log_weights(state)))
  # π_k^{(n)} ∝ π_k N(ξ_n; μ_k0, s_k²)
  ref = stats.norm.pdf(CORES[:, :1], MEANS[None, :, 0], SCALES[None])[:, :] * 0.5
  ref = ref / ref.sum(1, keepdims=True)
  np.testing.assert_allclose(lw, ref, rtol=1e-4)


def _reference(state, sde, t, n_per, key):
  """Exact samples of every component diffused to t, with their classes by the posterior at t."""
  n = state.cores.shape[0]
  idx = jnp.repeat(jnp.arange(n + 1), n_per)
  ys = jax.vmap(lambda k, i: rc.sample_component(k, state, i))(jax.random.split(key, idx.shape[0]), idx)
  noise = jax.random.normal(jax.random.fold_in(key, 1), ys.shape)
  xs = sde.theta(t) * ys + jnp.sqrt(sde.variance(t)) * noise
  return np.asarray(xs), _classes(xs, t, state, sde)


def _classes(xs, t, state, sde):
  return np.asarray(jax.jit(jax.vmap(lambda x: rc.reconstructive_posterior(x, t, state, sde)))(xs)).argmax(1)


def test_replay_recovers_cores_and_free_coordinates_follow_phi():
  """Euler–Maruyama from the prior: memory shares ≈ their weights, A x → ξ_n, free coordinates ~ φ(· | ξ_n)."""
  state, sde = _state(), VPSDE(0.8)
  score_fn = rc.reconstructive_score_fn(sde)
  m, t0, t_end = 2000, float(sde.t_start(0.01)), 1e-3
  keys = jax.random.split(jax.random.PRNGKey(3), m)
  x0 = jax.random.normal(jax.random.PRNGKey(4), (m, 3))
  xs = jax.jit(jax.vmap(lambda k, x: em_sample(k, score_fn, state, sde, x, t0, t_end, 500, grid="geometric")))(
      keys, x0)
  xs = np.asarray(xs)
  lab = _classes(xs, t_end, state, sde)
  n_per = 10_000
  ref, ref_lab = _reference(state, sde, t_end, n_per, jax.random.PRNGKey(5))
  weights = np.exp(np.asarray(state.log_weights))
  # expected class shares: Σ_i w_i P(class j | component i), P from the equal-sized reference sets
  confusion = np.stack([np.bincount(ref_lab[i * n_per:(i + 1) * n_per], minlength=3) / n_per
                        for i in range(3)])
  counts = np.bincount(lab, minlength=3)
  assert stats.chisquare(counts, weights @ confusion * m).pvalue > 1e-3, (counts / m, weights @ confusion)
  theta = float(sde.theta(t_end))
  for n in range(2):
    sel = xs[lab == n]
    assert np.max(np.abs(sel[:, 0] - theta * CORES[n, 0])) < 0.2              # the core is recovered
    for j in (1, 2):                                                           # the free coordinates
      p = stats.ks_2samp(sel[:, j], ref[:n_per * 2][ref_lab[:n_per * 2] == n][:, j]).pvalue
      assert p > 1e-3, (n, j, p)
    # and they are φ's conditional, not its marginal (the test has the power to tell them apart)
    marginal = np.asarray(jax.vmap(lambda k: rc.sample_component(k, state, 2))(
        jax.random.split(jax.random.PRNGKey(6), 5000)))
    assert stats.ks_2samp(sel[:, 1], marginal[:, 1]).pvalue < 1e-6


def _recall(state, sde, n, theta0, m, seed):
  """Cues θ y + √(1 − θ²) ε of events y of memory n; their ODE and EM recalls and posteriors."""
  score_fn = rc.reconstructive_score_fn(sde)
  t0, t_end = float(sde.t_start(theta0)), 1e-3
  ys = jax.vmap(lambda k: rc.sample_component(k, state, n))(jax.random.split(jax.random.PRNGKey(seed), m))
  cues = theta0 * ys + np.sqrt(1 - theta0**2) * jax.random.normal(jax.random.PRNGKey(seed + 1), ys.shape)
  ode = jax.jit(jax.vmap(lambda x: ode_sample(score_fn, state, sde, x, t0, t_end, 300, grid="geometric")))(cues)
  em = jax.jit(jax.vmap(lambda k, x: em_sample(k, score_fn, state, sde, x, t0, t_end, 300, grid="geometric")))(
      jax.random.split(jax.random.PRNGKey(seed + 2), m), cues)
  post = jax.vmap(lambda x: rc.reconstructive_posterior(x, t0, state, sde))(cues)
  return np.asarray(ode), np.asarray(em), np.asarray(post)


def test_recall_from_cues_is_probabilistic():
  """Cues of memory 0 recover its core (A x → ξ_0) as often as its posterior weight at the cue says."""
  state, sde = _state(semantic_weight=0.1), VPSDE(0.8)
  ode, em, post = _recall(state, sde, 0, 0.8, 1000, 7)
  expected = post[:, 0].mean()                  # ≈ 0.89: the rest goes to φ (reconstructed freely)
  assert 0.8 < expected < 0.95
  hit = np.abs(em[:, 0] - CORES[0, 0]) < 0.1
  assert abs(hit.mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / len(hit)) + 0.01
  assert np.mean(np.abs(ode[:, 0] - CORES[0, 0]) < 0.1) > 0.8


def test_recall_from_cues_reconstructs_free_coordinates_from_phi():
  """Pure reconstructive memories: recall recovers the core, and the free coordinates ~ φ(· | ξ_n)."""
  state, sde = _state(semantic_weight=0.0), VPSDE(0.8)
  for n in range(2):
    ode, em, _ = _recall(state, sde, n, 0.8, 1000, 20 + 10 * n)
    assert np.mean(np.abs(ode[:, 0] - CORES[n, 0]) < 0.1) > 0.97
    hit = np.abs(em[:, 0] - CORES[n, 0]) < 0.1
    assert hit.mean() > 0.97
    ref = np.asarray(jax.vmap(lambda k: rc.sample_component(k, state, n))(
        jax.random.split(jax.random.PRNGKey(13 + n), 10_000)))
    for j in (1, 2):
      assert stats.ks_2samp(em[hit, j], ref[:, j]).pvalue > 1e-3, (n, j)


def test_samplers_trace_the_state():
  """The state is traced: a jitted sampler reused for new cores moves its fixed points."""
  state, sde = _state(semantic_weight=0.0), VPSDE(0.8)
  f = jax.jit(lambda s, x: ode_sample(rc.reconstructive_score_fn(sde), s, sde, x, 1.0, 1e-3, 200))
  x = jnp.array([0.7, 1.0, 0.0])
  a = f(state, x)
  b = f(state._replace(cores=state.cores + 0.5), x)
  assert abs(float(a[0]) - 0.8) < 0.05 and abs(float(b[0]) - 1.3) < 0.05


def test_orthonormal_core():
  maps = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0]])
  cores = np.array([[1.0, -1.0]])
  a, xi = rc.orthonormal_core(maps, cores)
  np.testing.assert_allclose(a[0] @ a[0].T, np.eye(2), atol=1e-5)
  x = np.linalg.lstsq(maps, cores[0], rcond=None)[0] + 0.7 * np.cross(maps[0], maps[1])
  np.testing.assert_allclose(maps @ x, cores[0], atol=1e-5)
  np.testing.assert_allclose(a[0] @ x, xi[0], atol=1e-5)       # same core set
  with pytest.raises(ValueError, match="full row rank"):
    rc.orthonormal_core(np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), cores)


@pytest.mark.parametrize("kwargs, match", [
    (dict(cores=np.zeros((2, 3)), maps=np.eye(3)), "core dimension"),
    (dict(maps=np.array([[1.0, 1.0, 0.0]])), "orthonormal"),
    (dict(maps=np.eye(4)[:1]), "means must have shape"),
    (dict(scales=np.array([0.5, -1.0])), "scales"),
    (dict(scales=np.ones(3)), "scales"),
    (dict(semantic_weight=1.0), "semantic_weight"),
    (dict(phi_weights=np.array([1.0, -1.0])), "phi_weights"),
    (dict(core_weights=np.ones(3)), "core_weights"),
    (dict(cores=np.zeros((0, 1))), "cores"),
    (dict(cores=np.array([[np.nan]] * 2)), "cores"),
])
def test_bad_state(kwargs, match):
  args = dict(cores=CORES, maps=MAP, means=MEANS, scales=SCALES)
  args.update(kwargs)
  with pytest.raises(ValueError, match=match):
    rc.reconstructive_state(**args)


def test_bad_call():
  state, sde = _state(), VPSDE(0.8)
  with pytest.raises(ValueError, match="x"):
    rc.reconstructive_log_density(jnp.zeros(4), 0.5, state, sde)
  with pytest.raises(ValueError, match="t must"):
    rc.reconstructive_score(jnp.zeros(3), 0.0, state, sde)
  with pytest.raises(ValueError, match="ReconstructiveState"):
    rc.reconstructive_score_fn(sde)((CORES, MAP), jnp.zeros(3), 0.5)
  with pytest.raises(ValueError, match="x must have shape"):
    rc.reconstructive_score_fn(sde)(state, jnp.zeros(2), 0.5)


# ----------------------------------------------------------------------------- the experiment

def test_experiment_tiny_run(tmp_path):
  from assocmem.experiments import registry
  from assocmem.experiments.reconstructive import EXPERIMENT
  assert registry.get("reconstructive") is EXPERIMENT
  cfg = EXPERIMENT.config("quick", n_cues=40, n_steps=30, n_reference=400, dim=3, core_dim=1, n_memories=2,
                          n_phi=2, n_replays=20, semantic_weights=(0.0,))
  out = str(tmp_path / "reconstructive")
  summary = EXPERIMENT.run(cfg, out)
  import csv
  with open(os.path.join(out, "recall.csv")) as f:
    rows = list(csv.DictReader(f))
  assert [(r["setting"], int(r["memory"])) for r in rows] == [("demo", 0), ("demo", 1), ("demo", 2),
                                                              ("random", 0), ("random", 1)]
  for r in rows:
    assert 0.0 <= float(r["core_recovery"]) <= 1.0 and 0.0 <= float(r["expected_recovery"]) <= 1.0
  # with w_φ = 0 and θ = 0.9 cues, the demo's cores are recovered about as often as the posterior says
  demo = [r for r in summary["rows"] if r["setting"] == "demo"]
  assert np.mean([r["core_recovery"] for r in demo]) > 0.7
  assert abs(np.mean([r["core_recovery"] - r["expected_recovery"] for r in demo])) < 0.15
  assert os.path.exists(os.path.join(out, "reconstructive.png"))
  assert "| demo | 0 | 2 | 1 | 0 |" in EXPERIMENT.report_section(out, str(tmp_path))
  assert "Not run" in EXPERIMENT.report_section(str(tmp_path / "missing"), str(tmp_path))


@pytest.mark.parametrize("overrides, match", [
    (dict(core_dim=8, dim=8), "core_dim"),
    (dict(cue_theta=1.0), "cue_theta"),
    (dict(semantic_weights=(1.0,)), "semantic_weights"),
    (dict(semantic_weights=()), "semantic_weights"),
    (dict(n_cues=0), "n_cues"),
    (dict(dim=1, core_dim=1), "dim"),
    (dict(t_end=10.0), "t_end"),
    (dict(bogus=3), "unknown"),
])
def test_experiment_bad_settings(overrides, match):
  from assocmem.experiments.reconstructive import config
  with pytest.raises(ValueError, match=match):
    config.get_preset("quick", **overrides)
