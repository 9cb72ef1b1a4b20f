"""Forward noising SDEs as an open protocol, and the two of seed 002: VP and VE.

Time runs forward from data (t = 0) to noise, as in the diffusion literature; seed 002 writes
the same processes in reversed time (data at t = T), so its β(t)⁻¹ = (T − t)σ² is our VE
variance σ²t. See docs/reproduction.md.

Any object with the five methods of `SDE` works with every score and sampler in assocmem,
unedited: the exact scores use the Gaussian transition kernel x_t | y ~ N(θ_t y, v_t I) that
every linear SDE dx = f(t) x dt + g(t) dW with scalar schedules has (seed 002 Eqs. 15–17 with
a quadratic potential), and the samplers use f and g. `VPSDE` and `VESDE` are pytrees whose
parameters may be traced (vmap over γ works); they reject invalid values when built.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax
import jax.numpy as jnp

from assocmem import _checks

Array = jax.Array

_METHODS = ("theta", "variance", "drift", "diffusion", "prior_sampling")


@runtime_checkable
class SDE(Protocol):
  """The protocol of a forward SDE dx = f(x, t) dt + g(t) dW with a Gaussian kernel N(θ_t y, v_t I)."""

  def theta(self, t: Array) -> Array:
    """Signal level θ_t of the kernel mean θ_t y."""

  def variance(self, t: Array) -> Array:
    """Kernel variance v_t (> 0 for t > 0)."""

  def drift(self, x: Array, t: Array) -> Array:
    """f(x, t), (d,) → (d,)."""

  def diffusion(self, t: Array) -> Array:
    """g(t), a scalar."""

  def prior_sampling(self, key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
    """Samples of the t → ∞ (or t = T) marginal."""


def check_sde(sde: Any, name: str = "sde") -> Any:
  """Raises a ValueError naming `name` unless `sde` has the methods of the `SDE` protocol."""
  missing = [m for m in _METHODS if not callable(getattr(sde, m, None))]
  if missing:
    raise ValueError(f"{name} must be an SDE object (e.g. assocmem.VPSDE(0.8)) with methods "
                     f"{', '.join(_METHODS)}; got {sde!r}, which lacks {', '.join(missing)}")
  return sde


def check_kernel_sde(sde: Any, name: str = "sde") -> Any:
  """Raises a ValueError naming `name` unless `sde` has `theta(t)` and `variance(t)` (all the
  closed-form densities of `extended`, `semantic`, `quadrature` and `reconstructive` need)."""
  missing = [m for m in ("theta", "variance") if not callable(getattr(sde, m, None))]
  if missing:
    raise ValueError(f"{name} must be an SDE object (e.g. assocmem.VPSDE(0.8)) with methods theta(t) "
                     f"and variance(t); got {sde!r}, which lacks {', '.join(missing)}")
  return sde


def _check_param(name: str, value: Any) -> Any:
  """A positive scalar parameter: Python number or 0-d array; concrete values are range-checked."""
  _checks.check_scalar_number(name, value)
  _checks.check_positive(name, value)
  return value


class _ScalarSDE:
  """Shared pytree plumbing: one scalar parameter, validated in __init__, not on unflatten."""

  _param: str = ""

  def tree_flatten(self):
    return (getattr(self, self._param),), None

  @classmethod
  def tree_unflatten(cls, aux, children):
    del aux
    obj = object.__new__(cls)
    object.__setattr__(obj, cls._param, children[0])
    return obj

  def __setattr__(self, name, value):
    raise AttributeError(f"{type(self).__name__} is immutable")

  def __eq__(self, other):
    if type(self) is not type(other):
      return False
    a, b = getattr(self, self._param), getattr(other, self._param)
    if a is b:
      return True
    if _checks.is_concrete(a) and _checks.is_concrete(b):
      return bool(jnp.all(jnp.asarray(a) == jnp.asarray(b)))
    return False

  def __hash__(self):
    v = getattr(self, self._param)
    return hash((type(self).__name__, float(v) if _checks.is_concrete(v) else id(v)))

  def __repr__(self):
    v = getattr(self, self._param)
    return f"{type(self).__name__}({self._param}={float(v) if _checks.is_concrete(v) else v})"


@jax.tree_util.register_pytree_node_class
class VPSDE(_ScalarSDE):
  """VP SDE with constant schedule γ: dx = −½γ x dt + √γ dW (seed 002, Eq. A1 / Eq. 26).

  Marginal: x_t | y ~ N(θ_t y, (1 − θ_t²) I) with θ_t = exp(−γ t / 2).
  Seed 002 §7 uses γ = 1 (α = ½, σ = 1); App. A uses γ = 0.8.
  """
  _param = "gamma"

  def __init__(self, gamma: float | Array = 0.8):
    object.__setattr__(self, "gamma", _check_param("gamma", gamma))

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
    return jnp.sqrt(self.gamma) * jnp.ones_like(jnp.asarray(t, jnp.result_type(float)))

  def t_start(self, theta: float | Array) -> Array:
    """Time at which the signal level is θ: t = −2 log θ / γ (seed 002, App. A)."""
    _checks.check_open_unit("theta", theta)
    return -2.0 * jnp.log(theta) / self.gamma

  def prior_sampling(self, key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
    """Samples the t → ∞ limit N(0, I)."""
    _checks.check_key("key", key)
    return jax.random.normal(key, shape, dtype)


@jax.tree_util.register_pytree_node_class
class VESDE(_ScalarSDE):
  """VE SDE dx = σ dW (seed 002, Eq. 6): x_t | y ~ N(y, σ² t I).

  Seed 002's reversed-time form has variance (T − t)σ²; here t counts from the data.
  """
  _param = "sigma"

  def __init__(self, sigma: float | Array = 1.0):
    object.__setattr__(self, "sigma", _check_param("sigma", sigma))

  def variance(self, t: Array) -> Array:
    """σ² t."""
    return self.sigma**2 * t

  def theta(self, t: Array) -> Array:
    """The VE process keeps the signal: θ_t = 1."""
    return jnp.ones_like(jnp.asarray(t, jnp.result_type(float)))

  def marginal_prob(self, y: Array, t: Array) -> tuple[Array, Array]:
    """Mean y and standard deviation σ√t of x_t | y."""
    return y, self.sigma * jnp.sqrt(t)

  def drift(self, x: Array, t: Array) -> Array:
    """f = 0."""
    del t
    return jnp.zeros_like(x)

  def diffusion(self, t: Array) -> Array:
    """g(t) = σ."""
    return self.sigma * jnp.ones_like(jnp.asarray(t, jnp.result_type(float)))

  def t_for_std(self, std: float | Array) -> Array:
    """Time whose noise standard deviation is `std`: t = std² / σ²."""
    _checks.check_positive("std", std)
    return (std / self.sigma) ** 2

  def prior_sampling(self, key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32,
                     t: float = 1.0) -> Array:
    """Samples N(0, σ² t I), the marginal at time t of data at the origin (default t = 1)."""
    _checks.check_key("key", key)
    return self.sigma * jnp.sqrt(t) * jax.random.normal(key, shape, dtype)
