"""Recall and replay of a score-based memory (seed 002 §3–4): shared by `ExactDiffusion` and
`LearnedDiffusion`, which differ only in their score function and its state.

  recall  cues (B, d) taken as noisy patterns at t_start(θ) and integrated to t_end with the
          probability-flow ODE (Eq. 28, `ode_sample`) or Euler–Maruyama (Eq. 29, `em_sample`);
  replay  the same from prior noise N(0, I) at t_start(θ): samples of the memory's generative model.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from assocmem import samplers
from assocmem.memories import batching

Array = jax.Array


def integrate(score_fn: Any, state: Any, sde: Any, x: Array, t0: Array | float, t_end: float,
              key: Array, n_steps: int, grid: str, sampler: str, denoise: bool = False) -> Array:
  """One (d,) state from t0 to t_end: `ode_sample` (sampler="ode", key unused) or `em_sample` ("sde").

  With `denoise`, the end state x is replaced by its posterior mean under the score (Tweedie's formula
  for the kernel x_t = θ_t y + √v_t δ of seed 002 Eq. 10 / App. A, as `scores.denoiser` for a bank):
  ŷ = (x + v_t s(x, t_end)) / θ_t, which removes the noise of level √v_{t_end} the integration stops at."""
  if sampler == "ode":
    x = samplers.ode_sample(score_fn, state, sde, x, t0, t_end, n_steps, grid=grid)
  else:
    x = samplers.em_sample(key, score_fn, state, sde, x, t0, t_end, n_steps, grid=grid)
  if denoise:
    t = jnp.asarray(t_end, x.dtype)
    x = (x + sde.variance(t) * score_fn(state, x, t)) / sde.theta(t)
  return x


def recall(score_fn: Any, state: Any, sde: Any, cues: Array, t0: Array | float, t_end: float,
           n_steps: int, grid: str, sampler: str, key: Array | None,
           batch_size: int | None = None, denoise: bool = False) -> Array:
  """(B, d) recalls of (B, d) cues, `integrate` vmapped over the cues (one key each for "sde"),
  `batch_size` cues at a time (the keys are split for all B cues first, so chunks change nothing);
  `denoise`: a final Tweedie step (`integrate`)."""
  if sampler == "sde":
    if key is None:
      raise ValueError("key is required when sampler='sde'")
    keys = jax.random.split(key, cues.shape[0])
  else:
    keys = jnp.zeros((cues.shape[0], 2), jnp.uint32)
  fn = jax.vmap(lambda c, k: integrate(score_fn, state, sde, c, t0, t_end, k, n_steps, grid, sampler, denoise))
  return batching.map_chunked(fn, (cues, keys), batch_size)


def replay(score_fn: Any, state: Any, sde: Any, key: Array, n: int, dim: int, dtype: Any,
           t0: Array | float, t_end: float, n_steps: int, grid: str, sampler: str,
           batch_size: int | None = None, denoise: bool = False) -> Array:
  """(n, d) replays: prior noise `sde.prior_sampling` at t0, integrated to t_end (`recall` of noise),
  `batch_size` at a time (all n starts drawn first); `denoise`: a final Tweedie step."""
  k0, k1 = jax.random.split(key)
  x0 = sde.prior_sampling(k0, (n, dim), dtype)
  return recall(score_fn, state, sde, x0, t0, t_end, n_steps, grid, sampler, k1, batch_size, denoise)
