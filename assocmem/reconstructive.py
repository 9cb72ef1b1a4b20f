"""Reconstructive memory: a stored low-dimensional core completed by a semantic density. Seed 002, §6.1, Eq. 25.

Seed 002 writes the energy of a reconstructive memory as

    log( Σ_n e^{β(t) f_n(x)ᵀ ξ_n} + ∫ e^{-β(t) xᵀ y} φ(y) dy ),                      (Eq. 25)

a discrete "core" (a map f_n: R^D → R^W, W < D, of the state and a stored core pattern ξ_n ∈ R^W
per memory) mixed with a continuous semantic density φ, so that recall "will only constrain W
degrees of freedom to converge to the pattern, while the other degrees of freedom are left free
to evolve under the dynamics determined by the corpus of semantic memory".

Reading used here (docs/reproduction.md, "Reconstructive memory"):

* The Gaussian-kernel reading of Eqs. 23–24 (`assocmem.extended`): every e^{β xᵀ y} becomes the
  diffusion kernel N(x; θ_t y, v_t I) of the SDE, so the energy is −log p_t(x) of an exact data
  distribution p_0 diffused by the SDE.
* The semantic term's printed sign e^{-β xᵀ y} is read as e^{+β xᵀ y}, the kernel of Eq. 24: with a
  minus sign the term would push states *away* from φ (its gradient is −β E[y]), contradicting the
  sentence that follows the equation and Eq. 24 itself.
* f_n is linear, f_n(x) = A_n x with orthonormal rows (A_n A_nᵀ = I_W); any full-row-rank linear
  map can be brought to this form (`orthonormal_core`). The core term alone, N(A_n x; θ_t ξ_n,
  v_t I_W), is flat in the D − W free directions (not a density), so, following the text, memory n
  stores only its core and its free coordinates follow the semantic density: its data density is
  ψ_n(y) = δ(A_n y − ξ_n) φ(y | A_n y = ξ_n), the conditional of φ given the core ("reconstructed
  based on learned contextual associations").
* φ is a mixture of K isotropic Gaussians Σ_k π_k N(μ_k, s_k² I_D) (any density can be approximated
  by one), so every integral is closed form: φ(· | A_n y = ξ_n) is again such a mixture on the free
  subspace, with weights π_k^{(n)} ∝ π_k N(ξ_n; A_n μ_k, s_k² I_W).

The data distribution is p_0 = Σ_n w_n ψ_n + w_φ φ (weights `log_weights`, the last one φ's), and

    p_t(x) = Σ_n w_n N(A_n x; θ_t ξ_n, v_t I_W) Σ_k π_k^{(n)} N_⊥(P_n (x − θ_t μ_k); c_k)
             + w_φ Σ_k π_k N(x; θ_t μ_k, c_k I_D),          c_k = θ_t² s_k² + v_t,

with P_n = I − A_nᵀ A_n the projector on memory n's free subspace and N_⊥(r; c) the isotropic
normal density on that (D − W)-dimensional subspace. The score is the posterior-weighted mean of
the components' scores,

    ∇ log p_t,n = −A_nᵀ (A_n x − θ_t ξ_n) / v_t − Σ_k ρ_nk P_n (x − θ_t μ_k) / c_k,
    ∇ log p_t,φ = −Σ_k ρ_k (x − θ_t μ_k) / c_k,

ρ the softmax of each component's Gaussian terms. As t → 0 a trajectory captured by memory n ends
with A_n x = ξ_n (the core is recovered exactly) and its free coordinates distributed as
φ(· | core = ξ_n) (they are reconstructed, not recalled).

Explicit-state convention: `reconstructive_score_fn(sde)` returns `score(state, x, t)` with the state
a `ReconstructiveState` pytree (cores, maps, φ's parameters, weights) built and validated once by
`reconstructive_state`. All functions take one state x of shape [D]; batch with `jax.vmap`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from assocmem import _checks, mixture
from assocmem.sde import check_kernel_sde

Array = jax.Array
ScoreFn = Callable[[Any, Array, Array], Array]

_LOG_2PI = math.log(2.0 * math.pi)
_ORTHONORMAL_TOL = 1e-5


class ReconstructiveState(NamedTuple):
  """The arrays of a reconstructive memory (a pytree). Seed 002, Eq. 25.

  Attributes:
    cores: [N, W] stored core patterns ξ_n.
    maps: [N, W, D] core maps f_n(x) = A_n x, orthonormal rows (A_n A_nᵀ = I_W).
    means: [K, D] means μ_k of φ's Gaussian components.
    log_scales: [K] log standard deviations log s_k of φ's components.
    log_phi_weights: [K] normalised log-weights log π_k of φ's components.
    log_weights: [N + 1] normalised log-weights of the N memories and, last, of φ itself
      (−inf for a weight 0).
  """
  cores: Array
  maps: Array
  means: Array
  log_scales: Array
  log_phi_weights: Array
  log_weights: Array


# ----------------------------------------------------------------------------- validation


def _log_normalised(name: str, weights: Any, size: int) -> Array:
  w = _checks.as_float_array(name, weights)
  if w.shape != (size,):
    raise ValueError(f"{name} must have shape ({size},), got {tuple(w.shape)}")
  _checks.check_finite(name, w)
  if _checks.is_concrete(w):
    if np.any(np.asarray(w) < 0) or not float(np.sum(np.asarray(w))) > 0:
      raise ValueError(f"{name} must be >= 0 with a positive sum, got {np.asarray(w)}")
  with np.errstate(divide="ignore"):
    return jnp.log(w) - jnp.log(jnp.sum(w))


def orthonormal_core(maps: Any, cores: Any) -> tuple[Array, Array]:
  """An equivalent (orthonormal maps, cores) pair of full-row-rank linear core maps. Seed 002, Eq. 25.

  A x = ξ  ⇔  Ã x = ξ̃ with Ã = (A Aᵀ)^{-1/2} A and ξ̃ = (A Aᵀ)^{-1/2} ξ, so the stored core set is
  unchanged. Args: maps [N, W, D] (or [W, D], shared), cores [N, W]. Returns ([N, W, D], [N, W]).
  """
  maps = _checks.as_float_array("maps", maps)
  cores = _checks.as_float_array("cores", cores)
  if cores.ndim != 2:
    raise ValueError(f"cores must have shape [N, W], got {tuple(cores.shape)}")
  if maps.ndim == 2:
    maps = jnp.broadcast_to(maps, (cores.shape[0],) + maps.shape)
  if maps.ndim != 3 or maps.shape[:2] != cores.shape:
    raise ValueError(f"maps must have shape [N, W, D] (or [W, D]) matching cores {tuple(cores.shape)}, "
                     f"got {tuple(maps.shape)}")
  gram = jnp.einsum("nwd,nvd->nwv", maps, maps)
  evals, evecs = jnp.linalg.eigh(gram)
  if _checks.is_concrete(evals) and not float(jnp.min(evals)) > 1e-12 * max(float(jnp.max(evals)), 1e-300):
    raise ValueError("maps must have full row rank (W linearly independent rows per memory)")
  inv_sqrt = jnp.einsum("nwk,nk,nvk->nwv", evecs, 1.0 / jnp.sqrt(evals), evecs)
  return jnp.einsum("nwv,nvd->nwd", inv_sqrt, maps), jnp.einsum("nwv,nv->nw", inv_sqrt, cores)


def reconstructive_state(cores: Any, maps: Any, means: Any, scales: Any, phi_weights: Any = None,
                         semantic_weight: float = 0.0, core_weights: Any = None) -> ReconstructiveState:
  """Validated state of a reconstructive memory. Seed 002, §6.1, Eq. 25.

  Args:
    cores: [N, W] stored core patterns ξ_n (or [W] for one memory).
    maps: [N, W, D] core maps A_n with orthonormal rows, or [W, D] shared by all memories
      (`orthonormal_core` converts any full-row-rank maps); 1 <= W < D.
    means: [K, D] means μ_k of the semantic density φ = Σ_k π_k N(μ_k, s_k² I) (or [D]: K = 1).
    scales: [K] (or a scalar) standard deviations s_k > 0.
    phi_weights: [K] weights π_k >= 0 (normalised here; default uniform).
    semantic_weight: w_φ ∈ [0, 1), the weight of φ itself as a component of p_0 (Eq. 25's integral);
      the memories share 1 − w_φ.
    core_weights: [N] relative weights of the memories (default equal).

  Returns:
    a `ReconstructiveState`.
  """
  cores = _checks.as_float_array("cores", cores)
  if cores.ndim == 1:
    cores = cores[None]
  if cores.ndim != 2 or cores.shape[0] == 0 or cores.shape[1] == 0:
    raise ValueError(f"cores must have shape [N, W] with N, W >= 1, got {tuple(cores.shape)}")
  _checks.check_finite("cores", cores)
  n, w = cores.shape
  maps = _checks.as_float_array("maps", maps)
  if maps.ndim == 2:
    maps = jnp.broadcast_to(maps, (n,) + maps.shape)
  if maps.ndim != 3 or maps.shape[:2] != (n, w):
    raise ValueError(f"maps must have shape [N, W, D] = [{n}, {w}, D] (or [W, D]) to match cores "
                     f"{tuple(cores.shape)}, got {tuple(maps.shape)}")
  dim = maps.shape[2]
  if not w < dim:
    raise ValueError(f"maps: the core dimension W = {w} must be below the state dimension D = {dim} "
                     "(W = D leaves no free coordinates: use point memories)")
  _checks.check_finite("maps", maps)
  if _checks.is_concrete(maps):
    gram = np.einsum("nwd,nvd->nwv", np.asarray(maps, np.float64), np.asarray(maps, np.float64))
    err = float(np.max(np.abs(gram - np.eye(w)[None])))
    if err > _ORTHONORMAL_TOL * 10 ** (2 * (maps.dtype == jnp.float32)):
      raise ValueError(f"maps must have orthonormal rows (A_n A_nᵀ = I_W); max |A Aᵀ − I| = {err:.3g}. "
                       "Use reconstructive.orthonormal_core(maps, cores) for other linear maps")
  means = _checks.as_float_array("means", means)
  if means.ndim == 1:
    means = means[None]
  if means.ndim != 2 or means.shape[1] != dim or means.shape[0] == 0:
    raise ValueError(f"means must have shape [K, D] with D = {dim} (the maps' state dimension), "
                     f"got {tuple(means.shape)}")
  _checks.check_finite("means", means)
  k = means.shape[0]
  scales = _checks.as_float_array("scales", scales)
  if scales.ndim == 0:
    scales = jnp.full((k,), scales)
  if scales.shape != (k,):
    raise ValueError(f"scales must be a scalar or have shape ({k},), got {tuple(scales.shape)}")
  if _checks.is_concrete(scales) and not bool(np.all(np.isfinite(scales)) and np.all(np.asarray(scales) > 0)):
    raise ValueError(f"scales must be finite and > 0, got {np.asarray(scales)}")
  log_phi = _log_normalised("phi_weights", jnp.ones((k,)) if phi_weights is None else phi_weights, k)
  _checks.check_scalar_number("semantic_weight", semantic_weight)
  sw = float(semantic_weight)
  if not 0.0 <= sw < 1.0:
    raise ValueError(f"semantic_weight must lie in [0, 1), got {sw}")
  log_core = _log_normalised("core_weights", jnp.ones((n,)) if core_weights is None else core_weights, n)
  with np.errstate(divide="ignore"):
    log_weights = jnp.concatenate([log_core + math.log1p(-sw),
                                   jnp.full((1,), math.log(sw) if sw > 0 else -jnp.inf)])
  dtype = jnp.result_type(cores, maps, means, scales)
  return ReconstructiveState(cores.astype(dtype), maps.astype(dtype), means.astype(dtype),
                             jnp.log(scales).astype(dtype), log_phi.astype(dtype), log_weights.astype(dtype))


def _check_shapes(state: Any, name: str = "state") -> tuple[int, int, int, int]:
  """Static shape check of a state (traced code included); returns (N, W, D, K)."""
  if not isinstance(state, ReconstructiveState):
    raise ValueError(f"{name} must be a ReconstructiveState (see reconstructive_state), "
                     f"got {type(state).__name__}")
  n, w = jnp.shape(state.cores)
  if jnp.shape(state.maps)[:2] != (n, w) or jnp.ndim(state.maps) != 3:
    raise ValueError(f"{name}.maps must have shape [{n}, {w}, D], got {tuple(jnp.shape(state.maps))}")
  dim = jnp.shape(state.maps)[2]
  k = jnp.shape(state.means)[0]
  if (jnp.shape(state.means) != (k, dim) or jnp.shape(state.log_scales) != (k,)
      or jnp.shape(state.log_phi_weights) != (k,) or jnp.shape(state.log_weights) != (n + 1,)):
    raise ValueError(f"{name}: inconsistent shapes of means {tuple(jnp.shape(state.means))}, "
                     f"log_scales, log_phi_weights (want [{k}]) and log_weights (want [{n + 1}])")
  return n, w, dim, k


def _kernel(sde: Any, t: Array) -> tuple[Array, Array]:
  check_kernel_sde(sde)
  _checks.check_time("t", t)
  return jnp.asarray(sde.theta(t)), jnp.asarray(sde.variance(t))


# ----------------------------------------------------------------------------- closed forms


def core_log_weights(state: ReconstructiveState) -> Array:
  """[N, K] log π_k^{(n)}: the log-weights of φ's components given memory n's core. Seed 002, Eq. 25.

  φ(y | A_n y = ξ_n) = Σ_k π_k^{(n)} N_⊥(P_n (y − μ_k); s_k²), π_k^{(n)} ∝ π_k N(ξ_n; A_n μ_k, s_k² I_W).
  """
  _, w, _, _ = _check_shapes(state)
  var = jnp.exp(2.0 * state.log_scales)                                       # [K]
  diff = state.cores[:, None, :] - jnp.einsum("nwd,kd->nkw", state.maps, state.means)  # [N, K, W]
  logits = (state.log_phi_weights[None] - 0.5 * jnp.sum(diff * diff, -1) / var[None]
            - 0.5 * w * (jnp.log(var)[None] + _LOG_2PI))
  return logits - logsumexp(logits, axis=1, keepdims=True)


def _components(state: ReconstructiveState, x: Array, theta: Array, var: Array) -> tuple[Array, Array]:
  """Per-component log-densities [N + 1] and scores [N + 1, D] of p_t at one state x [D]."""
  n, w, dim, _ = _check_shapes(state)
  c = theta * theta * jnp.exp(2.0 * state.log_scales) + var                  # [K]
  r = x[None, :] - theta * state.means                                        # [K, D]
  # Memories: the core term on A_n x, φ's conditional on the free subspace.
  u = jnp.einsum("nwd,d->nw", state.maps, x) - theta * state.cores            # [N, W]
  log_core = -0.5 * jnp.sum(u * u, -1) / var - 0.5 * w * (_LOG_2PI + jnp.log(var))
  score_core = -jnp.einsum("nwd,nw->nd", state.maps, u) / var                 # [N, D]
  r_par = jnp.einsum("nwd,nwe,ke->nkd", state.maps, state.maps, r)            # A_nᵀ A_n r_k
  r_perp = r[None] - r_par                                                    # [N, K, D]
  free_logits = (core_log_weights(state) - 0.5 * jnp.sum(r_perp * r_perp, -1) / c[None]
                 - 0.5 * (dim - w) * (_LOG_2PI + jnp.log(c))[None])           # [N, K]
  free_scores = -r_perp / c[None, :, None]                                    # [N, K, D]
  log_free = logsumexp(free_logits, axis=1)
  score_free = jax.vmap(mixture.weighted_mean)(free_logits, free_scores)
  # φ itself (Eq. 24 with a Gaussian-mixture φ).
  sem_logits = (state.log_phi_weights - 0.5 * jnp.sum(r * r, -1) / c
                - 0.5 * dim * (_LOG_2PI + jnp.log(c)))
  log_sem = logsumexp(sem_logits)
  score_sem = mixture.weighted_mean(sem_logits, -r / c[:, None])
  log_p = jnp.concatenate([log_core + log_free, log_sem[None]])
  scores = jnp.concatenate([score_core + score_free, score_sem[None]], axis=0)
  del n
  return log_p, scores


def _log_density(state: ReconstructiveState, x: Array, theta: Array, var: Array) -> Array:
  log_p, _ = _components(state, x, theta, var)
  return logsumexp(state.log_weights + log_p)


def _score(state: ReconstructiveState, x: Array, theta: Array, var: Array) -> Array:
  log_p, scores = _components(state, x, theta, var)
  return mixture.weighted_mean(state.log_weights + log_p, scores)


def _check_x(x: Any, state: ReconstructiveState) -> Array:
  _, _, dim, _ = _check_shapes(state)
  return _checks.check_state("x", x, dim)


def reconstructive_log_density(x: Array, t: Array, state: ReconstructiveState, sde: Any) -> Array:
  """Exact log p_t(x) of a reconstructive memory (Gaussian-kernel reading of seed 002, Eq. 25).

  Args:
    x: [D] one state.
    t: scalar diffusion time > 0.
    state: a `ReconstructiveState` (`reconstructive_state`).
    sde: VPSDE or VESDE (anything with `theta(t)` and `variance(t)`).
  Returns:
    scalar log-density.
  """
  x = _check_x(x, state)
  theta, var = _kernel(sde, t)
  return _log_density(state, x, theta, var)


def reconstructive_energy(x: Array, t: Array, state: ReconstructiveState, sde: Any) -> Array:
  """Energy −log p_t(x) of a reconstructive memory (sign of a Hopfield energy). Seed 002, Eq. 25."""
  return -reconstructive_log_density(x, t, state, sde)


def reconstructive_score(x: Array, t: Array, state: ReconstructiveState, sde: Any) -> Array:
  """Closed-form score ∇_x log p_t(x) of a reconstructive memory. Seed 002, Eq. 25.

  The posterior-weighted mean of the memories' scores −A_nᵀ(A_n x − θ_t ξ_n)/v_t −
  Σ_k ρ_nk P_n(x − θ_t μ_k)/c_k and φ's score −Σ_k ρ_k (x − θ_t μ_k)/c_k (module docstring).
  Arguments as in `reconstructive_log_density`. Returns [D].
  """
  x = _check_x(x, state)
  theta, var = _kernel(sde, t)
  return _score(state, x, theta, var)


def reconstructive_posterior(x: Array, t: Array, state: ReconstructiveState, sde: Any) -> Array:
  """[N + 1] posterior weights of the memories and (last) of φ at x, t. Seed 002, Eq. 25."""
  x = _check_x(x, state)
  theta, var = _kernel(sde, t)
  log_p, _ = _components(state, x, theta, var)
  return jax.nn.softmax(state.log_weights + log_p)


def reconstructive_score_fn(sde: Any) -> ScoreFn:
  """Score function `score(state, x [D], t) -> [D]` of a reconstructive memory. Seed 002, Eq. 25.

  `state` is a `ReconstructiveState` (traced under jit: new cores, maps or φ of the same shapes
  reuse the compiled sampler); only shapes are checked per call (values: t > 0 when concrete;
  finite x and t > 0 under `checked`). Use it with `assocmem.em_sample` / `assocmem.ode_sample`.
  """
  check_kernel_sde(sde)

  def score(state: ReconstructiveState, x: Array, t: Array) -> Array:
    _, _, dim, _ = _check_shapes(state)
    _checks.check_vector_against("x", x, dim, "the memory's state dimension")
    _checks.debug_check_finite("x", x)
    theta, var = _kernel(sde, t)
    return _score(state, x, theta, var)

  return score


def reconstructive_log_density_fn(sde: Any) -> ScoreFn:
  """Log-density function `log_density(state, x [D], t) -> scalar` (the score's potential). Eq. 25."""
  check_kernel_sde(sde)

  def log_density(state: ReconstructiveState, x: Array, t: Array) -> Array:
    _, _, dim, _ = _check_shapes(state)
    _checks.check_vector_against("x", x, dim, "the memory's state dimension")
    _checks.debug_check_finite("x", x)
    theta, var = _kernel(sde, t)
    return _log_density(state, x, theta, var)

  return log_density


# ----------------------------------------------------------------------------- exact samples of p_0


def sample_component(key: Array, state: ReconstructiveState, index: Array | int) -> Array:
  """One exact sample [D] of component `index` of p_0: memory n < N, or φ for n = N. Seed 002, Eq. 25.

  Memory n: A_nᵀ ξ_n + P_n (μ_k + s_k ε), k ~ π^{(n)} (its core exactly, its free coordinates from
  φ(· | core = ξ_n)); φ: μ_k + s_k ε, k ~ π. Batch with `jax.vmap`.
  """
  _checks.check_key("key", key)
  n, _, dim, _ = _check_shapes(state)
  index = jnp.asarray(index)
  k_comp, k_noise = jax.random.split(key)
  is_sem = index >= n
  m = jnp.clip(index, 0, n - 1)
  logits = jnp.where(is_sem, state.log_phi_weights, core_log_weights(state)[m])
  k = jax.random.categorical(k_comp, logits)
  y_phi = state.means[k] + jnp.exp(state.log_scales[k]) * jax.random.normal(k_noise, (dim,), state.means.dtype)
  a = state.maps[m]
  y_mem = a.T @ state.cores[m] + y_phi - a.T @ (a @ y_phi)
  return jnp.where(is_sem, y_phi, y_mem)


def sample_data(key: Array, state: ReconstructiveState) -> tuple[Array, Array]:
  """One exact sample of p_0 and its component index (n < N a memory, N the semantic φ). Eq. 25."""
  _checks.check_key("key", key)
  _check_shapes(state)
  k_idx, k_y = jax.random.split(key)
  index = jax.random.categorical(k_idx, state.log_weights)
  return sample_component(k_y, state, index), index
