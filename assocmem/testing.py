"""Assertions for testing code built on assocmem, in the style of `chex` (`assert_*`, clear messages).

Each assertion returns None (or the measured quantity) when the property holds and raises
`AssertionError` with a message naming what differs, where and by how much, so it drops into
any test runner (pytest, absltest, chex.TestCase) and into notebooks. Randomness enters only
through explicit PRNG keys. The module never imports a test framework.

  assert_trees_allclose(a, b)                      pytrees equal in structure, shape, dtype, values
  assert_score_matches_log_density(score_fn, log_density_fn, state, xs, ts)
                                                   closed-form score == jax.grad of the log density
  assert_fixed_points(memory, state, patterns)     recall of each stored pattern returns it
  assert_memory_protocol(memory, key, data)        conformance suite of the memory protocol
  assert_modes_agree(fn, modes)                    dense / streaming / sharded give one answer
  assert_convergence_order(sampler, exact, n_steps, expected_order)
                                                   measured order (log-log slope) of a sampler

Plus the small data helpers the project's own tests use (`binary_patterns`, `gaussian_array`,
`flip_bits`): drawn with NumPy from an integer seed, so they are independent of the library under
test.

    from assocmem import testing
    testing.assert_memory_protocol(MyMemory(), jax.random.PRNGKey(0), data)
"""

from __future__ import annotations

import contextlib
import inspect
import math
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
PyTree = Any

__all__ = [
    "assert_convergence_order",
    "assert_fixed_points",
    "assert_memory_protocol",
    "assert_modes_agree",
    "assert_score_matches_log_density",
    "assert_trees_allclose",
    "binary_patterns",
    "flip_bits",
    "gaussian_array",
    "measure_order",
]


# ----------------------------------------------------------------------------- data helpers

def binary_patterns(seed: int, n: int, d: int, dtype: Any = jnp.float32) -> Array:
  """(n, d) random ±1 patterns drawn with NumPy from `seed` (independent of the library under test)."""
  rng = np.random.default_rng(seed)
  return jnp.asarray(rng.choice([-1.0, 1.0], size=(n, d)), dtype)


def gaussian_array(seed: int, shape: int | Sequence[int], dtype: Any = jnp.float32,
                   scale: float = 1.0) -> Array:
  """An array of `shape` with i.i.d. N(0, scale²) entries drawn with NumPy from `seed`."""
  rng = np.random.default_rng(seed)
  return jnp.asarray(scale * rng.standard_normal(shape), dtype)


def flip_bits(y: Array, n_flips: int, seed: int = 0) -> Array:
  """`y` (..., d) with `n_flips` distinct units (the same ones in every row) negated."""
  rng = np.random.default_rng(seed)
  idx = rng.choice(y.shape[-1], size=n_flips, replace=False)
  return jnp.asarray(y).at[..., idx].multiply(-1.0)


# ----------------------------------------------------------------------------- pytrees

def _prefix(err_msg: str) -> str:
  return f"{err_msg}: " if err_msg else ""


def _leaf_mismatch(la: Any, lb: Any, rtol: float, atol: Any, equal_nan: bool) -> str | None:
  """None when two array leaves are close, else a one-line description of the difference."""
  a = np.asarray(la)
  b = np.asarray(lb)
  if a.dtype.kind not in "biufc" or b.dtype.kind not in "biufc":
    return None if np.array_equal(a, b) else f"non-numeric values differ: {a!r} != {b!r}"
  a64 = a.astype(np.complex128 if "c" in (a.dtype.kind, b.dtype.kind) else np.float64)
  b64 = b.astype(a64.dtype)
  close = np.isclose(a64, b64, rtol=rtol, atol=atol, equal_nan=equal_nan)
  if np.all(close):
    return None
  bad = ~close
  with np.errstate(invalid="ignore", over="ignore"):
    err = np.abs(a64 - b64)
    err = np.where(np.isnan(err), np.inf, err)
    excess = np.where(bad, err - rtol * np.abs(b64) - np.broadcast_to(atol, err.shape), -np.inf)
  worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
  rel = err[worst] / abs(b64[worst]) if b64[worst] != 0 else np.inf
  where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
  return (f"{int(bad.sum())} of {bad.size} values differ (rtol={rtol:g}, atol={np.max(atol):g}); "
          f"worst{where}: {a64[worst].item()!r} vs {b64[worst].item()!r} (|diff| {err[worst]:.3g}, "
          f"relative {rel:.3g}); max |diff| {float(np.max(err)):.3g}")


