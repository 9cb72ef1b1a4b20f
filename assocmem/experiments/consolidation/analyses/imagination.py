"""Imagination with the consolidated VAE (seed 000 §3): prior samples, interpolation, arithmetic.

Decoded prior samples z ~ N(0, I) (the VAE's `replay`); latent interpolation between two test
items (the authors' `interpolate_ims`, 10 steps); vector arithmetic z = −z₁ + z₂ + z₃ with items 1
and 3 of one class (the authors' `vector_arithmetic`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from assocmem import _checks, files
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext, images,
                                                              plt, show)


@dataclasses.dataclass(frozen=True)
class ImaginationSettings:
  """Attributes:
    n_imagine: prior samples shown.
    n_interpolations, interpolation_steps: interpolations between random test pairs, and their steps.
    n_arithmetic: vector-arithmetic examples.
  """
  n_imagine: int = 16
  n_interpolations: int = 3
  interpolation_steps: int = 10
  n_arithmetic: int = 3

  def __post_init__(self):
    _checks.check_int("n_imagine", self.n_imagine)
    _checks.check_int("n_interpolations", self.n_interpolations)
    _checks.check_int("interpolation_steps", self.interpolation_steps, 2)
    _checks.check_int("n_arithmetic", self.n_arithmetic, 0)


def run(settings: ImaginationSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """arrays {"prior": (n_imagine, H, W, C), "interpolation": (n_interpolations, steps, H, W, C) from
  test item a to b, "arithmetic": (n, 4, H, W, C): items 1, 2, 3 and the decoding of −z₁ + z₂ + z₃};
  numbers: their counts."""
  student, state, shape = ctx.student, ctx.state, ctx.config.image_shape
  test_images, test_labels = ctx.prepared.test.images, ctx.prepared.test_labels
  k_prior, k_pairs, k_arith = jax.random.split(key, 3)
  prior = np.asarray(student.replay(state, k_prior, settings.n_imagine)).reshape((-1,) + shape)
  z = np.asarray(student.encode(state, test_images))
  n, m, steps = len(test_images), settings.n_interpolations, settings.interpolation_steps
  pairs = np.asarray(jax.random.choice(k_pairs, n, (m, 2), replace=n < 2 * m))
  w = np.linspace(0.0, 1.0, steps)[None, :, None]
  path = (1 - w) * z[pairs[:, 0]][:, None, :] + w * z[pairs[:, 1]][:, None, :]
  interp = images(student, state, path.reshape(-1, z.shape[1]), shape).reshape((m, steps) + shape)
  rows = []
  rng = np.random.default_rng(int(jax.random.randint(k_arith, (), 0, 2**31 - 1)))
  classes = [c for c in np.unique(test_labels) if np.sum(test_labels == c) >= 2]
  for _ in range(settings.n_arithmetic if classes else 0):
    c = rng.choice(classes)
    first, third = rng.choice(np.flatnonzero(test_labels == c), size=2, replace=False)
    second = rng.integers(n)
    out = images(student, state, (-z[first] + z[second] + z[third])[None], shape)[0]
    rows.append(np.stack([test_images[first], test_images[second], test_images[third], out]))
  arithmetic = np.stack(rows) if rows else np.zeros((0, 4) + shape, np.float32)
  numbers = {"n_prior": len(prior), "n_interpolations": m, "n_arithmetic": len(arithmetic),
             "prior_mean": float(np.mean(prior))}
  return AnalysisResult(numbers, {"prior": prior, "interpolation": interp, "arithmetic": arithmetic})


def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """imagination.png: prior samples, latent interpolations and vector arithmetic (−z₁ + z₂ + z₃)."""
  del ctx
  prior, interpolation, arithmetic = (result.arrays[k] for k in ("prior", "interpolation", "arithmetic"))
  pyplot = plt()
  cols = max(8, interpolation.shape[1] if interpolation.size else 0)
  prior_rows = int(np.ceil(len(prior) / cols))
  n_rows = prior_rows + len(interpolation) + len(arithmetic)
  fig, axes = pyplot.subplots(n_rows, cols, figsize=(0.9 * cols, 1.05 * n_rows), squeeze=False)
  fig.subplots_adjust(left=0.02, right=0.98, top=0.95, bottom=0.02, wspace=0.05, hspace=0.35)
  for ax in axes.ravel():
    ax.axis("off")

  def put(r: int, c: int, img: np.ndarray) -> None:
    axes[r, c].axis("on")
    show(axes[r, c], img)

  def label(r: int, text: str) -> None:
    axes[r, 0].text(0.0, 1.08, text, transform=axes[r, 0].transAxes, fontsize=8, ha="left", va="bottom")

  for i, img in enumerate(prior):
    put(i // cols, i % cols, img)
  label(0, "prior samples z ~ N(0, I)")
  for r, row in enumerate(interpolation):
    for c, img in enumerate(row):
      put(prior_rows + r, c, img)
  if len(interpolation):
    label(prior_rows, "latent interpolation between two test items")
  base = prior_rows + len(interpolation)
  for r, row in enumerate(arithmetic):
    for c, img in enumerate(row):
      put(base + r, c, img)
  if len(arithmetic):
    label(base, "items 1, 2, 3 (1 and 3 of one class) → decode(−z₁ + z₂ + z₃)")
  files.save_figure(fig, os.path.join(directory, "imagination.png"), dpi=100)
  pyplot.close(fig)
  return ("imagination.png",)


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  del ctx
  return [f"Imagination: {numbers['n_prior']} prior samples, {numbers['n_interpolations']} latent "
          f"interpolations and {numbers['n_arithmetic']} vector-arithmetic decodings."]


ANALYSIS = Analysis(name="imagination", title="Imagination", settings_cls=ImaginationSettings, run=run,
                    table=table, figure=figure)
