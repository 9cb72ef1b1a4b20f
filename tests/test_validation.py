"""Bad input raises ValueError naming the argument.

Shapes and static settings are checked everywhere, traced code included; values
(finiteness, ranges) only where concrete, so under `jax.jit` they pass silently.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am
from assocmem import testing

D = 5
P = jnp.asarray(np.random.default_rng(0).choice([-1.0, 1.0], size=(3, D)), jnp.float32)
X = jnp.linspace(-1.0, 1.0, D)
W = am.hebbian_weights(P)
KEY = jax.random.PRNGKey(0)
VP = am.VPSDE(0.8)
SCORE = am.exact_score_fn(VP)
BANK = am.make_bank(P)
NAN_X = X.at[1].set(jnp.nan)
INF_P = P.at[0, 0].set(jnp.inf)
EMPTY = jnp.zeros((0, D))

CASES = {
    # mismatched dimensions
    "mhn_retrieve dim": (lambda: am.mhn_retrieve(P, jnp.ones(D + 1)), "x"),
    "mhn_retrieve batch": (lambda: am.mhn_retrieve(P, jnp.ones((2, D))), "x"),
    "mhn_energy dim": (lambda: am.mhn_energy(P, jnp.ones(D + 1), 1.0), "x"),
    "score dim": (lambda: am.score(P, jnp.ones(D - 1), 0.5, VP), "x"),
    "log_density dim": (lambda: am.log_density(P, jnp.ones(D - 1), 0.5, VP), "x"),
    "exact_score_fn dim": (lambda: SCORE(BANK, jnp.ones(D + 2), 0.5), "x"),
    "vp_energy dim": (lambda: am.vp_energy(P, jnp.ones(D + 1), 0.5), "x"),
    "ve_energy dim": (lambda: am.ve_energy(P, jnp.ones(D + 1), 0.5), "x"),
    "dense_energy dim": (lambda: am.dense_energy(P, jnp.ones(D + 1)), "x"),
    "dense_retrieve dim": (lambda: am.dense_retrieve(P, jnp.ones(D + 1)), "x"),
    "classical_energy dim": (lambda: am.classical_energy(W, jnp.ones(D + 1)), "x"),
    "classical_energy square": (lambda: am.classical_energy(W[:, :-1], X), "weights"),
    "classical_retrieve dim": (lambda: am.classical_retrieve(W, jnp.ones(D + 1)), "x"),
    "classical_retrieve weights ndim": (lambda: am.classical_retrieve(W[0], X), "weights"),
    "patterns ndim": (lambda: am.mhn_retrieve(P[0], X), "patterns"),
    "ode x ndim": (lambda: am.ode_sample(SCORE, BANK, VP, jnp.ones((2, D)), 0.5), "x"),
    "em x ndim": (lambda: am.em_sample(KEY, SCORE, BANK, VP, jnp.ones((2, D)), 0.5), "x"),
    "denoising_cue y ndim": (lambda: am.denoising_cue(KEY, jnp.ones((2, D)), 0.5), "y"),
    "completion_cue y ndim": (lambda: am.completion_cue(KEY, jnp.ones((2, D)), 0.5), "y"),
    "hamming shapes": (lambda: am.hamming_error(jnp.ones(3), jnp.ones(4)), "x and y"),
    "pearson sizes": (lambda: am.pearson(jnp.ones(3), jnp.ones(4)), "a and b"),
    "non-numeric": (lambda: am.mhn_retrieve("abc", X), "patterns"),
    # non-finite values
    "mhn_retrieve nan x": (lambda: am.mhn_retrieve(P, NAN_X), "x"),
    "mhn_retrieve inf patterns": (lambda: am.mhn_retrieve(INF_P, X), "patterns"),
    "score nan x": (lambda: am.score(P, NAN_X, 0.5, VP), "x"),
    "make_bank inf patterns": (lambda: am.make_bank(INF_P), "patterns"),
    "ode nan x": (lambda: am.ode_sample(SCORE, BANK, VP, NAN_X, 0.5), "x"),
    "em nan x": (lambda: am.em_sample(KEY, SCORE, BANK, VP, NAN_X, 0.5), "x"),
    "hebbian inf": (lambda: am.hebbian_weights(INF_P), "patterns"),
    "beta nan": (lambda: am.mhn_retrieve(P, X, beta=float("nan")), "beta"),
    "t inf": (lambda: am.score(P, X, float("inf"), VP), "t"),
    # θ outside (0, 1)
    "denoising theta 0": (lambda: am.denoising_cue(KEY, X, 0.0), "theta"),
    "denoising theta 1": (lambda: am.denoising_cue(KEY, X, 1.0), "theta"),
    "denoising theta 1.5": (lambda: am.denoising_cue(KEY, X, 1.5), "theta"),
    "t_start theta": (lambda: VP.t_start(1.2), "theta"),
    "t_start theta 0": (lambda: VP.t_start(0.0), "theta"),
    "cue_theta": (lambda: am.ExactDiffusion(cue_theta=1.0), "cue_theta"),
    "replay_theta": (lambda: am.ExactDiffusion(replay_theta=0.0), "replay_theta"),
    "completion p": (lambda: am.completion_cue(KEY, X, 1.5), "p"),
    # β <= 0 and other positive settings
    "mhn_retrieve beta 0": (lambda: am.mhn_retrieve(P, X, beta=0.0), "beta"),
    "mhn_retrieve beta neg": (lambda: am.mhn_retrieve(P, X, beta=-1.0), "beta"),
    "mhn_energy beta": (lambda: am.mhn_energy(P, X, 0.0), "beta"),
    "ModernHopfield beta": (lambda: am.ModernHopfield(beta=-2.0), "beta"),
    "tol": (lambda: am.mhn_retrieve(P, X, tol=-1.0), "tol"),
    "score t 0": (lambda: am.score(P, X, 0.0, VP), "t"),
    "VPSDE gamma": (lambda: am.VPSDE(0.0), "gamma"),
    "VESDE sigma": (lambda: am.VESDE(-1.0), "sigma"),
    "ve_energy sigma": (lambda: am.ve_energy(P, X, 0.5, sigma=0.0), "sigma"),
    "t_for_std": (lambda: am.VESDE().t_for_std(0.0), "std"),
    "t_end 0": (lambda: am.time_grid(1.0, 0.0, 10), "t_end"),
    # empty pattern set
    "empty mhn": (lambda: am.mhn_retrieve(EMPTY, X), "patterns"),
    "empty bank": (lambda: am.make_bank(EMPTY), "patterns"),
    "empty hebbian": (lambda: am.hebbian_weights(EMPTY), "patterns"),
    "empty dense": (lambda: am.dense_energy(EMPTY, X), "patterns"),
    "empty store": (lambda: am.ModernHopfield().store(None, EMPTY), "data"),
    "empty diffusion store": (lambda: am.ExactDiffusion().store(None, EMPTY), "data"),
    "zero dim patterns": (lambda: am.mhn_retrieve(jnp.zeros((3, 0)), jnp.ones(0)), "patterns"),
    # unknown names
    "classical schedule": (lambda: am.classical_retrieve(W, X, schedule="bogus"), "schedule"),
    "classical_step schedule": (lambda: am.classical_step(W, X, schedule="bogus"), "schedule"),
    "dense kind": (lambda: am.dense_energy(P, X, kind="bogus"), "kind"),
    "dense_step kind": (lambda: am.dense_step(P, X, kind="bogus"), "kind"),
    "dense_step schedule": (lambda: am.dense_step(P, X, schedule="bogus"), "schedule"),
    "dense_retrieve kind": (lambda: am.dense_retrieve(P, X, kind="bogus"), "kind"),
    "sampler": (lambda: am.ExactDiffusion(sampler="bogus"), "sampler"),
    "ClassicalHopfield schedule": (lambda: am.ClassicalHopfield(schedule="bogus"), "schedule"),
    "exact_score_fn sde": (lambda: am.exact_score_fn("vp"), "sde"),
    "diffusion_energy sde": (lambda: am.diffusion_energy(P, X, 0.5, "vp"), "sde"),
    "degree": (lambda: am.dense_energy(P, X, kind="poly", degree=1), "degree"),
    # n_steps < 1 (and other integer settings)
    "mhn n_steps": (lambda: am.mhn_retrieve(P, X, n_steps=0), "n_steps"),
    "mhn n_steps float": (lambda: am.mhn_retrieve(P, X, n_steps=2.5), "n_steps"),
    "classical n_steps": (lambda: am.classical_retrieve(W, X, n_steps=0), "n_steps"),
    "dense n_steps": (lambda: am.dense_retrieve(P, X, n_steps=-1), "n_steps"),
    "ode n_steps": (lambda: am.ode_sample(SCORE, BANK, VP, X, 0.5, n_steps=0), "n_steps"),
    "em n_steps": (lambda: am.em_sample(KEY, SCORE, BANK, VP, X, 0.5, n_steps=0), "n_steps"),
    "forward n_steps": (lambda: am.forward_sample(KEY, VP, X, 0.5, n_steps=0), "n_steps"),
    "time_grid n_steps": (lambda: am.time_grid(1.0, 0.1, 0), "n_steps"),
    "ModernHopfield n_steps": (lambda: am.ModernHopfield(n_steps=0), "n_steps"),
    "ModernHopfield replay_steps": (lambda: am.ModernHopfield(replay_steps=0), "replay_steps"),
    "ExactDiffusion n_steps": (lambda: am.ExactDiffusion(n_steps=0), "n_steps"),
    "ClassicalHopfield n_steps": (lambda: am.ClassicalHopfield(n_steps=0), "n_steps"),
    "replay n": (lambda: am.ModernHopfield().replay(BANK, KEY, 0), "n"),
    "patterns n": (lambda: am.random_binary_patterns(KEY, 0, D), "n_patterns"),
    "patterns dim": (lambda: am.random_binary_patterns(KEY, 3, 0), "dim"),
    # t_start <= t_end
    "ode t_start == t_end": (lambda: am.ode_sample(SCORE, BANK, VP, X, 0.1, 0.1), "t_start"),
    "ode t_start < t_end": (lambda: am.ode_sample(SCORE, BANK, VP, X, 1e-4), "t_start"),
    "em t_start < t_end": (lambda: am.em_sample(KEY, SCORE, BANK, VP, X, 0.01, 0.5), "t_start"),
    "time_grid t_start": (lambda: am.time_grid(0.1, 0.2, 5), "t_start"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_value_error_naming_argument(case):
  fn, name = CASES[case]
  with pytest.raises(ValueError, match=rf"\b{name}\b"):
    fn()


# ---------------------------------------------------------------- inside jax.jit

JIT_SHAPE_CASES = {
    "mhn_retrieve": (lambda x: am.mhn_retrieve(P, x), "x"),
    "mhn_energy": (lambda x: am.mhn_energy(P, x, 2.0), "x"),
    "score": (lambda x: am.score(P, x, 0.5, VP), "x"),
    "exact_score_fn": (lambda x: SCORE(BANK, x, 0.5), "x"),
    "dense_retrieve": (lambda x: am.dense_retrieve(P, x), "x"),
    "classical_retrieve": (lambda x: am.classical_retrieve(W, x), "x"),
    "ode_sample batch": (lambda x: am.ode_sample(SCORE, BANK, VP, x[None], 0.5, n_steps=3), "x"),
    "mhn patterns traced": (lambda x: am.mhn_retrieve(x[None, :-1], X), "x"),
}


@pytest.mark.parametrize("case", list(JIT_SHAPE_CASES))
def test_shape_errors_raise_inside_jit(case):
  fn, name = JIT_SHAPE_CASES[case]
  x = jnp.ones(D + 1) if case != "ode_sample batch" else jnp.ones(D)
  if case == "mhn patterns traced":
    x = jnp.ones(D + 2)   # patterns of dimension D + 1 against X of dimension D
  with pytest.raises(ValueError, match=rf"\b{name}\b"):
    jax.jit(fn)(x)


def test_static_settings_raise_inside_jit():
  with pytest.raises(ValueError, match="n_steps"):
    jax.jit(lambda x: am.mhn_retrieve(P, x, n_steps=0))(X)
  with pytest.raises(ValueError, match="schedule"):
    jax.jit(lambda x: am.classical_retrieve(W, x, schedule="bogus"))(X)
  with pytest.raises(ValueError, match="kind"):
    jax.jit(lambda x: am.dense_energy(P, x, kind="bogus"))(X)
  with pytest.raises(ValueError, match="n_steps"):
    jax.jit(lambda t: am.ode_sample(SCORE, BANK, VP, X, t, n_steps=0))(0.5)
  with pytest.raises(ValueError, match="patterns"):
    jax.jit(lambda p: am.make_bank(p))(EMPTY)


def test_values_under_jit_pass_unless_checked():
  """Inside a trace there is no host value: plain calls pass NaN states and β <= 0 through, and
  `assocmem.checked` turns the same conditions into errors, under jit and vmap."""
  out = jax.jit(lambda x: am.mhn_retrieve(P, x, n_steps=2))(NAN_X)
  assert bool(jnp.any(jnp.isnan(out)))
  with pytest.raises(am.CheckError, match="non-finite"):
    am.checked(lambda x: am.mhn_retrieve(P, x, n_steps=2))(NAN_X)
  with pytest.raises(am.CheckError, match="beta"):
    am.checked(lambda b: am.mhn_retrieve(P, X, beta=b, n_steps=2))(-1.0)
  with pytest.raises(am.CheckError, match="t_start must exceed t_end"):
    am.checked(lambda t: am.ode_sample(SCORE, BANK, VP, X, t, 0.5, n_steps=2))(0.1)


def test_good_input_at_the_edge_of_each_range_is_accepted_and_computed_right():
  """The validators accept the edge of each valid range (no false alarms), and the results there are
  the limits the equations give."""
  # β → 0: the softmax is uniform, one update gives the mean pattern (seed 000 Eq. 3)
  testing.assert_trees_allclose(am.mhn_retrieve(P, X, beta=1e-6, n_steps=1), P.mean(0), rtol=0, atol=1e-5)
  # θ → 0: the denoising cue is the noise ε itself (seed 002 §7)
  eps = jax.random.normal(KEY, X.shape, X.dtype)
  testing.assert_trees_allclose(am.denoising_cue(KEY, X, 1e-6), eps, rtol=0, atol=1e-5)
  # p = 0 keeps every unit, p = 1 zeroes every unit
  testing.assert_trees_allclose(am.completion_cue(KEY, X, 0.0), X, rtol=0, atol=0)
  testing.assert_trees_allclose(am.completion_cue(KEY, X, 1.0), jnp.zeros_like(X), rtol=0, atol=0)
  # one Euler step of length 1e-4 just above t_end (seed 002 Eq. 28)
  step = X + (0.001 - 0.0011) * am.ode_drift(SCORE, BANK, VP, X, jnp.float32(0.0011))
  testing.assert_trees_allclose(am.ode_sample(SCORE, BANK, VP, X, 0.0011, 0.001, n_steps=1), step,
                                rtol=1e-5, atol=1e-6)
  # integer inputs are cast to float; one stored pattern is retrieved from anywhere
  out = am.mhn_retrieve(jnp.ones((1, D), jnp.int32), jnp.arange(D), n_steps=1)
  assert jnp.issubdtype(out.dtype, jnp.floating)
  testing.assert_trees_allclose(out, jnp.ones(D, out.dtype), rtol=0, atol=1e-6)
  memory = am.ExactDiffusion(cue_theta=0.999, replay_theta=1e-6)
  assert (memory.cue_theta, memory.replay_theta) == (0.999, 1e-6)


# ---------------------------------------------------------------- gaps these tests found (now fixed)

def test_dense_flip_gains_unknown_kind_raises():
  with pytest.raises(ValueError, match="kind"):
    am.dense_flip_gains(P, X, kind="bogus")


@pytest.mark.parametrize("fn", [
    lambda: am.mhn_update(P, jnp.ones(D + 1), 1.0),
    lambda: am.classical_step(W, jnp.ones(D + 1)),
    lambda: am.dense_step(P, jnp.ones(D + 1)),
    lambda: am.dense_flip_gains(P, jnp.ones(D + 1)),
], ids=["mhn_update", "classical_step", "dense_step", "dense_flip_gains"])
def test_step_functions_dimension_mismatch_raises_value_error(fn):
  with pytest.raises(ValueError, match=r"\bx\b"):
    fn()


def test_mhn_update_nonpositive_beta_raises():
  with pytest.raises(ValueError, match="beta"):
    am.mhn_update(P, X, -1.0)


@pytest.mark.parametrize("y", [jnp.ones((2, D)), NAN_X], ids=["ndim", "nan"])
def test_forward_sample_message_names_y(y):
  with pytest.raises(ValueError, match=r"\by\b"):
    am.forward_sample(KEY, VP, y, 0.5)


def test_exact_diffusion_non_vp_sde_message_names_argument():
  with pytest.raises(ValueError, match=r"\bsde\b"):
    am.ExactDiffusion(sde=am.VESDE(1.0))


def test_non_scalar_theta_message_names_argument():
  with pytest.raises(ValueError, match=r"\btheta\b"):
    am.denoising_cue(KEY, X, jnp.array([0.5, 0.5]))