def assert_trees_allclose(a: PyTree, b: PyTree, *, rtol: float = 1e-5, atol: float = 1e-8,
                          equal_nan: bool = False, check_dtypes: bool = True, err_msg: str = "") -> None:
  """Asserts that pytrees `a` and `b` have one structure and leaves of equal shape, dtype and close values.

  Leaves are compared as `np.isclose(a, b, rtol, atol)`: |a − b| <= atol + rtol |b| (b is the
  reference). Array leaves (anything with a `dtype`) must have equal dtypes when `check_dtypes`;
  Python scalars and lists are compared by value only. Non-numeric leaves must be equal.

  Args:
    a, b: pytrees (arrays, tuples, dicts, dataclasses, PatternBanks, ...).
    rtol, atol: relative and absolute tolerances (`atol` may be an array broadcastable to the leaves).
    equal_nan: treat NaNs in the same places as equal.
    check_dtypes: require equal dtypes of array leaves.
    err_msg: prefix of the failure message.
  Raises:
    AssertionError naming the first leaf (its path) whose structure, shape, dtype or values differ.
  """
  pre = _prefix(err_msg)
  paths_a, tree_a = jax.tree_util.tree_flatten_with_path(a)
  paths_b, tree_b = jax.tree_util.tree_flatten_with_path(b)
  if tree_a != tree_b:
    raise AssertionError(f"{pre}pytree structures differ:\n  {tree_a}\n  {tree_b}")
  for (path, la), (_, lb) in zip(paths_a, paths_b):
    name = jax.tree_util.keystr(path) or "<root>"
    sa, sb = np.shape(la), np.shape(lb)
    if sa != sb:
      raise AssertionError(f"{pre}leaf {name}: shapes differ, {sa} vs {sb}")
    da, db = getattr(la, "dtype", None), getattr(lb, "dtype", None)
    if check_dtypes and da is not None and db is not None and np.dtype(da) != np.dtype(db):
      raise AssertionError(f"{pre}leaf {name}: dtypes differ, {np.dtype(da)} vs {np.dtype(db)} "
                           "(pass check_dtypes=False to compare values only)")
    msg = _leaf_mismatch(la, lb, rtol, atol, equal_nan)
    if msg:
      raise AssertionError(f"{pre}leaf {name} of shape {sa}: {msg}")


# ----------------------------------------------------------------------------- scores

def _score_and_grad(score_fn: Callable, log_density_fn: Callable, state: Any, xs: Array, ts: Array):
  def one(x, t):
    return score_fn(state, x, t), jax.grad(log_density_fn, argnums=1)(state, x, t)

  return jax.vmap(jax.vmap(one, in_axes=(0, None)), in_axes=(None, 0))(xs, ts)


_score_and_grad_jit = jax.jit(_score_and_grad, static_argnums=(0, 1))


