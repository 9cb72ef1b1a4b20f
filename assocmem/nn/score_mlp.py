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

Two variants (`ScoreMLP.variant`, `VARIANTS`); "paper" (the default, every seed-002 experiment)
is the network above. "residual" keeps the same three θ-appended weight matrices but normalises
before each ReLU and adds the hidden layer as a residual branch (pre-LayerNorm, as in transformer
blocks):

  h₀ = W₁ [x; θ_t] + b₁
  h₁ = h₀ + W₂ [relu(LN₂(h₀)); θ_t] + b₂
  δ̂  = σ_t (x − θ_t m) / (θ_t² v + σ_t²) + W₃ [relu(LN₃(h₁)); θ_t] + b₃,   σ_t = √(1 − θ_t²)

A LayerNorm centres every pre-activation over the units, so about half of each layer's ReLUs are
positive for every input and no unit can die. The fixed skip is the noise prediction of a diagonal
Gaussian N(m, diag v) fitted to the stored patterns (the best per-unit linear prediction of δ from
x = θ y + σ δ): m and v (`data_mean`, `data_var`, per unit) are parameters that training never
changes (their gradient is stopped); `fit` sets them from the patterns (`with_data_statistics`;
at init m = 0, v = 1, the prior N(0, I), where the skip is σ x). The network learns the correction
to that Gaussian's score. Without the skip the LayerNorms make δ̂ bounded in x, the score has no
restoring force far from the data, and reverse-SDE samples run off to |x| ≈ 60; with the prior's
skip only (m = 0, v = 1) the network must still learn every constant background pixel of an image,
whose noise (x + θ)/σ grows like 1/σ. The paper's network loses its second hidden layer to
dying ReLUs at d = 784 with Adam at 1e-3 (`alive_fraction`; docs/reproduction.md), which is why
it "barely learns" on images; the residual variant trains at 1e-3 there.

"residual_cov" is the same network with the skip of a full-covariance Gaussian N(m, Σ),
Σ = U diag(λ) Uᵀ (`data_basis` U, `data_eigvals` λ, fixed like m):

  skip = σ_t (θ_t² Σ + σ_t² I)⁻¹ (x − θ_t m) = σ_t U [Uᵀ(x − θ_t m) / (θ_t² λ + σ_t²)],

the exact noise prediction E[δ | x] for Gaussian data (the Wiener filter), so the network learns
only what is not Gaussian about the patterns (two d × d products more per evaluation).

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
VARIANTS = ("paper", "residual", "residual_cov", "unit_mixture")
HIDDEN_LAYERS = ("input", "hidden")   # the layers whose ReLU units `alive_fraction` counts
_TRUNC_STD = 0.87962566103423978   # std of the standard normal truncated to [−2, 2] (as LeCun-normal)


