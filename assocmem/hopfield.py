"""Hopfield dynamics: classical, dense (binary flip rule) and modern (continuous).

Every function acts on ONE state; batch with `jax.vmap`. Loops over time are
`lax.scan` (fixed step count) or `lax.while_loop` (tolerance).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from assocmem import _checks
from assocmem.energies import DENSE_KINDS, _dense_f

Array = jax.Array

MODES = ("sync", "async")


def sign(x: Array) -> Array:
  """sign with sign(0) = +1, so states stay in {−1, +1}."""
  return jnp.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def _scan_updates(step, x: Array, n_steps: int, mode: str, key: Array | None):
  """Runs `step(state, order)` n_steps times in a lax.scan; returns (final, (n_steps, d) states).

  For "async" with a key, each sweep gets a fresh random unit order; otherwise
  `order` is None (the step's default order 0..d−1).
  """
  d = x.shape[0]
  random_order = mode == "async" and key is not None
  keys = jax.random.split(key, n_steps) if key is not None else jnp.zeros((n_steps, 2), jnp.uint32)

  def body(state, k):
    new = step(state, jax.random.permutation(k, d) if random_order else None)
    return new, new

  return jax.lax.scan(body, x, keys)


# ---------------------------------------------------------------- classical

def classical_step(x: Array, weights: Array, mode: str = "sync", order: Array | None = None) -> Array:
  """One classical Hopfield update x ← sign(W x) (seed 002, Eq. 1).

  "sync" updates every unit at once; "async" updates units one at a time in
  `order` (default 0..d−1), each seeing the units already updated (one sweep).

  Args:
    x: (d,) state.
    weights: (d, d) couplings (see `energies.hebbian_weights`).
    mode: "sync" or "async".
    order: (d,) permutation of units for "async".
  """
  _checks.check_choice("mode", mode, MODES)
  _checks.check_vector_against("x", x, weights.shape[-1], "the weights")
  if mode == "sync":
    return sign(weights @ x)
  d = x.shape[0]
  if order is None:
    order = jnp.arange(d)

  def body(state, i):
    return state.at[i].set(sign(weights[i] @ state)), None

  out, _ = jax.lax.scan(body, x, order)
  return out


def classical_retrieve(x: Array, weights: Array, n_steps: int = 10, mode: str = "sync",
                       key: Array | None = None, return_trajectory: bool = False):
  """Runs `n_steps` classical updates (sweeps for "async") from x (seed 002, Eqs. 1–3).

  Args:
    x: (d,) initial state (continuous cues allowed).
    weights: (d, d) couplings.
    n_steps: number of synchronous updates or asynchronous sweeps.
    mode: "sync" or "async".
    key: PRNG key; for "async", a fresh random unit order is drawn each sweep.
    return_trajectory: also return the (n_steps + 1, d) states.
  Returns:
    (d,) final state, or (final, trajectory).
  """
  weights = _checks.as_float_array("weights", weights)
  _checks.check_ndim("weights", weights, 2, "(dim, dim)")
  x = _checks.check_state("x", x, weights.shape[0])
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  _checks.check_choice("mode", mode, MODES)
  final, traj = _scan_updates(lambda s, o: classical_step(s, weights, mode, o), x, n_steps, mode, key)
  if return_trajectory:
    return final, jnp.concatenate([x[None], traj], axis=0)
  return final


# ---------------------------------------------------------------- dense (binary)

def dense_flip_gains(x: Array, patterns: Array, kind: str = "exp", degree: int = 3) -> Array:
  """Per-unit energy gain of the +1 state over the −1 state, others fixed (seed 000 §A.2.2).

  For the polynomial kinds this is E(x_i = +1) − E(x_i = −1) with E = −Σ_n F(y_nᵀx)
  (seed 002, Eq. 4 with h = −id). For F = exp it is the same difference taken
  with h(u) = −log(−u) (seed 002, Eq. 4 allows any monotone h): log Σ e^{z⁻} − log Σ e^{z⁺}.
  It has the sign of the plain energy difference, which is all the flip rule
  uses, and it cannot overflow for any d.

  Returns:
    (d,) gains; the unit prefers +1 where the gain is <= 0.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _checks.check_vector_against("x", x, patterns.shape[-1], "the patterns")
  z = patterns @ x                                     # (N,)
  rest = z[:, None] - patterns * x[None, :]            # (N, d): y_nᵀx without unit i
  z_plus = rest + patterns
  z_minus = rest - patterns
  if kind == "exp":
    # sign(E+ − E−) = sign(lse(z−) − lse(z+)).
    return jax.nn.logsumexp(z_minus, axis=0) - jax.nn.logsumexp(z_plus, axis=0)
  return -jnp.sum(_dense_f(z_plus, kind, degree) - _dense_f(z_minus, kind, degree), axis=0)


def dense_step(x: Array, patterns: Array, kind: str = "exp", degree: int = 3, mode: str = "async",
               order: Array | None = None) -> Array:
  """One dense-associative-memory update: each unit takes the sign of lower energy.

  Krotov & Hopfield 2016 (polynomial F) and Demircigil et al. 2017 (F = exp), as
  described in seed 000 §A.2.2 and seed 002 Eq. 4: a unit flips when the flipped
  state has lower energy. "sync" decides all units from the same state; "async"
  sweeps units in `order`, each seeing the ones already updated.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _checks.check_choice("mode", mode, MODES)
  _checks.check_vector_against("x", x, patterns.shape[-1], "the patterns")
  if mode == "sync":
    return jnp.where(dense_flip_gains(x, patterns, kind, degree) <= 0, 1.0, -1.0).astype(x.dtype)
  if order is None:
    order = jnp.arange(x.shape[0])

  def body(state, i):
    z = patterns @ state
    rest = z - patterns[:, i] * state[i]
    zp, zm = rest + patterns[:, i], rest - patterns[:, i]
    if kind == "exp":
      gain = jax.nn.logsumexp(zm) - jax.nn.logsumexp(zp)
    else:
      gain = -jnp.sum(_dense_f(zp, kind, degree) - _dense_f(zm, kind, degree))
    return state.at[i].set(jnp.where(gain <= 0, 1.0, -1.0).astype(state.dtype)), None

  out, _ = jax.lax.scan(body, x, order)
  return out


def dense_retrieve(x: Array, patterns: Array, kind: str = "exp", degree: int = 3, n_steps: int = 5,
                   mode: str = "async", key: Array | None = None) -> Array:
  """`n_steps` dense-memory updates from the binarised state sign(x) (seed 002 Eq. 4; seed 000 Eq. 2).

  Args:
    x: (d,) initial state.
    patterns: (N, d) stored ±1 patterns.
    kind: "poly", "rectified_poly" or "exp".
    degree: polynomial degree.
    n_steps: updates (sweeps for "async").
    mode: "sync" or "async".
    key: optional PRNG key for random asynchronous orders.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _checks.check_int("degree", degree, 2)
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  _checks.check_choice("mode", mode, MODES)
  final, _ = _scan_updates(lambda s, o: dense_step(s, patterns, kind, degree, mode, o), sign(x),
                           n_steps, mode, key)
  return final


# ---------------------------------------------------------------- modern (continuous)

def mhn_update(x: Array, patterns: Array, beta: float | Array) -> Array:
  """Modern Hopfield update ξ ← X softmax(β Xᵀ ξ) (seed 000, Eq. 3; Ramsauer et al. 2020).

  Patterns are rows here, so X = patternsᵀ. Equal to x − ∇u_MH(x) of seed 002 Eq. 5.
  The softmax subtracts its max and normalises after the matmul, so it is
  stable in float32 for β up to 1e4 and beyond.

  Args:
    x: (d,) state.
    patterns: (N, d).
    beta: inverse temperature > 0.
  Returns:
    (d,) new state.
  """
  _checks.check_vector_against("x", x, patterns.shape[-1], "the patterns")
  _checks.check_positive("beta", beta)
  # x·Yᵀ rather than Y·x: under vmap this puts the batch on the rows of a (B, N)
  # logits array, so XLA fuses max/exp/sum along rows instead of emitting an (N, B)
  # dot followed by a transposing copy of the whole B×N array (docs/benchmarks.md).
  logits = (beta * x) @ patterns.T
  m = jax.lax.stop_gradient(jnp.max(logits))
  e = jnp.exp(logits - m)
  return (e @ patterns) / jnp.sum(e)


def mhn_retrieve(x: Array, patterns: Array, beta: float | Array = 5.0, n_steps: int = 150,
                 tol: float | None = None, return_trajectory: bool = False):
  """Iterates the modern Hopfield update (seed 000, Eq. 3; seed 002, Eq. 5).

  Args:
    x: (d,) query.
    patterns: (N, d) stored patterns.
    beta: inverse temperature > 0 (seed 002 uses 5; seed 000 uses 20/sqrt(d) scaling).
    n_steps: number of updates (the maximum when `tol` is set).
    tol: if set, stop once max|Δξ| <= tol (a `lax.while_loop`).
    return_trajectory: return (final, (n_steps + 1, d) trajectory); not with `tol`.
  Returns:
    (d,) retrieved state, or (final, trajectory).
  """
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  _checks.check_positive("beta", beta)
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  if tol is not None:
    if return_trajectory:
      raise ValueError("return_trajectory is not available with tol (the step count is data dependent)")
    _checks.check_positive("tol", tol)
    return _mhn_until(x, patterns, beta, n_steps, tol)

  def body(state, _):
    new = mhn_update(state, patterns, beta)
    return new, new

  final, traj = jax.lax.scan(body, x, None, length=n_steps)
  if return_trajectory:
    return final, jnp.concatenate([x[None], traj], axis=0)
  return final


def _mhn_until(x, patterns, beta, max_steps, tol):
  def cond(carry):
    i, _, delta = carry
    return jnp.logical_and(i < max_steps, delta > tol)

  def body(carry):
    i, state, _ = carry
    new = mhn_update(state, patterns, beta)
    return i + 1, new, jnp.max(jnp.abs(new - state))

  _, final, _ = jax.lax.while_loop(cond, body, (0, x, jnp.asarray(jnp.inf, x.dtype)))
  return final
