"""Reconstructive memory (seed 002, §6.1, Eq. 25): a stored core recalled, the rest reconstructed from φ.

Modules: `config` (settings, presets), `compute` (recall from cues with the exact score of
`assocmem.reconstructive`, exact references), `report` (recall.csv, the demo figure, the REPORT.md
section). `EXPERIMENT` is its registry entry.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import jax

from assocmem import files
from assocmem.experiments.base import Experiment
from assocmem.experiments.reconstructive import compute, report
from assocmem.experiments.reconstructive.config import PRESETS, ReconstructiveConfig, get_preset


def run(cfg: ReconstructiveConfig, out_dir: str, *, key: Any = None) -> dict:
  """Recalls cues of every memory of both settings; writes DIR/recall.csv, DIR/reconstructive.png,
  DIR/summary.json; returns the summary."""
  if not isinstance(cfg, ReconstructiveConfig):
    raise ValueError(f"cfg must be a ReconstructiveConfig, got {type(cfg).__name__}")
  files.makedirs(out_dir)
  key = jax.random.PRNGKey(cfg.seed) if key is None else key
  out = compute.run_all(cfg, key)
  report.write_recall_csv(out["rows"], out_dir)
  report.make_figure(out["demo_state"], out["demo"], out["replays"], cfg.gamma, cfg.t_end, cfg.core_tol, out_dir)
  summary = {"config": dataclasses.asdict(cfg), "seconds": round(out["seconds"], 2), "rows": out["rows"]}
  files.write_json(os.path.join(out_dir, "summary.json"), summary)
  return summary


EXPERIMENT = Experiment(
    name="reconstructive",
    title="Seed 002 §6.1: reconstructive memory (Eq. 25)",
    config_cls=ReconstructiveConfig,
    presets=PRESETS,
    run=run,
    report_section=report.report_section,
)

__all__ = ["EXPERIMENT", "ReconstructiveConfig", "PRESETS", "get_preset", "run"]
