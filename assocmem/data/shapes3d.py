"""Procedural Shapes3D: an offline stand-in for tfds `shapes3d` (Burgess & Kim 2018; seed 000, A.1).

Seed 000 trains its generative model on the first 15,000 images of TensorFlow Datasets' `shapes3d`
(64x64 RGB renders of one object in a room). Without the real files this module renders scenes with
the same six factors, value grids, label names and flat-index ordering, ray-cast in NumPy:

| factor       | values                              | in the image                                   |
|--------------|-------------------------------------|------------------------------------------------|
| floor_hue    | 10: 0, 0.1, ..., 0.9                | hue of the floor                               |
| wall_hue     | 10: 0, 0.1, ..., 0.9                | hue of the wall                                |
| object_hue   | 10: 0, 0.1, ..., 0.9                | hue of the object                              |
| scale        | 8: linspace(0.75, 1.25, 8)          | object size                                    |
| shape        | 4: cube, cylinder, sphere, capsule  | silhouette and shading (all upright)           |
| orientation  | 15: linspace(-30, 30, 15) degrees   | the object's turn about its vertical axis      |

The scene follows real Shapes3D as a VAE trained on it sees it (the decoder samples of seed 000's
published model): a fixed camera, pitched 5 degrees down, looks at one frontal wall whose horizontal
edges fall on image rows 17.8 (a light-blue sky band above it, RGB (0.60, 0.89, 0.98)) and 40.6 (the
floor below it); the object stands on the floor in the middle of the image (the floor point under its
centre on row 53, the front of its base near row 55), and
turns in place by the orientation angle; a directional light from the upper left, behind the camera,
shades the object (Lambert, ambient 0.6) and casts a hard shadow (brightness 0.25) to its lower right.
Floor and wall are unshaded. Colours are HSV(hue, 1, 1) (full saturation), so every surface keeps its
hue exactly and the labels can be read back from the pixels. Pixels are the mean of 2x2 sub-pixel rays
(anti-aliased, so edge pixels mix two surfaces), float32 in [0, 1].

Flat indices follow the real dataset's order (the `3dshapes.h5` file): row-major over
(floor_hue, wall_hue, object_hue, scale, shape, orientation), 480,000 scenes in all. The images are a
deterministic function of the factors, like the real ones, but they are not the real renders (no
specular highlights or soft shadows, and object proportions fitted by eye and by the published VAE's
reconstruction error rather than taken from the real scene file); a model trained on them is not
comparable pixel for pixel. docs/reproduction.md reports how the published VAE sees them.

Speed: the geometry of a scene (floor / wall / object / sky weights per pixel, with shading and
shadow) depends only on (shape, scale, orientation), 480 combinations; `render` ray-casts the
combinations a batch needs once and colours every image with one (3, 4) x (4, 4096) product, so
15,000 images take a few seconds on one core.
"""

from __future__ import annotations

import math
from typing import Mapping

from absl import logging
import numpy as np

from assocmem.data import splits

FACTOR_NAMES: tuple[str, ...] = ("floor_hue", "wall_hue", "object_hue", "scale", "shape",
                                 "orientation")
FACTOR_SIZES: tuple[int, ...] = (10, 10, 10, 8, 4, 15)
LABEL_NAMES: tuple[str, ...] = tuple(f"label_{f}" for f in FACTOR_NAMES)
VALUE_NAMES: tuple[str, ...] = tuple(f"value_{f}" for f in FACTOR_NAMES)
SHAPE_NAMES: tuple[str, ...] = ("cube", "cylinder", "sphere", "capsule")
NUM_SCENES: int = int(np.prod(FACTOR_SIZES))  # 480,000
IMAGE_SHAPE: tuple[int, int, int] = (64, 64, 3)


def factor_values() -> dict[str, np.ndarray]:
  """The value grid of each factor, as stored in tfds `value_*` features (float32).

  Returns:
    factor name -> (size,) float32 values: hues 0, 0.1, ..., 0.9; scale linspace(0.75, 1.25, 8);
    shape 0, 1, 2, 3; orientation linspace(-30, 30, 15) degrees.
  """
  hues = np.arange(10, dtype=np.float32) / np.float32(10)
  return {
      "floor_hue": hues, "wall_hue": hues.copy(), "object_hue": hues.copy(),
      "scale": np.linspace(0.75, 1.25, 8, dtype=np.float32),
      "shape": np.arange(4, dtype=np.float32),
      "orientation": np.linspace(-30.0, 30.0, 15, dtype=np.float32),
  }


