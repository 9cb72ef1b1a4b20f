"""How a published Shapes3D VAE sees the procedural Shapes3D scenes (a check of the offline generator).

  python scripts/shapes3d_realism.py --encoder_weights=shapes3d_encoder.h5 \
      --decoder_weights=shapes3d_decoder.h5 --out=results/shapes3d_realism.json

Loads a Keras Shapes3D VAE (seed 000 §A.2.1's large network, e.g. the authors' published weights;
.h5 needs h5py, or an .npz of the same weight paths) into `ConvVAE(shapes3d_config())`, and writes
atomically to --out the reconstruction error per image (§A.2.1's metric) of --n_images procedural
scenes and of as many of the decoder's own prior samples (the reference), their ratio, and the object
shape decoded from the scenes' latent means (200/750 RBF SVC). assocmem ships no weights.
"""

from __future__ import annotations

import dataclasses

from absl import flags, logging

from assocmem import files
from assocmem.experiments import cli
from assocmem.experiments.consolidation import realism

FLAGS = flags.FLAGS
flags.DEFINE_string("encoder_weights", None, "The Keras encoder's weights (.h5 or .npz).")
flags.DEFINE_string("decoder_weights", None, "The Keras decoder's weights (.h5 or .npz).")
flags.DEFINE_integer("n_images", 2000, "Procedural scenes (and prior samples) to measure.")
flags.DEFINE_integer("seed", 0, "Seed of the procedural scenes.")
flags.DEFINE_integer("reference_seed", 0, "PRNG seed of the prior samples.")
flags.DEFINE_string("out", "results/shapes3d_realism.json", "Output JSON file.")


@dataclasses.dataclass(frozen=True)
class Settings:
  encoder_weights: str
  decoder_weights: str
  n_images: int
  seed: int
  reference_seed: int
  out: str


def settings() -> Settings:
  for name in ("encoder_weights", "decoder_weights", "out"):
    if not getattr(FLAGS, name):
      raise ValueError(f"--{name} is required")
  if FLAGS.n_images < 4:
    raise ValueError(f"--n_images must be an integer >= 4, got {FLAGS.n_images}")
  return Settings(FLAGS.encoder_weights, FLAGS.decoder_weights, FLAGS.n_images, FLAGS.seed,
                  FLAGS.reference_seed, FLAGS.out)


def main(s: Settings) -> None:
  summary = realism.shapes3d_realism(s.encoder_weights, s.decoder_weights, s.n_images, s.seed,
                                     s.reference_seed)
  files.write_json(s.out, summary)
  logging.info("shapes3d realism: error %.1f (median %.1f) vs the decoder's samples %.1f (ratio %.2f), "
               "shape decoding %.3f; wrote %s", summary["error_mean"], summary["error_median"],
               summary["reference_error_mean"], summary["ratio"], summary["shape_decoding_accuracy"], s.out)


if __name__ == "__main__":
  cli.run(main, settings)
