"""Image-set container, pixel scalings and seed 000's train/test split.

Every loader of `assocmem.data` returns an `ImageData`: images as float32 in [0, 1] with shape
(N, H, W, C) and a dict of integer labels, each of shape (N,). Seed 000 (Spens & Burgess 2024, code
`utils.load_tfds_dataset` / `prepare_data` of github.com/ellie-as/generative-memory) takes the first
15,000 training images, scales them by 1/255 and splits them 90/10 with
`sklearn.model_selection.train_test_split(test_size=0.1, random_state=42)`; `seed000_split`
reproduces that split.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

from assocmem import _checks

# Tolerance on the [0, 1] / [-1, 1] range checks: float32 round-off of x / 255 and 2x - 1.
_RANGE_TOL = 1e-5


class ImageData(NamedTuple):
  """Images and labels of one dataset split.

  Attributes:
    images: (N, H, W, C) float32 in [0, 1].
    labels: name -> (N,) int64 label array (MNIST: `label`; Shapes3D: `label_floor_hue`, ...).
  """
  images: np.ndarray
  labels: dict[str, np.ndarray]

  @property
  def num_examples(self) -> int:
    """Number of examples N."""
    return int(self.images.shape[0])


def check_image_data(name: str, data: Any) -> ImageData:
  """Validates an `ImageData`: (N, H, W, C) float32 images and (N,) integer labels.

  Args:
    name: argument name used in error messages.
    data: the value to check.
  Returns:
    `data`, unchanged.
  """
  if not isinstance(data, ImageData):
    raise ValueError(f"{name} must be an assocmem.data.ImageData, got {type(data).__name__}")
  images = data.images
  if not isinstance(images, np.ndarray) or images.ndim != 4:
    raise ValueError(f"{name}.images must be a NumPy array of shape (N, H, W, C), got "
                     f"{type(images).__name__} of shape {getattr(images, 'shape', None)}")
  for key, value in data.labels.items():
    value = np.asarray(value)
    if value.shape != (images.shape[0],) or not np.issubdtype(value.dtype, np.integer):
      raise ValueError(f"{name}.labels[{key!r}] must be an integer array of shape "
                       f"({images.shape[0]},), got dtype {value.dtype} and shape {value.shape}")
  return data


def scale_uint8(images: np.ndarray) -> np.ndarray:
  """uint8 pixels -> float32 in [0, 1] (x / 255, as seed 000's `preprocess`).

  Args:
    images: (..., H, W, C) uint8.
  Returns:
    (..., H, W, C) float32 in [0, 1].
  """
  images = np.asarray(images)
  if images.dtype != np.uint8:
    raise ValueError(f"images must be uint8 pixels in [0, 255], got dtype {images.dtype}")
  return images.astype(np.float32) * np.float32(1.0 / 255.0)


def _check_range(name: str, x: Any, lo: float, hi: float) -> None:
  """Raises ValueError when a concrete `x` leaves [lo, hi] (skipped under tracing)."""
  if not _checks.is_concrete(x):
    return
  arr = np.asarray(x)
  if not np.issubdtype(arr.dtype, np.number):
    raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
  if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < lo - _RANGE_TOL
                   or arr.max() > hi + _RANGE_TOL):
    raise ValueError(f"{name} must hold finite values in [{lo:g}, {hi:g}], got range "
                     f"[{np.nanmin(arr):.4g}, {np.nanmax(arr):.4g}]")


def to_signed(x: np.ndarray | jax.Array) -> np.ndarray | jax.Array:
  """[0, 1] -> [-1, 1]: 2x - 1 (pixels as ±1-like states for the Hopfield / diffusion memories).

  Args:
    x: (...) array in [0, 1] (NumPy or JAX; the range is checked only for concrete values).
  Returns:
    (...) array of the same kind and dtype, in [-1, 1].
  """
  _check_range("x", x, 0.0, 1.0)
  return 2 * x - 1


def to_unit(x: np.ndarray | jax.Array) -> np.ndarray | jax.Array:
  """[-1, 1] -> [0, 1]: (x + 1) / 2, the inverse of `to_signed`.

  Args:
    x: (...) array in [-1, 1] (NumPy or JAX; the range is checked only for concrete values).
  Returns:
    (...) array of the same kind and dtype, in [0, 1].
  """
  _check_range("x", x, -1.0, 1.0)
  return (x + 1) / 2


def flatten(images: np.ndarray | jax.Array) -> np.ndarray | jax.Array:
  """(N, H, W, C) images -> (N, H*W*C) vectors (row-major, as `reshape`).

  Args:
    images: (N, H, W, C) array.
  Returns:
    (N, H*W*C) array of the same kind.
  """
  if getattr(images, "ndim", None) != 4:
    raise ValueError(f"images must have shape (N, H, W, C), got shape {getattr(images, 'shape', None)}")
  return images.reshape(images.shape[0], -1)


def unflatten(x: np.ndarray | jax.Array, image_shape: tuple[int, int, int]) -> np.ndarray | jax.Array:
  """(N, H*W*C) vectors -> (N, H, W, C) images, the inverse of `flatten`.

  Args:
    x: (N, D) array with D = H*W*C.
    image_shape: (H, W, C).
  Returns:
    (N, H, W, C) array of the same kind.
  """
  shape = tuple(int(s) for s in image_shape)
  if len(shape) != 3 or min(shape) < 1:
    raise ValueError(f"image_shape must be (H, W, C) with positive entries, got {image_shape!r}")
  if getattr(x, "ndim", None) != 2 or x.shape[1] != int(np.prod(shape)):
    raise ValueError(f"x must have shape (N, {int(np.prod(shape))}) for image_shape {shape}, got "
                     f"shape {getattr(x, 'shape', None)}")
  return x.reshape((x.shape[0],) + shape)


def take(data: ImageData, indices: np.ndarray | slice) -> ImageData:
  """The examples `indices` of `data` (images and every label).

  Args:
    data: `ImageData` with N examples.
    indices: (M,) integer indices or a slice.
  Returns:
    `ImageData` with M examples.
  """
  check_image_data("data", data)
  return ImageData(data.images[indices], {k: np.asarray(v)[indices] for k, v in data.labels.items()})


def seed000_split(data: ImageData, test_fraction: float = 0.1,
                  seed: int = 42) -> tuple[ImageData, ImageData]:
  """Seed 000's 90/10 train/test split of already-scaled images.

  Same call as the seed's code (`train_test_split(data, labels, test_size=0.1, random_state=42)`),
  so the same N images give the same two sets; deterministic for a fixed `seed`.

  Args:
    data: `ImageData` with N >= 2 examples (seed 000: the first 15,000, scaled to [0, 1]).
    test_fraction: fraction of examples in the test set, in (0, 1).
    seed: `random_state` of the shuffle (seed 000: 42).
  Returns:
    (train, test) `ImageData` with N - ceil(test_fraction N) and ceil(test_fraction N) examples.
  """
  from sklearn import model_selection  # Imported here: sklearn is slow to import.

  check_image_data("data", data)
  if not (isinstance(test_fraction, (float, int)) and 0.0 < float(test_fraction) < 1.0):
    raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
  if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
  n = data.num_examples
  n_test = int(np.ceil(float(test_fraction) * n))
  if n < 2 or n_test >= n:
    raise ValueError(f"data must hold enough examples for a {test_fraction:g} test split, got {n}")
  train_idx, test_idx = model_selection.train_test_split(
      np.arange(n), test_size=float(test_fraction), random_state=int(seed))
  return take(data, train_idx), take(data, test_idx)

