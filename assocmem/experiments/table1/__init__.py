"""Seed 002 (Ambrogioni 2024), Table 1: how closely other memories track a modern Hopfield network.

For each task (denoising, completion) and each number of stored patterns N, one
*repeat* draws N random binary patterns y_n = sign(g), g ~ N(0, I_d) (App. A),
corrupts them into cues, and recalls every cue with four memories (§7):

  MHN        modern Hopfield network, ξ ← Yᵀ softmax(β Y ξ), β = 5, 150 updates;
  diffusion  exact-score VP diffusion, dx = −½γx dt + √γ dW with γ = 0.8, Euler on the
             probability-flow ODE from t_start = −2 log θ / γ down to t = 1e-3 in 300 steps;
  classic    classical Hopfield network, x ← sign(W x) (Eq. 1), Hebbian W = Σ_n y_n y_nᵀ (Eq. 3),
             10 synchronous updates from the continuous cue; §2.1 states a zero diagonal
             (preset "paper"), the table is reproduced with the diagonal kept ("reproduce");
  true       the stored pattern that was cued (ground truth).

All outputs are binarised with sign (§7; `metrics.binarize`) and the table reports
the Pearson correlation (`metrics.pearson`) between the binarised MHN output and
each of the other three. The diffusion starts at `VPSDE.t_start(θ)`.

Choices the paper leaves open (measured in docs/reproduction.md, "Seed 002 — Table 1"):

  cues          "all": every stored pattern is cued once per repeat (N cues), or
                "one": a single random stored pattern per repeat.
  aggregate     "per_repeat": correlation over the repeat's flattened (cues × d)
                outputs, averaged over repeats; or "pooled": one correlation over
                all repeats' outputs.
  classic_*     schedule ("sync" / "async" sweeps in a fresh random order), number of
                updates, zero or kept diagonal (§2.1 and Eq. 3 disagree), and whether the continuous cue ("cue") or its
                sign ("sign") is the start state.
  completion_theta
                signal level θ whose t_start the diffusion model starts from in the
                completion task (None: the denoising θ, the literal reading).
  precision     "float64" (run under `jax.enable_x64`) or "float32". A third of the
                completion cues tie exactly between stored patterns; the models then
                break the tie by rounding, and in float32 the MHN and the diffusion
                break it differently. The paper states no precision.

Presets (`PRESETS`; every setting can also be changed by a flag of scripts/table1.py):

  paper       the paper's stated settings at full size: §2.1's classical network with a
              zero ("null") diagonal, 100 repeats, float64. Its classic column lies
              0.27–0.33 below the published one.
  reproduce   the variant that reproduces every entry of the table within 0.03 at full
              size: Hebbian W = Σ_n y_n y_nᵀ with its diagonal kept (Eq. 3 as printed),
              float64, 100 repeats.
  quick       `reproduce` with 50 repeats (`make reproduce` runs it).

The JAX path is one jitted function per (task, N): vmap over repeats, vmap over
cues, `lax.scan` over time. A plain NumPy reference of the same computation on the
same inputs is the benchmark's baseline (scripts/benchcases/numpy_ref.py), not part
of the library. The published table is `assocmem.experiments.references.TABLE1`.

Modules: `config` (settings, presets), `compute` (inputs, models, rows, `run`), `report`
(table1.csv / .md / .json and the REPORT.md section).
"""

from __future__ import annotations

from assocmem.experiments.base import Experiment
from assocmem.experiments.table1.compute import (PRNG_IMPL, base_key, row_record, run, run_row, run_table1,
                                                 sample_inputs)
from assocmem.experiments.table1.config import (AGGREGATES, CLASSIC_MODES, CLASSIC_STARTS, CUE_MODES,
                                                MIXTURE_MODES, MODELS, PRECISIONS, PRESET_NOTES, PRESETS,
                                                TASKS, Table1Config, classic_description, get_preset,
                                                precision_description)
from assocmem.experiments.table1.report import (CSV_HEADER, TITLE, config_json, csv_text, markdown_text,
                                                max_abs_diff_from_paper, nearest_preset, paper_row,
                                                preset_label, read_rows, report_section, write_outputs)

EXPERIMENT = Experiment(
    name="table1",
    title=TITLE,
    config_cls=Table1Config,
    presets=PRESETS,
    run=run,
    report_section=report_section,
)

__all__ = [
    "AGGREGATES", "CLASSIC_MODES", "CLASSIC_STARTS", "CSV_HEADER", "CUE_MODES", "EXPERIMENT", "MIXTURE_MODES",
    "MODELS", "PRECISIONS", "PRESETS", "PRESET_NOTES", "PRNG_IMPL", "TASKS", "Table1Config", "base_key",
    "classic_description", "config_json", "csv_text", "get_preset", "markdown_text", "max_abs_diff_from_paper",
    "nearest_preset", "paper_row", "precision_description", "preset_label", "read_rows", "report_section",
    "row_record", "run", "run_row", "run_table1", "sample_inputs", "write_outputs",
]
