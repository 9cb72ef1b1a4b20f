"""Recall of stored memories after consolidation: the VAE against a one-shot memory (seed 000 §2).

The first `n_recall` stored images are cued with noisy cues (a fraction of values set to 0, the
authors' `noise`) and partial cues (the bottom rows occluded), and recalled through the trained VAE
(encode → decode) and through a baseline memory from the memory registry (default "mhn", the
modern Hopfield hippocampus: ≤ 10 updates until unchanged) that stores all stored images. Error =
the §A.2.1 reconstruction error against the originals (Σ pixels of the channel-mean |x − x̂|);
"baseline correct" = the fraction of baseline recalls whose nearest stored image is the cued one.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Sequence

import jax
import numpy as np

from assocmem import _checks, data as data_lib, files
from assocmem.experiments.consolidation import hippocampus, metrics
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext, fmt,
                                                              markdown_table, plt, show)


@dataclasses.dataclass(frozen=True)
class RecallSettings:
  """Attributes:
    n_recall: stored memories cued.
    noise_fractions: noise levels of the noisy cues (each in (0, 1)).
    partial_fraction: fraction of image rows (from the bottom) masked in the partial cues.
    baseline: the memory the VAE is compared with: a replay-source name ("mhn", "diffusion",
      "learned") or any name of the memory registry.
    n_examples: example images per cue kind in the figure.
  """
  n_recall: int = 500
  noise_fractions: tuple[float, ...] = (0.1, 0.4)
  partial_fraction: float = 0.5
  baseline: str = "mhn"
  n_examples: int = 6

  def __post_init__(self):
    _checks.check_int("n_recall", self.n_recall)
    fractions = tuple(self.noise_fractions)
    if not fractions:
      raise ValueError("recall_noise_fractions must hold at least one fraction")
    for f in fractions:
      _checks.check_open_unit("recall_noise_fractions", f)
    object.__setattr__(self, "noise_fractions", tuple(float(f) for f in fractions))
    _checks.check_open_unit("partial_fraction", self.partial_fraction)
    hippocampus.check_sources((self.baseline,))
    _checks.check_int("n_examples", self.n_examples)


def check(settings: RecallSettings, config: Any) -> None:
  if settings.n_recall > config.data.n_stored:
    raise ValueError(f"n_recall={settings.n_recall} exceeds n_stored={config.data.n_stored}")


def run(settings: RecallSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """numbers {"baseline", "rows": per cue kind {"cue", "fraction", "cue_error", "vae_error",
  "baseline_error", "baseline_correct"}}; arrays per cue kind (4, n_examples, H, W, C): originals,
  cues, VAE recalls, baseline recalls."""
  config, stored = ctx.config, ctx.prepared.stored
  memory = hippocampus.make_source(settings.baseline, config)
  patterns = data_lib.flatten(data_lib.to_signed(stored))
  state = hippocampus.store_source(memory, patterns, key, incremental=config.hippocampus.incremental)
  originals = stored[:settings.n_recall]
  cue_sets = [(f"noisy {f:g}", f, hippocampus.noisy_cues(jax.random.fold_in(key, i), originals, f))
              for i, f in enumerate(settings.noise_fractions)]
  cue_sets.append((f"partial {settings.partial_fraction:g}", settings.partial_fraction,
                   hippocampus.partial_cues(originals, settings.partial_fraction)))
  rows, examples = [], {}
  for name, fraction, cues in cue_sets:
    vae_out = np.asarray(ctx.student.recall(ctx.state, cues))
    raw = hippocampus.recall_batched(memory, state, data_lib.flatten(data_lib.to_signed(cues)),
                                     config.replay.batch_size)
    out = hippocampus.to_images(raw, config.image_shape)
    nearest, _ = hippocampus.nearest_patterns(raw, patterns)
    rows.append({"cue": name, "fraction": fraction,
                 "cue_error": float(np.mean(metrics.reconstruction_errors(originals, cues))),
                 "vae_error": float(np.mean(metrics.reconstruction_errors(originals, vae_out))),
                 "baseline_error": float(np.mean(metrics.reconstruction_errors(originals, out))),
                 "baseline_correct": float(np.mean(nearest == np.arange(len(originals))))})
    k = min(settings.n_examples, len(originals))
    examples[name] = np.stack([originals[:k], cues[:k], vae_out[:k], out[:k]])
  return AnalysisResult({"baseline": settings.baseline, "rows": rows}, examples)


def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """recall.png: per cue kind, rows original / cue / VAE recall / baseline recall."""
  del ctx
  pyplot = plt()
  examples = result.arrays
  kinds = list(examples)
  n = max(v.shape[1] for v in examples.values())
  fig, axes = pyplot.subplots(4 * len(kinds), n, figsize=(1.3 * n, 1.35 * 4 * len(kinds)), squeeze=False)
  names = ("original", "cue", "VAE", result.numbers["baseline"])
  for i, kind in enumerate(kinds):
    arr = examples[kind]
    for r in range(4):
      for c in range(n):
        ax = axes[4 * i + r, c]
        if c < arr.shape[1]:
          show(ax, arr[r, c])
        else:
          ax.axis("off")
      axes[4 * i + r, 0].set_ylabel(f"{names[r]}\n({kind})" if r == 1 else names[r], fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, os.path.join(directory, "recall.png"), dpi=100)
  pyplot.close(fig)
  return ("recall.png",)


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  del ctx
  base = numbers["baseline"]
  rows = [(r["cue"], fmt(r["cue_error"], ".1f"), fmt(r["vae_error"], ".1f"), fmt(r["baseline_error"], ".1f"),
           fmt(r["baseline_correct"], ".1%")) for r in numbers["rows"]]
  return (["Recall of stored memories, error per image against the original (Σ pixels of the channel-mean "
           f"absolute error); '{base} correct' = the {base} recall is nearest to the cued memory.", ""]
          + markdown_table(("cue", "cue error", "VAE recall", f"{base} recall", f"{base} correct"), rows))


ANALYSIS = Analysis(name="recall", title="Recall: the VAE against a one-shot memory", settings_cls=RecallSettings,
                    run=run, table=table, figure=figure, check=check)
