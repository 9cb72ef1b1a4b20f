"""Seed 000's consolidation experiment end to end: every replay source, the analyses, the outputs.

    cfg = consolidation.get_preset("quick")
    results = consolidation.run_experiment(cfg, "results/consolidation", sources=("mhn", "diffusion"))

For each source: `pipeline.run_source` (store → replay → train the VAE on the replays, per-epoch
metrics, checkpoints) into DIR/<source>/, then `analysis.analyze` of the trained VAE and its
figures; finally DIR/consolidation.csv (the first source's curve), comparison.csv, summary.md,
summary.json and consolidation_curves.png (`report.write_outputs`). Interrupted, it resumes from
each source's last checkpoint when run again with the same settings.
"""

from __future__ import annotations

import os
import time
from typing import Sequence

from absl import logging

from assocmem.experiments.consolidation import analysis, pipeline, report
from assocmem.experiments.consolidation.config import SOURCES, ConsolidationConfig


def check_sources(sources: Sequence[str]) -> tuple[str, ...]:
  """Validates a non-empty sequence of distinct source names (ValueError naming `replay_source`)."""
  if isinstance(sources, str):
    sources = (sources,)
  sources = tuple(sources)
  if not sources:
    raise ValueError(f"replay_source must name at least one of {', '.join(SOURCES)}")
  for s in sources:
    if s not in SOURCES:
      raise ValueError(f"unknown replay_source {s!r}; expected one of {', '.join(SOURCES)} or 'all'")
  if len(set(sources)) != len(sources):
    raise ValueError(f"replay_source lists a source twice: {sources}")
  return sources


def run_experiment(config: ConsolidationConfig, out_dir: str, sources: Sequence[str] = ("mhn",),
                   preset: str | None = None, analyze: bool = True) -> dict[str, pipeline.SourceResult]:
  """Runs consolidation from every source in `sources` (the first is the primary) into `out_dir`.

  Args:
    config: the settings.
    out_dir: output directory (created; an earlier run of the same settings there is resumed).
    sources: replay sources, e.g. ("mhn",) or ("mhn", "diffusion").
    preset: the preset's name, for the summary.
    analyze: run the after-consolidation analyses and write their figures.
  Returns:
    source -> `pipeline.SourceResult`.
  """
  if not isinstance(config, ConsolidationConfig):
    raise ValueError(f"config must be a ConsolidationConfig, got {type(config).__name__}")
  sources = check_sources(sources)
  out_dir = os.path.abspath(os.fspath(out_dir))
  start = time.perf_counter()
  prepared = pipeline.prepare_data(config)
  results, summaries, analyses = {}, {}, {}
  for source in sources:
    res = pipeline.run_source(config, source, os.path.join(out_dir, source), prepared)
    results[source] = res
    summaries[source] = res.summary()
    if analyze:
      t0 = time.perf_counter()
      numbers, arrays = analysis.analyze(config, res.student, res.state, prepared,
                                         pipeline.run_keys(config)["analysis"])
      analyses[source] = numbers
      report.write_source_figures(out_dir, res, prepared.stored, arrays, numbers, config)
      logging.info("consolidation[%s]: analyses and figures in %.1f s", source, time.perf_counter() - t0)
  seconds = time.perf_counter() - start
  report.write_outputs(out_dir, config, summaries, analyses, preset, seconds)
  logging.info("consolidation: wrote %s (%.1f s)", os.path.join(out_dir, "consolidation.csv"), seconds)
  return results