# Scene constants (world units; the object at scale 1 is _OBJECT_SIZE tall). The camera looks along
# +z from (0, _CAMERA_HEIGHT, 0), pitched down; the frontal wall is the plane z = wall distance up to
# the wall height, with sky above it; the object stands on the floor y = 0 at (0, 0, object distance).
# The distances and the wall height follow from the image rows they must fall on (`_scene_layout`),
# measured on decoder samples of a VAE trained on real Shapes3D: the sky-wall line at row 17.8, the
# wall-floor line at row 40.6 (rows in pixels from the top edge of the 64-pixel image).
_SUPERSAMPLE = 2
_FOV_DEG = 35.0             # vertical (= horizontal) field of view
_PITCH_DEG = 5.0            # camera pitch below the horizon
_CAMERA_HEIGHT = 1.30
_SKY_ROW = 17.8             # the top edge of the wall
_FLOOR_ROW = 40.6           # the wall-floor line
_OBJECT_ROW = 53.0          # the floor point under the object's centre
_LIGHT = np.array([-0.5, 1.0, -0.3])  # direction towards the light (upper left, behind the camera)
_SATURATION = 1.0
_SKY_RGB = np.array([0.60, 0.89, 0.98])  # the light-blue sky band above the wall
_AMBIENT = 0.60             # object shading: ambient + (1 - ambient) max(0, n . l)
_SHADOW = 0.25              # brightness of the floor and wall in the object's shadow
_OBJECT_SIZE = 0.97         # world size of the object at scale 1
_CUBE_SIDE = 1.0            # of the object size s
_SPHERE_DIAMETER = 1.0
_CYLINDER_RADIUS = 0.42
_CAPSULE_RADIUS = 0.35
_CAPSULE_LENGTH = 1.3


def _floor_distance(row: float) -> float:
  """Distance along z of the floor point seen at image row `row` (continuous, 0 = top edge)."""
  p, half = math.radians(_PITCH_DEG), math.tan(math.radians(_FOV_DEG) / 2)
  v = (1.0 - 2.0 * row / IMAGE_SHAPE[0]) * half
  dy, dz = -math.sin(p) + v * math.cos(p), math.cos(p) + v * math.sin(p)
  if dy >= 0:
    raise ValueError(f"row {row} is above the horizon")
  return _CAMERA_HEIGHT * dz / -dy


def _scene_layout() -> tuple[float, float, float]:
  """(object distance, wall distance, wall height) that put the scene on _OBJECT_ROW, _FLOOR_ROW, _SKY_ROW."""
  wall = _floor_distance(_FLOOR_ROW)
  p, half = math.radians(_PITCH_DEG), math.tan(math.radians(_FOV_DEG) / 2)
  v = (1.0 - 2.0 * _SKY_ROW / IMAGE_SHAPE[0]) * half
  dy, dz = -math.sin(p) + v * math.cos(p), math.cos(p) + v * math.sin(p)
  return _floor_distance(_OBJECT_ROW), wall, _CAMERA_HEIGHT + wall * dy / dz


# ---------------------------------------------------------------------------------------------
# Factor bookkeeping.


def _check_factors(name: str, factors: np.ndarray) -> np.ndarray:
  """Validates (B, 6) integer factor indices in range; returns them as int64."""
  arr = np.asarray(factors)
  if arr.ndim != 2 or arr.shape[1] != len(FACTOR_SIZES):
    raise ValueError(f"{name} must have shape (B, {len(FACTOR_SIZES)}) with columns {FACTOR_NAMES}, "
                     f"got shape {arr.shape}")
  if arr.size and not np.issubdtype(arr.dtype, np.integer):
    if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
      raise ValueError(f"{name} must hold integer factor indices, got dtype {arr.dtype}")
  arr = arr.astype(np.int64)
  sizes = np.asarray(FACTOR_SIZES)
  bad = (arr < 0) | (arr >= sizes)
  if np.any(bad):
    col = int(np.nonzero(bad.any(axis=0))[0][0])
    raise ValueError(f"{name}[:, {col}] ({FACTOR_NAMES[col]}) must be in [0, {FACTOR_SIZES[col] - 1}], "
                     f"got values in [{arr[:, col].min()}, {arr[:, col].max()}]")
  return arr


