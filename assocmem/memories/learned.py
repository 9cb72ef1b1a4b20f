"""The learned diffusion memory under the memory protocol (seed 002, §4, §7 and App. A).

State: the parameters of a trained `ScoreMLP` (a plain pytree). `fit` trains the network by
denoising (Eq. 27; `assocmem.train.score`), so the stored patterns live in its weights; `store`
is `fit` with the memory's default training settings. Recall integrates the probability-flow ODE
(Eq. 28) with the learned score −δ̂ / √(1 − θ_t²) from the cue's noise level θ = 0.68 down to
t = 1e-3, with the same sampler as the exact model; replay runs Euler–Maruyama (Eq. 29) from
prior noise on a geometric grid.

Replays start from N(0, I) at the noisiest level the network was trained on (`replay_theta`,
default: the training `theta_min`). With the paper's θ ∈ [0.6, 1] that start is an
approximation (for centred ±1 patterns the marginal at θ = 0.6 has the prior's mean and
covariance, but is not Gaussian); train with a small `theta_min` (e.g. 0.01) for replays from
the true prior.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from assocmem import _checks, samplers
from assocmem.memories import sampling
from assocmem.memories.hopfield import _check_data
from assocmem.nn.score_mlp import ScoreMLP, learned_score, model_from_params
from assocmem.sde import VPSDE, check_sde
from assocmem.train import score as train_lib

Array = jax.Array
Params = Any


@flax.struct.dataclass
class LearnedDiffusion:
  """Diffusion memory whose score is a trained network (seed 002, §7 and App. A; Eqs. 27–29).

  Attributes:
    sde: the forward SDE used for recall and replay (default VP, γ = 0.8; needs `t_start(theta)`).
    hidden: hidden width H; None (default): `hidden_per_dim`·d (App. A: 80·d; Figure 2: 750).
    hidden_per_dim: H / d when `hidden` is None.
    train: training settings (`ScoreTrainConfig`: 5,000 Adam steps at 1e-3, θ ~ U(0.6, 1)).
    cue_theta: signal level of the cues; recall starts at t_start(cue_theta).
    n_steps, t_end, grid: recall integration (paper: 300 linear Euler steps to 1e-3).
    sampler: "ode" (probability flow, Eq. 28) or "sde" (Euler–Maruyama, Eq. 29).
    replay_theta: replays start from N(0, I) at t_start(replay_theta); None: `train.theta_min`.
    replay_steps, replay_grid, replay_sampler: replay integration.
  """
  sde: Any = flax.struct.field(pytree_node=True, default_factory=lambda: VPSDE(0.8))
  hidden: int | None = flax.struct.field(pytree_node=False, default=None)
  hidden_per_dim: int = flax.struct.field(pytree_node=False, default=80)
  train: train_lib.ScoreTrainConfig = flax.struct.field(pytree_node=False,
                                                       default_factory=train_lib.ScoreTrainConfig)
  cue_theta: float = flax.struct.field(pytree_node=False, default=0.68)
  n_steps: int = flax.struct.field(pytree_node=False, default=samplers.DEFAULT_N_STEPS)
  t_end: float = flax.struct.field(pytree_node=False, default=samplers.DEFAULT_T_END)
  grid: str = flax.struct.field(pytree_node=False, default="linear")
  sampler: str = flax.struct.field(pytree_node=False, default="ode")
  replay_theta: float | None = flax.struct.field(pytree_node=False, default=None)
  replay_steps: int = flax.struct.field(pytree_node=False, default=300)
  replay_grid: str = flax.struct.field(pytree_node=False, default="geometric")
  replay_sampler: str = flax.struct.field(pytree_node=False, default="sde")

  def __post_init__(self):
    if isinstance(self.sde, (str, int, float)) or self.sde is None:
      raise ValueError(f"sde must be an SDE object such as assocmem.VPSDE(0.8), got {self.sde!r}")
    if hasattr(self.sde, "theta"):
      check_sde(self.sde)
      if not callable(getattr(self.sde, "t_start", None)):
        raise ValueError(f"sde must have t_start(theta) (e.g. VPSDE) for LearnedDiffusion, got {self.sde!r}")
    if self.hidden is not None:
      if isinstance(self.hidden, bool) or not isinstance(self.hidden, int) or self.hidden < 1:
        raise ValueError(f"hidden (the hidden width) must be a positive integer or None, got {self.hidden!r}")
    _checks.check_int("hidden_per_dim", self.hidden_per_dim)
    if not isinstance(self.train, train_lib.ScoreTrainConfig):
      raise ValueError(f"train must be a ScoreTrainConfig, got {type(self.train).__name__}")
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

  def model(self, dim: int) -> ScoreMLP:
    """The network for d-dimensional patterns: width `hidden`, or `hidden_per_dim`·d."""
    dim = _checks.check_int("dim", dim)
    return ScoreMLP(dim=dim, hidden=self.hidden if self.hidden is not None else self.hidden_per_dim * dim)

  @property
  def score_fn(self):
    """The explicit-state score `score_fn(params, x, t)` = −δ̂(x, θ_t) / √(1 − θ_t²)."""
    return learned_score(self.sde)

  def _train_config(self, overrides: dict[str, Any]) -> train_lib.ScoreTrainConfig:
    if not overrides:
      return self.train
    unknown = set(overrides) - {f.name for f in dataclasses.fields(train_lib.ScoreTrainConfig)}
    if unknown:
      raise ValueError(f"unknown training settings {sorted(unknown)}; see ScoreTrainConfig")
    return dataclasses.replace(self.train, **overrides)

  def fit_train_state(self, key: Array, data: Array, state: Any = None, *, mask: Array | None = None,
                      checkpoint_dir: str | None = None, **overrides: Any) -> train_lib.TrainState:
    """Trains on (N, d) data (Eq. 27); returns the whole `TrainState` (loss curve included).

    Args:
      key: PRNG key of the run.
      data: (N, d) patterns.
      state: continue from a `TrainState` (exactly) or from network parameters (fresh Adam moments).
      mask: optional (N,) 0/1 mask of the real rows of a padded set.
      checkpoint_dir: orbax checkpoints between chunks; a rerun resumes from the newest.
      **overrides: fields of `ScoreTrainConfig` to change for this call (e.g. n_iterations=2000).
    """
    data = _check_data("data", data)
    cfg = self._train_config(overrides)
    model = self.model(data.shape[1])
    if state is not None and not isinstance(state, train_lib.TrainState):
      params = state
      if model_from_params(params) != model:
        raise ValueError(f"state holds a network of shape {model_from_params(params)}, but the data "
                         f"need {model}")
      fresh = train_lib.init_state(model, key, cfg)
      state = fresh.replace(params=params, opt_state=train_lib.make_optimizer(cfg).init(params))
    return train_lib.fit(model, key, data, mask, cfg, state=state, checkpoint_dir=checkpoint_dir,
                         label="LearnedDiffusion.fit")

  def fit(self, key: Array, data: Array, state: Any = None, **kwargs: Any) -> Params:
    """Trains on (N, d) data and returns the trained parameters (the memory's state).

    Keyword arguments are those of `fit_train_state` (mask, checkpoint_dir, training overrides).
    """
    return self.fit_train_state(key, data, state, **kwargs).params

  def store(self, key: Array, data: Array) -> Params:
    """`fit` with the memory's training settings: the patterns are stored in the weights."""
    return self.fit(key, data)

  def recall(self, state: Params, cues: Array, key: Array | None = None) -> Array:
    """(B, d) recalls of (B, d) cues at noise level `cue_theta` (key needed for sampler="sde")."""
    model = model_from_params(state)
    cues = _check_data("cues", cues, model.dim)
    t0 = self.sde.t_start(self.cue_theta)
    return sampling.recall(self.score_fn, state, self.sde, cues, t0, self.t_end, self.n_steps, self.grid,
                           self.sampler, key)

  def replay(self, state: Params, key: Array, n: int) -> Array:
    """(n, d) samples: prior N(0, I) noise at t_start(replay_theta), integrated to t_end."""
    n = _checks.check_int("n", n)
    model = model_from_params(state)
    theta = self.replay_theta if self.replay_theta is not None else self.train.theta_min
    if not 0 < theta < 1:
      raise ValueError(f"replays need a start level in (0, 1); got {theta} (set replay_theta)")
    t0 = self.sde.t_start(theta)
    return sampling.replay(self.score_fn, state, self.sde, key, n, model.dim, jnp.float32, t0, self.t_end,
                           self.replay_steps, self.replay_grid, self.replay_sampler)
