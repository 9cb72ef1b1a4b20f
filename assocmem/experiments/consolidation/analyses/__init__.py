"""After consolidation: what the trained VAE does without the hippocampus (seed 000 §§ 2–3).

Every analysis is one module here (its settings dataclass, `run`, figure and table; see `base`)
registered in `ANALYSES` below, the one place that lists them. The experiment runs the selected
ones (`config.selected_analyses()`: selected, and applying to the dataset) on each source's trained VAE and the report shows them, both
in registry order:

  recall             recall of stored memories from noisy and partial cues, VAE against a memory
                     of the registry (default the modern Hopfield hippocampus);
  imagination        prior samples, latent interpolation, vector arithmetic;
  semantic_decoding  the few-shot decoding curve from latents and from pixels;
  embedding          a 2-d embedding (t-SNE or PCA) of test latents, coloured by label;
  prototypical_distortion  per class, the per-pixel within-class variance of recalls against that
                     of the inputs (paired t-test, Cohen's d; module `prototypes`);
  hybrid_model       (Shapes3D) the extended model's threshold sweep: error and stored sensory units;
  carmichael         (Shapes3D) the context-driven distortion: stored latent replaced by another shape's;
  boundary_extension (Shapes3D) zoomed views recalled: the change of the object's height.

A new analysis is one module with an `Analysis` and one line below (or, for a temporary one,
`with ANALYSES.registered("name", analysis): ...`).
"""

from __future__ import annotations

import os
import time
import zlib
from typing import Any

from absl import logging
import jax

from assocmem import files
from assocmem.registry import Registry

from assocmem.experiments.consolidation.analyses import (boundary_extension, carmichael, embedding, hybrid_model,
                                                         imagination, prototypes, recall, semantic_decoding)
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext)

ANALYSES: Registry[Analysis] = Registry("analysis")

for _module in (recall, imagination, semantic_decoding, embedding, prototypes, boundary_extension, hybrid_model,
                carmichael):
  ANALYSES.register(_module.ANALYSIS.name, _module.ANALYSIS)
del _module

ANALYSIS_FILE = "analysis.json"


def analysis_key(key: jax.Array, name: str) -> jax.Array:
  """The PRNG key of analysis `name`: `fold_in(key, crc32(name))`, so adding or removing an
  analysis leaves the others' results unchanged."""
  return jax.random.fold_in(key, zlib.crc32(name.encode()) & 0x7FFFFFFF)


def run_all(context: Context, key: jax.Array, directory: str | None = None) -> dict[str, Any]:
  """Runs the selected analyses on one trained VAE; with `directory`, writes their figures there
  and their numbers to directory/analysis.json.

  Returns:
    name -> numbers (each with "figures": the file names written).
  """
  config = context.config
  out: dict[str, Any] = {}
  for name in config.selected_analyses():
    analysis = ANALYSES.get(name)
    start = time.perf_counter()
    result = analysis.run(config.analyses.get(name), context, analysis_key(key, name))
    figures = tuple(analysis.figure(result, directory, context)) if directory else ()
    out[name] = {**result.numbers, "figures": list(figures)}
    logging.info("consolidation[%s]: analysis %s in %.1f s", context.source, name, time.perf_counter() - start)
  if directory:
    files.write_json(os.path.join(directory, ANALYSIS_FILE), out)
  return out


__all__ = ["ANALYSES", "ANALYSIS_FILE", "Analysis", "AnalysisResult", "Context", "TableContext", "analysis_key",
           "run_all"]
