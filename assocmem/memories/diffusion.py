"""The exact-diffusion memory under the memory protocol (seed 002, App. A).

State: a `PatternBank`. Recall integrates the probability-flow ODE (or the reverse SDE) of
the exact score from the cue's noise level down to t_end; replay samples from the prior
(t ≈ 17 for θ = 1e-3 at γ = 0.8) on a geometric grid that resolves t < 0.1.
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from assocmem import _checks, bank as bank_lib, mixture, samplers, scores
from assocmem.bank import PatternBank
from assocmem.memories import sampling
from assocmem.memories.hopfield import _check_data
from assocmem.sde import VPSDE, check_sde

Array = jax.Array


@flax.struct.dataclass
class ExactDiffusion:
  """Diffusion memory with the exact score of its stored patterns (seed 002, App. A; Eqs. A1–A4).

  Attributes:
    sde: the forward SDE (default VP, γ = 0.8); it must have `t_start(theta)` for recall.
    cue_theta: signal level of the cues; recall starts at t_start(cue_theta).
    n_steps, t_end, grid: recall integration (paper: 300 linear Euler steps to 1e-3).
    sampler: "ode" (probability flow, Eq. 28) or "sde" (Euler–Maruyama, Eq. 29).
    replay_theta: replays start from the prior at t_start(replay_theta).
    replay_steps, replay_grid, replay_sampler: replay integration.
    mode: mixture mode of the score.
  """
  sde: Any = flax.struct.field(pytree_node=True, default_factory=lambda: VPSDE(0.8))
  cue_theta: float = flax.struct.field(pytree_node=False, default=0.68)
  n_steps: int = flax.struct.field(pytree_node=False, default=samplers.DEFAULT_N_STEPS)
  t_end: float = flax.struct.field(pytree_node=False, default=samplers.DEFAULT_T_END)
  grid: str = flax.struct.field(pytree_node=False, default="linear")
  sampler: str = flax.struct.field(pytree_node=False, default="ode")
  replay_theta: float = flax.struct.field(pytree_node=False, default=1e-3)
  replay_steps: int = flax.struct.field(pytree_node=False, default=300)
  replay_grid: str = flax.struct.field(pytree_node=False, default="geometric")
  replay_sampler: str = flax.struct.field(pytree_node=False, default="sde")
  capacity: int | None = flax.struct.field(pytree_node=False, default=None)
  mode: Any = flax.struct.field(pytree_node=False, default=mixture.DENSE)

  def __post_init__(self):
    if isinstance(self.sde, (str, int, float)) or self.sde is None:
      raise ValueError(f"sde must be an SDE object such as assocmem.VPSDE(0.8), got {self.sde!r}")
    if hasattr(self.sde, "theta"):
      check_sde(self.sde)
      if not callable(getattr(self.sde, "t_start", None)):
        raise ValueError(f"sde must have t_start(theta) (e.g. VPSDE) for ExactDiffusion, got {self.sde!r}")
    _checks.check_open_unit("cue_theta", self.cue_theta)
    _checks.check_open_unit("replay_theta", self.replay_theta)
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_int("replay_steps", self.replay_steps)
    _checks.check_positive("t_end", self.t_end)
    _checks.check_choice("sampler", self.sampler, ("ode", "sde"))
    _checks.check_choice("replay_sampler", self.replay_sampler, ("ode", "sde"))
    _checks.check_choice("grid", self.grid, samplers.GRIDS)
    _checks.check_choice("replay_grid", self.replay_grid, samplers.GRIDS)
    mixture.check_mode(self.mode)

  @property
  def score_fn(self):
    """The explicit-state score `score_fn(bank, x, t)`."""
    return scores.exact_score(self.sde, self.mode)

  def store(self, key: Array | None, data: Array) -> PatternBank:
    """One-shot storage of (N, d) patterns in a bank."""
    del key
    return bank_lib.make_bank(_check_data("data", data), capacity=self.capacity)

  def write(self, state: PatternBank, index: Any, pattern: Array) -> PatternBank:
    """Stores one (d,) pattern in slot `index`."""
    return bank_lib.write(state, index, pattern)

  def recall(self, state: PatternBank, cues: Array, key: Array | None = None) -> Array:
    """(B, d) recalls of (B, d) cues at noise level `cue_theta` (key needed for sampler="sde")."""
    cues = _check_data("cues", cues, state.dim)
    t0 = self.sde.t_start(self.cue_theta)
    return sampling.recall(self.score_fn, state, self.sde, cues, t0, self.t_end, self.n_steps, self.grid,
                           self.sampler, key)

  def replay(self, state: PatternBank, key: Array, n: int) -> Array:
    """(n, d) samples from the prior at t_start(replay_theta), integrated to t_end."""
    n = _checks.check_int("n", n)
    t0 = self.sde.t_start(self.replay_theta)
    return sampling.replay(self.score_fn, state, self.sde, key, n, state.dim, state.dtype, t0, self.t_end,
                           self.replay_steps, self.replay_grid, self.replay_sampler)
