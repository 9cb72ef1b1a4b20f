"""Settings of seed 002's Figure 1 (energy landscapes): the panels, their memories, the configuration
and its presets. The paper gives no coordinates or noise level for Figure 1; these are our choice."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from assocmem import _checks
from assocmem.sde import VPSDE

Array = jax.Array

PANELS = ("points", "segments", "semantic")
PANEL_TITLES = {
    "points": "(a) point memories",
    "segments": "(b) extended memories",
    "semantic": "(c) semantic memory",
}
PANEL_MEMORY_TYPES = {
    "points": "point-like: 5 points (Eq. 12)",
    "segments": "extended: 4 line segments, uniform density on each (Eq. 23)",
    "semantic": "semantic: 1 curve across the window, uniform in arc length (Eq. 24)",
}

# Memories of the three panels, in the window [-2.5, 2.5]².
POINTS = ((-1.4, 1.2), (1.3, 1.4), (0.3, -0.2), (-1.2, -1.5), (1.6, -1.3))
SEGMENTS = (
    ((-2.0, 1.0), (-0.6, 1.8)),
    ((0.6, 0.2), (1.8, 1.6)),
    ((-1.6, -1.6), (0.2, -0.7)),
    ((1.0, -0.8), (1.6, -2.0)),
)


def semantic_curve(s: Array) -> Array:
  """The curve of panel (c): a wave across the window, y(s) = (4.4 s − 2.2, sin-bumps)."""
  return jnp.stack([4.4 * s - 2.2, 1.1 * jnp.sin(2.5 * jnp.pi * s) - 0.3 * jnp.cos(5.0 * jnp.pi * s)])


@dataclasses.dataclass(frozen=True)
class LandscapeConfig:
  """Settings of Figure 1.

  Attributes:
    t: diffusion time of the VP process (θ_t = exp(−γt/2), v_t = 1 − θ_t²).
    gamma: VP schedule γ (seed 002, App. A: 0.8).
    extent: half-width of the square window [−extent, extent]².
    n_grid: grid points per axis.
    n_segments: segments of the polyline that carries the semantic curve's density.
    stream_density: matplotlib streamplot density.
  """
  t: float = 0.08
  gamma: float = 0.8
  extent: float = 2.5
  n_grid: int = 241
  n_segments: int = 512
  stream_density: float = 1.3

  def __post_init__(self):
    _checks.check_positive("t", self.t)
    _checks.check_positive("gamma", self.gamma)
    _checks.check_positive("extent", self.extent)
    _checks.check_int("n_grid", self.n_grid, 2)
    _checks.check_int("n_segments", self.n_segments, 1)
    _checks.check_positive("stream_density", self.stream_density)


PRESETS: dict[str, LandscapeConfig] = {
    "quick": LandscapeConfig(n_grid=101, stream_density=1.0),
    "paper": LandscapeConfig(),
}


def get_preset(name: str, **overrides: Any) -> LandscapeConfig:
  """The named preset with `overrides` applied (raises ValueError naming `preset`)."""
  _checks.check_choice("preset", name, tuple(PRESETS))
  return _checks.replace_fields(PRESETS[name], overrides)


def t_for_theta(theta: float, gamma: float = 0.8) -> float:
  """VP time with signal level θ: t = −2 log θ / γ (seed 002, App. A)."""
  return float(VPSDE(gamma).t_start(theta))
