"""After consolidation: what the trained VAE does without the hippocampus (seed 000 §§ 2–3).

  recall_comparison   recall of stored memories from noisy (a fraction of values set to 0, the
                      authors' `noise`) and partial (bottom rows occluded) cues, through the VAE
                      (encode → decode) and through the modern Hopfield hippocampus (≤ 10 updates
                      until unchanged), as the §A.2.1 reconstruction error against the originals;
  imagination         decoded prior samples z ~ N(0, I); latent interpolation between two test
                      items (the authors' `interpolate_ims`, 10 steps); vector arithmetic
                      z = −z₁ + z₂ + z₃ with items 1 and 3 of one class (`vector_arithmetic`);
  semantic_decoding   the few-shot curve: StandardScaler + RBF SVC fitted on the first n training
                      items (n = 10 … 1,000), scored on the test split, from latent means and
                      from raw pixels (the authors' notebook 6);
  embed               a 2-d embedding of test latents (t-SNE with PCA initialisation, as the
                      authors' `plot_latent_space_with_labels`, or PCA), coloured by label.

`analyze` runs all four and returns (JSON-ready numbers, arrays for the figures).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from assocmem import data as data_lib
from assocmem.memories.vae import VAEMemory
from assocmem.train import vae as train_vae

from assocmem.experiments.consolidation import hippocampus, metrics
from assocmem.experiments.consolidation.config import ConsolidationConfig

N_EXAMPLES = 6          # example images per cue type kept for the figure
N_INTERPOLATIONS = 3
N_ARITHMETIC = 3
INTERPOLATION_STEPS = 10


def recall_comparison(config: ConsolidationConfig, student: VAEMemory, state: train_vae.TrainState,
                      stored: np.ndarray, key: jax.Array) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
  """VAE against MHN recall of the first `n_recall` stored images from noisy and partial cues.

  Args:
    config: settings (n_recall, recall_noise_fractions, partial_fraction, hippocampus).
    student, state: the trained VAE.
    stored: (n_stored, H, W, C) the stored originals in [0, 1] (the MHN stores all of them).
    key: PRNG key of the noisy cues.
  Returns:
    (rows, examples): per cue kind, {"cue", "fraction", "cue_error", "vae_error", "mhn_error",
    "mhn_correct"} (mean errors per image; mhn_correct = fraction of recalls whose nearest stored
    image is the cued one), and per cue kind an array (4, N_EXAMPLES, H, W, C) of originals, cues,
    VAE recalls and MHN recalls.
  """
  hippo = hippocampus.make_hippocampus(config, len(stored))
  patterns = data_lib.flatten(data_lib.to_signed(stored))
  bank = hippocampus.store(hippo, patterns, incremental=config.incremental)
  originals = stored[:config.n_recall]
  cue_sets = [(f"noisy {f:g}", f, hippocampus.noisy_cues(jax.random.fold_in(key, i), originals, f))
              for i, f in enumerate(config.recall_noise_fractions)]
  cue_sets.append((f"partial {config.partial_fraction:g}", config.partial_fraction,
                   hippocampus.partial_cues(originals, config.partial_fraction)))
  rows, examples = [], {}
  for name, fraction, cues in cue_sets:
    vae_out = np.asarray(student.recall(state, cues))
    mhn_raw = hippocampus.recall_batched(hippo, bank, data_lib.flatten(data_lib.to_signed(cues)),
                                         config.replay_batch)
    mhn_out = hippocampus.to_images(mhn_raw, config.image_shape)
    nearest, _ = hippocampus.nearest_patterns(mhn_raw, patterns)
    rows.append({"cue": name, "fraction": fraction,
                 "cue_error": float(np.mean(metrics.reconstruction_errors(originals, cues))),
                 "vae_error": float(np.mean(metrics.reconstruction_errors(originals, vae_out))),
                 "mhn_error": float(np.mean(metrics.reconstruction_errors(originals, mhn_out))),
                 "mhn_correct": float(np.mean(nearest == np.arange(len(originals))))})
    k = min(N_EXAMPLES, len(originals))
    examples[name] = np.stack([originals[:k], cues[:k], vae_out[:k], mhn_out[:k]])
  return rows, examples


def imagination(config: ConsolidationConfig, student: VAEMemory, state: train_vae.TrainState,
                test_images: np.ndarray, test_labels: np.ndarray, key: jax.Array) -> dict[str, np.ndarray]:
  """Prior samples, interpolations and vector arithmetic (images in [0, 1]).

  Returns:
    {"prior": (n_imagine, H, W, C),
     "interpolation": (N_INTERPOLATIONS, INTERPOLATION_STEPS, H, W, C) from test item a to b,
     "arithmetic": (n, 4, H, W, C): items 1, 2, 3 and the decoding of −z₁ + z₂ + z₃, items 1 and 3
     of the same class}
  """
  k_prior, k_pairs, k_arith = jax.random.split(key, 3)
  shape = config.image_shape
  prior = np.asarray(student.replay(state, k_prior, config.n_imagine)).reshape((-1,) + shape)
  z = student.encode(state, test_images)
  n = len(test_images)
  pairs = np.asarray(jax.random.choice(k_pairs, n, (N_INTERPOLATIONS, 2), replace=n < 2 * N_INTERPOLATIONS))
  w = np.linspace(0.0, 1.0, INTERPOLATION_STEPS)[None, :, None]
  path = (1 - w) * z[pairs[:, 0]][:, None, :] + w * z[pairs[:, 1]][:, None, :]
  interp = np.asarray(student.decode(state, path.reshape(-1, z.shape[1]), images=True))
  interp = interp.reshape((N_INTERPOLATIONS, INTERPOLATION_STEPS) + shape)
  rows = []
  rng = np.random.default_rng(int(jax.random.randint(k_arith, (), 0, 2**31 - 1)))
  classes = [c for c in np.unique(test_labels) if np.sum(test_labels == c) >= 2]
  for _ in range(N_ARITHMETIC if classes else 0):
    c = rng.choice(classes)
    first, third = rng.choice(np.flatnonzero(test_labels == c), size=2, replace=False)
    second = rng.integers(n)
    res = -z[first] + z[second] + z[third]
    out = np.asarray(student.decode(state, res[None], images=True))[0]
    rows.append(np.stack([test_images[first], test_images[second], test_images[third], out]))
  arithmetic = np.stack(rows) if rows else np.zeros((0, 4) + shape, np.float32)
  return {"prior": prior, "interpolation": interp, "arithmetic": arithmetic}


def semantic_decoding(config: ConsolidationConfig, student: VAEMemory, state: train_vae.TrainState,
                      train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray,
                      test_labels: np.ndarray) -> dict[str, dict[int, float]]:
  """Few-shot decoding curves from latent means and from raw pixels (the first n training items).

  Returns:
    {"latents": {n: accuracy}, "pixels": {n: accuracy}} for n in `few_shot_sizes` up to the
    training split's size.
  """
  n_max = min(max(config.few_shot_sizes), len(train_images))
  z_train = student.encode(state, train_images[:n_max])
  z_test = student.encode(state, test_images)
  sizes = config.few_shot_sizes
  return {
      "latents": metrics.few_shot_curve(z_train, train_labels[:n_max], z_test, test_labels, sizes),
      "pixels": metrics.few_shot_curve(train_images[:n_max].reshape(n_max, -1), train_labels[:n_max],
                                       test_images.reshape(len(test_images), -1), test_labels, sizes),
  }


def embed(latents: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
  """(N, L) latents → (N, 2): t-SNE (PCA initialisation, perplexity ≤ 30) or PCA."""
  x = np.asarray(latents, np.float64)
  if x.ndim != 2 or x.shape[0] < 3:
    raise ValueError(f"latents must have shape (N >= 3, L), got shape {x.shape}")
  if method == "pca":
    from sklearn.decomposition import PCA  # pylint: disable=import-outside-toplevel
    return PCA(n_components=2, random_state=seed).fit_transform(x)
  if method != "tsne":
    raise ValueError(f"unknown embedding {method!r}; expected 'tsne' or 'pca'")
  from sklearn.manifold import TSNE  # pylint: disable=import-outside-toplevel
  perplexity = float(min(30.0, (x.shape[0] - 1) / 3.0))
  return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(x)


def analyze(config: ConsolidationConfig, student: VAEMemory, state: train_vae.TrainState,
            prepared: Any, key: jax.Array) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
  """All four analyses of one trained VAE.

  Args:
    config: settings.
    student, state: the trained VAE.
    prepared: the run's `pipeline.Prepared` data.
    key: PRNG key.
  Returns:
    (numbers, arrays): numbers {"recall": rows, "few_shot": curves}; arrays for the figures
    (recall examples "recall/<cue>", "prior", "interpolation", "arithmetic", "embedding",
    "embedding_labels").
  """
  k_recall, k_imagine = jax.random.split(key)
  label = config.label_name
  recall_rows, recall_examples = recall_comparison(config, student, state, prepared.stored, k_recall)
  images = imagination(config, student, state, prepared.test.images, prepared.test_labels, k_imagine)
  few_shot = semantic_decoding(config, student, state, prepared.train.images,
                               np.asarray(prepared.train.labels[label]), prepared.test.images,
                               prepared.test_labels)
  n_embed = min(config.n_embed, prepared.test.num_examples)
  z = student.encode(state, prepared.test.images[:n_embed])
  emb = embed(z, config.embedding, config.seed)
  arrays = {f"recall/{k}": v for k, v in recall_examples.items()}
  arrays.update(images)
  arrays["embedding"] = emb
  arrays["embedding_labels"] = prepared.test_labels[:n_embed]
  numbers = {"recall": recall_rows,
             "few_shot": {kind: {str(n): acc for n, acc in curve.items()} for kind, curve in few_shot.items()},
             "embedding": config.embedding, "n_embed": n_embed}
  return numbers, arrays
