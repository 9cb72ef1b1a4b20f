"""Seed 000 (Spens & Burgess 2024): hippocampal replays consolidated into a neocortical VAE.

  python scripts/consolidate.py --preset=quick --out_dir=results/consolidation     # offline MNIST, both sources
  python scripts/consolidate.py --preset=paper --data_dir=DIR --out_dir=results/consolidation_paper
  python scripts/consolidate.py --preset=quick --replay_source=mhn --mode=dense --out_dir=/tmp/c
  python scripts/consolidate.py --preset=quick --replay_source=mhn,classical_hopfield   # any registered memory

A modern Hopfield network (β = 20 on similarities scaled by 1/√d) stores images in one shot and
replays them from U(−1, 1) noise; a conv VAE trains on the replays only. Writes
DIR/consolidation.csv (header epoch,recon_error,decoding_accuracy,vae_recall_error, one row per
epoch, measured at the start of the epoch), comparison.csv, summary.md, summary.json and figures,
and per replay source DIR/<source>/ with its checkpoints: run the same command again to resume an
interrupted run (it ends where an uninterrupted one ends). See
assocmem/experiments/consolidation/config.py for the presets and the settings' groups; every flag
below but --preset, --out_dir and --offline sets one setting, as listed in `FLAG_SETTINGS`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from absl import flags

from assocmem.experiments import cli
from assocmem.experiments import consolidation
from assocmem.experiments.consolidation import config as config_lib

FLAGS = flags.FLAGS
flags.DEFINE_enum("preset", "quick", list(consolidation.PRESETS),
                  "quick: offline MNIST digits, small sizes (a few minutes on 2 CPU cores); "
                  "paper: the issue's settings on real Shapes3D (needs --data_dir).")
flags.DEFINE_string("out_dir", "results/consolidation", "Output directory (resumed if it holds this run).")
flags.DEFINE_bool("offline", False, "Allow --preset=paper without --data_dir (procedural Shapes3D).")
flags.DEFINE_list("replay_source", None,
                  "Replay sources (teachers), comma-separated: mhn (the modern Hopfield network), diffusion "
                  "(exact diffusion), learned (a score network trained on the stored images), any name of the "
                  "memory registry, or all (mhn, diffusion, learned) side by side; default: mhn and diffusion "
                  "for quick, mhn for paper.")
flags.DEFINE_enum("mode", None, list(config_lib.MODES),
                  "How retrieval runs over the bank; default: the preset's (streaming).")
flags.DEFINE_string("data_dir", None, "Prepared tfds directory (ArrayRecord); none: the offline data.")
flags.DEFINE_enum("dataset", None, ["mnist", "shapes3d"], "Dataset; default: the preset's.")
flags.DEFINE_enum("vae", None, list(config_lib.VAE_ARCHS), "VAE architecture; default: the preset's.")
flags.DEFINE_integer("n_stored", None, "Images stored in the hippocampus.")
flags.DEFINE_integer("n_replays", None, "Replays the VAE trains on.")
flags.DEFINE_integer("epochs", None, "Maximum VAE epochs (may be raised when resuming).")
flags.DEFINE_integer("chunk_size", None, "Bank slots per streaming chunk.")
flags.DEFINE_integer("replay_batch", None, "Replays per jitted call.")
flags.DEFINE_integer("diffusion_steps", None, "Euler–Maruyama steps of the diffusion replays.")
flags.DEFINE_integer("learned_hidden", None, "Hidden width of the learned-diffusion source's ScoreMLP.")
flags.DEFINE_integer("learned_iterations", None, "Adam steps of the learned-diffusion source (Eq. 27).")
flags.DEFINE_enum("learned_variant", None, list(config_lib.VARIANTS),
                  "ScoreMLP variant of the learned-diffusion source: paper (§7), residual (diagonal-Gaussian "
                  "skip), residual_cov (full-covariance Gaussian skip) or unit_mixture (per-pixel "
                  "Gaussian-mixture output, the default); default: the preset's.")
flags.DEFINE_integer("learned_components", None,
                     "Mixture components per pixel of the learned source's unit_mixture network.")
flags.DEFINE_enum("learned_sampler", None, ["ode", "sde"],
                  "How the learned source replays from the prior: ode (probability flow, Eq. 28) or sde "
                  "(Euler–Maruyama, Eq. 29); default: the preset's (ode).")
flags.DEFINE_float("learned_learning_rate", None, "Adam step size of the learned-diffusion source.")
flags.DEFINE_integer("learned_batch_size", None, "Stored images per training step of the learned-diffusion source.")
flags.DEFINE_float("learned_theta_min", None, "Lowest training signal level (and replay start) of the learned source.")
flags.DEFINE_float("beta", None, "Hopfield inverse temperature (scaled by 1/sqrt(d) unless --noscale_by_sqrt_d).")
flags.DEFINE_bool("scale_by_sqrt_d", None, "Scale the Hopfield similarities by 1/sqrt(d).")
flags.DEFINE_bool("incremental", None, "Store one write per image into an empty bank.")
flags.DEFINE_integer("steps_per_call", None, "VAE training steps per jit call (default: 1 on CPU, "
                     "an epoch on GPU/TPU).")
flags.DEFINE_enum("vae_training_mode", None, list(config_lib.TRAINING_MODES),
                  "How a VAE training step runs the network: paper_text (dropout and batch-statistics "
                  "BatchNorm, §A.2.1's text) or authors_code (neither, as the authors' Keras train_step); "
                  "default: the preset's (authors_code, which reproduces the authors' curve at full size).")
flags.DEFINE_integer("seed", None, "PRNG seed of the run.")
flags.DEFINE_bool("analysis", None, "Run the after-consolidation analyses and their figures (default: yes).")

# Flag -> the setting it sets ("seed", "group.field" or "analyses.<name>.<field>"; see config.py).
FLAG_SETTINGS: dict[str, str] = {
    "replay_source": "replay.sources",
    "mode": "hippocampus.mode",
    "data_dir": "data.data_dir",
    "dataset": "data.dataset",
    "vae": "vae.arch",
    "n_stored": "data.n_stored",
    "n_replays": "replay.n_replays",
    "epochs": "vae.epochs",
    "chunk_size": "hippocampus.chunk_size",
    "replay_batch": "replay.batch_size",
    "diffusion_steps": "replay.diffusion_steps",
    "learned_hidden": "replay.learned_hidden",
    "learned_iterations": "replay.learned_iterations",
    "learned_variant": "replay.learned_variant",
    "learned_learning_rate": "replay.learned_learning_rate",
    "learned_batch_size": "replay.learned_batch_size",
    "learned_theta_min": "replay.learned_theta_min",
    "learned_sampler": "replay.learned_sampler",
    "learned_components": "replay.learned_components",
    "beta": "hippocampus.beta",
    "scale_by_sqrt_d": "hippocampus.scale_by_sqrt_d",
    "incremental": "hippocampus.incremental",
    "steps_per_call": "vae.steps_per_call",
    "vae_training_mode": "vae.training_mode",
    "seed": "seed",
    "analysis": "analyses.enabled",
}


@dataclasses.dataclass(frozen=True)
class Settings:
  """What the flags ask for."""
  config: consolidation.ConsolidationConfig
  preset: str
  out_dir: str


def flag_overrides(values: dict[str, Any], preset: str) -> dict[str, Any]:
  """Settings addresses -> values of the given flags (`FLAG_SETTINGS`), with the derived defaults:
  the dataset's VAE when only --dataset changes, all stored images measured when --n_stored is
  below the preset's n_eval / n_recall, and --replay_source=all for every built-in source."""
  out = {FLAG_SETTINGS[name]: value for name, value in values.items() if value is not None}
  if out.get("replay.sources") == ["all"]:
    out["replay.sources"] = consolidation.SOURCES
  base = consolidation.PRESETS[preset]
  if values.get("vae") is None and values.get("dataset") not in (None, base.data.dataset):
    out["vae.arch"] = {"mnist": "small", "shapes3d": "large"}[values["dataset"]]
  n_stored = values.get("n_stored")
  if n_stored is not None and n_stored >= 1:
    # Fewer stored images than the preset measures on: measure on all of them.
    if base.decoding.n_eval is not None and base.decoding.n_eval > n_stored:
      out["decoding.n_eval"] = None
    out["analyses.recall.n_recall"] = min(base.analyses.get("recall").n_recall, n_stored)
  return out


def settings() -> Settings:
  """The preset with the flags applied (a bad value raises ValueError naming the setting)."""
  values = {name: getattr(FLAGS, name) for name in FLAG_SETTINGS}
  config = consolidation.get_preset(FLAGS.preset, offline=FLAGS.offline,
                                    **flag_overrides(values, FLAGS.preset))
  return Settings(config, FLAGS.preset, FLAGS.out_dir)


def main(s: Settings) -> None:
  consolidation.run_experiment(s.config, s.out_dir, preset=s.preset)


if __name__ == "__main__":
  cli.run(main, settings)
