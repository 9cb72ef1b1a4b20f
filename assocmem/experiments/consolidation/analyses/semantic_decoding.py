"""Semantic decoding after consolidation: the few-shot curve (the authors' notebook 6).

StandardScaler + RBF SVC fitted on the first n training items (n = 10 … 1,000) and scored on the
test split, from the VAE's latent means and from raw pixels. The authors' Shapes3D numbers are
`assocmem.experiments.references.AUTHORS_FEW_SHOT`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from assocmem import _checks, files
from assocmem.experiments import references
from assocmem.experiments.consolidation import metrics
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext, fmt,
                                                              markdown_table, plt)

KINDS = ("latents", "pixels")


@dataclasses.dataclass(frozen=True)
class SemanticDecodingSettings:
  """Attributes:
    few_shot_sizes: training-set sizes of the few-shot curve (sizes above the split are skipped).
  """
  few_shot_sizes: tuple[int, ...] = (10, 20, 50, 100, 200, 300, 400, 500, 1000)

  def __post_init__(self):
    sizes = tuple(self.few_shot_sizes)
    if not sizes:
      raise ValueError("few_shot_sizes must hold at least one size")
    for s in sizes:
      _checks.check_int("few_shot_sizes", s, 2)
    object.__setattr__(self, "few_shot_sizes", tuple(sorted(int(s) for s in sizes)))


def run(settings: SemanticDecodingSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """numbers {"latents": {"n": accuracy}, "pixels": {"n": accuracy}} (keys are strings for JSON)."""
  del key
  train, test = ctx.prepared.train, ctx.prepared.test
  train_images, train_labels = train.images, np.asarray(train.labels[ctx.config.label_name])
  test_images, test_labels = test.images, ctx.prepared.test_labels
  n_max = min(max(settings.few_shot_sizes), len(train_images))
  z_train = np.asarray(ctx.student.encode(ctx.state, train_images[:n_max]))
  z_test = np.asarray(ctx.student.encode(ctx.state, test_images))
  sizes = settings.few_shot_sizes
  curves = {
      "latents": metrics.few_shot_curve(z_train, train_labels[:n_max], z_test, test_labels, sizes),
      "pixels": metrics.few_shot_curve(train_images[:n_max].reshape(n_max, -1), train_labels[:n_max],
                                       test_images.reshape(len(test_images), -1), test_labels, sizes),
  }
  return AnalysisResult({kind: {str(n): acc for n, acc in curve.items()} for kind, curve in curves.items()})


def rows(numbers: Mapping[str, Any], authors: bool) -> list[dict[str, Any]]:
  """One row per n: n, ours from latents and pixels, and (when `authors`) the authors' (None where
  they report none)."""
  ns = sorted({int(n) for kind in KINDS for n in numbers.get(kind, {})})
  out = []
  for n in ns:
    row = {"n": n, **{kind: numbers.get(kind, {}).get(str(n)) for kind in KINDS}}
    if authors:
      row.update({f"authors_{kind}": references.AUTHORS_FEW_SHOT[kind].get(n) for kind in KINDS})
    out.append(row)
  return out


def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """few_shot.png: accuracy against the number of training examples (the authors' when comparable)."""
  from assocmem.experiments.consolidation.report import comparability  # pylint: disable=import-outside-toplevel
  few_shot_figure(result.numbers, os.path.join(directory, "few_shot.png"),
                  comparability(ctx.config)[0] != "not comparable")
  return ("few_shot.png",)


def few_shot_figure(curves: Mapping[str, Mapping[str, float]], path: str, authors: bool) -> None:
  """Few-shot decoding accuracy against the number of training examples (latents and pixels)."""
  pyplot = plt()
  fig, ax = pyplot.subplots(figsize=(5, 3.6))
  for kind, style in (("latents", "-o"), ("pixels", "-s")):
    curve = curves.get(kind, {})
    ns = sorted(int(n) for n in curve)
    ax.plot(ns, [curve[str(n)] for n in ns], style, ms=4, label=f"ours: {kind}")
    if authors:
      ref = references.AUTHORS_FEW_SHOT[kind]
      ax.plot(list(ref), list(ref.values()), style.replace("-", ":"), color="k", ms=4, alpha=0.6,
              label=f"authors: {kind}")
  ax.set(xscale="log", xlabel="training examples", ylabel="accuracy", ylim=(0, 1),
         title="few-shot decoding (StandardScaler + RBF SVC)")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=110)
  pyplot.close(fig)


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  header = ["n", "latents", "pixels"] + (["authors: latents", "authors: pixels"] if ctx.authors else [])
  body = [[str(r["n"]), fmt(r["latents"]), fmt(r["pixels"])]
          + ([fmt(r["authors_latents"], ".2f"), fmt(r["authors_pixels"], ".2f")] if ctx.authors else [])
          for r in rows(numbers, ctx.authors)]
  return (["Few-shot decoding (classifier fitted on the first n training items, scored on the test split):", ""]
          + markdown_table(header, body))


ANALYSIS = Analysis(name="semantic_decoding", title="Few-shot semantic decoding",
                    settings_cls=SemanticDecodingSettings, run=run, table=table, figure=figure)
