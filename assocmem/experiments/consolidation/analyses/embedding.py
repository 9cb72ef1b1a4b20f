"""A 2-d embedding of the consolidated VAE's test latents, coloured by the semantic label.

t-SNE with PCA initialisation (the authors' `plot_latent_space_with_labels`) or PCA.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from assocmem import _checks, files
from assocmem.experiments.consolidation.analyses.base import Analysis, AnalysisResult, Context, TableContext, plt

METHODS: tuple[str, ...] = ("tsne", "pca")


@dataclasses.dataclass(frozen=True)
class EmbeddingSettings:
  """Attributes:
    method: "tsne" (as the authors) or "pca".
    n_embed: test latents embedded (the first n).
  """
  method: str = "tsne"
  n_embed: int = 800

  def __post_init__(self):
    _checks.check_choice("embedding", self.method, METHODS)
    _checks.check_int("n_embed", self.n_embed)


def embed(latents: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
  """(N, L) latents → (N, 2): t-SNE (PCA initialisation, perplexity ≤ 30) or PCA."""
  x = np.asarray(latents, np.float64)
  if x.ndim != 2 or x.shape[0] < 3:
    raise ValueError(f"latents must have shape (N >= 3, L), got shape {x.shape}")
  if method == "pca":
    from sklearn.decomposition import PCA  # pylint: disable=import-outside-toplevel
    return PCA(n_components=2, random_state=seed).fit_transform(x)
  if method != "tsne":
    raise ValueError(f"unknown embedding {method!r}; expected 'tsne' or 'pca'")
  from sklearn.manifold import TSNE  # pylint: disable=import-outside-toplevel
  perplexity = float(min(30.0, (x.shape[0] - 1) / 3.0))
  return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(x)


def run(settings: EmbeddingSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """numbers {"method", "n_embed"}; arrays {"points": (n, 2), "labels": (n,)} (seeded by config.seed)."""
  del key
  test = ctx.prepared.test
  n = min(settings.n_embed, test.num_examples)
  z = np.asarray(ctx.student.encode(ctx.state, test.images[:n]))
  points = embed(z, settings.method, ctx.config.seed)
  return AnalysisResult({"method": settings.method, "n_embed": n},
                        {"points": points, "labels": ctx.prepared.test_labels[:n]})


def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """embedding.png: the embedded latents coloured by label."""
  points, labels = result.arrays["points"], result.arrays["labels"]
  pyplot = plt()
  fig, ax = pyplot.subplots(figsize=(4.4, 4))
  sc = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10" if np.max(labels) < 10 else "plasma",
                  s=8, alpha=0.7)
  fig.colorbar(sc, ax=ax, label=ctx.config.label_name)
  ax.set(title=f"test latents ({result.numbers['method'].upper()})", xticks=[], yticks=[])
  fig.tight_layout()
  files.save_figure(fig, os.path.join(directory, "embedding.png"), dpi=110)
  pyplot.close(fig)
  return ("embedding.png",)


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  return [f"{numbers['n_embed']} test latents embedded in 2-d ({numbers['method'].upper()}), coloured by "
          f"`{ctx.config.label_name}`."]


ANALYSIS = Analysis(name="embedding", title="Latent embedding", settings_cls=EmbeddingSettings, run=run,
                    table=table, figure=figure)
