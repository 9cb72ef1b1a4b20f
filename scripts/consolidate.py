"""Seed 000 (Spens & Burgess 2024): hippocampal replays consolidated into a neocortical VAE.

  python scripts/consolidate.py --preset=quick --out_dir=results/consolidation     # offline MNIST, both sources
  python scripts/consolidate.py --preset=paper --data_dir=DIR --out_dir=results/consolidation_paper
  python scripts/consolidate.py --preset=quick --replay_source=mhn --mode=dense --out_dir=/tmp/c

A modern Hopfield network (β = 20 on similarities scaled by 1/√d) stores images in one shot and
replays them from U(−1, 1) noise; a conv VAE trains on the replays only. Writes
DIR/consolidation.csv (header epoch,recon_error,decoding_accuracy,vae_recall_error, one row per
epoch, measured at the start of the epoch), comparison.csv, summary.md, summary.json and figures,
and per replay source DIR/<source>/ with its checkpoints: run the same command again to resume an
interrupted run (it ends where an uninterrupted one ends). See
assocmem/experiments/consolidation/config.py for the presets.
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
flags.DEFINE_enum("replay_source", None, ["mhn", "diffusion", "learned", "all"],
                  "Replay source (teacher): the modern Hopfield network, exact diffusion, learned diffusion "
                  "(a score network trained on the stored images), or all side by side; default: mhn and "
                  "diffusion for quick, mhn for paper.")
flags.DEFINE_enum("mode", None, list(config_lib.MODES),
                  "How retrieval runs over the bank; default: the preset's (streaming).")
flags.DEFINE_string("data_dir", None, "Prepared tfds directory (ArrayRecord); none: the offline data.")
flags.DEFINE_bool("offline", False, "Allow --preset=paper without --data_dir (procedural Shapes3D).")
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
flags.DEFINE_float("beta", None, "Hopfield inverse temperature (scaled by 1/sqrt(d) unless --noscale_by_sqrt_d).")
flags.DEFINE_bool("scale_by_sqrt_d", None, "Scale the Hopfield similarities by 1/sqrt(d).")
flags.DEFINE_bool("incremental", None, "Store one write per image into an empty bank.")
flags.DEFINE_integer("steps_per_call", None, "VAE training steps per jit call (default: 1 on CPU, "
                     "an epoch on GPU/TPU).")
flags.DEFINE_integer("seed", None, "PRNG seed of the run.")
flags.DEFINE_bool("analysis", True, "Run the after-consolidation analyses and their figures.")

_OVERRIDES = ("mode", "data_dir", "dataset", "vae", "n_stored", "n_replays", "epochs", "chunk_size",
              "replay_batch", "diffusion_steps", "learned_hidden", "learned_iterations", "beta",
              "scale_by_sqrt_d", "incremental", "steps_per_call", "seed")
DEFAULT_SOURCES = {"quick": ("mhn", "diffusion"), "paper": ("mhn",)}


@dataclasses.dataclass(frozen=True)
class Settings:
  """What the flags ask for."""
  config: consolidation.ConsolidationConfig
  sources: tuple[str, ...]
  preset: str
  out_dir: str
  analyze: bool


def settings() -> Settings:
  """The preset with the flags applied (a bad value raises ValueError naming the setting)."""
  overrides: dict[str, Any] = {n: getattr(FLAGS, n) for n in _OVERRIDES if getattr(FLAGS, n) is not None}
  if FLAGS.dataset == "mnist" and FLAGS.vae is None and FLAGS.preset == "paper":
    overrides["vae"] = "small"
  if FLAGS.dataset == "shapes3d" and FLAGS.vae is None and FLAGS.preset == "quick":
    overrides["vae"] = "large"
  if FLAGS.n_stored is not None and FLAGS.n_stored >= 1:
    # Fewer stored images than the preset measures on: measure on all of them.
    base = consolidation.PRESETS[FLAGS.preset]
    if base.n_eval is not None and base.n_eval > FLAGS.n_stored:
      overrides["n_eval"] = None
    overrides["n_recall"] = min(base.n_recall, FLAGS.n_stored)
  config = consolidation.get_preset(FLAGS.preset, offline=FLAGS.offline, **overrides)
  if FLAGS.replay_source is None:
    sources = DEFAULT_SOURCES[FLAGS.preset]
  elif FLAGS.replay_source == "all":
    sources = consolidation.SOURCES
  else:
    sources = (FLAGS.replay_source,)
  return Settings(config, consolidation.check_sources(sources), FLAGS.preset, FLAGS.out_dir, FLAGS.analysis)


def main(s: Settings) -> None:
  consolidation.run_experiment(s.config, s.out_dir, s.sources, preset=s.preset, analyze=s.analyze)


if __name__ == "__main__":
  cli.run(main, settings)
