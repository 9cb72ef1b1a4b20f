"""Boundary extension and contraction in the consolidated VAE's recalls (seed 000 §3, Figure 6).

A scene is shown zoomed in or out; the VAE recalls it from a noisy cue (10% of the values set to 0,
the authors' `add_noise(noise_factor=0.1)`), decode(encoder mean); the object's height in the recall
is compared with its height in the view. Recalls drift towards the typical scene: close-ups are
recalled with a smaller object (boundary extension, change < 0), wide views with a larger one
(contraction, change > 0). The authors' notebook (ellie-as/generative-memory, "4. Boundary extension
and contraction.ipynb") is followed step by step:

  views     zoom z in (0, 2) (0.80 … 1.20 in 0.05 steps): a border of b = |int(32/z − 32)| pixels
            (for 64 pixels; H/2 in general) is cropped (z > 1, their `remove_border`) or added by
            edge padding (z < 1, `add_border`), and the result resized back to H×W. The notebook
            does this in PIL on uint8 images (x·255 truncated, BICUBIC, Pillow's default): here
            `jax.image.resize(method="cubic", antialias=True)` (Keys a = −0.5, the kernel widened
            when shrinking, as PIL does) between the same truncation and rounding to uint8;
  segment   the notebook's `segment_image`: k-means (k = 5) of the image's pixels on the 0–255
            scale, cv2.kmeans' algorithm (random centres in the data's bounding box, ≤ 100
            iterations until no centre moves more than 0.2, an empty cluster takes the farthest
            point of the largest one, the best of 10 attempts by compactness), each pixel replaced by
            its centre truncated to uint8;
  height    the notebook's `measure_object_height`: the most common segmented colour in rows
            [int(0.5 H), int(0.8 H)) of the middle column (ties: the smallest colour), and the
            number of pixels of the whole middle column within 0.5 of it. Their arithmetic is on
            uint8 arrays, where (a − b)² wraps modulo 256, so a pixel counts when every channel
            differs from the object's colour by a multiple of 16 (`colour_rule="notebook"`);
            `"exact"` counts only the equal colours (what a threshold of 0.5 on 0–255 means);
  change    (recall − view) / view per image and zoom. A view of height 0 is excluded and counted
            (the notebook scores it as a change of 0); the median per zoom with a bootstrap 95%
            interval, beside the authors' (≈ −0.15 at 120%, ≈ 0 at 100–105%, ≈ +0.16 at 80%);
  mask      on procedural scenes only, the generator's own object: the scene rendered with two
            object hues (red, cyan), the pixels that differ by > 0.1 in any channel, zoomed like
            the view; its middle-column height is the view's true height. The mask measure is
            (segmented recall − mask height of the view) / mask height, and the instrument's own
            error, (segmented view − mask height) / mask height, is reported beside it.

The scenes are the test split's, filtered as the notebook does: cubes (shape 0) whose object hue
differs from the floor's and the wall's.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, files
from assocmem.experiments import references
from assocmem.experiments.consolidation import hippocampus
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext, fmt,
                                                              markdown_table, plt, show)

ZOOMS: tuple[float, ...] = (0.80, 0.85, 0.90, 0.95, 1.00, 1.05, 1.10, 1.15, 1.20)
COLOUR_RULES: tuple[str, ...] = ("notebook", "exact")
MASK_HUES: tuple[int, int] = (0, 5)   # object hue indices of the two mask renders: red and cyan
MASK_THRESHOLD = 0.1                  # max channel difference of an object pixel between the renders


# ----------------------------------------------------------------------------- settings

@dataclasses.dataclass(frozen=True)
class BoundaryExtensionSettings:
  """Attributes:
    n_images: scenes (the first n of the filtered test split; the authors' 500).
    zooms: zoom factors, each in (0, 2) (1.2 = 120%, a close-up).
    noise_fraction: fraction of the cue's values set to 0 before recall, in (0, 1).
    shape: object shape kept (0 = cube, the notebook's; None: all).
    k, kmeans_attempts, kmeans_iterations, kmeans_eps: the segmentation (cv2.kmeans' K, attempts,
      criteria max iterations and epsilon).
    colour_rule: "notebook" (their uint8 arithmetic) or "exact" (equal colours only).
    n_bootstrap: bootstrap resamples of each median's 95% interval.
    n_examples: images of the figure's example rows.
    chunk: images segmented per jitted call.
  """
  n_images: int = 500
  zooms: tuple[float, ...] = ZOOMS
  noise_fraction: float = 0.1
  shape: int | None = 0
  k: int = 5
  kmeans_attempts: int = 10
  kmeans_iterations: int = 100
  kmeans_eps: float = 0.2
  colour_rule: str = "notebook"
  n_bootstrap: int = 1000
  n_examples: int = 1
  chunk: int = 256

  def __post_init__(self):
    _checks.check_int("n_images", self.n_images)
    object.__setattr__(self, "zooms", check_zooms(self.zooms))
    _checks.check_open_unit("noise_fraction", self.noise_fraction)
    if self.shape is not None:
      _checks.check_int("shape", self.shape, 0)
      if self.shape > 3:
        raise ValueError(f"shape must be None or a shape index 0..3, got {self.shape}")
    _checks.check_int("k", self.k, 2)
    _checks.check_int("kmeans_attempts", self.kmeans_attempts)
    _checks.check_int("kmeans_iterations", self.kmeans_iterations)
    _checks.check_positive("kmeans_eps", self.kmeans_eps)
    _checks.check_choice("colour_rule", self.colour_rule, COLOUR_RULES)
    _checks.check_int("n_bootstrap", self.n_bootstrap)
    _checks.check_int("n_examples", self.n_examples, 0)
    _checks.check_int("chunk", self.chunk)


def check_zooms(zooms: Any) -> tuple[float, ...]:
  """`zooms` as a tuple of floats, each in (0, 2) (ValueError otherwise)."""
  if isinstance(zooms, (str, bytes)) or not hasattr(zooms, "__iter__"):
    raise ValueError(f"zooms must be a sequence of zoom factors in (0, 2), got {zooms!r}")
  out = tuple(zooms)
  if not out:
    raise ValueError("zooms must hold at least one zoom factor in (0, 2)")
  for z in out:
    if not _checks.is_number(z) or not 0.0 < float(z) < 2.0:
      raise ValueError(f"zooms must lie in (0, 2) (1.2 = 120%), got {z!r}")
  return tuple(float(z) for z in out)


def _check_images(name: str, images: Any) -> np.ndarray:
  x = np.asarray(images)
  if x.ndim != 4 or x.shape[0] < 1 or x.shape[3] != 3 or x.shape[1] != x.shape[2] or x.shape[1] < 4:
    raise ValueError(f"{name} must have shape (N >= 1, H, H, 3) (square RGB images), got shape {x.shape}")
  return x


# ----------------------------------------------------------------------------- views

def zoom_border(zoom: float, size: int = 64) -> int:
  """The notebook's border: |int((size/2) / zoom − size/2)| pixels (64 pixels: 8 at 0.8, 5 at 1.2)."""
  zoom = check_zooms((zoom,))[0]
  half = size // 2
  return abs(int(half / zoom - half))


def zoom_images(images: Any, zoom: float, *, quantize: bool = True) -> np.ndarray:
  """Views zoomed by `zoom`: crop (zoom > 1) or edge-pad (zoom < 1) a `zoom_border` and resize back.

  Args:
    images: (N, H, H, 3) in [0, 1].
    zoom: in (0, 2).
    quantize: as the notebook's PIL path: x·255 truncated to uint8 before, the resized image
      rounded to uint8 after (False: float throughout, e.g. for masks).
  Returns:
    (N, H, H, 3) float32 in [0, 1] (zoom 1: the images, quantized when asked).
  """
  x = _check_images("images", images).astype(np.float32)
  size = x.shape[1]
  b = zoom_border(zoom, size)
  return np.asarray(_zoom(jnp.asarray(x), b, float(zoom) > 1.0, quantize))


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _zoom(x: jax.Array, border: int, crop: bool, quantize: bool) -> jax.Array:
  n, size = x.shape[0], x.shape[1]
  if quantize:
    x = jnp.floor(x * 255.0 + 1e-4)       # astype(uint8) of x·255 (guarded against float error)
  else:
    x = x * 255.0
  if border:
    if crop:
      x = x[:, border:size - border, border:size - border]
    else:
      x = jnp.pad(x, ((0, 0), (border, border), (border, border), (0, 0)), mode="edge")
    x = jax.image.resize(x, (n, size, size, x.shape[3]), method="cubic", antialias=True)
  if quantize:
    x = jnp.clip(jnp.round(x), 0.0, 255.0)
  return jnp.clip(x / 255.0, 0.0, 1.0)


# ----------------------------------------------------------------------------- segmentation

def _assign(x: jax.Array, x2: jax.Array, c: jax.Array) -> jax.Array:
  """Nearest centre of every point: x (B, P, D), x2 (B, P), c (B, A, k, D) -> (B, A, P)."""
  d = x2[:, None, :, None] - 2.0 * jnp.einsum("bpd,bakd->bapk", x, c) + jnp.sum(c * c, -1)[:, :, None, :]
  return jnp.argmin(d, -1)


def _fill_empty(x: jax.Array, labels: jax.Array, counts: jax.Array, sums: jax.Array,
                k: int) -> tuple[jax.Array, jax.Array, jax.Array]:
  """cv2.kmeans' rule, cluster by cluster: an empty cluster takes the point of the largest cluster
  farthest from that cluster's centre (the last such point)."""
  p = x.shape[1]

  def one(j, carry):
    labels, counts, sums = carry
    m = jnp.argmax(counts, -1)                                                  # (B, A)
    base = jnp.take_along_axis(sums, m[..., None, None], 2)[:, :, 0]
    base = base / jnp.maximum(jnp.take_along_axis(counts, m[..., None], 2), 1.0)
    d = jnp.sum((x[:, None] - base[:, :, None]) ** 2, -1)                      # (B, A, P)
    d = jnp.where(labels == m[..., None], d, -1.0)
    far = p - 1 - jnp.argmax(d[..., ::-1], -1)                                  # (B, A)
    empty = jnp.take(counts, j, axis=-1) == 0
    point = jnp.take_along_axis(x[:, None], far[..., None, None], 2)[:, :, 0]   # (B, A, D)
    labels = jnp.where((jnp.arange(p) == far[..., None]) & empty[..., None], j, labels)
    moved = empty.astype(x.dtype)
    one_m = jax.nn.one_hot(m, k, dtype=x.dtype) * moved[..., None]
    one_j = jax.nn.one_hot(j, k, dtype=x.dtype) * moved[..., None]
    return labels, counts - one_m + one_j, sums + (one_j - one_m)[..., None] * point[:, :, None]

  return jax.lax.fori_loop(0, k, one, (labels, counts, sums))


def _kmeans(keys: jax.Array, x: jax.Array, k: int, attempts: int, max_iter: int,
            eps: float) -> tuple[jax.Array, jax.Array]:
  """cv2.kmeans(KMEANS_RANDOM_CENTERS) of B point sets x (B, P, D), `attempts` each, batched.

  Returns the most compact attempt's centres (B, k, D) and labels (B, P).
  """
  b, p, dims = x.shape
  lo, hi = x.min(1), x.max(1)                                                   # (B, D)
  margin = 1.0 / dims
  u = jax.vmap(lambda kk: jax.random.uniform(kk, (attempts, k, dims)))(keys)   # (B, A, k, D)
  centres = u * (hi - lo + 2 * margin)[:, None, None] + (lo - margin)[:, None, None]
  x2 = jnp.sum(x * x, -1)

  def update(labels):
    onehot = jax.nn.one_hot(labels, k, dtype=x.dtype)                          # (B, A, P, k)
    counts = onehot.sum(2)
    sums = jnp.einsum("bapk,bpd->bakd", onehot, x)
    labels, counts, sums = jax.lax.cond(jnp.any(counts == 0), lambda a: _fill_empty(x, *a, k),
                                        lambda a: a, (labels, counts, sums))
    return sums / jnp.maximum(counts, 1.0)[..., None], labels

  def body(state):
    it, old, labels, done = state
    new, new_labels = update(labels)
    shift = jnp.max(jnp.sum((new - old) ** 2, -1), -1)                          # (B, A)
    it = it + 1
    stop = done | (it >= max(max_iter, 2)) | (shift <= eps * eps)
    new = jnp.where(done[..., None, None], old, new)
    new_labels = jnp.where(done[..., None], labels, new_labels)
    labels = jnp.where(stop[..., None], new_labels, _assign(x, x2, new))
    return it, new, labels, stop

  state = (jnp.asarray(1), centres, _assign(x, x2, centres), jnp.zeros((b, attempts), bool))
  _, centres, labels, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[3]), body, state)
  onehot = jax.nn.one_hot(labels, k, dtype=x.dtype)                            # (B, A, P, k)
  counts = onehot.sum(2)
  sums = jnp.einsum("bapk,bpd->bakd", onehot, x)
  # Σ |x − c|² over the points = Σ |x|² − 2 Σ_k c_k·sum_k + Σ_k n_k |c_k|²
  compact = (jnp.sum(x2, -1)[:, None] - 2 * jnp.sum(centres * sums, (-1, -2))
             + jnp.sum(counts * jnp.sum(centres * centres, -1), -1))
  best = jnp.argmin(compact, -1)
  return (jnp.take_along_axis(centres, best[:, None, None, None], 1)[:, 0],
          jnp.take_along_axis(labels, best[:, None, None], 1)[:, 0])


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _segment(keys: jax.Array, images255: jax.Array, k: int, attempts: int, max_iter: int,
             eps: float) -> jax.Array:
  x = images255.reshape(images255.shape[0], -1, images255.shape[-1])
  centres, labels = _kmeans(keys, x, k, attempts, max_iter, eps)
  out = jnp.einsum("bpk,bkd->bpd", jax.nn.one_hot(labels, k, dtype=x.dtype), centres)
  # astype(uint8) truncates; +1e-3 keeps an exact mean (a cluster of one colour) from losing a level
  # to XLA's inexact division (51 → 50.999996).
  return jnp.floor(out + 1e-3).astype(jnp.int32).reshape(images255.shape)


