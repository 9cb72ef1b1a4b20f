"""Pattern banks: the explicit state of every mixture memory (exact scores, modern Hopfield).

A `PatternBank` holds N slots of d-dimensional patterns as a registered pytree:

  centered     (N, d)  y_n − c, the patterns relative to a fixed centre c
  center       (d,)    c (any point near the data; it changes rounding only, never the math)
  sq_norms     (N,)    ‖y_n − c‖², cached
  log_weights  (N,)    log π_n of the mixture weights; −inf marks an empty slot

Patterns are stored relative to c so that the float32 similarities of the mixture posterior
(`assocmem.mixture`) never cancel catastrophically: for images or latents with ‖y‖ ≫ ‖y_n − y_m‖
the expanded form xᵀy − ‖y‖²/2 loses every digit, while (x − θc)ᵀ(y − c) keeps them.

A bank is validated once, when built (`make_bank`, `empty_bank`); the hot paths never copy it to
the host. Its shapes are fixed: `write` fills a slot in place (one-shot incremental storage, seed
000's hippocampus), so a jitted function compiled for one bank serves every bank of that shape.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks

Array = jax.Array


@jax.tree_util.register_pytree_node_class
class PatternBank:
  """N pattern slots with mixture log-weights (−inf = empty) and cached centred norms.

  Build with `make_bank` or `empty_bank`; the constructor itself does not validate (it is also
  the pytree unflattener, which sees tracers and placeholders).
  """

  __slots__ = ("centered", "center", "sq_norms", "log_weights")

  def __init__(self, centered: Array, center: Array, sq_norms: Array, log_weights: Array):
    self.centered = centered
    self.center = center
    self.sq_norms = sq_norms
    self.log_weights = log_weights

  def tree_flatten(self):
    return (self.centered, self.center, self.sq_norms, self.log_weights), None

  @classmethod
  def tree_unflatten(cls, aux, children):
    del aux
    return cls(*children)

  @property
  def patterns(self) -> Array:
    """(N, d) the stored patterns y_n (empty slots hold the centre)."""
    return self.centered + self.center

  @property
  def capacity(self) -> int:
    """Number of slots N (static)."""
    return self.centered.shape[-2]

  @property
  def dim(self) -> int:
    """Pattern dimension d (static)."""
    return self.centered.shape[-1]

  @property
  def mask(self) -> Array:
    """(N,) True where a slot holds a pattern."""
    return self.log_weights > -jnp.inf

  @property
  def dtype(self):
    return self.centered.dtype

  def n_stored(self) -> Array:
    """Number of filled slots (a traced integer)."""
    return jnp.sum(self.mask)

  def __repr__(self) -> str:
    return (f"PatternBank(capacity={self.centered.shape[-2]}, dim={self.centered.shape[-1]}, "
            f"dtype={self.centered.dtype})")


def _centered_sq_norms(centered: Array) -> Array:
  return jnp.sum(centered * centered, axis=-1)


def make_bank(patterns: Any, log_weights: Any | None = None, center: Any | None = None,
              capacity: int | None = None) -> PatternBank:
  """Builds and validates a bank from (N, d) patterns (seed 002 Eq. 12's mixture; seed 000 Eq. 3's X).

  Args:
    patterns: (N, d) patterns, N >= 1, finite.
    log_weights: optional (N,) log mixture weights (default 0: equal weights, as Eq. 12's 1/N);
      −inf marks a slot as empty (padding). Must not be NaN or +inf; at least one must be finite.
    center: optional (d,) centre c; default: the mean of the filled patterns.
    capacity: optional total number of slots >= N; the extra slots are empty (for later `write`).
  Returns:
    The `PatternBank`. Validation runs on the device (one scalar comes back), so it also
    works on sharded arrays; under tracing only shapes are checked.
  """
  patterns = _checks.as_float_array("patterns", patterns)
  _checks.check_ndim("patterns", patterns, 2, "(n_patterns, dim)")
  n, d = patterns.shape
  if n == 0:
    raise ValueError(f"patterns is an empty pattern set: expected at least one pattern, got shape {(n, d)}")
  if d == 0:
    raise ValueError(f"patterns has dimension 0: expected dim >= 1, got shape {(n, d)}")
  _checks.check_finite("patterns", patterns)
  if log_weights is None:
    log_weights = jnp.zeros((n,), patterns.dtype)
  else:
    log_weights = _checks.as_float_array("log_weights", log_weights).astype(patterns.dtype)
    if log_weights.shape != (n,):
      raise ValueError(f"log_weights must have shape ({n},) to match patterns, got {tuple(log_weights.shape)}")
    if _checks.is_concrete(log_weights):
      with jax.ensure_compile_time_eval():
        ok = bool(jnp.all(jnp.logical_or(jnp.isfinite(log_weights), log_weights == -jnp.inf)))
        some = bool(jnp.any(jnp.isfinite(log_weights)))
      if not ok:
        raise ValueError("log_weights must be finite or -inf (an empty slot); got NaN or +inf")
      if not some:
        raise ValueError("log_weights marks every slot empty (-inf): a bank needs at least one pattern")
  filled = jnp.isfinite(log_weights)
  if center is None:
    w = filled.astype(patterns.dtype)
    center = (w @ patterns) / jnp.maximum(jnp.sum(w), 1.0)
  else:
    center = _checks.as_float_array("center", center).astype(patterns.dtype)
    if center.shape != (d,):
      raise ValueError(f"center must have shape ({d},) to match patterns, got {tuple(center.shape)}")
    _checks.check_finite("center", center)
  centered = jnp.where(filled[:, None], patterns - center, 0.0)
  bank = PatternBank(centered, center, _centered_sq_norms(centered), log_weights)
  if capacity is not None:
    capacity = _checks.check_int("capacity", capacity, n)
    if capacity > n:
      extra = capacity - n
      bank = PatternBank(jnp.concatenate([centered, jnp.zeros((extra, d), centered.dtype)]), center,
                         jnp.concatenate([bank.sq_norms, jnp.zeros((extra,), centered.dtype)]),
                         jnp.concatenate([log_weights, jnp.full((extra,), -jnp.inf, centered.dtype)]))
  return bank


def empty_bank(capacity: int, dim: int, center: Any | None = None,
               dtype: Any = jnp.float32) -> PatternBank:
  """A bank of `capacity` empty slots of dimension `dim`, to be filled by `write`.

  Args:
    capacity: number of slots N >= 1.
    dim: pattern dimension d >= 1.
    center: (d,) centre c, ideally near the data to come (e.g. 0 for images in [−1, 1]);
      default zeros.
    dtype: floating dtype of the bank.
  """
  capacity = _checks.check_int("capacity", capacity, 1)
  dim = _checks.check_int("dim", dim, 1)
  if center is None:
    center = jnp.zeros((dim,), dtype)
  else:
    center = _checks.as_float_array("center", center).astype(dtype)
    if center.shape != (dim,):
      raise ValueError(f"center must have shape ({dim},), got {tuple(center.shape)}")
    _checks.check_finite("center", center)
  return PatternBank(jnp.zeros((capacity, dim), dtype), center, jnp.zeros((capacity,), dtype),
                     jnp.full((capacity,), -jnp.inf, dtype))


def write(bank: PatternBank, index: Any, pattern: Array, log_weight: Any = 0.0) -> PatternBank:
  """One-shot storage of one (d,) pattern in slot `index` (seed 000 §A.2.2: Hebbian one-shot binding).

  Pure and shape-preserving (jit it once; no recompilation as the bank fills). Concrete values
  (eager calls) are checked here: a NaN/inf pattern, or a NaN/+inf log-weight, raise ValueError;
  traced ones (under jit) are checked under `checked` only.

  Args:
    bank: the bank.
    index: slot in [0, N) (a traced integer is fine).
    pattern: (d,) the pattern.
    log_weight: its log mixture weight (default 0; −inf empties the slot).
  """
  _checks.check_vector_against("pattern", pattern, bank.dim, "the bank")
  _checks.check_int_index("index", index, bank.capacity)
  pattern = jnp.asarray(pattern, bank.dtype)
  _checks.check_finite("pattern", pattern)
  _checks.debug_check_finite("pattern", pattern)
  c = pattern - bank.center
  lw = jnp.asarray(log_weight, bank.dtype)
  lw_msg = "log_weight must be a number or -inf (an empty slot), not NaN or +inf"
  if _checks.is_concrete(lw):
    with jax.ensure_compile_time_eval():
      bad = bool(jnp.isnan(lw) | (lw == jnp.inf))
    if bad:
      raise ValueError(f"{lw_msg}; got {float(lw)}")
  _checks.debug_check(jnp.logical_not(jnp.isnan(lw) | (lw == jnp.inf)), lw_msg)
  c = jnp.where(lw > -jnp.inf, c, 0.0)
  return PatternBank(bank.centered.at[index].set(c), bank.center,
                     bank.sq_norms.at[index].set(jnp.sum(c * c)), bank.log_weights.at[index].set(lw))


def write_many(bank: PatternBank, start: Any, patterns: Array) -> PatternBank:
  """Stores (M, d) patterns in slots start, …, start + M − 1 (one `dynamic_update_slice`).

  Each written slot gets log-weight 0 (weights need not be normalised: the mixture normalises them).
  The slots must fit: start + M ≤ N. A concrete `start` that overflows, or concrete patterns with
  NaN/inf, raise ValueError here; a traced `start` or traced patterns are checked under `checked`.
  """
  patterns = jnp.asarray(patterns, bank.dtype)
  if patterns.ndim != 2 or patterns.shape[1] != bank.dim:
    raise ValueError(f"patterns must have shape (M, {bank.dim}) to match the bank, got {tuple(patterns.shape)}")
  m = patterns.shape[0]
  if m > bank.capacity:
    raise ValueError(f"patterns holds {m} patterns but the bank has {bank.capacity} slots")
  if isinstance(start, bool):
    raise ValueError(f"start must be an integer index, got {start!r}")
  if _checks.is_concrete(start) and np.asarray(start).shape == () and np.issubdtype(np.asarray(start).dtype, np.integer) \
      and int(start) + m > bank.capacity:
    raise ValueError(f"start={int(start)} with {m} patterns overflows the bank's {bank.capacity} slots "
                     f"(start must be <= {bank.capacity - m})")
  _checks.check_int_index("start", start, bank.capacity - m + 1)
  _checks.check_finite("patterns", patterns)
  _checks.debug_check_finite("patterns", patterns)
  c = patterns - bank.center
  start = jnp.asarray(start)
  zero = jnp.zeros((), start.dtype)          # same integer type for both indices (also under x64)
  upd = jax.lax.dynamic_update_slice
  return PatternBank(upd(bank.centered, c, (start, zero)), bank.center,
                     upd(bank.sq_norms, _centered_sq_norms(c), (start,)),
                     upd(bank.log_weights, jnp.zeros((m,), bank.dtype), (start,)))


def as_bank(patterns_or_bank: Any, name: str = "patterns") -> PatternBank:
  """A `PatternBank` as is, or `make_bank` of an (N, d) array (validated)."""
  if isinstance(patterns_or_bank, PatternBank):
    return patterns_or_bank
  try:
    return make_bank(patterns_or_bank)
  except ValueError as err:
    msg = str(err)
    if name != "patterns" and msg.startswith("patterns"):
      msg = name + msg[len("patterns"):]
    raise ValueError(msg) from None


def pad_bank(bank: PatternBank, multiple: int) -> PatternBank:
  """Pads the slot axis with empty slots up to a multiple of `multiple` (for chunks and shards)."""
  multiple = _checks.check_int("multiple", multiple, 1)
  n = bank.capacity
  extra = (-n) % multiple
  if extra == 0:
    return bank
  d = bank.dim
  return PatternBank(jnp.concatenate([bank.centered, jnp.zeros((extra, d), bank.dtype)]), bank.center,
                     jnp.concatenate([bank.sq_norms, jnp.zeros((extra,), bank.dtype)]),
                     jnp.concatenate([bank.log_weights, jnp.full((extra,), -jnp.inf, bank.dtype)]))
