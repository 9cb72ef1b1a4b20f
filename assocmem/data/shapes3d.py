"""Procedural Shapes3D: an offline stand-in for tfds `shapes3d` (Burgess & Kim 2018; seed 000, A.1).

Seed 000 trains its generative model on the first 15,000 images of TensorFlow Datasets' `shapes3d`
(64x64 RGB renders of one object in a room). Without the real files this module renders scenes with
the same six factors, value grids, label names and flat-index ordering, ray-cast in NumPy:

| factor       | values                              | in the image                                   |
|--------------|-------------------------------------|------------------------------------------------|
| floor_hue    | 10: 0, 0.1, ..., 0.9                | hue of the floor                               |
| wall_hue     | 10: 0, 0.1, ..., 0.9                | hue of the two walls                           |
| object_hue   | 10: 0, 0.1, ..., 0.9                | hue of the object                              |
| scale        | 8: linspace(0.75, 1.25, 8)          | object size                                    |
| shape        | 4: cube, cylinder, sphere, capsule  | silhouette and shading (capsule: a lying pill) |
| orientation  | 15: linspace(-30, 30, 15) degrees   | camera azimuth around the object               |

The scene: a floor (y = 0) and two walls meeting in a corner behind the object; the object rests on
the floor at the origin; a perspective camera pitched 16 degrees down orbits the object by the
orientation angle, so the corner and the floor-wall lines move across the image and the object shows
other faces; one directional light (fixed in the world) shades floor, walls and object (Lambert) and
the object casts a soft shadow. Colours are HSV(hue, 0.85, 1) times the shading, so every surface
keeps its hue exactly and the labels can be read back from the pixels. Pixels are the mean of 2x2
sub-pixel rays (anti-aliased, so edge pixels mix two surfaces), float32 in [0, 1].

Flat indices follow the real dataset's order (the `3dshapes.h5` file): row-major over
(floor_hue, wall_hue, object_hue, scale, shape, orientation), 480,000 scenes in all. The images are a
deterministic function of the factors, like the real ones, but they are not the real renders (no
specular highlights, a simpler room); a model trained on them is not comparable pixel for pixel.

Speed: the geometry of a scene (floor / wall / object weights per pixel, with shading) depends only
on (shape, scale, orientation), 480 combinations; `render` ray-casts the combinations a batch
needs once and colours every image with one (3, 3) x (3, 4096) product, so 15,000 images take a few
seconds on one core (about 3.5 s of CPU for the 737 MB of float32).
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


# Scene constants (world units; the object at scale 1 is about one unit tall).
_SUPERSAMPLE = 2
_FOV_DEG = 38.0             # vertical (= horizontal) field of view
_ELEVATION_DEG = 16.0       # camera pitch below the horizon
_CAMERA_DISTANCE = 5.6      # from the look-at point
_TARGET = np.array([0.0, 0.95, 0.0])
_CORNER_DISTANCE = 3.0      # from the object to the wall corner (straight ahead at orientation 0)
_LIGHT = np.array([-0.55, 1.0, -0.75])  # direction towards the light
_SATURATION = 0.85
_AMBIENT = {"floor": 0.45, "wall": 0.42, "object": 0.32}
_SHADOW_STRENGTH = 0.5


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

Vec = tuple[np.ndarray, np.ndarray, np.ndarray]
_DTYPE = np.float32


def _dot(a: Vec, b: Vec) -> np.ndarray:
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _unit_light() -> np.ndarray:
  return _LIGHT / np.linalg.norm(_LIGHT)


def _camera_rays(orientation_deg: np.ndarray, size: int) -> tuple[Vec, Vec]:
  """Camera origins ((G, 1, 1) each) and unit ray directions ((G, size, size) each) for G azimuths."""
  phi = np.deg2rad(np.asarray(orientation_deg, dtype=np.float64))
  eps = math.radians(_ELEVATION_DEG)
  zero = np.zeros_like(phi)
  fwd = np.stack([np.sin(phi) * math.cos(eps), zero - math.sin(eps), np.cos(phi) * math.cos(eps)], -1)
  right = np.stack([np.cos(phi), zero, -np.sin(phi)], -1)
  up = np.cross(fwd, right)
  origin = _TARGET - _CAMERA_DISTANCE * fwd
  half = math.tan(math.radians(_FOV_DEG) / 2)
  s = (np.arange(size) + 0.5) / size * 2.0 - 1.0          # sub-pixel centres in (-1, 1)
  u = s[None, None, :] * half                               # column -> right
  v = -s[None, :, None] * half                              # row -> up (row 0 at the top)
  d = [fwd[:, k, None, None] + u * right[:, k, None, None] + v * up[:, k, None, None] for k in range(3)]
  norm = np.sqrt(_dot(d, d))
  d = tuple((c / norm).astype(_DTYPE) for c in d)
  o = tuple(origin[:, k, None, None].astype(_DTYPE) for k in range(3))
  return o, d


def _shade(cos: np.ndarray, ambient: float) -> np.ndarray:
  """Lambert shading ambient + (1 - ambient) max(0, n . l) from the cosine n . l."""
  return ambient + (1.0 - ambient) * np.maximum(cos, 0.0)


def _finite(t: np.ndarray) -> np.ndarray:
  """t with misses (inf) replaced by 0, so that hit points of missed rays stay finite."""
  return np.where(np.isfinite(t), t, 0.0).astype(t.dtype)


def _hit_sphere(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Sphere of radius s/2 resting on the floor: (t, n . l), t = inf on a miss. s is (G, 1, 1)."""
  rad = 0.5 * s
  oc = (o[0], o[1] - rad, o[2])
  b = _dot(d, oc)
  disc = b * b - (_dot(oc, oc) - rad * rad)
  t = -b - np.sqrt(np.maximum(disc, 0.0))
  t = np.where((disc > 0) & (t > 0), t, np.inf)
  tf, light = _finite(t), _unit_light()
  cos = _dot([oc[k] + tf * d[k] for k in range(3)], light) / rad
  return t, cos