def assert_score_matches_log_density(score_fn: Callable[[Any, Array, Array], Array],
                                     log_density_fn: Callable[[Any, Array, Array], Array],
                                     state: Any, xs: Array, ts: Array | float, *,
                                     rtol: float = 1e-7, atol: float | Array = 1e-7,
                                     jit: bool = True) -> None:
  """Asserts that a closed-form score equals `jax.grad` of its log density at every (x, t).

  Seed 002's scores are gradients of log densities (Eq. 12; Eqs. A3–A4; Eq. 23): a wrong sign,
  factor or posterior weight in the closed form shows up as a mismatch. Run it in float64
  (`jax.config.update("jax_enable_x64", True)`) so that a tolerance of 1e-7 separates a wrong
  formula from round-off.

  Args:
    score_fn: `score_fn(state, x (d,), t) -> (d,)`, the explicit-state convention of
      `assocmem.exact_score_fn(sde)`.
    log_density_fn: `log_density_fn(state, x (d,), t) -> ()`, e.g.
      `lambda bank, x, t: assocmem.log_density(x, t, bank, sde)`.
    state: the state both functions take (a PatternBank, a tuple of arrays, parameters, ...).
    xs: (B, d) states.
    ts: scalar or (T,) times; every state is checked at every time.
    rtol, atol: |closed − grad| <= atol + rtol |grad|. `atol` may be a (T,) array, one absolute
      tolerance per time (e.g. c / sqrt(v_t), the score's natural scale).
    jit: evaluate under one `jax.jit` (state, xs, ts traced; compiled once per pair of functions
      and shapes). False evaluates eagerly (for functions that cannot be traced).
  Raises:
    AssertionError naming the worst (x, t), or a non-finite value.
  """
  xs = jnp.asarray(xs)
  ts = jnp.atleast_1d(jnp.asarray(ts, xs.dtype))
  if xs.ndim != 2:
    raise ValueError(f"xs must have shape (B, d), got shape {tuple(xs.shape)}")
  if ts.ndim != 1:
    raise ValueError(f"ts must be a scalar or have shape (T,), got shape {tuple(ts.shape)}")
  evaluate = _score_and_grad_jit if jit else _score_and_grad
  closed, auto = evaluate(score_fn, log_density_fn, state, xs, ts)
  closed, auto = np.asarray(closed), np.asarray(auto)
  if closed.shape != auto.shape:
    raise AssertionError(f"score_fn returns shape {closed.shape[2:]} per state, but the gradient of "
                         f"log_density_fn has shape {auto.shape[2:]}")
  for name, v in (("score_fn", closed), ("jax.grad(log_density_fn)", auto)):
    if not np.all(np.isfinite(v)):
      i, b = np.argwhere(~np.isfinite(v))[0][:2]
      raise AssertionError(f"{name} is not finite at x = xs[{b}], t = {float(ts[i]):.6g}: {v[i, b]}")
  atol_arr = np.asarray(atol, np.float64)
  if atol_arr.ndim == 1:
    if atol_arr.shape[0] != ts.shape[0]:
      raise ValueError(f"atol must be a scalar or have one entry per time ({ts.shape[0]}), "
                       f"got shape {atol_arr.shape}")
    atol_arr = atol_arr[:, None, None]
  err = np.abs(closed - auto)
  bound = atol_arr + rtol * np.abs(auto)
  bad = err > bound
  if bad.any():
    i, b, k = np.unravel_index(int(np.argmax(np.where(bad, err / bound, -np.inf))), err.shape)
    raise AssertionError(
        f"closed-form score != jax.grad(log density) at {int(bad.any(-1).sum())} of {bad.shape[0] * bad.shape[1]} "
        f"(x, t) pairs; worst at x = xs[{b}], t = {float(ts[i]):.6g}, coordinate {k}: score {closed[i, b, k]:.10g} "
        f"vs grad {auto[i, b, k]:.10g} (|diff| {err[i, b, k]:.3g} > {bound[i, b, k]:.3g}); "
        f"score there {closed[i, b]}, grad {auto[i, b]}")


# ----------------------------------------------------------------------------- memories

def _recall_fn(memory: Any) -> Callable[..., Array]:
  recall = getattr(memory, "recall", None)
  if callable(recall):
    return recall
  if callable(memory):
    return lambda state, cues, key=None: memory(state, cues)
  raise ValueError(f"memory must have a recall(state, cues, key) method or be a function "
                   f"recall(state, cues), got {type(memory).__name__}")


