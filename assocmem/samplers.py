"""Fixed-step Euler (probability-flow ODE) and Euler–Maruyama (reverse SDE) samplers.

Both take ANY explicit-state score function `score_fn(state, x, t) -> (d,)` of one state —
exact (`exact_score_fn(sde)`, state = a `PatternBank`), learned (state = network parameters),
extended, or your own — together with its `state`, and any SDE of the `assocmem.sde` protocol.
The state is an ordinary argument, so it is traced, never baked into the compiled program:
a second state of the same shapes reuses the executable, `jax.grad` flows into it, and
`vmap` over a stack of states samples an ensemble.

Time runs backwards from `t_start` to `t_end` on a grid: "linear" (seed 002 §7: 300 steps to
t = 1e-3), "geometric" (uniform in log t; resolves t < 0.1 when starting from the prior at
t ≈ 17), "edm" (Karras et al. 2022 ρ-spacing, applied to t), or an explicit decreasing `ts`.
Each sampler is one `lax.scan`; batch with `jax.vmap`.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from assocmem import _checks
from assocmem.sde import check_sde

Array = jax.Array
ScoreFn = Callable[[Any, Array, Array], Array]

DEFAULT_T_END = 1e-3
DEFAULT_N_STEPS = 300
GRIDS = ("linear", "geometric", "edm")


def time_grid(t_start: float | Array, t_end: float | Array = DEFAULT_T_END,
              n_steps: int = DEFAULT_N_STEPS, kind: str = "linear", rho: float = 7.0) -> Array:
  """Decreasing grid of n_steps + 1 times from t_start to t_end.

  kind:
    "linear"     t_k = t_start + k/n (t_end − t_start)  (seed 002, §7)
    "geometric"  t_k = t_start (t_end/t_start)^{k/n}     (uniform in log t)
    "edm"        t_k = (t_start^{1/ρ} + k/n (t_end^{1/ρ} − t_start^{1/ρ}))^ρ  (Karras et al. 2022, Eq. 5, in t)
  """
  n_steps = _checks.check_int("n_steps", n_steps, 1)
  _checks.check_choice("kind", kind, GRIDS)
  _checks.check_positive("t_end", t_end)
  _checks.check_positive("t_start", t_start)
  _checks.check_positive("rho", rho)
  if _checks.is_concrete(t_start) and _checks.is_concrete(t_end):
    if float(t_start) <= float(t_end):
      raise ValueError(f"t_start must exceed t_end, got t_start={float(t_start)} <= t_end={float(t_end)}")
  else:
    _checks.debug_check(jnp.asarray(t_start) > jnp.asarray(t_end),
                        "t_start must exceed t_end (reversed time grid), got t_start={a}, t_end={b}",
                        a=jnp.asarray(t_start), b=jnp.asarray(t_end))
    _checks.debug_check_positive("t_end", t_end)
  t_start = jnp.asarray(t_start, jnp.result_type(float))
  t_end = jnp.asarray(t_end, t_start.dtype)
  u = jnp.linspace(0.0, 1.0, n_steps + 1, dtype=t_start.dtype)
  if kind == "linear":
    return (1.0 - u) * t_start + u * t_end     # both ends exact (t_start + u (t_end − t_start) loses t_end)
  if kind == "geometric":
    return t_start * jnp.exp(u * (jnp.log(t_end) - jnp.log(t_start)))
  a, b = t_start ** (1.0 / rho), t_end ** (1.0 / rho)
  return (a + u * (b - a)) ** rho


def _grid(t_start, t_end, n_steps, grid, ts, dtype) -> Array:
  if ts is not None:
    if t_start is not None:
      raise ValueError("give either ts or t_start, not both")
    ts = _checks.as_float_array("ts", ts)
    if ts.ndim != 1 or ts.shape[0] < 2:
      raise ValueError(f"ts must be a 1-d array of at least 2 times, got shape {tuple(ts.shape)}")
    if _checks.is_concrete(ts):
      with jax.ensure_compile_time_eval():
        positive = bool(jnp.all(ts > 0)) and bool(jnp.all(jnp.isfinite(ts)))
        decreasing = bool(jnp.all(jnp.diff(ts) < 0))
      if not positive:
        raise ValueError("ts must hold finite times > 0")
      if not decreasing:
        raise ValueError("ts must be strictly decreasing (samplers run from noise to data)")
    else:
      _checks.debug_check(jnp.all(jnp.diff(ts) < 0), "ts must be strictly decreasing (reversed time grid)")
      _checks.debug_check(jnp.all(ts > 0), "ts must hold times > 0")
    return ts.astype(dtype)
  if t_start is None:
    raise ValueError("t_start is required (or an explicit ts grid)")
  return time_grid(t_start, t_end, n_steps, grid).astype(dtype)


def ode_drift(score_fn: ScoreFn, state: Any, sde, x: Array, t: Array) -> Array:
  """Probability-flow drift dx/dt = f(x, t) − ½ g(t)² ∇log p_t(x) (seed 002, Eq. A2 / Eq. 28)."""
  g = sde.diffusion(t)
  return sde.drift(x, t) - 0.5 * g**2 * score_fn(state, x, t)


def sde_drift(score_fn: ScoreFn, state: Any, sde, x: Array, t: Array) -> Array:
  """Reverse-SDE drift f(x, t) − g(t)² ∇log p_t(x) (seed 002, Eqs. 7, 16, 29)."""
  g = sde.diffusion(t)
  return sde.drift(x, t) - g**2 * score_fn(state, x, t)


def _check_inputs(score_fn: Any, sde: Any, x: Any, state: Any, name: str = "x") -> Array:
  if not callable(score_fn):
    raise ValueError(f"score_fn must be a function score_fn(state, x, t), got {type(score_fn).__name__}")
  check_sde(sde)
  x = _checks.as_float_array(name, x)
  if x.ndim != 1:
    raise ValueError(f"{name} must be one state of shape (dim,), got shape {tuple(x.shape)}; "
                     "batch with jax.vmap")
  _checks.check_finite(name, x)
  out = jax.eval_shape(lambda s, xx: score_fn(s, xx, jnp.asarray(1.0, xx.dtype)), state, x)
  if getattr(out, "shape", None) != x.shape:
    raise ValueError(f"score_fn must return an array of the state's shape {tuple(x.shape)}, "
                     f"got {getattr(out, 'shape', out)}")
  return x


def _integrate(step, x: Array, ts: Array, extra, return_trajectory: bool):
  def body(state, inp):
    new = step(state, *inp).astype(state.dtype)   # a user SDE's Python floats must not promote the carry
    _checks.debug_check_finite("the sampler state", new)
    return new, (new if return_trajectory else None)

  final, traj = jax.lax.scan(body, x, (ts[:-1], ts[1:]) + extra)
  if return_trajectory:
    return final, jnp.concatenate([x[None], traj], axis=0)
  return final


def ode_sample(score_fn: ScoreFn, state: Any, sde, x: Array, t_start: float | Array | None = None,
               t_end: float | Array = DEFAULT_T_END, n_steps: int = DEFAULT_N_STEPS, *,
               grid: str = "linear", ts: Array | None = None, return_trajectory: bool = False):
  """Euler integration of the probability-flow ODE from t_start to t_end (seed 002, Eq. 28 / A2).

  x_{k+1} = x_k + (t_{k+1} − t_k) [f(x_k, t_k) − ½ g² s(state, x_k, t_k)].

  Args:
    score_fn: score_fn(state, x (d,), t) -> (d,).
    state: the score's state (a PatternBank, network parameters, any pytree).
    sde: forward SDE (any object of the `assocmem.sde.SDE` protocol).
    x: (d,) initial state at t_start (e.g. a cue).
    t_start: start time (VP: `sde.t_start(theta)`); omit when `ts` is given.
    t_end: final time (default 1e-3).
    n_steps: number of Euler steps (default 300).
    grid: "linear" (default, the paper's), "geometric" or "edm".
    ts: explicit strictly decreasing grid (n_steps + 1,), instead of t_start/t_end/n_steps/grid.
    return_trajectory: also return the (n_steps + 1, d) states on the grid.
  Returns:
    (d,) state at t_end, or (final, trajectory).
  """
  x = _check_inputs(score_fn, sde, x, state)
  ts = _grid(t_start, t_end, n_steps, grid, ts, x.dtype)

  def step(s, t0, t1):
    return s + (t1 - t0) * ode_drift(score_fn, state, sde, s, t0)

  return _integrate(step, x, ts, (), return_trajectory)


def em_sample(key: Array, score_fn: ScoreFn, state: Any, sde, x: Array,
              t_start: float | Array | None = None, t_end: float | Array = DEFAULT_T_END,
              n_steps: int = DEFAULT_N_STEPS, *, grid: str = "linear", ts: Array | None = None,
              return_trajectory: bool = False):
  """Euler–Maruyama integration of the reverse SDE (seed 002, Eq. 29; Eqs. 7 and 16).

  x_{k+1} = x_k + (t_{k+1} − t_k) [f − g² s](x_k, t_k) + g(t_k) sqrt(t_k − t_{k+1}) z_k.

  Args:
    key: PRNG key for the Gaussian increments z_k.
    score_fn, state, sde, x, t_start, t_end, n_steps, grid, ts, return_trajectory: as `ode_sample`.
  Returns:
    (d,) state at t_end, or (final, trajectory).
  """
  _checks.check_key("key", key)
  x = _check_inputs(score_fn, sde, x, state)
  ts = _grid(t_start, t_end, n_steps, grid, ts, x.dtype)
  keys = jax.random.split(key, ts.shape[0] - 1)

  def step(s, t0, t1, k):
    dt = t1 - t0
    noise = jax.random.normal(k, s.shape, s.dtype)
    return s + dt * sde_drift(score_fn, state, sde, s, t0) + sde.diffusion(t0) * jnp.sqrt(-dt) * noise

  return _integrate(step, x, ts, (keys,), return_trajectory)


def forward_sample(key: Array, sde, y: Array, t: float | Array, n_steps: int = 1000) -> Array:
  """Simulates the forward SDE from y to time t by Euler–Maruyama (for checking marginals)."""
  _checks.check_key("key", key)
  check_sde(sde)
  y = _checks.as_float_array("y", y)
  if y.ndim != 1:
    raise ValueError(f"y must be one state of shape (dim,), got shape {tuple(y.shape)}; batch with jax.vmap")
  _checks.check_finite("y", y)
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
