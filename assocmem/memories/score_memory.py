"""The diffusion memories' common base: recall and replay by integrating a score (seed 002, App. A).

`ScoreMemory` holds what the exact (`ExactDiffusion`) and the learned (`LearnedDiffusion`)
diffusion memories share: the forward SDE, the recall and replay integrations and their checks,
and `recall`/`replay` themselves. A subclass supplies only its score and how its state is made:

  score_fn              the explicit-state score `score_fn(state, x, t)`;
  dim(state)            the dimension of the state's patterns;
  capacity(state)       slots of a bank, or None;
  store (and fit)       a bank of the patterns, or a network trained on them;
  replay_start_theta()  the signal level replays start from (default: `replay_theta`).

Recall integrates the probability-flow ODE (Eq. 28) or the reverse SDE (Euler–Maruyama, Eq. 29)
of the score from the cue's noise level t_start(cue_theta) down to t_end; replay does the same
from prior noise at t_start(replay_theta) (`assocmem.memories.sampling`).
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from assocmem import _checks, samplers
from assocmem.memories import batching, sampling
from assocmem.memories.hopfield import _check_data
from assocmem.sde import VPSDE, check_sde

Array = jax.Array


@flax.struct.dataclass
class ScoreMemory:
  """A memory that recalls and replays by integrating a score (seed 002, App. A; Eqs. 28–29).

  Attributes:
    sde: the forward SDE (default VP, γ = 0.8); it must have `t_start(theta)` for recall.
    cue_theta: signal level of the cues; recall starts at t_start(cue_theta).
    n_steps, t_end, grid: recall integration (paper: 300 linear Euler steps to 1e-3).
    sampler: "ode" (probability flow, Eq. 28) or "sde" (Euler–Maruyama, Eq. 29).
    replay_theta: replays start from the prior at t_start(replay_theta) (None: the subclass's
      default, `replay_start_theta`).
    replay_steps, replay_grid, replay_sampler: replay integration.
    replay_denoise: end each replay with a Tweedie step, the posterior mean
      (x + v_t s(x, t)) / θ_t at t_end, instead of the state at noise level √v_{t_end} (default False).
  """
  sde: Any = flax.struct.field(pytree_node=True, default_factory=lambda: VPSDE(0.8))
  cue_theta: float = flax.struct.field(pytree_node=False, default=0.68)
  n_steps: int = flax.struct.field(pytree_node=False, default=samplers.DEFAULT_N_STEPS)
  t_end: float = flax.struct.field(pytree_node=False, default=samplers.DEFAULT_T_END)
  grid: str = flax.struct.field(pytree_node=False, default="linear")
  sampler: str = flax.struct.field(pytree_node=False, default="ode")
  replay_theta: float | None = flax.struct.field(pytree_node=False, default=None)
  replay_steps: int = flax.struct.field(pytree_node=False, default=300)
  replay_grid: str = flax.struct.field(pytree_node=False, default="geometric")
  replay_sampler: str = flax.struct.field(pytree_node=False, default="sde")
  replay_denoise: bool = flax.struct.field(pytree_node=False, default=False)

  def __post_init__(self):
    if isinstance(self.sde, (str, int, float)) or self.sde is None:
      raise ValueError(f"sde must be an SDE object such as assocmem.VPSDE(0.8), got {self.sde!r}")
    if hasattr(self.sde, "theta"):
      check_sde(self.sde)
      if not callable(getattr(self.sde, "t_start", None)):
        raise ValueError(f"sde must have t_start(theta) (e.g. VPSDE) for {type(self).__name__}, "
                         f"got {self.sde!r}")
    _checks.check_open_unit("cue_theta", self.cue_theta)
    if self.replay_theta is not None:
      _checks.check_open_unit("replay_theta", self.replay_theta)
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_int("replay_steps", self.replay_steps)
    _checks.check_positive("t_end", self.t_end)
    _checks.check_choice("sampler", self.sampler, ("ode", "sde"))
    _checks.check_choice("replay_sampler", self.replay_sampler, ("ode", "sde"))
    _checks.check_choice("grid", self.grid, samplers.GRIDS)
    _checks.check_choice("replay_grid", self.replay_grid, samplers.GRIDS)
    if not isinstance(self.replay_denoise, bool):
      raise ValueError(f"replay_denoise must be True or False, got {self.replay_denoise!r}")

  # ------------------------------------------------------------------ what a subclass supplies

  @property
  def score_fn(self):
    """The explicit-state score `score_fn(state, x, t)`."""
    raise NotImplementedError(f"{type(self).__name__} must define score_fn")

  def check_state(self, state: Any) -> Any:
    """Raises a ValueError naming `state` unless it is this memory's state (default: no check)."""
    return state

  def dim(self, state: Any) -> int:
    """d, the dimension of the state's patterns."""
    raise NotImplementedError(f"{type(self).__name__} must define dim(state)")

  def capacity(self, state: Any) -> int | None:
    """Items the state has room for (None: no slot limit)."""
    del state
    return None

  def state_dtype(self, state: Any) -> Any:
    """The dtype of replays' start noise."""
    del state
    return jnp.float32

  def replay_start_theta(self) -> float:
    """The signal level θ replays start from (t_start(θ)): `replay_theta`."""
    if self.replay_theta is None:
      raise ValueError(f"replay_theta must be set for {type(self).__name__}'s replays")
    return self.replay_theta

  # ------------------------------------------------------------------ the protocol

  def recall(self, state: Any, cues: Array, key: Array | None = None, *,
             batch_size: int | None = None) -> Array:
    """(B, d) recalls of (B, d) cues at noise level `cue_theta` (key needed for sampler="sde"),
    `batch_size` cues at a time."""
    self.check_state(state)
    _checks.check_key("key", key, optional=self.sampler != "sde")
    batch_size = batching.check_batch_size(batch_size)
    cues = _check_data("cues", cues, self.dim(state))
    t0 = self.sde.t_start(self.cue_theta)
    return sampling.recall(self.score_fn, state, self.sde, cues, t0, self.t_end, self.n_steps, self.grid,
                           self.sampler, key, batch_size=batch_size)

  def replay(self, state: Any, key: Array, n: int, *, batch_size: int | None = None) -> Array:
    """(n, d) samples: prior noise at t_start(replay_start_theta()), integrated to t_end,
    `batch_size` at a time."""
    self.check_state(state)
    _checks.check_key("key", key)
    n = _checks.check_int("n", n)
    batch_size = batching.check_batch_size(batch_size)
    t0 = self.sde.t_start(self.replay_start_theta())
    return sampling.replay(self.score_fn, state, self.sde, key, n, self.dim(state), self.state_dtype(state),
                           t0, self.t_end, self.replay_steps, self.replay_grid, self.replay_sampler,
                           batch_size=batch_size, denoise=self.replay_denoise)