def segment(key: jax.Array, images: Any, *, k: int = 5, attempts: int = 10, max_iter: int = 100,
            eps: float = 0.2, chunk: int = 256) -> np.ndarray:
  """The notebook's `segment_image(image·255)`: every pixel replaced by its k-means centre.

  k-means as cv2.kmeans(KMEANS_RANDOM_CENTERS) on the 0–255 scale (see the module docstring), one
  independent key per image.

  Args:
    key: PRNG key.
    images: (N, H, H, 3) in [0, 1].
    k, attempts, max_iter, eps: clusters, attempts (the most compact wins), iterations at most,
      stop once no centre moves more than eps.
    chunk: images per jitted call.
  Returns:
    (N, H, H, 3) int32 colours in 0..255 (the centres truncated, as `astype(np.uint8)`).
  """
  # image·255 (float64, then float32 as the notebook). Values within 1e-3 of an integer are made that
  # integer: the notebook's views are uint8/255 in float64, exact integers here, but float32 images
  # of uint8 values miss them by ~1e-5, which the truncated centres would turn into one level less.
  x = _check_images("images", images).astype(np.float64) * 255.0
  near = np.round(x)
  x = np.where(np.abs(x - near) < 1e-3, near, x).astype(np.float32)
  _checks.check_int("k", k, 2)
  _checks.check_int("attempts", attempts)
  _checks.check_int("max_iter", max_iter)
  _checks.check_positive("eps", eps)
  _checks.check_int("chunk", chunk)
  n = x.shape[0]
  keys = jax.random.split(key, n)
  # Batches of one size (a power of two >= 32, at most `chunk`): one compilation for every call.
  size = min(int(chunk), max(32, 1 << (n - 1).bit_length()))
  out = []
  for start in range(0, n, size):
    xs, ks = x[start:start + size], keys[start:start + size]
    pad = size - xs.shape[0]
    if pad:
      xs = np.concatenate([xs, np.zeros((pad,) + xs.shape[1:], xs.dtype)])
      ks = jnp.concatenate([ks, jnp.repeat(ks[:1], pad, 0)])
    seg = _segment(ks, jnp.asarray(xs), int(k), int(attempts), int(max_iter), float(eps))
    out.append(np.asarray(seg)[:size - pad])
  return np.concatenate(out)


