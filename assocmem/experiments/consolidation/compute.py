"""Seed 000's consolidation experiment end to end: every replay source, the analyses, the outputs.

    cfg = consolidation.get_preset("quick")
    summary = consolidation.run(cfg, "results/consolidation")

For each source of `config.replay.sources`: `pipeline.run_source` (store → replay → train the VAE on
the replays, per-epoch metrics, checkpoints) into DIR/<source>/, then every selected analysis of the
trained VAE (`analyses.run_all`: DIR/<source>/analysis.json and the analyses' figures); finally
DIR/consolidation.csv (the first source's curve), comparison.csv, summary.md, summary.json and
consolidation_curves.png (`report.write_outputs`). Interrupted, it resumes from each source's last
checkpoint when run again with the same settings.
"""

from __future__ import annotations

import os
import time
from typing import Any

from absl import logging
import jax

from assocmem.experiments.consolidation import analyses, pipeline, report
from assocmem.experiments.consolidation.config import ConsolidationConfig, preset_name


def run_experiment(config: ConsolidationConfig, out_dir: str, *, preset: str | None = None,
                   key: jax.Array | None = None) -> dict[str, pipeline.SourceResult]:
  """Runs consolidation from every source in `config.replay.sources` (the first is the primary).

  Args:
    config: the settings.
    out_dir: output directory (created; an earlier run of the same settings there is resumed).
    preset: the preset's name, for the summary (None: the preset `config` equals, if any).
    key: root PRNG key (None: PRNGKey(config.seed)).
  Returns:
    source -> `pipeline.SourceResult`.
  """
  if not isinstance(config, ConsolidationConfig):
    raise ValueError(f"config must be a ConsolidationConfig, got {type(config).__name__}")
  out_dir = os.path.abspath(os.fspath(out_dir))
  preset = preset if preset is not None else preset_name(config)
  start = time.perf_counter()
  prepared = pipeline.prepare_data(config, key)
  results, summaries, numbers = {}, {}, {}
  for source in config.replay.sources:
    src_dir = os.path.join(out_dir, source)
    res = pipeline.run_source(config, source, src_dir, prepared, key)
    results[source] = res
    summaries[source] = res.summary()
    if config.selected_analyses():
      context = analyses.Context(config=config, source=source, student=res.student, state=res.state,
                                 prepared=prepared)
      numbers[source] = analyses.run_all(context, pipeline.run_keys(config, key)["analysis"], src_dir)
      report.replays_figure(res.replays, prepared.stored, os.path.join(src_dir, "replays.png"))
  seconds = time.perf_counter() - start
  report.write_outputs(out_dir, config, summaries, numbers, preset, seconds)
  logging.info("consolidation: wrote %s (%.1f s)", os.path.join(out_dir, "consolidation.csv"), seconds)
  return results


def run(config: ConsolidationConfig, out_dir: str, *, key: jax.Array | None = None,
        preset: str | None = None) -> dict[str, Any]:
  """The experiment's entry point (`Experiment.run`): `run_experiment`, summarised.

  Returns:
    {"preset", "sources", "primary", source -> {"epochs_run", "first", "final"}}.
  """
  results = run_experiment(config, out_dir, preset=preset, key=key)
  sources = list(results)
  return {"preset": preset if preset is not None else preset_name(config), "sources": sources,
          "primary": sources[0],
          **{s: {"epochs_run": len(r.rows), "first": r.rows[0] if r.rows else None, "final": r.final}
             for s, r in results.items()}}
