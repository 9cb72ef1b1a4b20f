"""Argument validation shared by the public entry points.

Shapes and static settings are checked everywhere, including inside traced code
(they are Python values at trace time). Array *values* (finiteness, ranges) are
checked only when concrete, i.e. outside `jax.jit`; inside a trace they are
skipped, since no host value exists to check.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify


def is_concrete(x: Any) -> bool:
  """True when `x` holds a host-readable value (not a tracer)."""
  return not isinstance(x, jax.core.Tracer)


def as_float_array(name: str, x: Any) -> jax.Array:
  """Converts `x` to a floating JAX array, naming `name` on failure."""
  try:
    arr = jnp.asarray(x)
  except TypeError as err:
    raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from err
  if not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)
          or arr.dtype == jnp.bool_):
    raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
  if not jnp.issubdtype(arr.dtype, jnp.floating):
    arr = arr.astype(jnp.result_type(float))
  return arr


def check_ndim(name: str, x: jax.Array, ndim: int | Sequence[int], what: str) -> None:
  dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
  if x.ndim not in dims:
    raise ValueError(f"{name} must have shape {what}, got shape {tuple(x.shape)}")


def check_patterns(name: str, patterns: Any) -> jax.Array:
  """Validates a pattern bank of shape (N, d) with N >= 1 and d >= 1."""
  arr = as_float_array(name, patterns)
  check_ndim(name, arr, 2, "(n_patterns, dim)")
  if arr.shape[0] == 0:
    raise ValueError(f"{name} is an empty pattern set: expected at least one pattern, got shape {tuple(arr.shape)}")
  if arr.shape[1] == 0:
    raise ValueError(f"{name} has dimension 0: expected dim >= 1, got shape {tuple(arr.shape)}")
  check_finite(name, arr)
  return arr


def check_state(name: str, x: Any, dim: int) -> jax.Array:
  """Validates one state (d,) against the pattern dimension."""
  arr = as_float_array(name, x)
  if arr.ndim != 1:
    raise ValueError(f"{name} must be one state of shape ({dim},); got shape {tuple(arr.shape)} "
                     "(use jax.vmap, or the batched helpers, for batches)")
  if arr.shape[0] != dim:
    raise ValueError(f"{name} has dimension {arr.shape[0]} but the patterns have dimension {dim}")
  check_finite(name, arr)
  return arr


def check_batch(name: str, x: Any, dim: int) -> jax.Array:
  """Validates states of shape (..., d): any leading batch shape."""
  arr = as_float_array(name, x)
  if arr.ndim < 1 or arr.shape[-1] != dim:
    raise ValueError(f"{name} must have shape (..., {dim}) to match the patterns' dimension; "
                     f"got shape {tuple(arr.shape)}")
  check_finite(name, arr)
  return arr


def check_finite(name: str, x: Any) -> None:
  """Raises if a concrete array holds NaN or inf (skipped under tracing).

  The reduction runs where the array lives (one boolean comes back to the host), so it is
  cheap for large banks and works on sharded arrays.
  """
  if is_concrete(x):
    with jax.ensure_compile_time_eval():   # concrete values inside a trace: evaluate now
      arr = jnp.asarray(x)
      bad = jnp.issubdtype(arr.dtype, jnp.inexact) and not bool(jnp.all(jnp.isfinite(arr)))
    if bad:
      raise ValueError(f"{name} contains non-finite values (NaN or inf)")


def debug_check(pred: Any, msg: str, **fmt: Any) -> None:
  """A check that costs nothing unless the caller runs under `assocmem.checked` (checkify).

  Use for value checks in hot paths under jit/vmap: t > 0, β > 0, finite states.
  """
  checkify.debug_check(pred, msg, **fmt)


def debug_check_finite(name: str, x: Any) -> None:
  """`debug_check` that every entry of `x` is finite."""
  checkify.debug_check(jnp.all(jnp.isfinite(x)), f"{name} contains non-finite values (NaN or inf)")


def debug_check_positive(name: str, x: Any) -> None:
  """`debug_check` that a scalar is > 0 (and finite)."""
  x = jnp.asarray(x)
  checkify.debug_check(jnp.all(jnp.logical_and(x > 0, jnp.isfinite(x))),
                       f"{name} must be a finite number > 0, got {{v}}", v=x)


def check_time(name: str, t: Any) -> None:
  """A diffusion time t > 0: a concrete value raises a ValueError here, a traced one is checked
  under `checked` (a `CheckError`). At t = 0 the kernel variance is 0 and every score is 0/0."""
  if is_concrete(t):
    with jax.ensure_compile_time_eval():
      try:
        v = np.asarray(t, dtype=float)
      except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a finite number > 0, got {t!r}") from err
    if not np.all(np.isfinite(v) & (v > 0)):
      shown = float(v.reshape(-1)[0]) if v.size == 1 else v
      raise ValueError(f"{name} must be a finite number > 0 (a diffusion time), got {shown}")
  else:
    debug_check_positive(name, t)


def check_int_index(name: str, index: Any, size: int) -> None:
  """Static or concrete index in [0, size); traced indices are checked under `checked` only."""
  if isinstance(index, bool):
    raise ValueError(f"{name} must be an integer index, got {index!r}")
  if is_concrete(index):
    v = np.asarray(index)
    if v.shape != () or not np.issubdtype(v.dtype, np.integer):
      raise ValueError(f"{name} must be a scalar integer index, got {index!r}")
    if not 0 <= int(v) < size:
      raise ValueError(f"{name} must lie in [0, {size}), got {int(v)}")
  else:
    checkify.debug_check(jnp.logical_and(index >= 0, index < size),
                         f"{name} must lie in [0, {size}), got {{i}}", i=index)


def check_scalar_number(name: str, value: Any) -> None:
  """Raises unless `value` is a real scalar number or 0-d numeric array (tracers pass)."""
  if isinstance(value, bool):
    raise ValueError(f"{name} must be a real number, got {value!r}")
  if isinstance(value, (int, float, np.integer, np.floating)):
    return
  if isinstance(value, (jax.Array, np.ndarray)) and value.shape == () and (
      jnp.issubdtype(value.dtype, jnp.floating) or jnp.issubdtype(value.dtype, jnp.integer)):
    return
  raise ValueError(f"{name} must be a real scalar number, got {value!r} ({type(value).__name__})")


def check_positive(name: str, value: Any) -> None:
  """Raises unless a concrete scalar is finite and > 0."""
  if is_concrete(value):
    v = _concrete_scalar(name, value)
    if not math.isfinite(v) or v <= 0:
      raise ValueError(f"{name} must be a finite number > 0, got {v}")


def _concrete_scalar(name: str, value: Any) -> float:
  v = np.asarray(value)
  if v.size != 1:
    raise ValueError(f"{name} must be a scalar, got shape {v.shape}")
  try:
    return float(v.reshape(()))
  except (TypeError, ValueError) as err:
    raise ValueError(f"{name} must be a real number, got {value!r}") from err


def check_open_unit(name: str, value: Any) -> None:
  """Raises unless a concrete scalar lies in the open interval (0, 1)."""
  if is_concrete(value):
    v = _concrete_scalar(name, value)
    if not (0.0 < v < 1.0):
      raise ValueError(f"{name} must lie in the open interval (0, 1), got {v}")


def check_unit_closed(name: str, value: Any) -> None:
  """Raises unless a concrete scalar lies in [0, 1]."""
  if is_concrete(value):
    v = _concrete_scalar(name, value)
    if not (0.0 <= v <= 1.0):
      raise ValueError(f"{name} must lie in [0, 1], got {v}")


def is_int(value: Any) -> bool:
  """True for a Python or NumPy integer (not a bool): the one integer test of the library."""
  return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
  """True for a finite Python or NumPy real number (not a bool)."""
  return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
          and math.isfinite(float(value)))


def check_int(name: str, value: Any, minimum: int = 1) -> int:
  """Static integer settings (step counts, sizes)."""
  if not is_int(value):
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
  if value < minimum:
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
  return int(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
  if value not in choices:
    raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(map(repr, choices))}")
  return value


def check_vector_against(name: str, x: Any, dim: int, other: str) -> None:
  """Static shape check of one state (d,) against a bank's dimension (traced code included)."""
  shape = tuple(jnp.shape(x))
  if shape != (dim,):
    raise ValueError(f"{name} must have shape ({dim},) to match {other}, got shape {shape}")