# ----------------------------------------------------------------------------- height

@functools.partial(jax.jit, static_argnums=(1,))
def _heights(seg: jax.Array, exact: bool) -> jax.Array:
  size = seg.shape[1]
  col = seg[:, :, size // 2]                                   # (N, H, 3) the middle column
  det = col[:, int(size * 0.5):int(size * 0.8)]                # (N, R, 3) the detection rows
  same = jnp.all(det[:, :, None] == det[:, None, :], -1)       # (N, R, R)
  counts = same.sum(-1)
  code = det[..., 0] * 65536 + det[..., 1] * 256 + det[..., 2]
  pick = jnp.argmax(counts * (1 << 25) - code, -1)             # most common, ties: smallest colour
  colour = jnp.take_along_axis(det, pick[:, None, None], 1)    # (N, 1, 3)
  diff = col - colour
  if exact:
    sq = diff * diff
  else:                                                        # uint8: (a − b) and its square mod 256
    d = jnp.mod(diff, 256)
    sq = jnp.mod(d * d, 256)
  return jnp.sum(jnp.sqrt(jnp.sum(sq, -1).astype(jnp.float32)) < 0.5, -1)


def object_heights(segmented: Any, colour_rule: str = "notebook") -> np.ndarray:
  """The notebook's `measure_object_height` of segmented images.

  Args:
    segmented: (N, H, H, 3) integer colours in 0..255 (`segment`).
    colour_rule: "notebook" (uint8 arithmetic: channels equal modulo 16) or "exact".
  Returns:
    (N,) int: pixels of the middle column of the object's colour (the most common colour of rows
    [int(0.5 H), int(0.8 H)) of that column).
  """
  x = _check_images("segmented", segmented)
  _checks.check_choice("colour_rule", colour_rule, COLOUR_RULES)
  if not np.issubdtype(x.dtype, np.integer) or x.min() < 0 or x.max() > 255:
    raise ValueError("segmented must hold integer colours in 0..255 (the output of segment)")
  return np.asarray(_heights(jnp.asarray(x, jnp.int32), colour_rule == "exact"))


def object_masks(factors: Any) -> np.ndarray:
  """The procedural generator's object: (N, H, H) float32 in {0, 1}.

  The scenes of `factors` ((N, 6) Shapes3D factor indices) rendered with object hues `MASK_HUES`
  (red, cyan), everything else unchanged: the pixels where any channel differs by more than
  `MASK_THRESHOLD` show the object (its shadow and the room do not depend on its hue).
  """
  from assocmem.data import shapes3d  # pylint: disable=import-outside-toplevel
  f = np.asarray(factors, np.int64)
  if f.ndim != 2 or f.shape[1] != 6 or f.shape[0] < 1:
    raise ValueError(f"factors must have shape (N >= 1, 6), got shape {f.shape}")
  renders = []
  for hue in MASK_HUES:
    g = f.copy()
    g[:, 2] = hue
    renders.append(shapes3d.render(g))
  return (np.abs(renders[0] - renders[1]).max(-1) > MASK_THRESHOLD).astype(np.float32)


def mask_heights(masks: Any) -> np.ndarray:
  """(N,) int: pixels of the middle column of (N, H, H) masks that are > 0.5."""
  m = np.asarray(masks)
  if m.ndim != 3 or m.shape[0] < 1 or m.shape[1] != m.shape[2]:
    raise ValueError(f"masks must have shape (N >= 1, H, H), got shape {m.shape}")
  return (m[:, :, m.shape[2] // 2] > 0.5).sum(-1)


# ----------------------------------------------------------------------------- statistics

def relative_change(view: Any, recall: Any) -> np.ndarray:
  """(recall − view) / view, NaN where the view's height is 0 (excluded, not scored as 0)."""
  v, r = np.asarray(view, np.float64), np.asarray(recall, np.float64)
  if v.shape != r.shape:
    raise ValueError(f"view and recall must have the same shape, got {v.shape} and {r.shape}")
  with np.errstate(divide="ignore", invalid="ignore"):
    return np.where(v > 0, (r - v) / np.where(v > 0, v, 1.0), np.nan)


def median_interval(key: jax.Array, values: Any, n_bootstrap: int = 1000,
                    level: float = 0.95) -> tuple[float, float, float]:
  """(median, low, high): the median of the finite `values` and its percentile bootstrap interval.

  NaNs are dropped; (nan, nan, nan) when none is left. `n_bootstrap` resamples with replacement
  drawn with `key`.
  """
  _checks.check_int("n_bootstrap", n_bootstrap)
  _checks.check_open_unit("level", level)
  v = np.asarray(values, np.float64).ravel()
  v = v[np.isfinite(v)]
  if v.size == 0:
    return float("nan"), float("nan"), float("nan")
  idx = np.asarray(jax.random.randint(key, (n_bootstrap, v.size), 0, v.size))
  meds = np.median(v[idx], axis=1)
  tail = (1.0 - level) / 2 * 100
  lo, hi = np.percentile(meds, [tail, 100 - tail])
  return float(np.median(v)), float(lo), float(hi)


# ----------------------------------------------------------------------------- the analysis

def scene_indices(labels: Mapping[str, np.ndarray], shape: int | None, n: int) -> np.ndarray:
  """The first `n` scenes the notebook keeps: shape `shape` (None: any), object hue unlike the
  floor's and the wall's."""
  keep = ((np.asarray(labels["label_object_hue"]) != np.asarray(labels["label_floor_hue"]))
          & (np.asarray(labels["label_object_hue"]) != np.asarray(labels["label_wall_hue"])))
  if shape is not None:
    keep &= np.asarray(labels["label_shape"]) == shape
  return np.flatnonzero(keep)[:n]


def measure(settings: BoundaryExtensionSettings, student: Any, state: Any, images: np.ndarray,
            key: jax.Array, masks: np.ndarray | None = None) -> dict[str, np.ndarray]:
  """Views, recalls and heights of `images` at every zoom.

  Args:
    settings: the analysis's settings.
    student, state: the VAE memory and its state (`recall` of (N, H, W, C) images in [0, 1]).
    images: (N, H, H, 3) in [0, 1].
    key: PRNG key (cues, segmentation).
    masks: (N, H, H) the objects' masks, or None.
  Returns:
    views, recalls (Z, N, H, H, 3); view_height, recall_height (Z, N); with masks, mask_height (Z, N).
  """
  images = _check_images("images", images)
  z, n = len(settings.zooms), images.shape[0]
  base = np.floor(np.clip(images, 0.0, 1.0) * 255.0 + 0.5) / 255.0     # Shapes3D is stored as uint8
  views = np.stack([zoom_images(base, zoom) for zoom in settings.zooms])
  k_noise, k_seg = jax.random.split(key)
  flat = views.reshape((z * n,) + images.shape[1:])
  cues = hippocampus.noisy_cues(k_noise, flat, settings.noise_fraction)
  recalls = np.asarray(student.recall(state, cues)).reshape(views.shape)
  seg = segment(k_seg, np.concatenate([flat, recalls.reshape(flat.shape)]), k=settings.k,
                attempts=settings.kmeans_attempts, max_iter=settings.kmeans_iterations, eps=settings.kmeans_eps,
                chunk=settings.chunk)
  h = object_heights(seg, settings.colour_rule).reshape(2, z, n)
  out = {"views": views, "recalls": recalls, "view_height": h[0], "recall_height": h[1]}
  if masks is not None:
    zm = [zoom_images(np.repeat(np.asarray(masks, np.float32)[..., None], 3, -1), zoom, quantize=False)[..., 0]
          for zoom in settings.zooms]
    out["mask_height"] = np.stack([mask_heights(m) for m in zm])
  return out


def summarise(settings: BoundaryExtensionSettings, measured: Mapping[str, np.ndarray],
              key: jax.Array) -> list[dict[str, Any]]:
  """One row per zoom: median change (notebook measure, mask measure, the instrument's error on the
  views) with bootstrap intervals, mean ± s.e.m., images used and excluded, the authors' median."""
  rows = []
  for i, zoom in enumerate(settings.zooms):
    kz = jax.random.fold_in(key, i)
    change = relative_change(measured["view_height"][i], measured["recall_height"][i])
    ok = change[np.isfinite(change)]
    med, lo, hi = median_interval(jax.random.fold_in(kz, 0), change, settings.n_bootstrap)
    row = {"zoom": zoom, "n": int(ok.size), "excluded": int(change.size - ok.size),
           "median": med, "low": lo, "high": hi,
           "mean": float(ok.mean()) if ok.size else None,
           "sem": float(ok.std() / np.sqrt(ok.size)) if ok.size else None,
           "view_height": float(np.mean(measured["view_height"][i])),
           "recall_height": float(np.mean(measured["recall_height"][i])),
           "authors": references.AUTHORS_BOUNDARY_EXTENSION.get(round(zoom, 2))}
    if "mask_height" in measured:
      m = measured["mask_height"][i]
      mc = relative_change(m, measured["recall_height"][i])
      row["mask_median"], row["mask_low"], row["mask_high"] = median_interval(jax.random.fold_in(kz, 1), mc,
                                                                              settings.n_bootstrap)
      row["mask_excluded"] = int(np.sum(~np.isfinite(mc)))
      row["instrument_median"] = median_interval(jax.random.fold_in(kz, 2),
                                                 relative_change(m, measured["view_height"][i]), 1)[0]
      row["mask_height"] = float(np.mean(m))
    rows.append({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()})
  return rows


def run(settings: BoundaryExtensionSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """numbers {"n_images", "procedural", "colour_rule", "rows": per zoom (`summarise`)}; arrays:
  "views", "recalls" (Z, n_examples, H, W, 3) of the first images, and the per-zoom rows."""
  test = ctx.prepared.test
  idx = scene_indices(test.labels, settings.shape, settings.n_images)
  if idx.size == 0:
    raise ValueError(f"boundary_extension: no test scene of shape {settings.shape} with an object hue unlike "
                     "the floor's and the wall's; load more images (data.n_images)")
  images = np.asarray(test.images[idx])
  procedural = ctx.config.data.dataset == "shapes3d" and ctx.config.data.data_dir is None
  masks = None
  if procedural:
    from assocmem.data import shapes3d  # pylint: disable=import-outside-toplevel
    masks = object_masks(shapes3d.labels_to_factors({k: np.asarray(v)[idx] for k, v in test.labels.items()
                                                     if k in shapes3d.LABEL_NAMES}))
  k_measure, k_boot = jax.random.split(key)
  measured = measure(settings, ctx.student, ctx.state, images, k_measure, masks)
  rows = summarise(settings, measured, k_boot)
  e = settings.n_examples
  numbers = {"n_images": int(idx.size), "procedural": procedural, "colour_rule": settings.colour_rule,
             "rows": rows}
  return AnalysisResult(numbers, {"views": measured["views"][:, :e], "recalls": measured["recalls"][:, :e]})


def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """boundary_extension.png: median change per zoom (95% bootstrap intervals; the mask measure and
  the authors' beside it, the zoom axis reversed as theirs), then per example image a row of views
  and a row of recalls."""
  del ctx
  pyplot = plt()
  rows = result.numbers["rows"]
  views, recalls = result.arrays.get("views"), result.arrays.get("recalls")
  n_ex = 0 if views is None else views.shape[1]
  z = len(rows)
  fig = pyplot.figure(figsize=(max(8.0, 1.1 * z), 3.6 + 2.2 * n_ex))
  grid = fig.add_gridspec(1 + 2 * n_ex, z, height_ratios=[3.2] + [1.0] * (2 * n_ex))
  ax = fig.add_subplot(grid[0, :])
  zooms = np.array([100 * r["zoom"] for r in rows])

  def series(prefix, label, offset, style):
    med = np.array([np.nan if r.get(f"{prefix}median") is None else r[f"{prefix}median"] for r in rows])
    lo = np.array([np.nan if r.get(f"{prefix}low") is None else r[f"{prefix}low"] for r in rows])
    hi = np.array([np.nan if r.get(f"{prefix}high") is None else r[f"{prefix}high"] for r in rows])
    if np.isfinite(med).any():
      ax.errorbar(zooms + offset, med, yerr=[med - lo, hi - med], fmt=style, capsize=3, label=label)

  series("", "ours (segmentation, as the notebook)", -0.6, "o-")
  series("mask_", "ours (view: generator's mask)", 0.6, "s--")
  authors = [(100 * r["zoom"], r["authors"]) for r in rows if r.get("authors") is not None]
  if authors:
    ax.plot(*zip(*authors), "k*", ms=10, label="authors (median)")
  ax.axhline(0.0, color="k", lw=0.8)
  ax.invert_xaxis()
  ax.set(xlabel="zoom (%)", ylabel="change in object height\n(recall − view) / view",
         title="boundary extension (zoom > 100%) and contraction (< 100%); median, 95% bootstrap interval")
  ax.legend(fontsize=7)
  ax.grid(alpha=0.3)
  for e in range(n_ex):
    for c in range(z):
      for r, (arr, name) in enumerate(((views, "view"), (recalls, "recall"))):
        a = fig.add_subplot(grid[1 + 2 * e + r, z - 1 - c])     # the zooms reversed, as the plot
        show(a, arr[c, e])
        if r == 0:
          a.set_title(f"{100 * rows[c]['zoom']:.0f}%", fontsize=7)
        if c == z - 1:
          a.set_ylabel(name, fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, os.path.join(directory, "boundary_extension.png"), dpi=100)
  pyplot.close(fig)
  return ("boundary_extension.png",)


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  del ctx
  rows, mask = numbers["rows"], any("mask_median" in r for r in numbers["rows"])

  def ci(r, p=""):
    return (f"{fmt(r.get(p + 'median'), '+.3f')} [{fmt(r.get(p + 'low'), '+.3f')}, {fmt(r.get(p + 'high'), '+.3f')}]"
            if r.get(p + "median") is not None else "–")
  header = ("zoom", "images (excluded)", "median change [95% CI]", "mean ± s.e.m.", "view → recall height")
  if mask:
    header += ("median change, view = mask [95% CI]", "segmented view vs mask")
  header += ("authors' median",)
  body = []
  for r in rows:
    line = (f"{100 * r['zoom']:.0f}%", f"{r['n']} ({r['excluded']})", ci(r),
            f"{fmt(r.get('mean'), '+.3f')} ± {fmt(r.get('sem'), '.3f')}",
            f"{fmt(r['view_height'], '.1f')} → {fmt(r['recall_height'], '.1f')}")
    if mask:
      line += (ci(r, "mask_"), fmt(r.get("instrument_median"), "+.3f"))
    line += (fmt(r.get("authors"), "+.2f"),)
    body.append(line)
  text = [f"Relative change of the object's height, (recall − view) / view, over {numbers['n_images']} test "
          "scenes (cubes whose hue differs from the floor's and the wall's), recalled from noisy views (10% of "
          "values 0). Height: the notebook's colour segmentation (k-means, k = 5) and middle-column rule "
          f"(colour rule `{numbers['colour_rule']}`). Views of height 0 are excluded (the notebook scores them 0)."]
  if numbers.get("procedural"):
    text.append("These are procedural scenes, not the real Shapes3D images of the authors, so the values "
                "compare only roughly with theirs.")
  if mask:
    text.append("Procedural scenes: 'view = mask' takes the view's height from the generator's object mask; "
                "'segmented view vs mask' is the median relative error of the segmentation on the views.")
  text.append("Boundary extension predicts a negative change for close-ups (zoom > 100%) and a positive one for "
              "wide views; the authors' medians are read off their Figure (approximate).")
  return [" ".join(text), ""] + markdown_table(header, body)


ANALYSIS = Analysis(name="boundary_extension", title="Boundary extension and contraction",
                    settings_cls=BoundaryExtensionSettings, run=run, table=table, figure=figure,
                    datasets=("shapes3d",))