def assert_fixed_points(memory: Any, state: Any, patterns: Array, *, key: Array | None = None,
                        rtol: float = 0.0, atol: float = 1e-5, binary: bool = False) -> None:
  """Asserts that recalling each stored pattern returns it: recall(state, patterns) ≈ patterns.

  Seed 000 Eq. 3 and seed 002 Eqs. 1, 4, 5: a working memory's stored patterns are fixed points
  of its dynamics (at large β, below capacity, on the ±1 corners for binary networks).

  Args:
    memory: an object with the memory protocol's `recall(state, cues (B, d), key) -> (B, d)`, or a
      function `recall(state, cues (B, d)) -> (B, d)` (e.g. a vmapped update rule).
    state: the memory's state (from `memory.store(key, patterns)`).
    patterns: (N, d) the stored patterns, used as cues.
    key: PRNG key passed to `memory.recall` (stochastic memories).
    rtol, atol: tolerance of |recall − pattern| (ignored when `binary`).
    binary: compare signs only (sign(recall) == sign(pattern), 0 counting as +1).
  Raises:
    AssertionError listing the patterns that are not fixed points and their largest error.
  """
  patterns = jnp.asarray(patterns)
  if patterns.ndim != 2:
    raise ValueError(f"patterns must have shape (N, d), got shape {tuple(patterns.shape)}")
  out = np.asarray(_recall_fn(memory)(state, patterns, key))
  p = np.asarray(patterns)
  if out.shape != p.shape:
    raise AssertionError(f"recall of {p.shape[0]} patterns returned shape {out.shape}, expected {p.shape}")
  if binary:
    sign = lambda v: np.where(v >= 0, 1.0, -1.0)  # noqa: E731
    err = (sign(out) != sign(p)).astype(np.float64)
    bad = err.any(-1)
  else:
    with np.errstate(invalid="ignore"):
      err = np.abs(out.astype(np.float64) - p)
      err = np.where(np.isnan(err), np.inf, err)
    bad = (err > atol + rtol * np.abs(p)).any(-1)
  if bad.any():
    idx = np.flatnonzero(bad)
    worst = int(idx[np.argmax(err[idx].max(-1))])
    what = (f"{int(err[worst].sum())} of {p.shape[1]} signs flipped" if binary
            else f"max |recall − pattern| {float(err[worst].max()):.3g} > atol {atol:g} + rtol {rtol:g}·|pattern|")
    raise AssertionError(f"{idx.size} of {p.shape[0]} stored patterns are not fixed points of recall "
                         f"(indices {idx[:10].tolist()}{' ...' if idx.size > 10 else ''}); pattern {worst}: {what}")


def _accepts(fn: Callable, name: str) -> bool:
  try:
    params = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return False
  return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _close(a: Any, b: Any, what: str, rtol: float, atol: float) -> None:
  assert_trees_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, check_dtypes=False, err_msg=what)


def _check_batch(out: Any, n: int, d: int, what: str) -> np.ndarray:
  arr = np.asarray(out)
  if arr.shape != (n, d):
    raise AssertionError(f"{what} returned shape {arr.shape}, expected ({n}, {d})")
  if arr.dtype.kind not in "fc":
    raise AssertionError(f"{what} returned dtype {arr.dtype}, expected a floating dtype")
  if not np.all(np.isfinite(arr)):
    raise AssertionError(f"{what} returned {int((~np.isfinite(arr)).sum())} non-finite values")
  return arr


@contextlib.contextmanager
def _fails_as_assertion(what: str):
  """Turns an exception raised inside the block into an AssertionError saying what failed."""
  try:
    yield
  except AssertionError:
    raise
  except Exception as e:  # pylint: disable=broad-except
    raise AssertionError(f"{what} raised {type(e).__name__}: {str(e)[:500]}") from e


