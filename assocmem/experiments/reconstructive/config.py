"""Settings of the reconstructive-memory demo (seed 002, §6.1, Eq. 25), presets and validation."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from assocmem import _checks

CSV_HEADER = ("setting", "semantic_weight", "dim", "core_dim", "memory", "cues", "core_recovery", "expected_recovery",
              "free_ks_max", "free_ks_p_min", "free_mean_err", "free_std_ratio")


@dataclasses.dataclass(frozen=True)
class ReconstructiveConfig:
  """Recall from a reconstructive memory (seed 002, Eq. 25) with the exact score.

  Two settings: "demo" (D = 2, W = 1: three stored cores on the first coordinate, a three-component φ
  whose first coordinate predicts the second) and "random" (D = `dim`, W = `core_dim`, `n_memories`
  random orthonormal core maps and cores, a `n_phi`-component random φ). For every memory n,
  `n_cues` cues θ y + √(1 − θ²) ε (θ = `cue_theta`) of fresh events y of memory n (core ξ_n, free
  coordinates from φ(· | ξ_n)) are recalled by Euler–Maruyama (`n_steps`, geometric grid, to
  `t_end`). A recall recovers the core when ‖A_n x − θ_end ξ_n‖ < `core_tol`; the recovered recalls'
  free coordinates are compared with exact samples of φ(· | ξ_n) diffused to t_end (`n_reference`).

  Every setting runs at each of `semantic_weights` (w_φ, the weight of Eq. 25's integral term): at
  w_φ = 0 every recall keeps a core; at w_φ > 0 some cues are recalled as semantic samples instead,
  and the recalls that keep the core are a selection (their free coordinates carry that selection).

  Attributes: seed, gamma (VP SDE), semantic_weights, cue_theta,
  n_cues, n_steps, t_end, core_tol, n_reference, dim, core_dim, n_memories, n_phi, n_replays (demo
  figure: replays from the prior).
  """
  seed: int = 0
  gamma: float = 0.8
  semantic_weights: tuple[float, ...] = (0.0, 0.1)
  cue_theta: float = 0.9
  n_cues: int = 300
  n_steps: int = 150
  t_end: float = 1e-3
  core_tol: float = 0.15
  n_reference: int = 4000
  dim: int = 8
  core_dim: int = 3
  n_memories: int = 3
  n_phi: int = 4
  n_replays: int = 600

  def __post_init__(self):
    if not _checks.is_int(self.seed) or self.seed < 0:
      raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
    for name in ("n_cues", "n_steps", "n_reference", "core_dim", "n_memories", "n_phi", "n_replays"):
      if not _checks.is_int(getattr(self, name)) or getattr(self, name) < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
    if not _checks.is_int(self.dim) or self.dim < 2:
      raise ValueError(f"dim must be an integer >= 2, got {self.dim!r}")
    if not self.core_dim < self.dim:
      raise ValueError(f"core_dim must be below dim (W < D), got core_dim={self.core_dim}, dim={self.dim}")
    for name in ("gamma", "t_end", "core_tol"):
      v = getattr(self, name)
      if not _checks.is_number(v) or not v > 0:
        raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    if not _checks.is_number(self.cue_theta) or not 0 < self.cue_theta < 1:
      raise ValueError(f"cue_theta must lie in (0, 1), got {self.cue_theta!r}")
    if not isinstance(self.semantic_weights, tuple) or not self.semantic_weights:
      raise ValueError(f"semantic_weights must be a non-empty tuple of numbers in [0, 1), got {self.semantic_weights!r}")
    for w in self.semantic_weights:
      if not _checks.is_number(w) or not 0 <= w < 1:
        raise ValueError(f"semantic_weights must hold numbers in [0, 1), got {w!r}")
    if not self.t_end < -2.0 * math.log(self.cue_theta) / self.gamma:
      raise ValueError(f"t_end must be below the cue's time −2 log(cue_theta)/gamma, got {self.t_end}")


PRESETS: dict[str, ReconstructiveConfig] = {
    "quick": ReconstructiveConfig(),
    "paper": ReconstructiveConfig(n_cues=4000, n_steps=1000, n_reference=50_000, dim=32, core_dim=8,
                                  n_memories=10, n_phi=8, n_replays=5000,
                                  semantic_weights=(0.0, 0.1, 0.3)),
}


def get_preset(name: str, **overrides: Any) -> ReconstructiveConfig:
  """The preset `name` with `overrides` (ValueError naming a bad preset or setting)."""
  if name not in PRESETS:
    raise ValueError(f"preset must be one of {tuple(PRESETS)}, got {name!r}")
  unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(ReconstructiveConfig)})
  if unknown:
    raise ValueError(f"unknown reconstructive settings {unknown}")
  return _checks.replace_fields(PRESETS[name], overrides)