def factors_to_index(factors: np.ndarray) -> np.ndarray:
  """Factor indices -> flat scene index, row-major in the real `3dshapes.h5` order.

  Args:
    factors: (B, 6) integer indices (floor_hue, wall_hue, object_hue, scale, shape, orientation).
  Returns:
    (B,) int64 flat indices in [0, 480000).
  """
  f = _check_factors("factors", factors)
  return np.ravel_multi_index(tuple(f.T), FACTOR_SIZES).astype(np.int64)


def index_to_factors(index: np.ndarray) -> np.ndarray:
  """Flat scene index -> factor indices, the inverse of `factors_to_index`.

  Args:
    index: (B,) integer flat indices in [0, 480000).
  Returns:
    (B, 6) int64 factor indices.
  """
  idx = np.asarray(index)
  if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
    raise ValueError(f"index must be a 1-D integer array, got dtype {idx.dtype} and shape {idx.shape}")
  if idx.size and (idx.min() < 0 or idx.max() >= NUM_SCENES):
    raise ValueError(f"index must be in [0, {NUM_SCENES}), got values in [{idx.min()}, {idx.max()}]")
  return np.stack(np.unravel_index(idx.astype(np.int64), FACTOR_SIZES), axis=1).astype(np.int64)


def factors_to_labels(factors: np.ndarray) -> dict[str, np.ndarray]:
  """Factor indices -> tfds-style integer labels (`label_floor_hue`, ..., `label_orientation`).

  Args:
    factors: (B, 6) integer indices.
  Returns:
    label name -> (B,) int64.
  """
  f = _check_factors("factors", factors)
  return {name: f[:, i].copy() for i, name in enumerate(LABEL_NAMES)}


def labels_to_factors(labels: Mapping[str, np.ndarray]) -> np.ndarray:
  """tfds-style labels -> (B, 6) factor indices, the inverse of `factors_to_labels`.

  Args:
    labels: dict holding at least the six `label_*` arrays, each (B,).
  Returns:
    (B, 6) int64 factor indices.
  """
  missing = [k for k in LABEL_NAMES if k not in labels]
  if missing:
    raise ValueError(f"labels must hold {LABEL_NAMES}, missing {missing}")
  cols = [np.asarray(labels[k]) for k in LABEL_NAMES]
  if any(c.ndim != 1 or c.shape != cols[0].shape for c in cols):
    raise ValueError(f"labels must be 1-D arrays of one length, got shapes {[c.shape for c in cols]}")
  return _check_factors("labels", np.stack(cols, axis=1))


def factors_to_values(factors: np.ndarray) -> dict[str, np.ndarray]:
  """Factor indices -> tfds-style factor values (`value_floor_hue`, ...), float32.

  Args:
    factors: (B, 6) integer indices.
  Returns:
    value name -> (B,) float32 (hues in [0, 1), scale, shape id, orientation in degrees).
  """
  f = _check_factors("factors", factors)
  grids = factor_values()
  return {f"value_{name}": grids[name][f[:, i]] for i, name in enumerate(FACTOR_NAMES)}


