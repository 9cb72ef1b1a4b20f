"""Settings of seed 002's Figure 2a (denoising trajectories): the configuration and its presets."""

from __future__ import annotations

import math

import dataclasses
from typing import Any

from assocmem import _checks
from assocmem.sde import VPSDE


@dataclasses.dataclass(frozen=True)
class TrajectoryConfig:
  """Settings of Figure 2a.

  Attributes:
    dim, n_patterns: pattern dimension and number of stored binary patterns.
    n_cues: number of cues; cue i corrupts pattern i mod n_patterns.
    theta: signal level of the denoising cues and of the diffusion start.
    gamma: VP schedule γ.
    n_steps: Euler / Euler–Maruyama steps of the diffusion.
    t_end: final diffusion time.
    beta, mhn_steps: modern Hopfield inverse temperature and number of updates.
    seed: PRNG seed (patterns, cues and SDE noise).
  """
  dim: int = 5
  n_patterns: int = 4
  n_cues: int = 4
  theta: float = 0.68
  gamma: float = 0.8
  n_steps: int = 2000
  t_end: float = 1e-3
  beta: float = 5.0
  mhn_steps: int = 4
  seed: int = 0

  def __post_init__(self):
    _checks.check_int("dim", self.dim, 1)
    _checks.check_int("n_patterns", self.n_patterns, 1)
    _checks.check_int("n_cues", self.n_cues, 1)
    _checks.check_open_unit("theta", self.theta)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_int("n_steps", self.n_steps, 1)
    _checks.check_positive("t_end", self.t_end)
    _checks.check_positive("beta", self.beta)
    _checks.check_int("mhn_steps", self.mhn_steps, 1)
    _checks.check_int("seed", self.seed, 0)
    t_start = -2.0 * math.log(self.theta) / self.gamma    # validation only: no JAX at import time
    if t_start <= self.t_end:
      raise ValueError(f"t_end must be below t_start = {t_start:.4g}, got {self.t_end}")

  @property
  def t_start(self) -> float:
    """Start time of the diffusion, `VPSDE.t_start(θ)` = −2 log θ / γ (seed 002, App. A)."""
    return float(VPSDE(self.gamma).t_start(self.theta))


PRESETS: dict[str, TrajectoryConfig] = {
    "quick": TrajectoryConfig(n_steps=300),   # §7's step count
    "paper": TrajectoryConfig(),              # Figure 2's caption: 2,000 Euler steps
}


def get_preset(name: str, **overrides: Any) -> TrajectoryConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return _checks.replace_fields(PRESETS[name], overrides)
