"""Checked mode: value checks inside jit/vmap that cost nothing unless asked for.

The hot paths (scores, samplers, Hopfield updates, bank writes) carry
`checkify.debug_check`s for t > 0, strictly decreasing time grids, β > 0, finite states x in
every score and Hopfield update, empty banks and bank writes (the exact list: docs/api.md, "Input
contracts").
They are no-ops in normal calls. Wrap a function with `checked` to turn them into Python
errors, also under `jit` and `vmap`:

    safe_sample = assocmem.checked(jax.vmap(lambda x: assocmem.ode_sample(fn, bank, sde, x, t0)))
    safe_sample(cues)        # raises assocmem.CheckError naming the failed condition
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
from jax.experimental import checkify

CheckError = checkify.JaxRuntimeError


def checked(fn: Callable[..., Any], jit: bool = True) -> Callable[..., Any]:
  """`fn` with its debug checks turned into errors.

  Args:
    fn: any JAX function of arrays (may already be jitted or vmapped).
    jit: compile the checked function with `jax.jit` (default).
  Returns:
    A function with the same arguments and outputs that raises `CheckError` (a
    `checkify.JaxRuntimeError`) when a check fails.
  """
  if not callable(fn):
    raise ValueError(f"fn must be callable, got {type(fn).__name__}")
  cfn = checkify.checkify(fn, errors=checkify.user_checks)
  if jit:
    cfn = jax.jit(cfn)

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    err, out = cfn(*args, **kwargs)
    err.throw()
    return out

  return wrapper