def assert_memory_protocol(memory: Any, key: Array, data: Array, *, cues: Array | None = None,
                           n_replay: int = 3, jit: bool = True, vmap: bool = True,
                           stochastic: bool | None = None, rtol: float = 1e-5, atol: float = 1e-5) -> Any:
  """Asserts that `memory` follows the memory protocol (`assocmem.memories.base.Memory`).

  A conformance suite any memory, built-in or user-written, can run. It checks:
    * `store(key, data)` returns a state; `recall(state, cues (B, d), key)` returns finite (B, d)
      floats and `replay(state, key, n)` finite (n, d) floats;
    * batching: a batch's recall equals the recall of each cue alone (cue order, no cross-talk).
      Memories that recall without a key are checked cue by cue with key=None; memories that need
      a key are checked with `batch_size=1` where they take it (the protocol's chunks reuse the
      per-item keys);
    * determinism under a key: the same key gives the same recall and replay (no global RNG);
      with `stochastic=True` a different key must give a different recall and replay; with
      `stochastic=False` recall must not depend on the key (replays always may);
    * `jit`: recall and replay under `jax.jit` with the state as a traced argument equal eager;
    * `vmap`: recall vmapped over a stack of states (an ensemble) equals eager recall;
    * where the memory has them: `dim(state) == d`, `capacity(state)` a positive int, and the
      `batch_size=` keyword of recall and replay (chunked == unchunked for the same key).

  Args:
    memory: the memory (settings object with store / recall / replay).
    key: PRNG key; every random draw of the suite is split from it.
    data: (N, d) items to store (in the memory's range: e.g. [0, 1] for a "unit" VAE).
    cues: (B, d) cues, default the first min(N, 3) rows of `data`.
    n_replay: number of replays to draw.
    jit, vmap: run the jit / vmap checks (turn off for memories that run outside JAX, e.g. with NumPy).
    stochastic: True for memories whose recall samples (different keys must change recall and
      replay), False for deterministic recall (the key must not matter), None: not checked.
    rtol, atol: tolerance of the equality checks (batched vs per-item, jit vs eager, chunked).
  Returns:
    the state returned by `store`, for further checks.
  Raises:
    AssertionError naming the first property that fails.
  """
  for method in ("store", "recall", "replay"):
    if not callable(getattr(memory, method, None)):
      raise AssertionError(f"{type(memory).__name__} has no {method}() method (the memory protocol needs "
                           "store, recall and replay)")
  data = jnp.asarray(data)
  if data.ndim != 2:
    raise ValueError(f"data must have shape (N, d), got shape {tuple(data.shape)}")
  n, d = data.shape
  cues = data[:min(n, 3)] if cues is None else jnp.asarray(cues)
  if cues.ndim != 2 or cues.shape[1] != d:
    raise ValueError(f"cues must have shape (B, {d}), got shape {tuple(cues.shape)}")
  b = cues.shape[0]
  name = type(memory).__name__
  k_store, k_recall, k_replay, k_other = jax.random.split(key, 4)

  state = memory.store(k_store, data)

  # dim and capacity (the protocol's additions; skipped on memories without them)
  dim = getattr(memory, "dim", None)
  if callable(dim):
    got = dim(state)
    if int(got) != d:
      raise AssertionError(f"{name}.dim(state) is {got}, but the stored data have dimension {d}")
  capacity = getattr(memory, "capacity", None)
  if callable(capacity):
    got = capacity(state)
    if got is not None and (isinstance(got, bool) or not isinstance(got, (int, np.integer)) or got < n):
      raise AssertionError(f"{name}.capacity(state) must be None (no slot limit) or an int >= the {n} "
                           f"stored items, got {got!r}")

  # shapes
  out = _check_batch(memory.recall(state, cues, k_recall), b, d, f"{name}.recall of ({b}, {d}) cues")
  replays = _check_batch(memory.replay(state, k_replay, n_replay), n_replay, d,
                         f"{name}.replay(state, key, {n_replay})")

  # determinism under a key
  _close(memory.recall(state, cues, k_recall), out, f"{name}.recall is not deterministic under a key "
         "(same key, different outputs: a global RNG or hidden state?)", rtol, atol)
  _close(memory.replay(state, k_replay, n_replay), replays, f"{name}.replay is not deterministic under a "
         "key (same key, different outputs: a global RNG or hidden state?)", rtol, atol)
  if stochastic:
    other = np.asarray(memory.replay(state, k_other, n_replay))
    if np.allclose(other, replays, rtol=rtol, atol=atol):
      raise AssertionError(f"{name}.replay gives the same output for two different keys, but the memory "
                           "was declared stochastic (is the key used?)")
    other = np.asarray(memory.recall(state, cues, k_other))
    if np.allclose(other, out, rtol=rtol, atol=atol):
      raise AssertionError(f"{name}.recall gives the same output for two different keys, but the memory "
                           "was declared stochastic (is the key used?)")
  elif stochastic is False:
    _close(memory.recall(state, cues, k_other), out, f"{name}.recall changes with the key, but the memory "
           "was declared deterministic (stochastic=False)", rtol, atol)

  # batching: the batch's recall equals each cue's recall alone
  try:
    unkeyed = np.asarray(memory.recall(state, cues, None))
  except (ValueError, TypeError):
    unkeyed = None   # the memory needs a key to recall
  if unkeyed is not None:
    _check_batch(unkeyed, b, d, f"{name}.recall(state, cues, None)")
    for i in range(b):
      _close(memory.recall(state, cues[i:i + 1], None), unkeyed[i:i + 1],
             f"{name}.recall of a batch differs from the recall of cue {i} alone (the batch order or the "
             "other cues change an item's recall)", rtol, atol)
    if stochastic is False:
      _close(unkeyed, out, f"{name}.recall with a key differs from recall without one, but the memory "
             "was declared deterministic (stochastic=False)", rtol, atol)
  if _accepts(memory.recall, "batch_size"):
    # batch_size=1 is the per-item check of memories that need a key; b − 1 leaves a ragged last chunk
    sizes = ({max(1, b - 1)} if b > 2 else set()) | (set() if unkeyed is not None else {1})
    for size in sorted(sizes):
      _close(memory.recall(state, cues, k_recall, batch_size=size), out,
             f"{name}.recall(..., batch_size={size}) differs from the unchunked recall with the same key",
             rtol, atol)
  if _accepts(memory.replay, "batch_size"):
    size = max(1, n_replay - 1)
    _close(memory.replay(state, k_replay, n_replay, batch_size=size), replays,
           f"{name}.replay(..., batch_size={size}) differs from the unchunked replay with the same key",
           rtol, atol)

  # jit: the state is a traced argument
  if jit:
    with _fails_as_assertion(f"{name}.recall / replay under jax.jit (state as a traced argument)"):
      jit_out = jax.jit(lambda s, c, k: memory.recall(s, c, k))(state, cues, k_recall)
      jit_replays = jax.jit(lambda s, k: memory.replay(s, k, n_replay))(state, k_replay)
    _close(jit_out, out, f"{name}.recall under jax.jit (state as an argument) differs from eager", rtol, atol)
    _close(jit_replays, replays, f"{name}.replay under jax.jit (state as an argument) differs from eager",
           rtol, atol)

  # vmap over a stack of states (and of cue batches): an ensemble of memories
  if vmap:
    with _fails_as_assertion(f"{name}.recall under jax.vmap over a stack of states and cue batches"):
      states = jax.tree.map(lambda a: jnp.stack([a, a]), state)
      stacked = jax.vmap(lambda s, c: memory.recall(s, c, k_recall))(states, jnp.stack([cues, cues]))
    for i in range(2):
      _close(stacked[i], out, f"{name}.recall under jax.vmap over a stack of states differs from eager "
             f"(state {i})", rtol, atol)
  return state


