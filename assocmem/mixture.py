"""The mixture posterior: one primitive behind every exact score and every modern Hopfield update.

Both the exact diffusion score (seed 002 App. A, Eqs. A3–A4) and the modern Hopfield update
(seed 000 Eq. 3; seed 002 Eq. 5) are a softmax-weighted mean of stored patterns,

    Σ_n h_n y_n,   h = softmax_n(ℓ_n),   ℓ_n = a · qᵀ(y_n − c) + b · ‖y_n − c‖² + log π_n,

with a, b scalars (score: a = θ_t/v_t, b = −θ_t²/2v_t and q = x − θ_t c; Hopfield: a = β,
b = 0 and q = x) and c the bank's centre (`assocmem.bank`). This module computes it for ONE
query as *associative partials* — the running max m, the sum of exponentials s = Σ e^{ℓ−m} and
the weighted sum w = Σ e^{ℓ−m} (y_n − c) — which combine exactly and in any order
(`combine`), so the same answer comes from three modes:

  Dense()                 one (d)·(d×N) product per query; under `vmap` a (B×d)·(d×N) matmul.
  Streaming(chunk_size)   the bank in chunks under `lax.scan`, online log-sum-exp; memory
                          O(B × chunk) instead of O(B × N), for banks whose similarity matrix
                          does not fit (a capacity that is a multiple of the chunk avoids a
                          padded copy of the bank).
  Sharded(mesh, axis)     the bank's slot axis split over a device mesh with `shard_map`; each
                          device reduces its shard (dense or streaming) and the partials are
                          combined with `pmax`/`psum`.

Each mode optionally computes the similarities in bfloat16 with float32 accumulation
(`similarity_dtype=jnp.bfloat16`); see docs/benchmarks.md for the accuracy cost.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple, Union

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from assocmem import _checks
from assocmem.bank import PatternBank, pad_bank

Array = jax.Array


class Partials(NamedTuple):
  """Associative partials of one query: max logit, Σ e^{ℓ−m}, Σ e^{ℓ−m} v_n."""
  max: Array       # ()
  sumexp: Array    # ()
  wsum: Array      # (k,)


def _check_similarity_dtype(value: Any) -> None:
  """None, or a floating dtype (e.g. jnp.bfloat16): integer similarities would be truncated."""
  if value is None:
    return
  try:
    dtype = jnp.dtype(value)
  except TypeError:
    raise ValueError(f"similarity_dtype must be None or a floating dtype such as jnp.bfloat16, got {value!r}") from None
  if not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(f"similarity_dtype must be a floating dtype (integers truncate the similarities), got {dtype}")


@dataclasses.dataclass(frozen=True)
class Dense:
  """All N similarities at once (fastest when the (B × N) logits fit in memory)."""
  similarity_dtype: Any = None

  def __post_init__(self):
    _check_similarity_dtype(self.similarity_dtype)


@dataclasses.dataclass(frozen=True)
class Streaming:
  """Chunks of `chunk_size` slots under `lax.scan` with an online log-sum-exp."""
  chunk_size: int = 8192
  similarity_dtype: Any = None

  def __post_init__(self):
    _checks.check_int("chunk_size", self.chunk_size, 1)
    _check_similarity_dtype(self.similarity_dtype)


@dataclasses.dataclass(frozen=True)
class Sharded:
  """The slot axis split over `mesh` axis `axis`; `inner` (Dense or Streaming) runs per shard."""
  mesh: Mesh
  axis: str = "bank"
  inner: Union[Dense, Streaming] = Dense()

  def __post_init__(self):
    if not isinstance(self.mesh, Mesh):
      raise ValueError(f"mesh must be a jax.sharding.Mesh, got {type(self.mesh).__name__}")
    if self.axis not in self.mesh.axis_names:
      raise ValueError(f"axis {self.axis!r} is not an axis of the mesh {self.mesh.axis_names}")
    if not isinstance(self.inner, (Dense, Streaming)):
      raise ValueError(f"inner must be Dense() or Streaming(...), got {self.inner!r}")


Mode = Union[Dense, Streaming, Sharded]
DENSE = Dense()
MODES = (Dense, Streaming, Sharded)


def check_mode(mode: Any) -> Mode:
  """Validates a mode object (a string names the mode for the error)."""
  if not isinstance(mode, MODES):
    raise ValueError(f"mode must be assocmem.mixture.Dense(), Streaming(chunk_size) or "
                     f"Sharded(mesh, axis), got {mode!r}")
  return mode


def device_mesh(n_devices: int | None = None, axis: str = "bank") -> Mesh:
  """A 1-d mesh over the first `n_devices` devices (default: all), named `axis`."""
  import numpy as np
  devices = jax.devices()
  if n_devices is not None:
    n_devices = _checks.check_int("n_devices", n_devices, 1)
    if n_devices > len(devices):
      raise ValueError(f"n_devices={n_devices} exceeds the {len(devices)} devices JAX sees")
    devices = devices[:n_devices]
  return Mesh(np.asarray(devices), (axis,))


def mode_from_name(name: str, chunk_size: int = 8192, n_devices: int | None = None,
                   similarity_dtype: Any = None) -> Mode:
  """'dense' | 'streaming' | 'sharded' (| 'sharded_streaming') → a mode object (for scripts' flags)."""
  inner: Union[Dense, Streaming]
  if name == "dense":
    return Dense(similarity_dtype)
  if name == "streaming":
    return Streaming(chunk_size, similarity_dtype)
  if name in ("sharded", "sharded_streaming"):
    inner = Streaming(chunk_size, similarity_dtype) if name == "sharded_streaming" else Dense(similarity_dtype)
    return Sharded(device_mesh(n_devices), "bank", inner)
  raise ValueError(f"unknown mode {name!r}; expected 'dense', 'streaming', 'sharded' or 'sharded_streaming'")


# ----------------------------------------------------------------------------- partials

def _scale(m: Array, m_new: Array) -> Array:
  """e^{m − m_new}, with 0 for an empty partial (m = −inf)."""
  return jnp.where(m == -jnp.inf, 0.0, jnp.exp(m - jnp.where(m_new == -jnp.inf, 0.0, m_new)))


def combine(p: Partials, q: Partials) -> Partials:
  """Merges two partials of the same query (associative and commutative)."""
  m = jnp.maximum(p.max, q.max)
  sp, sq = _scale(p.max, m), _scale(q.max, m)
  return Partials(m, p.sumexp * sp + q.sumexp * sq, p.wsum * sp + q.wsum * sq)


def partials_from_logits(logits: Array, values: Array) -> Partials:
  """Partials of the softmax(logits)-weighted sum of `values` (N,), (N, k) → Partials.

  −inf logits are empty slots. The max is taken under `stop_gradient`: the result does not
  depend on it, so gradients are exact.
  """
  m = jax.lax.stop_gradient(jnp.max(logits))
  e = jnp.exp(logits - jnp.where(m == -jnp.inf, 0.0, m))
  return Partials(m, jnp.sum(e), e @ values)


def mean(p: Partials) -> Array:
  """Σ_n h_n v_n from partials."""
  return p.wsum / p.sumexp


def log_normalizer(p: Partials) -> Array:
  """log Σ_n e^{ℓ_n} from partials."""
  return p.max + jnp.log(p.sumexp)


def weighted_mean(logits: Array, values: Array) -> Array:
  """softmax(logits) @ values for explicit per-component logits (N,) and values (N, k).

  The mixture posterior of components that are not points (seed 002 Eq. 23's boxes and
  segments): their posterior weights come from their own log-densities. At least one logit must be
  above −inf: all −inf (no component) is a ValueError for concrete logits and a `CheckError`
  under `checked`, never a silent NaN.
  """
  if _checks.is_concrete(logits):
    with jax.ensure_compile_time_eval():
      empty = not bool(jnp.any(jnp.asarray(logits) > -jnp.inf))
    if empty:
      raise ValueError("logits are all -inf: the mixture has no component to weight")
  _checks.debug_check(jnp.any(logits > -jnp.inf), "logits are all -inf: the mixture has no component to weight")
  return mean(partials_from_logits(logits, values))


def _similarities(q: Array, centered: Array, dtype: Any) -> Array:
  """qᵀ(y_n − c) for all n: (d,), (N, d) → (N,), optionally in low precision."""
  if dtype is None:
    # q @ Yᵀ rather than Y @ q: under vmap the batch lands on the rows of a (B, N) array, so
    # XLA fuses max/exp/sum along rows with no transposing copy (docs/benchmarks.md).
    return q @ centered.T
  return jnp.matmul(q.astype(dtype), centered.T.astype(dtype), preferred_element_type=q.dtype)


def _dense_partials(q, centered, sq_norms, log_weights, a, b, dtype) -> Partials:
  logits = a * _similarities(q, centered, dtype) + b * sq_norms + log_weights
  return partials_from_logits(logits, centered)


def _streaming_partials(q, centered, sq_norms, log_weights, a, b, mode: Streaming) -> Partials:
  n, d = centered.shape
  c = min(mode.chunk_size, n)
  if n % c:
    # Pad with empty slots (a copy of the bank per call: build banks whose capacity is a
    # multiple of the chunk size, e.g. make_bank(..., capacity=...), to avoid it).
    extra = c - n % c
    centered = jnp.concatenate([centered, jnp.zeros((extra, d), centered.dtype)])
    sq_norms = jnp.concatenate([sq_norms, jnp.zeros((extra,), sq_norms.dtype)])
    log_weights = jnp.concatenate([log_weights, jnp.full((extra,), -jnp.inf, log_weights.dtype)])
    n += extra
  k = n // c
  chunks = (centered.reshape(k, c, d), sq_norms.reshape(k, c), log_weights.reshape(k, c))

  def body(carry, chunk):
    yc, sc, lc = chunk
    return combine(carry, _dense_partials(q, yc, sc, lc, a, b, mode.similarity_dtype)), None

  init = Partials(jnp.asarray(-jnp.inf, q.dtype), jnp.zeros((), q.dtype), jnp.zeros((d,), q.dtype))
  out, _ = jax.lax.scan(body, init, chunks)
  return out


def _local_partials(q, centered, sq_norms, log_weights, a, b, mode) -> Partials:
  if isinstance(mode, Streaming):
    return _streaming_partials(q, centered, sq_norms, log_weights, a, b, mode)
  return _dense_partials(q, centered, sq_norms, log_weights, a, b, mode.similarity_dtype)


def _sharded_partials(q, bank: PatternBank, a, b, mode: Sharded) -> Partials:
  axis = mode.axis
  n_shards = mode.mesh.shape[axis]
  if bank.capacity % n_shards:
    bank = pad_bank(bank, n_shards)

  def local(q, centered, sq_norms, log_weights, a, b):
    p = _local_partials(q, centered, sq_norms, log_weights, a, b, mode.inner)
    m = jax.lax.pmax(p.max, axis)
    s = _scale(p.max, m)
    return Partials(m, jax.lax.psum(p.sumexp * s, axis), jax.lax.psum(p.wsum * s, axis))

  fn = jax.shard_map(local, mesh=mode.mesh,
                     in_specs=(P(), P(axis), P(axis), P(axis), P(), P()),
                     out_specs=Partials(P(), P(), P()), check_vma=False)
  a = jnp.asarray(a, q.dtype)
  b = jnp.asarray(b, q.dtype)
  return fn(q, bank.centered, bank.sq_norms, bank.log_weights, a, b)


def _check_not_empty(log_weights: Array) -> None:
  msg = "bank has no filled slot (every log-weight is -inf): store or write patterns first"
  if _checks.is_concrete(log_weights):
    with jax.ensure_compile_time_eval():
      filled = bool(jnp.any(jnp.asarray(log_weights) > -jnp.inf))
    if not filled:
      raise ValueError(msg)
  _checks.debug_check(jnp.any(log_weights > -jnp.inf), msg)


def bank_partials(bank: PatternBank, q: Array, a: Array | float, b: Array | float,
                  mode: Mode = DENSE) -> Partials:
  """Partials of h = softmax_n(a qᵀ(y_n − c) + b ‖y_n − c‖² + log π_n) over the bank, for ONE query.

  The shared core of seed 002's exact score (App. A, Eqs. A3–A4; Eq. 12) and seed 000's modern
  Hopfield update (Eq. 3). `mean(partials)` is Σ h_n (y_n − c); add the bank's centre for
  Σ h_n y_n.

  Args:
    bank: the `PatternBank`.
    q: (d,) the query, already relative to the centre as the caller's algebra requires.
    a, b: scalars of the logits.
    mode: Dense(), Streaming(chunk_size) or Sharded(mesh, axis, inner).
  Returns:
    `Partials` with max (), sumexp () and wsum (d,).
  Raises:
    ValueError: a concrete bank with no filled slot (every log-weight −inf), whose posterior is
      undefined (a `CheckError` under `checked` when the bank is traced).
  """
  _check_not_empty(bank.log_weights)
  if isinstance(mode, Sharded):
    return _sharded_partials(q, bank, a, b, mode)
  return _local_partials(q, bank.centered, bank.sq_norms, bank.log_weights, a, b, check_mode(mode))


def shard_bank(bank: PatternBank, mesh: Mesh, axis: str = "bank") -> PatternBank:
  """Places a bank's slot axis on `mesh` axis `axis` (centre replicated); pads to a multiple of its size."""
  bank = pad_bank(bank, mesh.shape[axis])
  split = NamedSharding(mesh, P(axis))
  rows = NamedSharding(mesh, P(axis, None))
  rep = NamedSharding(mesh, P())
  return PatternBank(jax.device_put(bank.centered, rows), jax.device_put(bank.center, rep),
                     jax.device_put(bank.sq_norms, split), jax.device_put(bank.log_weights, split))


# ----------------------------------------------------------------------------- bank layout

def bank_slots(n: int, mode: Mode = DENSE) -> int:
  """The slots a bank of n patterns gets under `mode` (the one place bank layout is decided).

  n itself for Dense(); for Streaming(chunk) n padded to a multiple of the chunk once n exceeds
  it (so `lax.scan` never copies a padded bank per call); for Sharded(mesh, axis, inner) the
  inner mode's multiple times the number of shards (every device holds the same number of
  slots, each shard a whole number of chunks). The extra slots are empty (log-weight −inf) and
  take no part in the mixture (seed 002 Eq. 12; seed 000 Eq. 3).

  Args:
    n: number of patterns (or requested slots), >= 1.
    mode: Dense(), Streaming(chunk_size) or Sharded(mesh, axis, inner).
  Returns:
    The number of slots, >= n.
  """
  n = _checks.check_int("n", n)
  mode = check_mode(mode)
  inner = mode.inner if isinstance(mode, Sharded) else mode
  multiple = inner.chunk_size if isinstance(inner, Streaming) and n > inner.chunk_size else 1
  if isinstance(mode, Sharded):
    multiple *= mode.mesh.shape[mode.axis]
  return -(-n // multiple) * multiple


def layout_bank(bank: PatternBank, mode: Mode = DENSE) -> PatternBank:
  """A bank laid out for `mode`: padded with empty slots to `bank_slots(capacity, mode)` and, for
  Sharded, placed on the mesh (`shard_bank`); Dense() and an already laid-out bank pass unchanged.

  Bank memories (`ModernHopfield`, `ExactDiffusion`) call this in `store`/`init`, so callers pass
  a mode and nothing else.
  """
  if not isinstance(bank, PatternBank):
    raise ValueError(f"bank must be an assocmem.bank.PatternBank, got {type(bank).__name__}")
  mode = check_mode(mode)
  slots = bank_slots(bank.capacity, mode)
  if slots != bank.capacity:
    bank = pad_bank(bank, slots)
  if isinstance(mode, Sharded):
    bank = shard_bank(bank, mode.mesh, mode.axis)
  return bank