def _identity_init(key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
  del key
  return jnp.eye(shape[0], dtype=dtype)


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
    variant: "paper" (default; the network of §7), "residual" (the same three θ-appended
      matrices, LayerNorm before each ReLU, the hidden layer as a residual branch and a fixed
      diagonal-Gaussian noise prediction added to the output; adds the LayerNorms' 4·H scale and
      bias parameters, `norm_hidden` and `norm_output`, and `data_mean`, `data_var`) or
      "residual_cov" (the same with a full-covariance Gaussian skip: `data_mean`, `data_basis`
      (d, d) and `data_eigvals` (d,) in place of `data_var`).
  """
  dim: int
  hidden: int = 750
  variant: str = "paper"
  components: int = 4

  def __post_init__(self):
    _checks.check_int("dim", self.dim, 1)
    if isinstance(self.hidden, bool) or not isinstance(self.hidden, int) or self.hidden < 1:
      raise ValueError(f"hidden (the hidden width) must be a positive integer, got {self.hidden!r}")
    if self.variant not in VARIANTS:
      raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
    if isinstance(self.components, bool) or not isinstance(self.components, int) or self.components < 2:
      raise ValueError(f"components (mixture components per unit) must be an integer >= 2, got {self.components!r}")
    super().__post_init__()

  @property
  def output_width(self) -> int:
    """Width of the output layer: d (Eq. 27's δ̂, seed 002 §7), or d·K (the per-unit mixture logits
    from which δ̂ is computed) for "unit_mixture"."""
    return self.dim * self.components if self.variant == "unit_mixture" else self.dim

  @nn.compact
  def __call__(self, x: Array, theta: Array, return_hidden: bool = False) -> Array | tuple[Array, tuple[Array, Array]]:
    """Predicted noise δ̂ (..., d) of states x (..., d) at signal levels θ_t (...) (or a scalar).

    With `return_hidden`, (δ̂, (a₁, a₂)): also the activations (..., H) of the two layers of ReLU
    units (`HIDDEN_LAYERS`: relu of the input layer's and of the hidden layer's pre-activations, or
    of their LayerNorms in the residual variant).
    """
    if x.shape[-1] != self.dim:
      raise ValueError(f"x has dimension {x.shape[-1]} but the network's dim is {self.dim}")
    if self.variant == "paper":
      a1 = nn.relu(ThetaDense(self.hidden, name="input")(x, theta))
      a2 = nn.relu(ThetaDense(self.hidden, name="hidden")(a1, theta))
    else:
      h0 = ThetaDense(self.hidden, name="input")(x, theta)
      a1 = nn.relu(nn.LayerNorm(name="norm_hidden")(h0))
      h1 = h0 + ThetaDense(self.hidden, name="hidden")(a1, theta)
      a2 = nn.relu(nn.LayerNorm(name="norm_output")(h1))
    out = ThetaDense(self.output_width, name="output")(a2, theta)
    if self.variant == "unit_mixture":
      out = self._unit_mixture(x, theta, out.reshape(out.shape[:-1] + (self.dim, self.components)))
    elif self.variant != "paper":
      mean = jax.lax.stop_gradient(self.param("data_mean", nn.initializers.zeros_init(), (self.dim,), jnp.float32))
      theta = jnp.asarray(theta, x.dtype)[..., None]
      sigma2 = jnp.maximum(1.0 - theta * theta, 0.0)
      centred = x - theta * mean
      if self.variant == "residual":
        var = jax.lax.stop_gradient(self.param("data_var", nn.initializers.ones_init(), (self.dim,), jnp.float32))
        out = out + jnp.sqrt(sigma2) * centred / (theta * theta * var + sigma2)
      else:
        # Full covariance Σ = U diag(λ) Uᵀ: σ (θ²Σ + σ²I)⁻¹ (x − θm) = σ U [Uᵀ(x − θm) / (θ²λ + σ²)].
        basis = jax.lax.stop_gradient(self.param("data_basis", _identity_init, (self.dim, self.dim), jnp.float32))
        eig = jax.lax.stop_gradient(self.param("data_eigvals", nn.initializers.ones_init(), (self.dim,), jnp.float32))
        coords = centred @ basis.astype(x.dtype)
        out = out + jnp.sqrt(sigma2) * ((coords / (theta * theta * eig + sigma2)) @ basis.T.astype(x.dtype))
    return (out, (a1, a2)) if return_hidden else out

  def _unit_mixture(self, x: Array, theta: Array, logits: Array) -> Array:
    """E[δ | x] when unit i's clean value has the prior Σ_k π_ik N(v_k, τ_k²), π_i = softmax(logits_i + log π).

    x (..., d), θ (...) or scalar, logits (..., d, K) → δ̂ (..., d). Each component gives
    x_i | k ~ N(θ v_k, s_k), s_k = θ²τ_k² + σ²; the posterior weight of k is
    w_ik ∝ π_ik N(x_i; θ v_k, s_k), and within k, E[δ_i | x_i, k] = σ (x_i − θ v_k) / s_k.
    """
    k = self.components
    means = jax.lax.stop_gradient(self.param("data_means", nn.initializers.zeros_init(), (k,), jnp.float32))
    variances = jax.lax.stop_gradient(self.param("data_vars", nn.initializers.ones_init(), (k,), jnp.float32))
    log_weights = jax.lax.stop_gradient(self.param("data_log_weights", nn.initializers.constant(-math.log(k)),
                                                   (k,), jnp.float32))
    theta = jnp.asarray(theta, x.dtype)[..., None, None]
    sigma2 = jnp.maximum(1.0 - theta * theta, 0.0)
    s = theta * theta * variances.astype(x.dtype) + sigma2
    r = x[..., None] - theta * means.astype(x.dtype)
    w = jax.nn.softmax(logits + log_weights.astype(x.dtype) - 0.5 * jnp.log(s) - 0.5 * r * r / s, axis=-1)
    return jnp.sum(w * (jnp.sqrt(sigma2) * r / s), axis=-1)

  def init_params(self, key: Array) -> dict:
    """Initial float32 parameters (a plain pytree: {layer: {kernel, theta_kernel, bias}}, plus
    {norm_hidden, norm_output: {scale, bias}}, data_mean (d,) = 0 and data_var (d,) = 1 for the
    residual variant, data_mean = 0, data_basis (d, d) = I and data_eigvals (d,) = 1 for
    "residual_cov": the prior N(0, I) either way) from one key."""
    _checks.check_key("key", key)
    return _jitted_init(self)(key)

  def predict_noise(self, params: Params, x: Array, theta: Array) -> Array:
    """δ̂(x, θ) of one state x (d,) at signal level θ (scalar); batch with `jax.vmap`."""
    return self.apply({"params": params}, x, theta)

  def hidden_activations(self, params: Params, x: Array, theta: Array) -> tuple[Array, Array]:
    """(a₁, a₂), each (..., H): the ReLU units' activations of states x (..., d) at θ (...)."""
    return self.apply({"params": params}, x, theta, True)[1]

  def param_count(self) -> int:
    """Number of scalars: (d + 1)·H + H + (H + 1)·H + H + (H + 1)·o + o, o = `output_width` (+ 4·H + 2·d
    for "residual", + 4·H + d² + 2·d for "residual_cov", + 4·H + 3·K for "unit_mixture")."""
    d, h, o = self.dim, self.hidden, self.output_width
    n = (d + 1) * h + h + (h + 1) * h + h + (h + 1) * o + o
    extra = {"paper": 0, "residual": 4 * h + 2 * d, "residual_cov": 4 * h + d * d + 2 * d,
             "unit_mixture": 4 * h + 3 * self.components}
    return n + extra[self.variant]


@functools.lru_cache(maxsize=32)
def _jitted_init(model: ScoreMLP) -> Callable[[Array], dict]:
  """One compiled initialiser per architecture (eager Flax init dispatches op by op)."""
  x = jnp.zeros((model.dim,), jnp.float32)
  return jax.jit(lambda key: model.init(key, x, jnp.ones((), jnp.float32))["params"])


def model_from_params(params: Params) -> ScoreMLP:
  """The `ScoreMLP` whose parameters these are (dim and hidden read off the shapes, the variant off
  the presence of LayerNorm parameters; static)."""
  try:
    d, h = params["input"]["kernel"].shape[-2:]
    out = params["output"]["kernel"].shape[-1]
  except (KeyError, TypeError, AttributeError, ValueError) as err:
    raise ValueError("params must be ScoreMLP parameters ({'input', 'hidden', 'output'} layers with "
                     f"'kernel', 'theta_kernel', 'bias'), got {type(params).__name__}") from err
  if "data_log_weights" in params:
    k = params["data_log_weights"].shape[-1]
    if out != d * k:
      raise ValueError(f"unit_mixture params have {k} components but an output layer of width {out}, not {d * k}")
    return ScoreMLP(dim=int(d), hidden=int(h), variant="unit_mixture", components=int(k))
  if out != d:
    raise ValueError(f"params map dimension {d} to {out}; a ScoreMLP maps d to d")
  variant = ("residual_cov" if "data_basis" in params else "residual") if "norm_hidden" in params else "paper"
  return ScoreMLP(dim=int(d), hidden=int(h), variant=variant)


DATA_VAR_FLOOR = 1e-4


def with_data_statistics(params: Params, patterns: Array, mask: Array | None = None) -> Params:
  """Residual-variant parameters with the skip's Gaussian fitted to the real rows of patterns
  (N, d) (mask (N,) 0/1): "residual" sets `data_mean` and `data_var` to the per-unit mean and
  variance, "residual_cov" sets `data_mean` and the covariance's eigenvectors `data_basis` (d, d,
  columns) and eigenvalues `data_eigvals` (both floored at `DATA_VAR_FLOOR`), "unit_mixture" sets
  `data_means`, `data_vars`, `data_log_weights` to the K-component mixture of the pooled unit values
  (`fit_unit_mixture`); the paper variant's parameters are returned unchanged (it has no such skip)."""
  if "data_mean" not in params and "data_log_weights" not in params:
    return params
  y = jnp.asarray(patterns, jnp.float32)
  w = jnp.ones(y.shape[:1], jnp.float32) if mask is None else jnp.asarray(mask, jnp.float32)
  w = w / jnp.maximum(jnp.sum(w), 1.0)
  if "data_log_weights" in params:
    means, variances, log_weights = fit_unit_mixture(y, w, params["data_log_weights"].shape[-1])
    return {**params, "data_means": means, "data_vars": variances, "data_log_weights": log_weights}
  mean = w @ y
  if "data_basis" in params:
    centred = y - mean
    cov = (centred * w[:, None]).T @ centred
    eig, basis = jnp.linalg.eigh(0.5 * (cov + cov.T))
    return {**params, "data_mean": mean, "data_basis": basis,
            "data_eigvals": jnp.maximum(eig, DATA_VAR_FLOOR)}
  var = jnp.maximum(w @ (y - mean) ** 2, DATA_VAR_FLOOR)
  return {**params, "data_mean": mean, "data_var": var}


MIXTURE_EM_ITERATIONS = 200


def fit_unit_mixture(patterns: Array, weights: Array | None = None, components: int = 4,
                     iterations: int = MIXTURE_EM_ITERATIONS) -> tuple[Array, Array, Array]:
  """A K-component 1-D Gaussian mixture fitted by EM to every unit value of the rows of patterns.

  The fixed per-unit prior family whose noise prediction E[δ | x] the "unit_mixture" variant outputs
  as Eq. 27's δ̂ (seed 002, §7; the score is −δ̂/σ, Eq. 10): all N·d values y_ni are pooled
  (row n weighted by weights_n), so one set of K means v_k, variances τ_k² and weights π_k
  describes every unit; the network then predicts, per unit and state, how to reweight the
  components. For MNIST in [−1, 1] (81% of the values exactly −1) K = 4 gives a component at −1,
  one near +1 and two broad ones for the grey edge values (docs/reproduction.md).

  EM from means spread evenly over [min, max] of the real values, variances (range / 2K)², equal
  weights; `iterations` fixed steps (a jit- and vmap-able `lax.fori_loop`); variances floored at
  `DATA_VAR_FLOOR`, an empty component keeps its mean.

  Args:
    patterns: (N, d) rows.
    weights: (N,) non-negative row weights (e.g. a 0/1 mask of real rows); default: equal.
    components: K >= 2.
    iterations: EM steps.
  Returns:
    (means (K,) ascending, variances (K,), log_weights (K,), log π summing to 1 in probability).
  """
  y = jnp.asarray(patterns, jnp.float32)
  if y.ndim != 2 or y.shape[0] == 0 or y.shape[1] == 0:
    raise ValueError(f"patterns must have shape (N >= 1, d >= 1), got {tuple(y.shape)}")
  k = _checks.check_int("components", components, 2)
  iterations = _checks.check_int("iterations", iterations, 1)
  _checks.check_finite("patterns", y)
  w = jnp.ones(y.shape[:1], jnp.float32) if weights is None else jnp.asarray(weights, jnp.float32)
  if w.shape != y.shape[:1]:
    raise ValueError(f"weights must have shape ({y.shape[0]},), got {tuple(w.shape)}")
  _checks.check_finite("weights", w)
  if _checks.is_concrete(w) and not bool(jnp.all(w >= 0) & (jnp.sum(w) > 0)):
    raise ValueError("weights must be non-negative with a positive sum (a 0/1 mask with at least one real row)")
  w = w / jnp.maximum(jnp.sum(w), 1e-30)
  z = y.reshape(-1)
  wz = jnp.repeat(w, y.shape[1]) / y.shape[1]
  real = wz > 0
  lo = jnp.min(jnp.where(real, z, jnp.inf))
  hi = jnp.max(jnp.where(real, z, -jnp.inf))
  spread = jnp.maximum(hi - lo, 1e-2)
  means = lo + spread * jnp.arange(k, dtype=jnp.float32) / (k - 1)
  variances = jnp.full((k,), (spread / (2 * k)) ** 2, jnp.float32)
  log_pi = jnp.full((k,), -math.log(k), jnp.float32)

  def step(_, carry):
    means, variances, log_pi = carry
    logp = log_pi - 0.5 * jnp.log(2 * jnp.pi * variances) - 0.5 * (z[:, None] - means) ** 2 / variances
    resp = jax.nn.softmax(logp, axis=-1) * wz[:, None]
    mass = jnp.sum(resp, axis=0)
    safe = jnp.maximum(mass, 1e-30)
    new_means = jnp.where(mass > 1e-12, resp.T @ z / safe, means)
    new_var = jnp.where(mass > 1e-12, jnp.sum(resp * (z[:, None] - new_means) ** 2, axis=0) / safe, variances)
    return new_means, jnp.maximum(new_var, DATA_VAR_FLOOR), jnp.log(jnp.maximum(mass, 1e-30))

  means, variances, log_pi = jax.lax.fori_loop(0, iterations, step, (means, variances, log_pi))
  order = jnp.argsort(means)
  log_pi = log_pi[order] - jax.scipy.special.logsumexp(log_pi)
  return means[order], variances[order], log_pi


def alive_fraction(params: Params, x: Array, theta: Array, model: ScoreMLP | None = None) -> dict[str, float]:
  """Fraction of each hidden layer's ReLU units that are alive on a batch of inputs.

  A unit is alive when its activation is > 0 for at least one of the B inputs; a dead ReLU
  (negative pre-activation on every input) passes no gradient to its weights and never recovers.
  The diagnostic of the paper network's failure at d = 784 (docs/reproduction.md).

  Args:
    params: `ScoreMLP` parameters (one network).
    x: (B, d) states, e.g. noised patterns θ y + √(1 − θ²) δ.
    theta: (B,) signal levels (or a scalar for all).
    model: the network (default: read off the parameters).
  Returns:
    {"input": f₁, "hidden": f₂} (`HIDDEN_LAYERS`), each in [0, 1].
  """
  net = model if model is not None else model_from_params(params)
  if not isinstance(net, ScoreMLP):
    raise ValueError(f"model must be a ScoreMLP or None, got {type(net).__name__}")
  x = jnp.asarray(x, jnp.float32)
  if x.ndim != 2 or x.shape[-1] != net.dim or x.shape[0] == 0:
    raise ValueError(f"x must have shape (B >= 1, {net.dim}), got {tuple(x.shape)}")
  theta = jnp.broadcast_to(jnp.asarray(theta, jnp.float32), x.shape[:1])
  acts = _jitted_hidden(net)(params, x, theta)
  return {name: float(jnp.mean(jnp.any(a > 0, axis=0))) for name, a in zip(HIDDEN_LAYERS, acts)}


@functools.lru_cache(maxsize=32)
def _jitted_hidden(model: ScoreMLP) -> Callable:
  return jax.jit(model.hidden_activations)


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