# ----------------------------------------------------------------------------- modes

def _mode_label(mode: Any) -> str:
  if isinstance(mode, str):
    return mode
  return type(mode).__name__ + (f"({getattr(mode, 'chunk_size')})" if hasattr(mode, "chunk_size") else "")


def assert_modes_agree(fn: Callable[[Any], PyTree], modes: Sequence[Any] | Mapping[str, Any], *,
                       rtol: float = 1e-5, atol: float = 1e-6) -> None:
  """Asserts that `fn(mode)` gives the same pytree for every mixture mode.

  The modes of `assocmem.mixture` (Dense(), Streaming(chunk_size), Sharded(mesh, axis)) change the
  memory layout and the order of summation, never the answer: a mode that drops a chunk, a padded
  slot that takes part, or shards combined wrongly show up as a mismatch with the first mode.

  Args:
    fn: `fn(mode) -> pytree`, e.g. `lambda m: jax.vmap(lambda x: assocmem.score(x, t, bank, sde, m))(xs)`.
    modes: the modes to compare (objects, or names such as "dense" that `fn` understands), or a
      mapping label → mode. The first is the reference.
    rtol, atol: tolerances of `assert_trees_allclose` against the reference.
  Raises:
    AssertionError naming the mode that disagrees and where.
  """
  items = list(modes.items()) if isinstance(modes, Mapping) else [(_mode_label(m), m) for m in modes]
  if len(items) < 2:
    raise ValueError(f"modes must hold at least two modes to compare, got {len(items)}")
  ref_label, ref_mode = items[0]
  reference = jax.device_get(fn(ref_mode))
  for label, mode in items[1:]:
    got = jax.device_get(fn(mode))
    assert_trees_allclose(got, reference, rtol=rtol, atol=atol, check_dtypes=False,
                          err_msg=f"mode {label} disagrees with mode {ref_label}")