def _hit_cube(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Axis-aligned cube of side s resting on the floor (slab method): (t, n . l)."""
  a = 0.5 * s
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
  hit = (t_near <= t_far) & (t_far > 0)
  light = _unit_light()
  # The entry face is the slab entered last; its outward normal opposes the ray on that axis.
  cos = np.where(t_min[0] == t_near, -np.sign(d[0]) * light[0],
                 np.where(t_min[1] == t_near, -np.sign(d[1]) * light[1], -np.sign(d[2]) * light[2]))
  return np.where(hit, t_near, np.inf), cos


def _hit_cylinder(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Upright cylinder, radius 0.45 s, height s, on the floor (side and top cap): (t, n . l)."""
  rad, h = 0.45 * s, s
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
  tf, light = _finite(t_side), _unit_light()
  cos_side = ((o[0] + tf * d[0]) * light[0] + (o[2] + tf * d[2]) * light[2]) / rad
  cos = np.where(t_cap < t_side, light[1], cos_side)
  return np.minimum(t_side, t_cap), cos


def _hit_capsule(o: Vec, d: Vec, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Capsule (pill) lying along the world x axis, radius 0.32 s, length 1.5 s: (t, n . l)."""
  rad = 0.32 * s
  half = 0.75 * s - rad
  # Axis from A = (-half, rad, 0) to B = (half, rad, 0); ba = (2 half, 0, 0).
  oa = (o[0] + half, o[1] - rad, o[2])
  ob = (o[0] - half, o[1] - rad, o[2])
  bax = 2.0 * half
  baba = bax * bax
  bard = bax * d[0]
  baoa = bax * oa[0]
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
  tf, light = _finite(t), _unit_light()
  q = [oa[k] + tf * d[k] for k in range(3)]                 # hit point relative to A
  frac = np.clip(q[0] / bax, 0.0, 1.0)
  cos = ((q[0] - frac * bax) * light[0] + q[1] * light[1] + q[2] * light[2]) / rad
  return t, cos


_HIT = (_hit_cube, _hit_cylinder, _hit_sphere, _hit_capsule)
# Shadow footprint half-extents (x, z) per shape, in units of the object size s.
_FOOTPRINT = np.array([[0.55, 0.55], [0.5, 0.5], [0.45, 0.45], [0.75, 0.34]])


def _geometry_weights(shape: np.ndarray, scale: np.ndarray, orientation: np.ndarray) -> np.ndarray:
  """Per-pixel weights of the floor, wall and object colours for G geometries.

  Args:
    shape: (G,) shape indices.
    scale: (G,) scale indices.
    orientation: (G,) orientation indices.
  Returns:
    (G, 3, 64 * 64) float32 weights (floor, wall, object): the shading of each surface times the
    fraction of the pixel's sub-rays that see it. A pixel's colour is colours.T @ weights.
  """
  grids = factor_values()
  size = IMAGE_SHAPE[0] * _SUPERSAMPLE
  o, d = _camera_rays(grids["orientation"][orientation], size)
  s = grids["scale"][scale].astype(_DTYPE)[:, None, None]
  light = _unit_light()

  # Room: the floor y = 0 and two walls through the corner (0, 0, D) at +-45 degrees, normals into
  # the room. A ray leaves the (convex) room through the nearest plane it moves away from.
  r = math.sqrt(0.5)
  wall_normals = ((r, 0.0, -r), (-r, 0.0, -r))
  t_room = np.where(d[1] < 0, -o[1] / d[1], np.inf)
  plane = np.zeros(t_room.shape, np.int8)
  for i, n in enumerate(wall_normals, start=1):
    dn = n[0] * d[0] + n[2] * d[2]
    num = n[0] * (0.0 - o[0]) + n[2] * (_CORNER_DISTANCE - o[2])
    with np.errstate(divide="ignore", invalid="ignore"):
      t = np.where(dn < 0, num / dn, np.inf)
    plane = np.where(t < t_room, np.int8(i), plane)
    t_room = np.minimum(t, t_room)

  # Floor: distance fall-off and the object's soft shadow (offset away from the light).
  tf = _finite(t_room)
  px, pz = o[0] + tf * d[0], o[2] + tf * d[2]
  light_xz = -light[[0, 2]] / np.linalg.norm(light[[0, 2]])
  ext = _FOOTPRINT[shape].astype(_DTYPE)[:, None, None, :] * s[..., None]
  off = 0.35 * s * light_xz[0], 0.35 * s * light_xz[1]
  r2 = ((px - off[0]) / ext[..., 0]) ** 2 + ((pz - off[1]) / ext[..., 1]) ** 2
  shadow = 1.0 - _SHADOW_STRENGTH * np.exp(-0.5 * r2 ** 1.5)
  falloff = np.clip(1.12 - 0.025 * t_room, 0.55, 1.0)
  shade_floor = _shade(light[1], _AMBIENT["floor"]) * falloff * shadow
  wall_shade = [_shade(n[0] * light[0] + n[2] * light[2], _AMBIENT["wall"]) for n in wall_normals]
  shade_wall = np.where(plane == 1, wall_shade[0], wall_shade[1])

  # Object, ray-cast per shape group.
  t_obj = np.full(t_room.shape, np.inf, _DTYPE)
  cos_obj = np.zeros(t_room.shape, _DTYPE)
  for k, hit_fn in enumerate(_HIT):
    sel = shape == k
    if np.any(sel):
      t_obj[sel], cos_obj[sel] = hit_fn(tuple(c[sel] for c in o), tuple(c[sel] for c in d), s[sel])
  on_obj = t_obj < t_room
  on_floor = ~on_obj & (plane == 0)
  on_wall = ~on_obj & (plane != 0)
  zero = _DTYPE(0)
  w = np.stack([np.where(on_floor, shade_floor, zero), np.where(on_wall, shade_wall, zero),
                np.where(on_obj, _shade(cos_obj, _AMBIENT["object"]), zero)], axis=1)
  g, px_ = w.shape[0], IMAGE_SHAPE[0]
  w = w.reshape(g, 3, px_, _SUPERSAMPLE, px_, _SUPERSAMPLE).mean(axis=(3, 5), dtype=_DTYPE)
  return w.reshape(g, 3, px_ * px_).astype(np.float32)


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
  weights = np.empty((uniq.size, 3, h * w), np.float32)
  geo_chunk = 32  # geometries per ray-casting step (about 2 MB of temporaries per geometry)
  for start in range(0, uniq.size, geo_chunk):
    sl = slice(start, start + geo_chunk)
    weights[sl] = _geometry_weights(shape_u[sl], scale_u[sl], orient_u[sl])
  hues = factor_values()["floor_hue"]
  # colours_t[b, channel, surface]: RGB of the floor, wall and object of image b.
  colours_t = np.stack([hue_to_rgb(hues[f[:, i]]) for i in range(3)], axis=2).astype(np.float32)
  for start in range(0, b, chunk_size):
    sl = slice(start, start + chunk_size)
    img = np.matmul(colours_t[sl], weights[inverse[sl]])    # (b, 3, 3) @ (b, 3, 4096)
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
