"""Settings of the replay-bootstrapping experiment (seed 002, §6.2), its presets and validation."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from assocmem import _checks

CSV_HEADER = ("event_weight", "seed", "round", "p_near", "p_near_phi", "log_density_ratio",
              "replay_mean_norm", "replay_std")


@dataclasses.dataclass(frozen=True)
class BootstrappingConfig:
  """Replay bootstrapping of one event (seed 002, §6.2) with a learned diffusion memory (Eq. 27).

  The semantic density is φ = N(0, I_dim); the event is y* = event_distance · e_1.

  Experience: `experience_steps` Adam steps of the Eq. 27 loss, each on `batch_size` fresh samples of
  φ (every sample seen once). The event is seen once, at the last experience step, whose loss is
      L = (1 − w) · mean_i ℓ(y_i) + w · mean_j ℓ(y*; θ_j, δ_j),
  ℓ the Eq. 27 summand, the y_i the step's `batch_size` φ samples and j over `batch_size` noise draws
  of y*: the EVENT WEIGHT w ∈ [0, 1] is the event's share of the loss of the one step at which it is
  seen (w = 1 / (batch_size + 1) puts it on the footing of one more φ sample; w = 0 is the control).

  Rounds r = 1..n_rounds: draw `replays_per_round` replays from the current network (Euler–Maruyama
  from N(0, I) at θ = theta_min, Eq. 29), then `round_steps` Adam steps on batches whose
  `replay_fraction` share is drawn with replacement from those replays and the rest fresh φ samples.

  Measured after experience (round 0) and after every round: P(replay within `delta` of y*) from the
  round's replays (beside its value under φ), and log p_model(y*) − log φ(y*), the network's log
  density at y* by the probability-flow ODE (instantaneous change of variables with the exact
  divergence, `density_steps` Euler steps from t_end to t_start(theta_min), N(0, I) there).

  Attributes: as named above, plus dim (d), hidden (ScoreMLP width), learning_rate, theta_min /
  theta_max (θ ~ U(theta_min, theta_max) in Eq. 27), gamma (VP SDE), replay_steps (EM steps,
  geometric grid) and t_end, seeds (independent networks per event weight).
  """
  seed: int = 0
  dim: int = 2
  hidden: int = 64
  event_distance: float = 2.0
  event_weights: tuple[float, ...] = (0.0, 0.1, 1.0)
  seeds: int = 2
  batch_size: int = 64
  experience_steps: int = 1000
  learning_rate: float = 1e-3
  theta_min: float = 0.05
  theta_max: float = 1.0
  gamma: float = 0.8
  n_rounds: int = 4
  replays_per_round: int = 512
  replay_fraction: float = 0.5
  round_steps: int = 200
  replay_steps: int = 100
  t_end: float = 1e-3
  delta: float = 0.5
  density_steps: int = 100

  def __post_init__(self):
    for name in ("seed",):
      if not _checks.is_int(getattr(self, name)) or getattr(self, name) < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {getattr(self, name)!r}")
    for name in ("dim", "hidden", "seeds", "batch_size", "experience_steps", "replays_per_round",
                 "round_steps", "replay_steps", "density_steps"):
      if not _checks.is_int(getattr(self, name)) or getattr(self, name) < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
    if not _checks.is_int(self.n_rounds) or self.n_rounds < 0:
      raise ValueError(f"n_rounds must be an integer >= 0, got {self.n_rounds!r}")
    for name in ("event_distance", "learning_rate", "gamma", "t_end", "delta"):
      v = getattr(self, name)
      if not _checks.is_number(v) or not v > 0:
        raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    if not isinstance(self.event_weights, tuple) or not self.event_weights:
      raise ValueError(f"event_weights must be a non-empty tuple of numbers in [0, 1], got {self.event_weights!r}")
    for w in self.event_weights:
      if not _checks.is_number(w) or not 0 <= w <= 1:
        raise ValueError(f"event_weights must hold numbers in [0, 1], got {w!r}")
    if len(set(self.event_weights)) != len(self.event_weights):
      raise ValueError(f"event_weights must be distinct, got {self.event_weights}")
    for name in ("theta_min", "theta_max"):
      v = getattr(self, name)
      if not _checks.is_number(v) or not 0 < v <= 1:
        raise ValueError(f"{name} must lie in (0, 1], got {v!r}")
    if not self.theta_min < self.theta_max:
      raise ValueError(f"theta_min must be below theta_max, got {self.theta_min} >= {self.theta_max}")
    if not self.theta_min < 1:
      raise ValueError("theta_min must be < 1 (replays start at t_start(theta_min))")
    if not _checks.is_number(self.replay_fraction) or not 0 <= self.replay_fraction <= 1:
      raise ValueError(f"replay_fraction must lie in [0, 1], got {self.replay_fraction!r}")
    t_start = -2.0 * math.log(self.theta_min) / self.gamma
    if not self.t_end < t_start:
      raise ValueError(f"t_end must be below t_start(theta_min) = {t_start:.4g}, got {self.t_end}")

  @property
  def n_networks(self) -> int:
    """Networks trained together: one per (event weight, seed)."""
    return len(self.event_weights) * self.seeds


PRESETS: dict[str, BootstrappingConfig] = {
    "quick": BootstrappingConfig(),
    "paper": BootstrappingConfig(hidden=128, event_weights=(0.0, 0.01, 0.1, 0.3, 1.0), seeds=4,
                                 batch_size=128, experience_steps=5000, n_rounds=12,
                                 replays_per_round=2048, round_steps=1000, replay_steps=200,
                                 density_steps=200),
}


def get_preset(name: str, **overrides: Any) -> BootstrappingConfig:
  """The preset `name` with `overrides` (ValueError naming a bad preset or setting)."""
  if name not in PRESETS:
    raise ValueError(f"preset must be one of {tuple(PRESETS)}, got {name!r}")
  unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(BootstrappingConfig)})
  if unknown:
    raise ValueError(f"unknown bootstrapping settings {unknown}")
  return _checks.replace_fields(PRESETS[name], overrides)
