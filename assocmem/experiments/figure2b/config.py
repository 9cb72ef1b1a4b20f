"""Settings of Figure 2b (seed 002, §7 and the Figure 2 caption): the problem, the network, the ODE grid."""

from __future__ import annotations

import dataclasses
from typing import Any

from assocmem import _checks
from assocmem.experiments import trajectories
from assocmem.train import score as train_lib


@dataclasses.dataclass(frozen=True)
class Figure2bConfig:
  """Settings of Figure 2b (defaults: seed 002 §7; the problem is Figure 2a's).

  Attributes:
    dim, n_patterns, n_cues, theta, gamma, seed: the problem, as `trajectories.TrajectoryConfig`.
    n_steps, t_end: Euler steps of both ODEs and the final time.
    hidden: hidden width (750).
    n_iterations, learning_rate, theta_min, theta_max, chunk_size: training (Eq. 27).
    train_seed: seed of the network (initialisation and noise draws).
  """
  dim: int = 5
  n_patterns: int = 4
  n_cues: int = 4
  theta: float = 0.68
  gamma: float = 0.8
  seed: int = 0
  n_steps: int = 2000
  t_end: float = 1e-3
  hidden: int = 750
  n_iterations: int = 5000
  learning_rate: float = 1e-3
  theta_min: float = 0.6
  theta_max: float = 1.0
  chunk_size: int = 250
  train_seed: int = 1

  def __post_init__(self):
    self.problem()        # validates the problem settings
    self.train_config()   # validates the training settings
    _checks.check_int("hidden", self.hidden)
    _checks.check_int("train_seed", self.train_seed, 0)

  def problem(self) -> trajectories.TrajectoryConfig:
    """Figure 2a's configuration of the same problem (patterns, cues, grid)."""
    return trajectories.TrajectoryConfig(dim=self.dim, n_patterns=self.n_patterns, n_cues=self.n_cues,
                                         theta=self.theta, gamma=self.gamma, n_steps=self.n_steps,
                                         t_end=self.t_end, seed=self.seed)

  def train_config(self) -> train_lib.ScoreTrainConfig:
    """The `ScoreTrainConfig` of the network (Eq. 27: θ ~ U(theta_min, theta_max), Adam, full batch)."""
    return train_lib.ScoreTrainConfig(n_iterations=self.n_iterations, learning_rate=self.learning_rate,
                                      theta_min=self.theta_min, theta_max=self.theta_max,
                                      chunk_size=self.chunk_size)


PRESETS: dict[str, Figure2bConfig] = {
    "quick": Figure2bConfig(n_steps=300),   # §7's step count; full training (a few seconds)
    "paper": Figure2bConfig(),              # Figure 2's caption: 2,000 Euler steps
}


def get_preset(name: str, **overrides: Any) -> Figure2bConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return _checks.replace_fields(PRESETS[name], overrides)