def check_setting(name: str, value: Any, kind: str = "positive") -> None:
  """Validates a numeric setting of a settings pytree (flax.struct dataclass) in __post_init__.

  Strings, booleans and None are rejected; Python numbers and concrete arrays are range-checked
  (kind: "positive", "open_unit", "finite"); anything else (tracers, or the placeholders JAX
  passes when it rebuilds a pytree) is left alone.
  """
  if isinstance(value, (str, bool)) or value is None:
    raise ValueError(f"{name} must be a real number, got {value!r}")
  if isinstance(value, (int, float, np.integer, np.floating)) or (
      isinstance(value, (jax.Array, np.ndarray)) and is_concrete(value)):
    if np.asarray(value).size != 1:
      raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    v = float(np.asarray(value).reshape(()))
    if not math.isfinite(v):
      raise ValueError(f"{name} must be a finite number, got {v}")
    if kind == "positive" and v <= 0:
      raise ValueError(f"{name} must be a finite number > 0, got {v}")
    if kind == "open_unit" and not 0 < v < 1:
      raise ValueError(f"{name} must lie in the open interval (0, 1), got {v}")


# Key data shapes of JAX's PRNG implementations: threefry2x32 (the default) (2,), rbg and
# unsafe_rbg (4,).
_RAW_KEY_SHAPES = ((2,), (4,))


