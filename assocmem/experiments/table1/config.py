"""Settings of seed 002's Table 1 (§7, App. A): the configuration, its presets and their notes.

See `assocmem.experiments.table1` for the method and the open choices each setting switches.
"""

from __future__ import annotations

import math

import dataclasses
from typing import Any

import jax

from assocmem import _checks, hopfield, samplers
from assocmem.sde import VPSDE

TASKS = ("denoising", "completion")
CUE_MODES = ("all", "one")
AGGREGATES = ("per_repeat", "pooled")
CLASSIC_STARTS = ("cue", "sign")
CLASSIC_MODES = hopfield.SCHEDULES
PRECISIONS = ("float64", "float32")
MODELS = ("diffusion", "classic", "true")

MIXTURE_MODES = ("dense", "streaming", "sharded")


@dataclasses.dataclass(frozen=True)
class Table1Config:
  """Settings of seed 002's Table 1 (§7, App. A) plus the switches for its open choices.

  The defaults are the paper's stated settings (preset "paper"); preset "reproduce"
  changes the classical network's diagonal (see `PRESETS`).

  Attributes:
    d: pattern dimension.
    n_patterns: numbers of stored patterns, one table row each.
    tasks: subset of TASKS, in row order.
    theta: cue signal level θ of the denoising task (and the diffusion start).
    repeats: independent pattern sets per (task, N).
    beta, mhn_steps: modern Hopfield inverse temperature and number of updates.
    gamma, ode_steps, t_end: VP schedule, Euler steps and final time of the diffusion.
    completion_p: probability that a unit of the completion cue is zeroed.
    completion_theta: θ whose t_start the diffusion uses for completion cues (None: `theta`).
    cues: "all" (each stored pattern cued once) or "one" (one random pattern) per repeat.
    aggregate: "per_repeat" (mean of per-repeat correlations) or "pooled".
    classic_mode, classic_steps, classic_zero_diagonal, classic_start: classical Hopfield
      (defaults: 10 synchronous updates (Eq. 1) from the continuous cue, Hebbian W (Eq. 3)
      with §2.1's zero diagonal).
    precision: "float64" or "float32" arithmetic for the four memories (the random inputs
      are drawn in float32 and cast, so both precisions see the same cues).
    mixture_mode, chunk_size: how the MHN update and the exact score reduce over the bank
      ("dense", "streaming" in chunks, "sharded" over all devices; `assocmem.mixture`); the
      answer is the same, only the memory layout and speed change.
    seed: base PRNG seed.
  """
  d: int = 10
  n_patterns: tuple[int, ...] = (10, 20, 30)
  tasks: tuple[str, ...] = TASKS
  theta: float = 0.68
  repeats: int = 100
  beta: float = 5.0
  mhn_steps: int = 150
  gamma: float = 0.8
  ode_steps: int = 300
  t_end: float = samplers.DEFAULT_T_END
  completion_p: float = 0.5
  completion_theta: float | None = None
  cues: str = "all"
  aggregate: str = "per_repeat"
  classic_mode: str = "sync"
  classic_steps: int = 10
  classic_zero_diagonal: bool = True
  classic_start: str = "cue"
  precision: str = "float64"
  mixture_mode: str = "dense"
  chunk_size: int = 16
  seed: int = 0

  def __post_init__(self):
    _checks.check_int("d", self.d, 1)
    if not self.n_patterns:
      raise ValueError("n_patterns must name at least one number of patterns")
    for n in self.n_patterns:
      _checks.check_int("n_patterns", n, 1)
    if not self.tasks:
      raise ValueError("tasks must name at least one task")
    for task in self.tasks:
      _checks.check_choice("task", task, TASKS)
    _checks.check_open_unit("theta", self.theta)
    _checks.check_int("repeats", self.repeats, 1)
    _checks.check_positive("beta", self.beta)
    _checks.check_int("mhn_steps", self.mhn_steps, 1)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_int("ode_steps", self.ode_steps, 1)
    _checks.check_positive("t_end", self.t_end)
    _checks.check_unit_closed("completion_p", self.completion_p)
    if self.completion_theta is not None:
      _checks.check_open_unit("completion_theta", self.completion_theta)
    _checks.check_choice("cues", self.cues, CUE_MODES)
    _checks.check_choice("aggregate", self.aggregate, AGGREGATES)
    _checks.check_choice("classic_mode", self.classic_mode, CLASSIC_MODES)
    _checks.check_int("classic_steps", self.classic_steps, 1)
    _checks.check_choice("classic_start", self.classic_start, CLASSIC_STARTS)
    _checks.check_choice("precision", self.precision, PRECISIONS)
    _checks.check_choice("mixture_mode", self.mixture_mode, MIXTURE_MODES)
    _checks.check_int("chunk_size", self.chunk_size, 1)
    _checks.check_int("seed", self.seed, 0)
    t0 = min(-2.0 * math.log(self.start_theta(task)) / self.gamma for task in TASKS)  # no JAX at import
    if t0 <= self.t_end:
      raise ValueError(f"t_end must be below the diffusion start time {t0:.4g}, got {self.t_end}")

  def start_theta(self, task: str) -> float:
    """θ whose VP time t_start(θ) = −2 log θ / γ starts the diffusion for `task`."""
    _checks.check_choice("task", task, TASKS)
    if task == "completion" and self.completion_theta is not None:
      return self.completion_theta
    return self.theta

  def t_start(self, task: str) -> float:
    """Start time of the diffusion for `task`: `VPSDE.t_start` (seed 002, App. A) of `start_theta`.

    Evaluated eagerly in float64 (also when called while tracing), so that the JAX path and
    the NumPy reference start from the same Python float in either precision.
    """
    with jax.ensure_compile_time_eval(), jax.enable_x64(True):
      return float(VPSDE(self.gamma).t_start(self.start_theta(task)))

  def n_cues(self, n_patterns: int) -> int:
    return n_patterns if self.cues == "all" else 1


