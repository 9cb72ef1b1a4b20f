"""Settings shared by the experiments that train score networks per dimensionality (seed 002, §7, App. A).

`learned_capacity` and `memorisation` both train one `ScoreMLP` (hidden width 80·d) per pattern set
with the denoising loss of Eq. 27; `ScoreNetworkSettings` holds those training fields, validates
them once, and builds the network and the `ScoreTrainConfig` of a d.
"""

from __future__ import annotations

import dataclasses

from assocmem import _checks
from assocmem.nn.score_mlp import ScoreMLP
from assocmem.train import score as train_lib


@dataclasses.dataclass(frozen=True)
class ScoreNetworkSettings:
  """Training settings of the score networks of an experiment (defaults: seed 002, App. A).

  Attributes:
    dims: dimensionalities d (a non-empty tuple of integers >= 1).
    hidden_per_dim: hidden width H = hidden_per_dim · d (80).
    n_iterations, learning_rate, theta_min, theta_max: training (Eq. 27: 5,000 full-batch Adam steps
      at 1e-3, θ ~ U(theta_min, theta_max), (0.6, 1) in App. A).
    chunk_size: training steps per jit call.
    seed: seed of the patterns, the networks and every test draw.
  """
  dims: tuple[int, ...] = (10, 12, 14, 16)
  hidden_per_dim: int = 80
  n_iterations: int = 5000
  learning_rate: float = 1e-3
  theta_min: float = 0.6
  theta_max: float = 1.0
  chunk_size: int = 250
  seed: int = 0

  def __post_init__(self):
    if not isinstance(self.dims, tuple) or not self.dims:
      raise ValueError(f"dims must be a non-empty tuple of integers >= 1, got {self.dims!r}")
    for d in self.dims:
      _checks.check_int("dims", d, 1)
    _checks.check_int("hidden_per_dim", self.hidden_per_dim, 1)
    _checks.check_int("seed", self.seed, 0)
    self.train_config()   # validates n_iterations, learning_rate, theta_min/max, chunk_size

  def train_config(self) -> train_lib.ScoreTrainConfig:
    """The `ScoreTrainConfig` of every network (a progress line every 30 s)."""
    return train_lib.ScoreTrainConfig(n_iterations=self.n_iterations, learning_rate=self.learning_rate,
                                      theta_min=self.theta_min, theta_max=self.theta_max,
                                      chunk_size=self.chunk_size, log_every_s=30.0)

  def model(self, d: int) -> ScoreMLP:
    """The network of dimensionality d: `ScoreMLP(dim=d, hidden=hidden_per_dim · d)`."""
    return ScoreMLP(dim=d, hidden=self.hidden_per_dim * d)
