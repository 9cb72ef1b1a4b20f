"""Hopfield dynamics: classical, dense (binary flip rule) and modern (continuous).

Every function acts on ONE state; batch with `jax.vmap`. Loops over time are
`lax.scan` (fixed step count) or `lax.while_loop` (tolerance).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from assocmem import _checks, mixture
from assocmem.bank import PatternBank, as_bank
from assocmem.energies import DENSE_KINDS, _dense_f

Array = jax.Array

SCHEDULES = ("sync", "async")


def sign(x: Array) -> Array:
  """sign with sign(0) = +1, so states stay in {−1, +1}."""
  return jnp.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def _scan_updates(step, x: Array, n_steps: int, schedule: str, key: Array | None):
  """Runs `step(state, order)` n_steps times in a lax.scan; returns (final, (n_steps, d) states).

  For "async" with a key, each sweep gets a fresh random unit order; otherwise
  `order` is None (the step's default order 0..d−1).
  """
  d = x.shape[0]
  random_order = schedule == "async" and key is not None
  keys = jax.random.split(key, n_steps) if key is not None else jnp.zeros((n_steps, 2), jnp.uint32)

  def body(state, k):
    new = step(state, jax.random.permutation(k, d) if random_order else None)
    return new, new

  return jax.lax.scan(body, x, keys)


# ---------------------------------------------------------------- classical

def _check_weights_against(x: Array, weights: Array) -> None:
  """Static shape check: weights (d, d) square, x (d,) (traced code included)."""
  w_shape, x_shape = tuple(jnp.shape(weights)), tuple(jnp.shape(x))
  if len(w_shape) != 2 or w_shape[0] != w_shape[1]:
    want = f"({x_shape[0]}, {x_shape[0]})" if len(x_shape) == 1 else "(d, d)"
    raise ValueError(f"weights must be a square {want} coupling matrix for a state x of shape "
                     f"{x_shape}, got shape {w_shape}")
  _checks.check_vector_against("x", x, w_shape[0], "the weights")


def _check_order(order: Array | None) -> None:
  if order is not None and jnp.ndim(order) != 1:
    raise ValueError(f"order must be a 1-d array of unit indices, got shape {tuple(jnp.shape(order))}")


def classical_step(weights: Array, x: Array, schedule: str = "sync", order: Array | None = None) -> Array:
  """One classical Hopfield update x ← sign(W x) (seed 002, Eq. 1).

  "sync" updates every unit at once; "async" updates units one at a time in
  `order` (default 0..d−1), each seeing the units already updated (one sweep).
  Shapes are checked statically (inside jit too): weights must be (d, d), x (d,).

  Args:
    weights: (d, d) couplings (see `energies.hebbian_weights`).
    x: (d,) state.
    schedule: "sync" or "async".
    order: (k,) unit indices for "async" (a permutation of 0..d−1 for a full sweep).
  Returns:
    (d,) new state in {−1, +1}.
  """
  _checks.check_choice("schedule", schedule, SCHEDULES)
  _check_weights_against(x, weights)
  _check_order(order)
  if schedule == "sync":
    return sign(weights @ x)
  d = x.shape[0]
  if order is None:
    order = jnp.arange(d)

  def body(state, i):
    return state.at[i].set(sign(weights[i] @ state)), None

  out, _ = jax.lax.scan(body, x, order)
  return out


def classical_retrieve(weights: Array, x: Array, n_steps: int = 10, schedule: str = "sync",
                       key: Array | None = None, return_trajectory: bool = False):
  """Runs `n_steps` classical updates (sweeps for "async") from x (seed 002, Eqs. 1–3).

  Args:
    weights: (d, d) couplings.
    x: (d,) initial state (continuous cues allowed).
    n_steps: number of synchronous updates or asynchronous sweeps.
    schedule: "sync" or "async".
    key: PRNG key; for "async", a fresh random unit order is drawn each sweep.
    return_trajectory: also return the (n_steps + 1, d) states.
  Returns:
    (d,) final state, or (final, trajectory).
  """
  weights = _checks.as_float_array("weights", weights)
  _checks.check_ndim("weights", weights, 2, "(dim, dim)")
  x = _checks.check_state("x", x, weights.shape[0])
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  _checks.check_choice("schedule", schedule, SCHEDULES)
  _checks.check_key("key", key, optional=True)
  final, traj = _scan_updates(lambda s, o: classical_step(weights, s, schedule, o), x, n_steps, schedule, key)
  if return_trajectory:
    return final, jnp.concatenate([x[None], traj], axis=0)
  return final


# ---------------------------------------------------------------- dense (binary)

def _check_dense_against(x: Array, patterns: Array) -> None:
  """Static shape check: patterns (N, d), x (d,) (traced code included)."""
  p_shape = tuple(jnp.shape(patterns))
  if len(p_shape) != 2:
    raise ValueError(f"patterns must have shape (n_patterns, dim), got shape {p_shape}")
  _checks.check_vector_against("x", x, p_shape[1], "the patterns")


def _poly_gains(z_plus: Array, z_minus: Array, kind: str, degree: int) -> Array:
  """−Σ_n [F(z⁺_n) − F(z⁻_n)] over axis 0 for the polynomial F, without overflow.

  Exact (the plain formula) while 4N·max|z|^degree fits the dtype. Beyond that, z is first
  scaled by an exact power of two 2^−j, which multiplies every term, hence the result, by
  the same positive 2^−j·degree: the sign, all the flip rule uses, is kept, and the gains
  stay finite where z^degree alone would overflow to ±inf (and inf − inf to NaN).
  """
  dtype = jnp.result_type(z_plus.dtype, jnp.float32)   # integer inputs: gains in float
  z_plus, z_minus = z_plus.astype(dtype), z_minus.astype(dtype)
  m = jnp.maximum(jnp.max(jnp.abs(z_plus)), jnp.max(jnp.abs(z_minus)))
  n_terms = 2 * z_plus.shape[0]
  budget = math.log2(float(jnp.finfo(z_plus.dtype).max)) - math.log2(2 * n_terms)
  excess = degree * jnp.log2(m) - budget
  j = jnp.where(excess > 0, jnp.ceil(excess / degree), 0.0).astype(jnp.int32)
  scale = jnp.ldexp(jnp.ones((), z_plus.dtype), -j)
  zp, zm = z_plus * scale, z_minus * scale
  return -jnp.sum(_dense_f(zp, kind, degree) - _dense_f(zm, kind, degree), axis=0)


def dense_flip_gains(patterns: Array, x: Array, kind: str = "exp", degree: int = 3) -> Array:
  """Per-unit energy gain of the +1 state over the −1 state, others fixed (seed 000 §A.2.2).

  For the polynomial kinds this is E(x_i = +1) − E(x_i = −1) with E = −Σ_n F(y_nᵀx)
  (seed 002, Eq. 4 with h = −id), exactly while the energies fit the dtype; for
  large degrees (2N max|y_nᵀx|^degree beyond the dtype's range) all gains are
  divided by one common power of two, so they keep their signs and stay finite
  (see `dense_energy`, which raises there instead). For F = exp it is the same
  difference taken with h(u) = −log(−u) (seed 002, Eq. 4 allows any monotone h):
  log Σ e^{z⁻} − log Σ e^{z⁺}. It has the sign of the plain energy difference,
  which is all the flip rule uses, and it cannot overflow for any d.

  Args:
    patterns: (N, d).
    x: (d,) state.
    kind: "poly", "rectified_poly" or "exp".
    degree: polynomial degree (polynomial kinds).
  Returns:
    (d,) gains; the unit prefers +1 where the gain is <= 0.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _check_dense_against(x, patterns)
  z = patterns @ x                                     # (N,)
  rest = z[:, None] - patterns * x[None, :]            # (N, d): y_nᵀx without unit i
  z_plus = rest + patterns
  z_minus = rest - patterns
  if kind == "exp":
    # sign(E+ − E−) = sign(lse(z−) − lse(z+)).
    return jax.nn.logsumexp(z_minus, axis=0) - jax.nn.logsumexp(z_plus, axis=0)
  return _poly_gains(z_plus, z_minus, kind, degree)


def dense_step(patterns: Array, x: Array, kind: str = "exp", degree: int = 3, schedule: str = "async",
               order: Array | None = None) -> Array:
  """One dense-associative-memory update: each unit takes the sign of lower energy.

  Krotov & Hopfield 2016 (polynomial F) and Demircigil et al. 2017 (F = exp), as
  described in seed 000 §A.2.2 and seed 002 Eq. 4: a unit flips when the flipped
  state has lower energy (the sign of `dense_flip_gains`, overflow-free for any
  degree). "sync" decides all units from the same state; "async" sweeps units in
  `order`, each seeing the ones already updated.

  Args:
    patterns: (N, d).
    x: (d,) state.
    kind: "poly", "rectified_poly" or "exp".
    degree: polynomial degree (polynomial kinds).
    schedule: "sync" or "async".
    order: (k,) unit indices for "async" (default 0..d−1).
  Returns:
    (d,) new state in {−1, +1}.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _checks.check_choice("schedule", schedule, SCHEDULES)
  _check_dense_against(x, patterns)
  _check_order(order)
  if schedule == "sync":
    return jnp.where(dense_flip_gains(patterns, x, kind, degree) <= 0, 1.0, -1.0).astype(x.dtype)
  if order is None:
    order = jnp.arange(x.shape[0])

  def body(state, i):
    z = patterns @ state
    rest = z - patterns[:, i] * state[i]
    zp, zm = rest + patterns[:, i], rest - patterns[:, i]
    if kind == "exp":
      gain = jax.nn.logsumexp(zm) - jax.nn.logsumexp(zp)
    else:
      gain = _poly_gains(zp, zm, kind, degree)
    return state.at[i].set(jnp.where(gain <= 0, 1.0, -1.0).astype(state.dtype)), None

  out, _ = jax.lax.scan(body, x, order)
  return out


def dense_retrieve(patterns: Array, x: Array, kind: str = "exp", degree: int = 3, n_steps: int = 5,
                   schedule: str = "async", key: Array | None = None) -> Array:
  """`n_steps` dense-memory updates from the binarised state sign(x) (seed 002 Eq. 4; seed 000 Eq. 2).

  Args:
    patterns: (N, d) stored ±1 patterns.
    x: (d,) initial state.
    kind: "poly", "rectified_poly" or "exp".
    degree: polynomial degree.
    n_steps: updates (sweeps for "async").
    schedule: "sync" or "async".
    key: optional PRNG key for random asynchronous orders.
  """
  _checks.check_choice("kind", kind, DENSE_KINDS)
  _checks.check_int("degree", degree, 2)
  patterns = _checks.check_patterns("patterns", patterns)
  x = _checks.check_state("x", x, patterns.shape[1])
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  _checks.check_choice("schedule", schedule, SCHEDULES)
  final, _ = _scan_updates(lambda s, o: dense_step(patterns, s, kind, degree, schedule, o), sign(x),
                           n_steps, schedule, key)
  return final


# ---------------------------------------------------------------- modern (continuous)

def bank_mhn_update(bank: PatternBank, x: Array, beta: float | Array,
                    mode: mixture.Mode = mixture.DENSE) -> Array:
  """One modern Hopfield update of one state, no validation (the hot path; seed 000, Eq. 3).

  ξ ← Σ_n h_n y_n with h = softmax_n(β ξᵀy_n + log π_n), computed through the shared mixture
  primitive in the centred form β ξᵀ(y_n − c) (the ξᵀc term is common to all n), which stays
  exact in float32 when ‖y‖ is large (images, latents).
  """
  _checks.debug_check_positive("beta", beta)
  _checks.debug_check_finite("x", x)
  p = mixture.bank_partials(bank, x, beta, 0.0, mode)
  return bank.center + mixture.mean(p)


def mhn_update(patterns: Array | PatternBank, x: Array, beta: float | Array,
               mode: mixture.Mode = mixture.DENSE) -> Array:
  """Modern Hopfield update ξ ← X softmax(β Xᵀ ξ) (seed 000, Eq. 3; Ramsauer et al. 2020).

  Patterns are rows here, so X = patternsᵀ. Equal to x − ∇u_MH(x) of seed 002 Eq. 5. With a
  `PatternBank`, empty slots (log-weight −inf) take no part and log-weights bias the softmax.

  Args:
    patterns: (N, d) patterns or a `PatternBank`.
    x: (d,) state.
    beta: inverse temperature > 0.
    mode: mixture mode (Dense, Streaming, Sharded).
  Returns:
    (d,) new state.
  """
  bank = as_bank(patterns)
  _checks.check_vector_against("x", x, bank.dim, "the patterns")
  _checks.check_finite("x", x)
  _checks.check_positive("beta", beta)
  mixture.check_mode(mode)
  return bank_mhn_update(bank, x, beta, mode)


def mhn_retrieve(patterns: Array | PatternBank, x: Array, beta: float | Array = 5.0,
                 n_steps: int = 150, tol: float | None = None, return_trajectory: bool = False,
                 mode: mixture.Mode = mixture.DENSE):
  """Iterates the modern Hopfield update (seed 000, Eq. 3; seed 002, Eq. 5).

  Args:
    patterns: (N, d) stored patterns, or a `PatternBank` (built once; reuse it across calls).
    x: (d,) query.
    beta: inverse temperature > 0 (seed 002 uses 5; seed 000's code uses 20 on dot products
      scaled by 1/√d, i.e. beta = 20/√d here).
    n_steps: number of updates (the maximum when `tol` is set).
    tol: if set (>= 0), stop once max|Δξ| <= tol (a `lax.while_loop`); tol = 0 stops when the
      state no longer changes (seed 000's authors' rule, with n_steps = 10).
    return_trajectory: return (final, (n_steps + 1, d) trajectory); not with `tol`.
    mode: mixture mode (Dense, Streaming, Sharded).
  Returns:
    (d,) retrieved state, or (final, trajectory).
  """
  bank = as_bank(patterns)
  x = _checks.check_state("x", x, bank.dim)
  _checks.check_positive("beta", beta)
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  mixture.check_mode(mode)
  if tol is not None:
    if return_trajectory:
      raise ValueError("return_trajectory is not available with tol (the step count is data dependent)")
    if isinstance(tol, (str, bool)):
      raise ValueError(f"tol must be None or a number >= 0, got {tol!r}")
    if _checks.is_concrete(tol):
      try:
        v = float(tol)
      except (TypeError, ValueError) as err:
        raise ValueError(f"tol must be None or a number >= 0, got {tol!r}") from err
      if not v >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol}")
    return _mhn_until(x, bank, beta, n_steps, tol, mode)

  def body(state, _):
    new = bank_mhn_update(bank, state, beta, mode)
    return new, (new if return_trajectory else None)

  final, traj = jax.lax.scan(body, x, None, length=n_steps)
  if return_trajectory:
    return final, jnp.concatenate([x[None], traj], axis=0)
  return final


def _mhn_until(x, bank, beta, max_steps, tol, mode):
  def cond(carry):
    i, _, delta = carry
    return jnp.logical_and(i < max_steps, delta > tol)

  def body(carry):
    i, state, _ = carry
    new = bank_mhn_update(bank, state, beta, mode)
    return i + 1, new, jnp.max(jnp.abs(new - state))

  _, final, _ = jax.lax.while_loop(cond, body, (0, x, jnp.asarray(jnp.inf, x.dtype)))
  return final