def check_key(name: str, key: Any, *, optional: bool = False, batched: bool = False) -> Any:
  """Raises a ValueError naming `name` unless `key` is a JAX PRNG key; returns it unchanged.

  Accepts new-style typed keys (`jax.random.key(0)`: a key dtype, shape ()) and raw keys
  (`jax.random.PRNGKey(0)`: uint32 (2,), or (4,) for the rbg implementations), as JAX or NumPy
  arrays or tracers: only the dtype and shape are read, so the check is free and works under
  `jit` and `vmap` (where a tracer has the shape of one example).

  Args:
    name: the argument's name in the message.
    key: the value to check.
    optional: None is allowed (and returned).
    batched: allow leading batch axes (a stack of keys, e.g. (E, 2) or (E,) typed).
  """
  if key is None:
    if optional:
      return None
    raise ValueError(f"{name} is required: expected a JAX PRNG key (jax.random.key(0) or "
                     "jax.random.PRNGKey(0)), got None")
  dtype = getattr(key, "dtype", None)
  shape = getattr(key, "shape", None)
  if isinstance(key, (jax.Array, np.ndarray)) and dtype is not None and shape is not None:
    shape = tuple(shape)
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
      if shape == () or batched:
        return key
    elif dtype == np.uint32 and len(shape) >= 1 and (
        shape in _RAW_KEY_SHAPES or (batched and shape[-1:] in _RAW_KEY_SHAPES)):
      return key
    got = f"an array of dtype {dtype} and shape {shape}"
  else:
    got = f"{type(key).__name__} {key!r}"[:80]
  want = "a stack of JAX PRNG keys" if batched else "a JAX PRNG key"
  raise ValueError(f"{name} must be {want} (jax.random.key(0), or jax.random.PRNGKey(0): uint32 of "
                   f"shape (2,)), got {got}")


def replace_fields(settings: Any, overrides: dict) -> Any:
  """`dataclasses.replace(settings, **overrides)`, with a ValueError naming any unknown field (and
  listing the known ones) instead of a TypeError from the constructor."""
  import dataclasses  # pylint: disable=import-outside-toplevel
  names = [f.name for f in dataclasses.fields(settings) if f.init]
  unknown = sorted(set(overrides) - set(names))
  if unknown:
    raise ValueError(f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                     f"for {type(settings).__name__}; expected some of: {', '.join(names)}")
  return dataclasses.replace(settings, **overrides)
