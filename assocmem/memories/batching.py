"""Chunked evaluation of a batched recall: the protocol's `batch_size` (one compiled chunk reused).

Every memory's `recall(state, cues, key, *, batch_size)` and `replay(state, key, n, *, batch_size)`
draw everything random for the whole batch first (the per-item keys, the replays' start noise)
and then run the per-item math `batch_size` items at a time with `jax.lax.map`, so

  * the chunked result equals the unchunked one item by item (the same keys and starts; only
    the work is split), and
  * one function of `batch_size` items is traced and compiled, whatever the number of items
    (the last chunk is padded with copies of its last item, which are dropped).

`batch_size=None` (or one at least the number of items) is the plain unchunked call.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from assocmem import _checks

Array = jax.Array


def check_batch_size(batch_size: Any) -> int | None:
  """None, or an integer >= 1 (ValueError naming `batch_size` otherwise)."""
  if batch_size is None:
    return None
  return _checks.check_int("batch_size", batch_size, 1)


def map_chunked(fn: Callable[..., Any], args: tuple[Array, ...], batch_size: int | None) -> Any:
  """fn(*args) computed `batch_size` rows at a time.

  Args:
    fn: a batched function of arrays that share a leading axis of B items (typically a `vmap`
      of a one-item function); its outputs have that leading axis too.
    args: the arrays, each (B, ...).
    batch_size: items per chunk; None (or >= B): one call of `fn` on everything.
  Returns:
    fn's outputs, (B, ...) each.
  """
  batch_size = check_batch_size(batch_size)
  n = args[0].shape[0]
  if batch_size is None or batch_size >= n:
    return fn(*args)
  k = -(-n // batch_size)
  extra = k * batch_size - n

  def split(a: Array) -> Array:
    if extra:
      a = jnp.concatenate([a, jnp.repeat(a[-1:], extra, axis=0)])
    return a.reshape((k, batch_size) + a.shape[1:])

  out = jax.lax.map(lambda xs: fn(*xs), tuple(split(a) for a in args))
  return jax.tree.map(lambda o: o.reshape((k * batch_size,) + o.shape[2:])[:n], out)
