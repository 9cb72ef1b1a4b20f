"""Seed 000's memory phenomena on Shapes3D: consolidation into the large VAE, then the analyses that
apply to Shapes3D (boundary extension and contraction, and any other analysis registered for the
dataset in `consolidation.analyses.ANALYSES`).

The consolidation experiment's `make reproduce` run is on offline MNIST (the large Shapes3D VAE is
too slow for a quick CPU run at full size), so the phenomena seed 000 shows on Shapes3D would never
run there. This experiment is the same pipeline (`consolidation.run`, `consolidation.report_section`:
no code of its own but its presets) on Shapes3D:

  quick  procedural Shapes3D (offline): 3,000 images rendered, 1,000 stored, 1,000 MHN replays,
         the large VAE of §A.2.1 trained for 4 epochs; the Shapes3D-specific analyses only
         (`SHAPES3D_ANALYSES`: those whose `Analysis.datasets` names "shapes3d"), at small sizes;
  paper  consolidation's paper preset (10,000 stored, 10,000 replays, ≤ 50 epochs; real Shapes3D
         with --data_dir, else the procedural scenes) with every analysis that applies to Shapes3D.

Analyses join by registering with `datasets=("shapes3d",)`; nothing here changes for them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from assocmem.experiments.base import Experiment
from assocmem.experiments.consolidation import ANALYSES, config as config_lib
from assocmem.experiments.consolidation.analyses.boundary_extension import BoundaryExtensionSettings
from assocmem.experiments.consolidation.analyses.carmichael import CarmichaelSettings
from assocmem.experiments.consolidation.analyses.hybrid_model import HybridModelSettings
from assocmem.experiments.consolidation.compute import run
from assocmem.experiments.consolidation.config import (AnalysesSettings, ConsolidationConfig, DataSettings,
                                                        DecodingSettings, HippocampusSettings, ReplaySettings,
                                                        VAESettings)
from assocmem.experiments.consolidation.report import report_section as _consolidation_section

TITLE = "Seed 000 on Shapes3D: memory phenomena of the consolidated VAE"

# The analyses registered for Shapes3D alone (the dataset-independent ones run in `consolidation`).
SHAPES3D_ANALYSES: tuple[str, ...] = tuple(n for n, a in ANALYSES.items()
                                           if a.datasets is not None and "shapes3d" in a.datasets)

PRESETS: dict[str, ConsolidationConfig] = {
    "quick": ConsolidationConfig(
        data=DataSettings(dataset="shapes3d", n_images=3000, n_stored=1000),
        hippocampus=HippocampusSettings(chunk_size=1000),
        replay=ReplaySettings(sources=("mhn",), n_replays=1000, batch_size=500),
        vae=VAESettings(arch="large", epochs=4),
        decoding=DecodingSettings(n_eval=250, n_fit=100, n_score=150),
        analyses=AnalysesSettings(names=SHAPES3D_ANALYSES, settings={
            "boundary_extension": BoundaryExtensionSettings(n_images=24, kmeans_attempts=2, kmeans_iterations=20,
                                                            n_examples=1),
            "hybrid_model": HybridModelSettings(n_images=50),
            "carmichael": CarmichaelSettings(n_scenes=20, n_fit=200)})),
    "paper": config_lib.PRESETS["paper"],
}

PRESET_NOTES: dict[str, str] = {
    "quick": ("procedural Shapes3D: 1,000 stored, 1,000 MHN replays, the large VAE for 4 epochs; boundary "
              "extension on 24 scenes, the hybrid sweep on 50 images, Carmichael on 20 scenes"),
    "paper": config_lib.PRESET_NOTES["paper"] + ", every analysis that applies to Shapes3D",
}


def make_config(preset: str, offline: bool = False, **overrides: Any) -> ConsolidationConfig:
  """The preset with `overrides` ("group.field" addresses). The paper preset runs on real Shapes3D
  and needs `data.data_dir` unless `offline=True` (the procedural scenes), as consolidation's."""
  if preset not in PRESETS:
    raise ValueError(f"preset must be one of {tuple(PRESETS)} for consolidation_shapes3d, got {preset!r}")
  whole = {k: overrides.pop(k) for k in list(overrides) if k in config_lib.GROUPS}
  cfg = config_lib.with_overrides(dataclasses.replace(PRESETS[preset], **whole), overrides)
  if cfg.data.dataset != "shapes3d":
    raise ValueError(f"data.dataset must be 'shapes3d' for consolidation_shapes3d, got {cfg.data.dataset!r}")
  if preset == "paper" and cfg.data.data_dir is None and not offline:
    return config_lib.get_preset("paper", offline=False)   # raises the data_dir ValueError with its hint
  return cfg


def reproduce_args(results_dir: str, preset: str, data_dir: str | None) -> tuple[str, ...]:
  """`make reproduce`'s extra flags: --data_dir when given, else --offline (procedural Shapes3D)."""
  del results_dir, preset
  return (f"--data_dir={data_dir}",) if data_dir else ("--offline",)


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """consolidation's section of the run in `out_dir`, under this experiment's title."""
  text = _consolidation_section(out_dir, results_dir)
  text = re.sub(r"\A## [^\n]*", f"## {TITLE}", text, count=1)
  return text.replace("run scripts/consolidate.py", "run scripts/consolidate_shapes3d.py")


EXPERIMENT = Experiment(
    name="consolidation_shapes3d",
    title=TITLE,
    config_cls=ConsolidationConfig,
    presets=PRESETS,
    run=run,
    report_section=report_section,
    script="scripts/consolidate_shapes3d.py",
    reproduce_args=reproduce_args,
    make_config=make_config,
)

__all__ = ["EXPERIMENT", "PRESETS", "PRESET_NOTES", "SHAPES3D_ANALYSES", "TITLE", "make_config", "reproduce_args",
           "report_section", "run"]