def hue_to_rgb(hue: np.ndarray, saturation: float = _SATURATION) -> np.ndarray:
  """HSV(hue, saturation, 1) -> RGB, vectorised (the surface colours before shading).

  Args:
    hue: (B,) hues in [0, 1).
    saturation: in [0, 1].
  Returns:
    (B, 3) float64 RGB in [0, 1].
  """
  h = np.asarray(hue, dtype=np.float64)
  k = np.mod(np.array([5.0, 3.0, 1.0]) + h[..., None] * 6.0, 6.0)
  return 1.0 - saturation * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Ray casting of the scene geometry. Vectors are tuples (x, y, z) of arrays (struct of arrays: each
# component is contiguous, which is several times faster in NumPy than a trailing axis of size 3).
# The object's hit functions work in the object's frame (the object rotated by its orientation about
# the vertical axis through its centre) and return the ray parameter t (inf on a miss) and the unit
# surface normal there.

Vec = tuple[np.ndarray, np.ndarray, np.ndarray]
_DTYPE = np.float32


def _dot(a: Vec, b: Vec) -> np.ndarray:
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _unit_light() -> np.ndarray:
  return _LIGHT / np.linalg.norm(_LIGHT)


def _camera_rays(size: int) -> tuple[Vec, Vec]:
  """The camera's origin ((1, 1) each) and unit ray directions ((size, size) each), row 0 at the top."""
  p = math.radians(_PITCH_DEG)
  fwd = np.array([0.0, -math.sin(p), math.cos(p)])
  up = np.array([0.0, math.cos(p), math.sin(p)])
  right = np.array([1.0, 0.0, 0.0])
  half = math.tan(math.radians(_FOV_DEG) / 2)
  s = (np.arange(size) + 0.5) / size * 2.0 - 1.0          # sub-pixel centres in (-1, 1)
  u = s[None, :] * half                                     # column -> right
  v = -s[:, None] * half                                    # row -> up
  d = [fwd[k] + u * right[k] + v * up[k] for k in range(3)]
  norm = np.sqrt(_dot(d, d))
  d = tuple((c / norm).astype(_DTYPE) for c in d)
  o = tuple(np.full((1, 1), c, _DTYPE) for c in (0.0, _CAMERA_HEIGHT, 0.0))
  return o, d


def _finite(t: np.ndarray) -> np.ndarray:
  """t with misses (inf) replaced by 0, so that hit points of missed rays stay finite."""
  return np.where(np.isfinite(t), t, 0.0).astype(t.dtype)


def _point(o: Vec, d: Vec, t: np.ndarray) -> Vec:
  tf = _finite(t)
  return tuple(o[k] + tf * d[k] for k in range(3))


def _hit_sphere(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, Vec]:
  """Sphere of diameter _SPHERE_DIAMETER s resting on the floor. s is (G, 1, 1)."""
  rad = 0.5 * _SPHERE_DIAMETER * s
  oc = (o[0], o[1] - rad, o[2])
  b = _dot(d, oc)
  disc = b * b - (_dot(oc, oc) - rad * rad)
  t = -b - np.sqrt(np.maximum(disc, 0.0))
  t = np.where((disc > 0) & (t > 0), t, np.inf)
  q = _point(oc, d, t)
  return t, tuple(c / rad for c in q)


def _hit_cube(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, Vec]:
  """Cube of side _CUBE_SIDE s resting on the floor (slab method)."""
  a = 0.5 * _CUBE_SIDE * s
  lo, hi = (-a, 0.0 * a, -a), (a, 2.0 * a, a)
  t_min, t_max = [], []
  with np.errstate(divide="ignore", invalid="ignore"):
    for k in range(3):
      t1 = (lo[k] - o[k]) / d[k]
      t2 = (hi[k] - o[k]) / d[k]
      t_min.append(np.nan_to_num(np.minimum(t1, t2), nan=-np.inf))
      t_max.append(np.nan_to_num(np.maximum(t1, t2), nan=np.inf))
  t_near = np.maximum(np.maximum(t_min[0], t_min[1]), t_min[2])
  t_far = np.minimum(np.minimum(t_max[0], t_max[1]), t_max[2])
  hit = (t_near <= t_far) & (t_near > 0)
  # The entry face is the slab entered last; its outward normal opposes the ray on that axis.
  face = [t_min[k] == t_near for k in range(3)]
  face[1] &= ~face[0]
  face[2] &= ~(face[0] | face[1])
  zero = np.zeros_like(t_near)
  n = tuple(np.where(face[k], -np.sign(d[k]), zero) for k in range(3))
  return np.where(hit, t_near, np.inf), n


def _hit_cylinder(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, Vec]:
  """Upright cylinder of height s and radius _CYLINDER_RADIUS s on the floor (side and top cap)."""
  rad, h = _CYLINDER_RADIUS * s, s
  a = d[0] * d[0] + d[2] * d[2]
  b = o[0] * d[0] + o[2] * d[2]
  c = o[0] * o[0] + o[2] * o[2] - rad * rad
  disc = b * b - a * c
  with np.errstate(divide="ignore", invalid="ignore"):
    t_side = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    t_cap = (h - o[1]) / d[1]
  y_side = o[1] + t_side * d[1]
  side = (disc > 0) & (y_side >= 0) & (y_side <= h) & (t_side > 0)
  xc, zc = o[0] + t_cap * d[0], o[2] + t_cap * d[2]
  cap = (t_cap > 0) & (xc * xc + zc * zc <= rad * rad)
  t_side = np.where(side, t_side, np.inf)
  t_cap = np.where(cap, t_cap, np.inf)
  q = _point(o, d, t_side)
  on_cap = t_cap < t_side
  zero = np.zeros_like(t_side)
  n = (np.where(on_cap, zero, q[0] / rad), np.where(on_cap, 1.0 + zero, zero),
       np.where(on_cap, zero, q[2] / rad))
  return np.minimum(t_side, t_cap), n


def _hit_capsule(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, Vec]:
  """Upright capsule (pill) of height _CAPSULE_LENGTH s and radius _CAPSULE_RADIUS s on the floor."""
  rad = _CAPSULE_RADIUS * s
  half = 0.5 * _CAPSULE_LENGTH * s - rad
  # Axis from A = (0, rad, 0) to B = (0, rad + 2 half, 0); ba = (0, 2 half, 0).
  oa = (o[0], o[1] - rad, o[2])
  ob = (o[0], o[1] - rad - 2.0 * half, o[2])
  bay = 2.0 * half
  baba = bay * bay
  bard = bay * d[1]
  baoa = bay * oa[1]
  rdoa = _dot(d, oa)
  oaoa = _dot(oa, oa)
  a = baba - bard * bard
  b = baba * rdoa - baoa * bard
  c = baba * oaoa - baoa * baoa - rad * rad * baba
  h = b * b - a * c
  with np.errstate(divide="ignore", invalid="ignore"):
    t_body = (-b - np.sqrt(np.maximum(h, 0.0))) / a
  y = baoa + t_body * bard
  body = (h > 0) & (y > 0) & (y < baba)
  first = y <= 0
  oc = [np.where(first, oa[k], ob[k]) for k in range(3)]
  b2 = _dot(d, oc)
  h2 = b2 * b2 - (_dot(oc, oc) - rad * rad)
  t_cap = -b2 - np.sqrt(np.maximum(h2, 0.0))
  t = np.where(body, t_body, np.where((h > 0) & (h2 > 0), t_cap, np.inf))
  t = np.where(t > 0, t, np.inf)
  q = _point(oa, d, t)                                      # hit point relative to A
  frac = np.clip(q[1] / bay, 0.0, 1.0)
  return t, (q[0] / rad, (q[1] - frac * bay) / rad, q[2] / rad)


_HIT = (_hit_cube, _hit_cylinder, _hit_sphere, _hit_capsule)


def _to_object(o: Vec, d: Vec, cos_a: np.ndarray, sin_a: np.ndarray) -> tuple[Vec, Vec]:
  """World rays -> the frame of the object (at (0, 0, object distance), turned by angle a)."""
  ox, oz = o[0], o[2] - _DTYPE(_scene_layout()[0])
  return ((cos_a * ox - sin_a * oz, o[1] + 0.0 * cos_a, sin_a * ox + cos_a * oz),
          (cos_a * d[0] - sin_a * d[2], d[1] + 0.0 * cos_a, sin_a * d[0] + cos_a * d[2]))


def _object_hits(o: Vec, d: Vec, shape: np.ndarray, s: np.ndarray, cos_a: np.ndarray,
                 sin_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Ray parameter t (inf on a miss) and Lambert cosine n . l of the object, per geometry.

  Args:
    o, d: world rays, components broadcasting to (G, H, W).
    shape: (G,) shape indices; s, cos_a, sin_a: (G, 1, 1) size and the orientation's cos / sin.
  Returns:
    t and n . l, each (G, H, W).
  """
  oo, dd = _to_object(o, d, cos_a, sin_a)
  full = np.broadcast_shapes(dd[0].shape, oo[0].shape)
  t_obj = np.full(full, np.inf, _DTYPE)
  cos_obj = np.zeros(full, _DTYPE)
  light = _unit_light()
  for k, hit_fn in enumerate(_HIT):
    sel = shape == k
    if not np.any(sel):
      continue
    pick = lambda v: tuple(np.broadcast_to(c, full)[sel] for c in v)  # noqa: E731
    t, n = hit_fn(pick(oo), pick(dd), s[sel])
    # The normal back in the world frame (rotation by -a about y), dotted with the light.
    ca, sa = cos_a[sel], sin_a[sel]
    nx = ca * n[0] + sa * n[2]
    nz = -sa * n[0] + ca * n[2]
    t_obj[sel] = t
    cos_obj[sel] = nx * light[0] + n[1] * light[1] + nz * light[2]
  return t_obj, cos_obj


def _geometry_weights(shape: np.ndarray, scale: np.ndarray, orientation: np.ndarray) -> np.ndarray:
  """Per-pixel weights of the floor, wall, object and sky colours for G geometries.

  Args:
    shape: (G,) shape indices.
    scale: (G,) scale indices.
    orientation: (G,) orientation indices.
  Returns:
    (G, 4, 64 * 64) float32 weights (floor, wall, object, sky): the shading of each surface times the
    fraction of the pixel's sub-rays that see it. A pixel's colour is colours.T @ weights.
  """
  grids = factor_values()
  size = IMAGE_SHAPE[0] * _SUPERSAMPLE
  o, d = _camera_rays(size)
  s = (_OBJECT_SIZE * grids["scale"][scale]).astype(_DTYPE)[:, None, None]
  angle = np.deg2rad(grids["orientation"][orientation].astype(np.float64))
  cos_a = np.cos(angle).astype(_DTYPE)[:, None, None]
  sin_a = np.sin(angle).astype(_DTYPE)[:, None, None]

  # Room (the same for every geometry): the floor y = 0, the frontal wall z = D up to its top, sky.
  _, wall_distance, wall_height = _scene_layout()
  with np.errstate(divide="ignore", invalid="ignore"):
    t_floor = np.where(d[1] < 0, -o[1] / d[1], np.inf)
    t_wall = np.where(d[2] > 0, (wall_distance - o[2]) / d[2], np.inf)
  y_wall = o[1] + _finite(t_wall) * d[1]
  on_wall = (t_wall < t_floor) & (y_wall <= wall_height)
  on_floor = np.isfinite(t_floor) & (t_floor <= t_wall)
  t_room = np.where(on_wall, t_wall, np.where(on_floor, t_floor, np.inf)).astype(_DTYPE)

  # The object's hard shadow on floor and wall: does a ray from the surface point to the light hit it?
  p = _point(o, d, t_room)
  light = tuple(np.full((1, 1), c, _DTYPE) for c in _unit_light())
  t_shadow, _ = _object_hits(p, light, shape, s, cos_a, sin_a)
  lit = np.where(np.isfinite(t_shadow), _DTYPE(_SHADOW), _DTYPE(1.0))

  t_obj, cos_obj = _object_hits(o, d, shape, s, cos_a, sin_a)
  on_obj = t_obj < t_room
  zero = _DTYPE(0)
  shade_obj = _AMBIENT + (1.0 - _AMBIENT) * np.maximum(cos_obj, 0.0)
  w = np.stack([np.where(~on_obj & on_floor, lit, zero), np.where(~on_obj & on_wall, lit, zero),
                np.where(on_obj, shade_obj, zero),
                np.where(~on_obj & ~on_floor & ~on_wall, _DTYPE(1.0), zero)], axis=1)
  g, px_ = w.shape[0], IMAGE_SHAPE[0]
  w = w.reshape(g, 4, px_, _SUPERSAMPLE, px_, _SUPERSAMPLE).mean(axis=(3, 5), dtype=_DTYPE)
  return w.reshape(g, 4, px_ * px_).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Public rendering entry points.


def render(factors: np.ndarray, chunk_size: int = 1024) -> np.ndarray:
  """Renders procedural Shapes3D scenes (offline stand-in for tfds `shapes3d`, seed 000 A.1).

  Args:
    factors: (B, 6) integer factor indices (floor_hue, wall_hue, object_hue, scale, shape,
      orientation), e.g. from `index_to_factors` or `labels_to_factors`.
    chunk_size: images coloured per vectorised step (bounds the temporary memory).
  Returns:
    (B, 64, 64, 3) float32 images in [0, 1]; a deterministic function of `factors`.
  """
  f = _check_factors("factors", factors)
  if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
    raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
  b = f.shape[0]
  h, w, c = IMAGE_SHAPE
  out = np.empty((b, h, w, c), np.float32)
  if b == 0:
    return out
  # Geometry depends on (scale, shape, orientation) only: ray-cast each combination once.
  geo_key = np.ravel_multi_index((f[:, 3], f[:, 4], f[:, 5]), FACTOR_SIZES[3:])
  uniq, inverse = np.unique(geo_key, return_inverse=True)
  scale_u, shape_u, orient_u = np.unravel_index(uniq, FACTOR_SIZES[3:])
  weights = np.empty((uniq.size, 4, h * w), np.float32)
  geo_chunk = 32  # geometries per ray-casting step (about 2 MB of temporaries per geometry)
  for start in range(0, uniq.size, geo_chunk):
    sl = slice(start, start + geo_chunk)
    weights[sl] = _geometry_weights(shape_u[sl], scale_u[sl], orient_u[sl])
  hues = factor_values()["floor_hue"]
  # colours_t[b, channel, surface]: RGB of the floor, wall, object and sky of image b.
  sky = np.broadcast_to(_SKY_RGB, (b, 3))
  colours_t = np.stack([hue_to_rgb(hues[f[:, i]]) for i in range(3)] + [sky], axis=2).astype(np.float32)
  for start in range(0, b, chunk_size):
    sl = slice(start, start + chunk_size)
    img = np.matmul(colours_t[sl], weights[inverse[sl]])    # (b, 3, 4) @ (b, 4, 4096)
    np.clip(img, 0.0, 1.0, out=img)
    out[sl] = img.transpose(0, 2, 1).reshape(-1, h, w, c)
  return out


def sample_factors(n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
  """The first n scenes of a seeded random permutation of all 480,000 (distinct scenes).

  This mirrors the real data: the tfds `shapes3d` train split is stored in a hash-shuffled order, so
  its first 15,000 images (seed 000) are a pseudo-random subset of distinct scenes.

  Args:
    n: number of scenes, 0 <= n <= 480000.
    seed: integer seed or `np.random.Generator`.
  Returns:
    (n, 6) int64 factor indices.
  """
  if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= NUM_SCENES:
    raise ValueError(f"n must be an integer in [0, {NUM_SCENES}], got {n!r}")
  rng = _rng("seed", seed)
  index = rng.choice(NUM_SCENES, size=int(n), replace=False)
  return index_to_factors(index.astype(np.int64))


def generate(n: int, seed: int | np.random.Generator = 0, chunk_size: int = 1024) -> splits.ImageData:
  """n procedural Shapes3D images with tfds labels (offline default of seed 000's Shapes3D).

  The scenes are `sample_factors(n, seed)`: the first n of a seeded random permutation of all
  480,000 factor combinations (no repeats). Deterministic for a fixed integer seed.

  Args:
    n: number of images, 0 <= n <= 480000 (seed 000: 15,000).
    seed: integer seed or `np.random.Generator`.
    chunk_size: images coloured per vectorised step.
  Returns:
    `ImageData` with images (n, 64, 64, 3) float32 in [0, 1] and labels `label_floor_hue`,
    `label_wall_hue`, `label_object_hue`, `label_scale`, `label_shape`, `label_orientation`,
    each (n,) int64.
  """
  factors = sample_factors(n, seed)
  images = render(factors, chunk_size=chunk_size)
  logging.info("procedural shapes3d: rendered %d images (seed %s)", n,
               seed if not isinstance(seed, np.random.Generator) else "Generator")
  return splits.ImageData(images, factors_to_labels(factors))


def _rng(name: str, seed: int | np.random.Generator) -> np.random.Generator:
  """A Generator from an integer seed (or the Generator itself)."""
  if isinstance(seed, np.random.Generator):
    return seed
  if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f"{name} must be a non-negative integer or np.random.Generator, got {seed!r}")
  return np.random.default_rng(int(seed))
