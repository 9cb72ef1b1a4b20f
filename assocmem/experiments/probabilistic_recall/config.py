"""Settings of the probabilistic-recall experiment (seed 002, §5.1): presets and validation."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from assocmem import _checks

GRIDS = ("linear", "geometric", "edm")


def check_int(name: str, value: Any, minimum: int = 1) -> int:
  """`value` as an int >= `minimum` (ValueError naming `name` otherwise)."""
  if not _checks.is_int(value) or value < minimum:
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
  return value


def check_positive(name: str, value: Any) -> float:
  """A finite number > 0 (ValueError naming `name` otherwise)."""
  if not _checks.is_number(value) or not value > 0:
    raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
  return float(value)


def check_open_unit(name: str, value: Any) -> float:
  """A number in the open interval (0, 1) (ValueError naming `name` otherwise)."""
  if not _checks.is_number(value) or not 0 < value < 1:
    raise ValueError(f"{name} must lie in the open interval (0, 1), got {value!r}")
  return float(value)


@dataclasses.dataclass(frozen=True)
class RecallConfig:
  """Settings of probabilistic recall (seed 002, §5.1; VP SDE of App. A, Eqs. A1–A4, 28–29).

  Attributes:
    dim, n_patterns: d and N of the random binary patterns y_n = sign(g) (App. A).
    thetas: signal levels θ of the denoising cues ỹ = θ y + √(1 − θ²) ε; each cue starts the
      dynamics at t_start(θ) = −2 log θ / γ, where it is a sample of the forward marginal.
    cues_per_theta: cues per θ (cue j corrupts pattern j mod N).
    n_trajectories: Euler–Maruyama trajectories per cue (exact score).
    n_null: multinomial draws of the null distribution of the total variation.
    null_quantile: the quantile of the null reported beside each measured TV (0.99).
    gamma: VP schedule γ.
    n_steps, t_end, grid: the time grid of both samplers (App. A: 300 linear steps to 1e-3).
    learned: also run the trajectories through a trained score network (`LearnedDiffusion`).
    hidden: its hidden width (App. A: 80·d).
    train_steps, learning_rate: Adam steps and step size of its denoising training (Eq. 27).
    train_theta_min: smallest training θ (must lie below every cue θ, so the network has seen the
      noise levels the trajectories start from).
    learned_trajectories: trajectories per cue through the network (0: as `n_trajectories`).
    seed: PRNG seed of patterns, cues, noise, network and null draws.
  """
  dim: int = 10
  n_patterns: int = 8
  thetas: tuple[float, ...] = (0.2, 0.3, 0.5)
  cues_per_theta: int = 5
  n_trajectories: int = 4000
  n_null: int = 2000
  null_quantile: float = 0.99
  gamma: float = 0.8
  n_steps: int = 300
  t_end: float = 1e-3
  grid: str = "linear"
  learned: bool = True
  hidden: int = 800
  train_steps: int = 5000
  learning_rate: float = 1e-3
  train_theta_min: float = 0.1
  learned_trajectories: int = 0
  seed: int = 0

  def __post_init__(self):
    check_int("dim", self.dim)
    check_int("n_patterns", self.n_patterns, 2)
    if not isinstance(self.thetas, tuple) or not self.thetas:
      raise ValueError(f"thetas must be a non-empty tuple of signal levels, got {self.thetas!r}")
    for th in self.thetas:
      check_open_unit("thetas", th)
    check_int("cues_per_theta", self.cues_per_theta)
    check_int("n_trajectories", self.n_trajectories)
    check_int("n_null", self.n_null, 10)
    check_open_unit("null_quantile", self.null_quantile)
    check_positive("gamma", self.gamma)
    check_int("n_steps", self.n_steps)
    check_positive("t_end", self.t_end)
    if self.grid not in GRIDS:
      raise ValueError(f"grid must be one of {GRIDS}, got {self.grid!r}")
    if not isinstance(self.learned, bool):
      raise ValueError(f"learned must be True or False, got {self.learned!r}")
    check_int("hidden", self.hidden)
    check_int("train_steps", self.train_steps)
    check_positive("learning_rate", self.learning_rate)
    check_open_unit("train_theta_min", self.train_theta_min)
    check_int("learned_trajectories", self.learned_trajectories, 0)
    check_int("seed", self.seed, 0)
    for th in self.thetas:
      if self.t_start(th) <= self.t_end:
        raise ValueError(f"t_end must lie below the start time of every cue; θ = {th} starts at "
                         f"t = {self.t_start(th):.4g} <= t_end = {self.t_end}")
    if self.learned and self.train_theta_min > min(self.thetas):
      raise ValueError(f"train_theta_min must not exceed the smallest cue θ ({min(self.thetas)}): the "
                       f"network would start from noise levels it never saw; got {self.train_theta_min}")

  def t_start(self, theta: float) -> float:
    """Start time of a cue of signal level θ: −2 log θ / γ (`VPSDE.t_start`, seed 002 App. A)."""
    return -2.0 * math.log(theta) / self.gamma

  @property
  def n_learned_trajectories(self) -> int:
    """Trajectories per cue through the learned score."""
    return self.learned_trajectories or self.n_trajectories


PRESETS: dict[str, RecallConfig] = {
    # Seconds: 2 cues per θ, 2,000 exact trajectories, a tiny network (64 wide, 1,500 steps, 500 trajectories).
    "quick": RecallConfig(cues_per_theta=2, n_trajectories=2000, n_null=1000, hidden=64,
                          train_steps=1500, learned_trajectories=500),
    # The independent check's setting (d = 10, N = 8, 4,000 trajectories), 5 cues per θ, and the
    # paper's network (80·d wide, 5,000 Adam steps at 1e-3) with 1,000 trajectories per cue through it
    # (about 6·10¹² flops on a CPU; 4,000 would cost four times as much).
    "paper": RecallConfig(learned_trajectories=1000),
}

CSV_HEADER = ("theta", "cue", "target", "t_start", "max_weight", "n_sde", "tv_sde", "null_q_sde",
              "sde_within", "ode_pattern", "tv_ode", "n_learned", "tv_learned", "null_q_learned",
              "learned_within")