# ----------------------------------------------------------------------------- convergence order

def _max_abs_error(approx: PyTree, exact: PyTree) -> float:
  leaves_a, tree_a = jax.tree.flatten(approx)
  leaves_e, tree_e = jax.tree.flatten(exact)
  if tree_a != tree_e:
    raise AssertionError(f"sampler output and exact value have different structures: {tree_a} vs {tree_e}")
  return max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(e, np.float64))))
             for a, e in zip(leaves_a, leaves_e))


def measure_order(n_steps: Sequence[int], errors: Sequence[float]) -> float:
  """Observed order p of errors ≈ C n^−p: minus the least-squares slope of log error against log n."""
  n = np.asarray(n_steps, np.float64)
  e = np.asarray(errors, np.float64)
  return float(-np.polyfit(np.log(n), np.log(e), 1)[0])


def assert_convergence_order(sampler: Callable[[int], PyTree], exact: PyTree, n_steps: Sequence[int],
                             expected_order: float, *, tolerance: float = 0.2,
                             max_order: float | None = None, max_error: float | None = None,
                             error_fn: Callable[[PyTree, PyTree], float] | None = None) -> float:
  """Asserts that a sampler's error falls at least as fast as step^expected_order; returns the measured order.

  The error at each step count is `error_fn(sampler(n), exact)` (default: the largest absolute
  difference over all leaves). The observed order is minus the least-squares slope of log error
  against log n (step size ∝ 1/n). Euler on the probability-flow ODE (seed 002 Eq. 28) has strong
  order 1; Euler–Maruyama on the reverse SDE (Eq. 29) has weak order 1: pass a `sampler` that
  returns moments (e.g. E[x_T], E[x_T²] by Monte Carlo with enough paths that the sampling error is
  well below the discretisation error at the largest n).

  Args:
    sampler: `sampler(n) -> pytree`, the quantity computed with n steps.
    exact: the exact value, a pytree of the same structure.
    n_steps: at least two increasing step counts (e.g. 25, 50, 100, 200).
    expected_order: the theoretical order p.
    tolerance: pass when the observed order >= p − tolerance.
    max_order: if given, also require the observed order <= max_order (catches an error that
      vanishes for a wrong reason, e.g. a sampler that returns the exact value).
    max_error: if given, also require the error at the largest n to be at most this.
    error_fn: `error_fn(approx, exact) -> float`.
  Returns:
    the observed order.
  Raises:
    AssertionError with the errors and the observed order.
  """
  n_steps = [int(n) for n in n_steps]
  if len(n_steps) < 2 or any(b <= a for a, b in zip(n_steps, n_steps[1:])) or n_steps[0] < 1:
    raise ValueError(f"n_steps must hold at least two increasing positive step counts, got {n_steps}")
  error_fn = error_fn or _max_abs_error
  errors = [float(error_fn(sampler(n), exact)) for n in n_steps]
  table = ", ".join(f"n={n}: {e:.3g}" for n, e in zip(n_steps, errors))
  if not all(math.isfinite(e) and e >= 0 for e in errors):
    raise AssertionError(f"errors must be finite and >= 0, got {table}")
  if min(errors) == 0.0:
    raise AssertionError(f"an error is exactly 0 ({table}): the order cannot be measured; is the "
                         "sampler returning the exact value?")
  order = measure_order(n_steps, errors)
  if order < expected_order - tolerance:
    raise AssertionError(f"observed order {order:.3f} < expected {expected_order:g} − tolerance {tolerance:g}; "
                         f"errors {table}")
  if max_order is not None and order > max_order:
    raise AssertionError(f"observed order {order:.3f} > max_order {max_order:g}; errors {table}")
  if max_error is not None and errors[-1] > max_error:
    raise AssertionError(f"error at n={n_steps[-1]} is {errors[-1]:.3g} > max_error {max_error:g}; errors {table}")
  return order
