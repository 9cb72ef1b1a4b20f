"""Seed 000 (Spens & Burgess 2024): generative consolidation, hippocampal replay → neocortical VAE.

  config       `ConsolidationConfig` (nested groups: data, hippocampus, replay, vae, decoding,
               analyses), `PRESETS` ("quick", "paper"), `get_preset`, `with_overrides`, VAE architectures
  hippocampus  the teachers by name from the memory registry (the modern Hopfield network of Eq. 3,
               β/√d; exact or learned diffusion; any registered memory), batched replay and recall,
               noisy and partial cues
  metrics      reconstruction error (§A.2.1), latent decoding (the authors' SVC), few-shot curves
  pipeline     one source: store → replay → train the VAE on replays only, per-epoch metrics,
               checkpoints
  analyses     after consolidation, one plug-in module each, registered in `analyses.ANALYSES`:
               recall (VAE vs a memory), imagination, semantic decoding, embedding
  compute      `run` / `run_experiment`: all of it for every replay source
  report       figures, CSV, summary table, `report_section` (REPORT.md)
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.consolidation import analyses, hippocampus, metrics, pipeline, report
from assocmem.experiments.consolidation.analyses import ANALYSES, Analysis, AnalysisResult
from assocmem.experiments.consolidation.compute import run, run_experiment
from assocmem.experiments.consolidation.config import (CSV_HEADER, GROUPS, PRESETS, RESUMABLE_FIELDS, VAE_ARCHS,
                                                        AnalysesSettings, ConsolidationConfig, DataSettings,
                                                        DecodingSettings, HippocampusSettings, ReplaySettings,
                                                        VAESettings, compact_config, get_preset, with_overrides)
from assocmem.experiments.consolidation.hippocampus import (SOURCE_MEMORIES, SOURCES, check_sources, make_source,
                                                             store_source)
from assocmem.experiments.consolidation.pipeline import SourceResult, prepare_data, run_source
from assocmem.experiments.consolidation.report import TITLE, report_section


def reproduce_args(results_dir: str, preset: str, data_dir: str | None) -> tuple[str, ...]:
  """`make reproduce`'s extra flags: --data_dir=DATA_DIR when given, else --offline for the paper
  preset (procedural Shapes3D)."""
  del results_dir
  if data_dir:
    return (f"--data_dir={data_dir}",)
  return ("--offline",) if preset == "paper" else ()


def make_config(preset: str, **overrides) -> ConsolidationConfig:
  """`get_preset(preset, **overrides)` ("group.field" addresses; offline=True for paper without data)."""
  return get_preset(preset, **overrides)


EXPERIMENT = Experiment(
    name="consolidation",
    title=TITLE,
    config_cls=ConsolidationConfig,
    presets=PRESETS,
    run=run,
    report_section=report_section,
    script="scripts/consolidate.py",
    reproduce_args=reproduce_args,
    make_config=make_config,
)

__all__ = [
    "ANALYSES", "Analysis", "AnalysisResult", "AnalysesSettings", "CSV_HEADER", "ConsolidationConfig",
    "DataSettings", "DecodingSettings", "EXPERIMENT", "GROUPS", "HippocampusSettings", "PRESETS",
    "RESUMABLE_FIELDS", "ReplaySettings", "SOURCES", "SOURCE_MEMORIES", "SourceResult", "TITLE", "VAESettings",
    "VAE_ARCHS", "analyses", "check_sources", "compact_config", "get_preset", "hippocampus", "make_config",
    "make_source", "metrics", "pipeline", "prepare_data", "report", "report_section", "reproduce_args", "run",
    "run_experiment", "run_source", "store_source", "with_overrides",
]
