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

from assocmem import _checks
from assocmem.memories.hopfield import _check_data
from assocmem.memories.score_memory import ScoreMemory
from assocmem.nn.score_mlp import VARIANTS, ScoreMLP, learned_score_fn, model_from_params
from assocmem.train import score as train_lib

Array = jax.Array
Params = Any


@flax.struct.dataclass
class LearnedDiffusion(ScoreMemory):
  """Diffusion memory whose score is a trained network (seed 002, §7 and App. A; Eqs. 27–29).

  Attributes (besides `ScoreMemory`'s sde, cue_theta, n_steps, t_end, grid, sampler,
  replay_theta, replay_steps, replay_grid, replay_sampler; replay_theta None (default): replays
  start at the training `theta_min`):
    hidden: hidden width H; None (default): `hidden_per_dim`·d (App. A: 80·d; Figure 2: 750).
    hidden_per_dim: H / d when `hidden` is None.
    train: training settings (`ScoreTrainConfig`: 5,000 Adam steps at 1e-3, θ ~ U(0.6, 1)).
    variant: the `ScoreMLP` variant (`VARIANTS`): "paper" (default, §7), "residual" or
      "residual_cov" (LayerNorm before each ReLU, residual hidden layer, a fixed Gaussian skip:
      they train at image scale), or "unit_mixture" (the residual network whose output is the exact
      noise prediction of a per-unit Gaussian-mixture prior with network-predicted weights: the
      image-scale recipe; `assocmem.nn.score_mlp`).
    components: mixture components per unit K of the "unit_mixture" variant (4).
  """
  hidden: int | None = flax.struct.field(pytree_node=False, default=None)
  hidden_per_dim: int = flax.struct.field(pytree_node=False, default=80)
  train: train_lib.ScoreTrainConfig = flax.struct.field(pytree_node=False,
                                                       default_factory=train_lib.ScoreTrainConfig)
  variant: str = flax.struct.field(pytree_node=False, default="paper")
  components: int = flax.struct.field(pytree_node=False, default=4)

  def __post_init__(self):
    super().__post_init__()
    if self.hidden is not None:
      if isinstance(self.hidden, bool) or not isinstance(self.hidden, int) or self.hidden < 1:
        raise ValueError(f"hidden (the hidden width) must be a positive integer or None, got {self.hidden!r}")
    _checks.check_int("hidden_per_dim", self.hidden_per_dim)
    if not isinstance(self.train, train_lib.ScoreTrainConfig):
      raise ValueError(f"train must be a ScoreTrainConfig, got {type(self.train).__name__}")
    if self.variant not in VARIANTS:
      raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
    _checks.check_int("components", self.components, 2)

  def check_state(self, state: Any) -> Params:
    """Raises a ValueError naming `state` unless it holds `ScoreMLP` parameters (what `fit` and
    `store` return); a `TrainState` (from `fit_train_state`) is pointed to its `.params`."""
    if isinstance(state, train_lib.TrainState):
      raise ValueError("state must be the ScoreMLP parameters that LearnedDiffusion.fit (or store) "
                       "returns, got a TrainState: pass its .params")
    try:
      model_from_params(state)
    except ValueError as err:
      raise ValueError("state must be the ScoreMLP parameters that LearnedDiffusion.fit (or store) "
                       f"returns ({{'input', 'hidden', 'output'}} layers), got {type(state).__name__}") from err
    return state

  def dim(self, state: Params) -> int:
    """d, the dimension of the patterns the network was built for."""
    return model_from_params(self.check_state(state)).dim

  def capacity(self, state: Params) -> None:
    """None: the patterns live in the weights (no slots), and the parameters do not record how
    many were trained on."""
    del state
    return None

  def replay_start_theta(self) -> float:
    """`replay_theta`, or the noisiest level the network was trained on (`train.theta_min`)."""
    theta = self.replay_theta if self.replay_theta is not None else self.train.theta_min
    if not 0 < theta < 1:
      raise ValueError(f"replays need a start level in (0, 1); got {theta} (set replay_theta)")
    return theta

  def model(self, dim: int) -> ScoreMLP:
    """The network for d-dimensional patterns: width `hidden`, or `hidden_per_dim`·d; `variant`
    (and `components` for "unit_mixture")."""
    dim = _checks.check_int("dim", dim)
    return ScoreMLP(dim=dim, hidden=self.hidden if self.hidden is not None else self.hidden_per_dim * dim,
                    variant=self.variant, components=self.components)

  @property
  def score_fn(self):
    """The explicit-state score `score_fn(params, x, t)` = −δ̂(x, θ_t) / √(1 − θ_t²)."""
    return learned_score_fn(self.sde)

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
      state = fresh.replace(params=params, opt_state=cfg.optimizer().init(params))
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
