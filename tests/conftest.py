"""Shared fixtures and helpers for the assocmem property tests.

`x64` turns on float64 for one test and restores the previous setting after;
the closed-form == autograd identities are checked in float64 so that a
mismatch of 1e-8 is a bug, not round-off. The comparison and data helpers live
in the public `assocmem.testing` (`assert_trees_allclose`, `binary_patterns`,
`gaussian_array`, `flip_bits`); the names below are kept for the tests that
import them from here.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import pytest

from assocmem import testing

binary_patterns = testing.binary_patterns
gaussian = testing.gaussian_array
flip_bits = testing.flip_bits


def tree_allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
                  equal_nan: bool = False) -> bool:
  """True when pytrees `a` and `b` have the same structure, shapes and close leaves.

  The boolean form of `assocmem.testing.assert_trees_allclose` (dtypes not compared);
  prefer the assertion, whose message says which leaf differs.
  """
  try:
    testing.assert_trees_allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtypes=False)
  except AssertionError:
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


@pytest.fixture(name="helpers")
def helpers_fixture():
  """Namespace of the data helpers above."""

  class _Helpers:
    binary_patterns = staticmethod(binary_patterns)
    gaussian = staticmethod(gaussian)
    flip_bits = staticmethod(flip_bits)
    tree_allclose = staticmethod(tree_allclose)

  return _Helpers
