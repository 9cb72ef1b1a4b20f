"""Fixed-step Euler (probability-flow ODE) and Euler–Maruyama (reverse SDE) samplers.

Both take ANY score function `score(x, t) -> (d,)` of one state (exact,
extended, semantic or learned) and any SDE object exposing `drift(x, t)` and
`diffusion(t)`. Time runs backwards from `t_start` to `t_end` on a linear grid
(seed 002 §7: 300 steps to t = 1e-3). Each sampler is one `lax.scan`; batch
with `jax.vmap`.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from assocmem import _checks

Array = jax.Array
ScoreFn = Callable[[Array, Array], Array]

DEFAULT_T_END = 1e-3
DEFAULT_N_STEPS = 300


def time_grid(t_start: float | Array, t_end: float | Array = DEFAULT_T_END,
              n_steps: int = DEFAULT_N_STEPS) -> Array:
  """Linear grid of n_steps + 1 times from t_start down to t_end (seed 002, §7)."""
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  _checks.check_positive("t_end", t_end)
  _checks.check_positive("t_start", t_start)
  if _checks.is_concrete(t_start) and _checks.is_concrete(t_end):
    if float(t_start) <= float(t_end):
      raise ValueError(f"t_start must exceed t_end, got t_start={float(t_start)} <= t_end={float(t_end)}")
  return jnp.linspace(t_start, t_end, n_steps + 1)


def ode_drift(score_fn: ScoreFn, sde, x: Array, t: Array) -> Array:
  """Probability-flow drift dx/dt = f(x, t) − ½ g(t)² ∇log p_t(x) (seed 002, Eq. A2 / Eq. 28)."""
  g = sde.diffusion(t)
  return sde.drift(x, t) - 0.5 * g**2 * score_fn(x, t)


def sde_drift(score_fn: ScoreFn, sde, x: Array, t: Array) -> Array:
  """Reverse-SDE drift f(x, t) − g(t)² ∇log p_t(x) (seed 002, Eqs. 7, 16, 29)."""
  g = sde.diffusion(t)
  return sde.drift(x, t) - g**2 * score_fn(x, t)


def _check_x(x: Array, name: str = "x") -> Array:
  x = _checks.as_float_array(name, x)
  if x.ndim != 1:
    raise ValueError(f"{name} must be one state of shape (dim,), got shape {tuple(x.shape)}; "
                     "batch with jax.vmap")
  _checks.check_finite(name, x)
  return x


def ode_sample(score_fn: ScoreFn, sde, x: Array, t_start: float | Array,
               t_end: float | Array = DEFAULT_T_END, n_steps: int = DEFAULT_N_STEPS,
               return_trajectory: bool = False):
  """Euler integration of the probability-flow ODE from t_start to t_end (seed 002, Eq. 28 / A2).

  x_{k+1} = x_k + (t_{k+1} − t_k) [f(x_k, t_k) − ½ g² s(x_k, t_k)].

  Args:
    score_fn: score(x (d,), t) -> (d,).
    sde: forward SDE (VPSDE, VESDE or any object with drift/diffusion).
    x: (d,) initial state at t_start (e.g. a cue).
    t_start: start time (VP: `sde.t_start(theta)`).
    t_end: final time (default 1e-3).
    n_steps: number of Euler steps (default 300).
    return_trajectory: also return the (n_steps + 1, d) states on `time_grid`.
  Returns:
    (d,) state at t_end, or (final, trajectory).
  """
  x = _check_x(x)
  ts = time_grid(t_start, t_end, n_steps).astype(x.dtype)

  def step(state, tt):
    t0, t1 = tt
    new = state + (t1 - t0) * ode_drift(score_fn, sde, state, t0)
    return new, new

  final, traj = jax.lax.scan(step, x, (ts[:-1], ts[1:]))
  if return_trajectory:
    return final, jnp.concatenate([x[None], traj], axis=0)
  return final


def em_sample(key: Array, score_fn: ScoreFn, sde, x: Array, t_start: float | Array,
              t_end: float | Array = DEFAULT_T_END, n_steps: int = DEFAULT_N_STEPS,
              return_trajectory: bool = False):
  """Euler–Maruyama integration of the reverse SDE (seed 002, Eq. 29; Eqs. 7 and 16).

  x_{k+1} = x_k + (t_{k+1} − t_k) [f − g² s](x_k, t_k) + g(t_k) sqrt(t_k − t_{k+1}) z_k.

  Args:
    key: PRNG key for the Gaussian increments z_k.
    score_fn, sde, x, t_start, t_end, n_steps, return_trajectory: as `ode_sample`.
  Returns:
    (d,) state at t_end, or (final, trajectory).
  """
  x = _check_x(x)
  ts = time_grid(t_start, t_end, n_steps).astype(x.dtype)
  keys = jax.random.split(key, n_steps)

  def step(state, inp):
    t0, t1, k = inp
    dt = t1 - t0
    noise = jax.random.normal(k, state.shape, state.dtype)
    new = state + dt * sde_drift(score_fn, sde, state, t0) + sde.diffusion(t0) * jnp.sqrt(-dt) * noise
    return new, new

  final, traj = jax.lax.scan(step, x, (ts[:-1], ts[1:], keys))
  if return_trajectory:
    return final, jnp.concatenate([x[None], traj], axis=0)
  return final


def forward_sample(key: Array, sde, y: Array, t: float | Array, n_steps: int = 1000) -> Array:
  """Simulates the forward SDE from y to time t by Euler–Maruyama (for checking marginals)."""
  y = _check_x(y, "y")
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  _checks.check_positive("t", t)
  dt = t / n_steps
  keys = jax.random.split(key, n_steps)

  def step(state, inp):
    i, k = inp
    s = i * dt
    noise = jax.random.normal(k, state.shape, state.dtype)
    return state + dt * sde.drift(state, s) + sde.diffusion(s) * jnp.sqrt(dt) * noise, None

  final, _ = jax.lax.scan(step, y, (jnp.arange(n_steps, dtype=y.dtype), keys))
  return final
