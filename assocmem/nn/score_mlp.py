"""The score network of seed 002 (Ambrogioni 2024, §7 and App. A), in Flax linen.

A three-layer perceptron s(x, θ_t; W) that predicts the noise δ added to a pattern (Eq. 27):

  h₁ = relu(W₁ [x; θ_t] + b₁)        W₁: (d + 1) → H
  h₂ = relu(W₂ [h₁; θ_t] + b₂)       W₂: (H + 1) → H
  δ̂  = W₃ [h₂; θ_t] + b₃             W₃: (H + 1) → d

"The time variable t was embedded by appending the value θ_t to the activations of each layer,
including the input, hidden, and output layers. This means that each weight matrix acted on a
n + 1-dimensional feature space" (§7). H = 750 for Figure 2, 80·d for the capacity experiments
(App. A); θ_t = exp(−γ t / 2) is the VP signal level.

Each (n + 1) × m weight matrix is stored as two parameters, `kernel` (n, m) acting on the
activations and `theta_kernel` (m,), its row acting on θ_t: the same matrix, but the product is
h @ kernel + θ_t · theta_kernel, with no concatenation and no odd-sized (n + 1) copy of h or W in
the hot loop. Both are initialised as LeCun-normal rows of the (n + 1) × m matrix (fan-in n + 1).

The learned score is ∇ₓ log p_t(x) ≈ −δ̂(x, θ_t) / √(1 − θ_t²) (Eq. 10 for the VP process;
the denominator of Eqs. 28–29): `learned_score_fn(sde)` returns it as an explicit-state score function
`score_fn(params, x, t)`, so the core samplers run a trained network unchanged, and a stack of
parameter pytrees (an ensemble) samples under one `jax.vmap`.

Every trained network in assocmem is a `flax.linen` module: `init` returns the parameters as a
plain pytree (nested dicts of arrays), which is what `jax.vmap` maps over to train and sample an
ensemble, what optax updates, what orbax checkpoints, and what the samplers take as `state`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from assocmem import _checks
from assocmem.sde import check_sde

Array = jax.Array
Params = Mapping[str, Any]
ScoreFn = Callable[[Params, Array, Array], Array]

LAYERS = ("input", "hidden", "output")
_TRUNC_STD = 0.87962566103423978   # std of the standard normal truncated to [−2, 2] (as LeCun-normal)


def _row_init(fan_in: int) -> Callable[[Array, tuple[int, ...], Any], Array]:
  """LeCun-normal initialiser of rows of a weight matrix whose fan-in is `fan_in` (= n + 1)."""
  std = 1.0 / math.sqrt(fan_in) / _TRUNC_STD

  def init(key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
    return std * jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)

  return init


class ThetaDense(nn.Module):
  """Dense layer on the features [h; θ]: h @ kernel + θ · theta_kernel + bias ((n + 1) → m weights).

  Attributes:
    features: output width m.
  """
  features: int

  @nn.compact
  def __call__(self, h: Array, theta: Array) -> Array:
    """h (..., n), θ (...) or scalar → (..., m)."""
    n = h.shape[-1]
    init = _row_init(n + 1)
    kernel = self.param("kernel", init, (n, self.features), jnp.float32)
    theta_kernel = self.param("theta_kernel", init, (self.features,), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
    theta = jnp.asarray(theta, h.dtype)
    return h @ kernel.astype(h.dtype) + theta[..., None] * theta_kernel.astype(h.dtype) + bias.astype(h.dtype)


class ScoreMLP(nn.Module):
  """Noise-prediction network δ̂ = s(x, θ_t; W) of seed 002 (§7, App. A; Eq. 27).

  Three fully connected layers, ReLU after the first two, θ_t appended to the input of each.

  Attributes:
    dim: pattern dimension d (input and output width).
    hidden: width H of both hidden layers (750 in Figure 2; 80·d for capacity).
  """
  dim: int
  hidden: int = 750

  def __post_init__(self):
    _checks.check_int("dim", self.dim, 1)
    if isinstance(self.hidden, bool) or not isinstance(self.hidden, int) or self.hidden < 1:
      raise ValueError(f"hidden (the hidden width) must be a positive integer, got {self.hidden!r}")
    super().__post_init__()

  @nn.compact
  def __call__(self, x: Array, theta: Array) -> Array:
    """Predicted noise δ̂ (..., d) of states x (..., d) at signal levels θ_t (...) (or a scalar)."""
    if x.shape[-1] != self.dim:
      raise ValueError(f"x has dimension {x.shape[-1]} but the network's dim is {self.dim}")
    h = nn.relu(ThetaDense(self.hidden, name="input")(x, theta))
    h = nn.relu(ThetaDense(self.hidden, name="hidden")(h, theta))
    return ThetaDense(self.dim, name="output")(h, theta)

  def init_params(self, key: Array) -> dict:
    """Initial float32 parameters (a plain pytree: {layer: {kernel, theta_kernel, bias}}) from one key."""
    _checks.check_key("key", key)
    return _jitted_init(self)(key)

  def predict_noise(self, params: Params, x: Array, theta: Array) -> Array:
    """δ̂(x, θ) of one state x (d,) at signal level θ (scalar); batch with `jax.vmap`."""
    return self.apply({"params": params}, x, theta)

  def param_count(self) -> int:
    """Number of scalars: (d + 1)·H + H + (H + 1)·H + H + (H + 1)·d + d."""
    d, h = self.dim, self.hidden
    return (d + 1) * h + h + (h + 1) * h + h + (h + 1) * d + d


@functools.lru_cache(maxsize=32)
def _jitted_init(model: ScoreMLP) -> Callable[[Array], dict]:
  """One compiled initialiser per architecture (eager Flax init dispatches op by op)."""
  x = jnp.zeros((model.dim,), jnp.float32)
  return jax.jit(lambda key: model.init(key, x, jnp.ones((), jnp.float32))["params"])


def model_from_params(params: Params) -> ScoreMLP:
  """The `ScoreMLP` whose parameters these are (dim and hidden read off the shapes; static)."""
  try:
    d, h = params["input"]["kernel"].shape[-2:]
    out = params["output"]["kernel"].shape[-1]
  except (KeyError, TypeError, AttributeError, ValueError) as err:
    raise ValueError("params must be ScoreMLP parameters ({'input', 'hidden', 'output'} layers with "
                     f"'kernel', 'theta_kernel', 'bias'), got {type(params).__name__}") from err
  if out != d:
    raise ValueError(f"params map dimension {d} to {out}; a ScoreMLP maps d to d")
  return ScoreMLP(dim=int(d), hidden=int(h))


def learned_score_fn(sde: Any, model: ScoreMLP | None = None) -> ScoreFn:
  """The learned score as an explicit-state score function `score_fn(params, x, t)` (seed 002, Eqs. 10, 28–29).

    ∇ₓ log p_t(x) ≈ −δ̂(x, θ_t) / √v_t,   θ_t = sde.theta(t), v_t = sde.variance(t) (= 1 − θ_t² for VP).

  Args:
    sde: the forward SDE the network was trained for (VP: `assocmem.VPSDE(γ)`); training samples θ
      directly, so any γ may be used at sampling time.
    model: the network; default: read off the parameters' shapes at trace time.
  Returns:
    score_fn(params, x (d,), t) -> (d,), for `ode_sample` / `em_sample` with `state=params`.
  """
  check_sde(sde)
  if model is not None and not isinstance(model, ScoreMLP):
    raise ValueError(f"model must be a ScoreMLP or None, got {type(model).__name__}")

  def score_fn(params: Params, x: Array, t: Array) -> Array:
    net = model if model is not None else model_from_params(params)
    _checks.check_vector_against("x", x, net.dim, "the network's dim")
    _checks.debug_check_finite("x", x)
    _checks.check_time("t", t)
    t = jnp.asarray(t, x.dtype)
    return -net.predict_noise(params, x, sde.theta(t)) / jnp.sqrt(sde.variance(t))

  return score_fn
