"""Shared fixtures and helpers for the assocmem property tests.

`x64` turns on float64 for one test and restores the previous setting after;
the closed-form == autograd identities are checked in float64 so that a
mismatch of 1e-8 is a bug, not round-off. `tree_allclose` compares pytrees
leaf by leaf (structure included), in the spirit of diffrax's helper.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest


def tree_allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
                  equal_nan: bool = False) -> bool:
  """True when pytrees `a` and `b` have the same structure, shapes and close leaves."""
  leaves_a, tree_a = jax.tree.flatten(a)
  leaves_b, tree_b = jax.tree.flatten(b)
  if tree_a != tree_b:
    return False
  for la, lb in zip(leaves_a, leaves_b):
    la, lb = np.asarray(la), np.asarray(lb)
    if la.shape != lb.shape:
      return False
    if not np.allclose(la, lb, rtol=rtol, atol=atol, equal_nan=equal_nan):
      return False
  return True


@pytest.fixture(name="tree_allclose")
def tree_allclose_fixture():
  """The `tree_allclose` helper, for tests that prefer fixtures to imports."""
  return tree_allclose


@pytest.fixture
def x64():
  """Enables float64 for the duration of one test, then restores the old setting."""
  previous = bool(jax.config.jax_enable_x64)
  jax.config.update("jax_enable_x64", True)
  try:
    assert jnp.zeros(()).dtype == jnp.float64
    yield
  finally:
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture
def key():
  return jax.random.PRNGKey(0)


def binary_patterns(seed: int, n: int, d: int, dtype=jnp.float32) -> jax.Array:
  """Random ±1 patterns from numpy (independent of the library under test)."""
  rng = np.random.default_rng(seed)
  return jnp.asarray(rng.choice([-1.0, 1.0], size=(n, d)), dtype)


def gaussian(seed: int, shape, dtype=jnp.float32, scale: float = 1.0) -> jax.Array:
  rng = np.random.default_rng(seed)
  return jnp.asarray(scale * rng.standard_normal(shape), dtype)


def flip_bits(y: jax.Array, n_flips: int, seed: int = 0) -> jax.Array:
  """y with `n_flips` distinct units negated."""
  rng = np.random.default_rng(seed)
  idx = rng.choice(y.shape[-1], size=n_flips, replace=False)
  return y.at[..., idx].multiply(-1.0)


@pytest.fixture(name="helpers")
def helpers_fixture():
  """Namespace of the data helpers above."""

  class _Helpers:
    binary_patterns = staticmethod(binary_patterns)
    gaussian = staticmethod(gaussian)
    flip_bits = staticmethod(flip_bits)
    tree_allclose = staticmethod(tree_allclose)

  return _Helpers