# Every preset names all the settings it depends on, so a change of the dataclass defaults
# cannot change a preset. See docs/reproduction.md, "Seed 002 — Table 1".
PRESETS: dict[str, Table1Config] = {
    # The paper's stated settings (§7, App. A, §2.1's null diagonal) at full size. The paper
    # gives no precision; float64 is not a departure from a stated setting.
    "paper": Table1Config(classic_zero_diagonal=True, precision="float64", repeats=100),
    # Reproduces every entry within 0.03: W = Σ_n y_n y_nᵀ *with* its diagonal (Eq. 3 as printed;
    # the null diagonal gives classic ≈ 0.38–0.48), and float64 (in float32 the many exactly tied
    # completion cues are broken by rounding noise, differently by the MHN and the diffusion,
    # which lowers the completion diffusion column by ~0.01–0.02).
    "reproduce": Table1Config(classic_zero_diagonal=False, precision="float64", repeats=100),
    # "reproduce" at half the repeats (largest gap 0.023 at seed 0); `make reproduce` runs it.
    "quick": Table1Config(classic_zero_diagonal=False, precision="float64", repeats=50),
}

PRESET_NOTES: dict[str, str] = {
    "paper": ("the paper's stated settings at full size (§2.1's zero-diagonal classical network, "
              "100 repeats); its classic column is expected 0.27–0.33 below the published one"),
    "reproduce": ("the variant that reproduces the published table at full size (Hebbian diagonal "
                  "kept, float64, 100 repeats); target: every entry within 0.03"),
    "quick": ("the reproducing variant (Hebbian diagonal kept, float64) at 50 repeats; "
              "fewer repeats add sampling noise to the 0.03 target"),
}


def classic_description(config: Table1Config) -> str:
  """One sentence naming the classical network a configuration runs (diagonal, schedule, start)."""
  if config.classic_zero_diagonal:
    weights = "Hebbian W = Σ_n y_n y_nᵀ with a zero diagonal (W_jj = 0, §2.1 as stated)"
  else:
    weights = "Hebbian W = Σ_n y_n y_nᵀ with its diagonal kept (W_jj = N, Eq. 3 as printed)"
  if config.classic_mode == "sync":
    schedule = f"{config.classic_steps} synchronous updates x ← sign(Wx) (Eq. 1)"
  else:
    schedule = (f"{config.classic_steps} asynchronous sweeps of x_j ← sign(W_j x) (Eq. 1), "
                "each in a fresh random order")
  start = "the continuous cue" if config.classic_start == "cue" else "the sign of the cue"
  return f"classical Hopfield network: {weights}, {schedule} from {start}"


def precision_description(config: Table1Config) -> str:
  """One phrase naming the arithmetic of a configuration."""
  note = "" if config.precision == "float64" else "; completion ties are broken by rounding noise"
  return f"{config.precision} arithmetic (the paper states none{note})"


def get_preset(name: str, **overrides: Any) -> Table1Config:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return _checks.replace_fields(PRESETS[name], overrides)
