"""What seed 000's consolidation measures: reconstruction error, latent decoding, noisy recall.

  reconstruction_errors  the §A.2.1 reconstruction term per image: mean absolute error averaged
                         over channels and summed over pixels (the VAE's training loss without KL);
  decoding_accuracy      the authors' `label_classifier`: latent means split 50/50
                         (random_state 1), StandardScaler + RBF SVC fitted on the first 200 of one
                         half, scored on the other (first 750);
  few_shot_curve         the same classifier fitted on the first n training examples, n = 10 …
                         1,000, scored on the test split (the authors' notebook 6), for latents
                         or raw pixels.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from assocmem import _checks


def reconstruction_errors(images: Any, reconstructions: Any) -> np.ndarray:
  """Σ_pixels mean_channels |x − x̂| per image (seed 000 §A.2.1's reconstruction loss).

  Args:
    images, reconstructions: (N, H, W, C) in [0, 1].
  Returns:
    (N,) float64 errors.
  """
  x = np.asarray(images)
  y = np.asarray(reconstructions)
  if x.shape != y.shape or x.ndim != 4:
    raise ValueError(f"images and reconstructions must have the same shape (N, H, W, C), got "
                     f"{x.shape} and {y.shape}")
  # The differences in the inputs' precision (float32 images: no float64 copies of 2,000 × 12,288
  # values per epoch), summed in float64; the mean over channels summed over pixels is the total / C.
  dt = np.float64 if np.float64 in (x.dtype, y.dtype) else np.float32
  d = np.abs(x.astype(dt, copy=False) - y.astype(dt, copy=False))
  return d.reshape(d.shape[0], -1).sum(axis=1, dtype=np.float64) / x.shape[-1]


def _classifier():
  from sklearn.pipeline import make_pipeline  # pylint: disable=import-outside-toplevel
  from sklearn.preprocessing import StandardScaler  # pylint: disable=import-outside-toplevel
  from sklearn.svm import SVC  # pylint: disable=import-outside-toplevel
  return make_pipeline(StandardScaler(), SVC())


def _check_features(name: str, x: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
  x = np.asarray(x, np.float64)
  y = np.asarray(labels)
  if x.ndim != 2 or x.shape[0] == 0:
    raise ValueError(f"{name} must have shape (N >= 1, features), got shape {x.shape}")
  if y.shape != (x.shape[0],):
    raise ValueError(f"labels of {name} must have shape ({x.shape[0]},), got {y.shape}")
  if not np.all(np.isfinite(x)):
    raise ValueError(f"{name} holds non-finite values")
  return x, y


def decoding_accuracy(latents: Any, labels: Any, n_fit: int = 200, n_score: int = 750,
                      seed: int = 1) -> float:
  """The authors' per-epoch decoding score (seed 000 code, `generative_model.label_classifier`).

  Args:
    latents: (N, L) latent means of the test split.
    labels: (N,) integer labels (object shape, digit).
    n_fit: examples of the first half the classifier is fitted on (200).
    n_score: examples of the second half it is scored on (at most; the authors': all 750).
    seed: `random_state` of the 50/50 split (1).
  Returns:
    Accuracy in [0, 1]; NaN when the fitting examples hold fewer than two classes.
  """
  from sklearn.model_selection import train_test_split  # pylint: disable=import-outside-toplevel

  x, y = _check_features("latents", latents, labels)
  n_fit = _checks.check_int("n_fit", n_fit)
  n_score = _checks.check_int("n_score", n_score)
  if x.shape[0] < 4:
    raise ValueError(f"latents must hold at least 4 examples for a 50/50 split, got {x.shape[0]}")
  a, b, ya, yb = train_test_split(x, y, test_size=0.5, random_state=seed)
  a, ya = a[:n_fit], ya[:n_fit]
  if np.unique(ya).size < 2:
    return float("nan")
  return float(_classifier().fit(a, ya).score(b[:n_score], yb[:n_score]))


def few_shot_curve(train_x: Any, train_y: Any, test_x: Any, test_y: Any,
                   sizes: Sequence[int]) -> dict[int, float]:
  """Accuracy of StandardScaler + RBF SVC fitted on the first n training examples, per n.

  Args:
    train_x, train_y: (N, F) features and (N,) labels to draw the first n from.
    test_x, test_y: (M, F), (M,) the scoring set.
    sizes: the n values; those above N are skipped.
  Returns:
    n -> accuracy (NaN when the first n hold fewer than two classes).
  """
  x, y = _check_features("train_x", train_x, train_y)
  tx, ty = _check_features("test_x", test_x, test_y)
  if tx.shape[1] != x.shape[1]:
    raise ValueError(f"test_x has {tx.shape[1]} features but train_x has {x.shape[1]}")
  out: dict[int, float] = {}
  for n in sizes:
    n = _checks.check_int("sizes", n, 2)
    if n > x.shape[0]:
      continue
    if np.unique(y[:n]).size < 2:
      out[n] = float("nan")
      continue
    out[n] = float(_classifier().fit(x[:n], y[:n]).score(tx, ty))
  return out
