"""Forward noising SDEs: variance preserving (VP) and variance exploding (VE).

Time runs forward from data (t = 0) to noise, as in the diffusion literature;
seed 002 writes the same processes in reversed time (data at t = T), so its
β(t)⁻¹ = (T − t)σ² is our VE variance σ²t. See docs/reproduction.md.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from assocmem import _checks

Array = jax.Array


def _check_static_positive(name: str, value) -> None:
  if isinstance(value, (int, float)) and not isinstance(value, bool):
    if not math.isfinite(value) or value <= 0:
      raise ValueError(f"{name} must be a finite number > 0, got {value}")


@dataclasses.dataclass(frozen=True)
class VPSDE:
  """VP SDE with constant schedule γ: dx = −½γ x dt + √γ dW (seed 002, Eq. A1 / Eq. 26).

  Marginal: x_t | y ~ N(θ_t y, (1 − θ_t²) I) with θ_t = exp(−γ t / 2).
  Seed 002 §7 uses γ = 1 (α = ½, σ = 1); App. A uses γ = 0.8.
  """
  gamma: float = 0.8

  def __post_init__(self):
    _check_static_positive("gamma", self.gamma)

  def theta(self, t: Array) -> Array:
    """Signal level θ_t = exp(−γ t / 2) (seed 002, App. A)."""
    return jnp.exp(-0.5 * self.gamma * t)

  def variance(self, t: Array) -> Array:
    """Noise variance 1 − θ_t² = −expm1(−γ t), accurate as t → 0."""
    return -jnp.expm1(-self.gamma * t)

  def marginal_prob(self, y: Array, t: Array) -> tuple[Array, Array]:
    """Mean θ_t y and standard deviation sqrt(1 − θ_t²) of x_t | y."""
    return self.theta(t) * y, jnp.sqrt(self.variance(t))

  def drift(self, x: Array, t: Array) -> Array:
    """f(x, t) = −½γ x."""
    del t
    return -0.5 * self.gamma * x

  def diffusion(self, t: Array) -> Array:
    """g(t) = √γ."""
    return jnp.sqrt(self.gamma) * jnp.ones_like(t)

  def t_start(self, theta: float | Array) -> Array:
    """Time at which the signal level is θ: t = −2 log θ / γ (seed 002, App. A)."""
    _checks.check_open_unit("theta", theta)
    return -2.0 * jnp.log(theta) / self.gamma

  def prior_sampling(self, key: Array, shape: tuple[int, ...], dtype=jnp.float32) -> Array:
    """Samples the t → ∞ limit N(0, I)."""
    return jax.random.normal(key, shape, dtype)


@dataclasses.dataclass(frozen=True)
class VESDE:
  """VE SDE dx = σ dW (seed 002, Eq. 6): x_t | y ~ N(y, σ² t I).

  Seed 002's reversed-time form has variance (T − t)σ²; here t counts from the data.
  """
  sigma: float = 1.0

  def __post_init__(self):
    _check_static_positive("sigma", self.sigma)

  def variance(self, t: Array) -> Array:
    """σ² t."""
    return self.sigma**2 * t

  def theta(self, t: Array) -> Array:
    """The VE process keeps the signal: θ_t = 1."""
    return jnp.ones_like(t)

  def marginal_prob(self, y: Array, t: Array) -> tuple[Array, Array]:
    return y, self.sigma * jnp.sqrt(t)

  def drift(self, x: Array, t: Array) -> Array:
    del t
    return jnp.zeros_like(x)

  def diffusion(self, t: Array) -> Array:
    return self.sigma * jnp.ones_like(t)

  def t_for_std(self, std: float | Array) -> Array:
    """Time whose noise standard deviation is `std`: t = std² / σ²."""
    _checks.check_positive("std", std)
    return (std / self.sigma) ** 2

  def prior_sampling(self, key: Array, shape: tuple[int, ...], t: float = 1.0,
                     dtype=jnp.float32) -> Array:
    return self.sigma * jnp.sqrt(t) * jax.random.normal(key, shape, dtype)


SDE = VPSDE | VESDE
