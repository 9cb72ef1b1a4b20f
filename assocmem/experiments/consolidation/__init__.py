"""Seed 000 (Spens & Burgess 2024): generative consolidation, hippocampal replay → neocortical VAE.

  config      `ConsolidationConfig`, `PRESETS` ("quick", "paper"), `get_preset`, VAE architectures
  hippocampus the teacher: the modern Hopfield network (Eq. 3, β/√d) or exact diffusion as a
              one-shot store with batched, streaming replay and recall; noisy and partial cues
  metrics     reconstruction error (§A.2.1), latent decoding (the authors' SVC), few-shot curves
  pipeline    store → replay → train the VAE on replays only, per-epoch metrics, checkpoints
  analysis    after consolidation: recall VAE vs MHN, imagination, few-shot decoding, embedding
  report      figures, CSV, summary table, the REPORT.md section
  experiment  `run_experiment`: all of it for one or more replay sources
"""

from assocmem.experiments.consolidation import analysis, hippocampus, metrics, pipeline, report
from assocmem.experiments.consolidation.config import (CSV_HEADER, PRESETS, SOURCES, VAE_ARCHS,
                                                        ConsolidationConfig, compact_config, get_preset)
from assocmem.experiments.consolidation.experiment import check_sources, run_experiment
from assocmem.experiments.consolidation.pipeline import SourceResult, prepare_data, run_source
from assocmem.experiments.consolidation.report import report_section

__all__ = [
    "CSV_HEADER", "ConsolidationConfig", "PRESETS", "SOURCES", "SourceResult", "VAE_ARCHS", "analysis",
    "check_sources", "compact_config", "get_preset", "hippocampus", "metrics", "pipeline",
    "prepare_data", "report", "report_section", "run_experiment", "run_source",
]
