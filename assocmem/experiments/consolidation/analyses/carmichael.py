"""The context-driven (Carmichael) distortion in the extended model (seed 000; the authors' notebook 3).

Carmichael, Hogan & Walter (1932): an ambiguous figure is recalled as the object its verbal label
named. The authors model it with the extended model (`test_extended_model_carmichael`): an ambiguous
image (the object blurred: Gaussian blur of radius 3 inside a disk of radius 15 around (32, 45), then
a white 8×8 square pasted at a random position, their `blur_centre` + `add_white_square`) is stored
as its unpredictable sensory elements (threshold 0.2) with its latent *replaced* by the latent of the
same scene with another shape (their `get_diff_shape_im`: the same floor, wall and object hue, scale
and orientation); β = 5; recall from a noisy copy of the ambiguous image (10% zeros) carrying its own
latent, ≤ 5 updates; the recalled elements where stored, the decoded recalled latent elsewhere.

The authors show four such recalls as pictures (no number). We measure, per scene and per other
shape (3 targets per scene), how far the recall moves towards the target shape:

  (a) probability of the target shape from a StandardScaler + multinomial logistic regression on
      the VAE's latent means, fitted on `n_fit` test-split latents (not the scenes), applied to the
      re-encoded ambiguous image ("before"), to the recall with the image's own latent stored
      ("control"), and to the recall with the target's latent stored ("after");
  (b) pixel distances (Σ pixels of the channel-mean |·|, the project's metric) to the target
      scene (the same factors rendered with the target shape: the class prototype for this
      scene) and to the original scene, over the whole image and inside the blurred disk; the shift
      towards the target is d(·, original) − d(·, target), before and after.

On procedural scenes (offline data) the target scene is rendered (`shapes3d.render`); on real
Shapes3D it is looked up among the loaded images with the same five other labels (scenes without
one are skipped).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, files
from assocmem.data import shapes3d
from assocmem.memories import hybrid, make_memory
from assocmem.experiments import references
from assocmem.experiments.consolidation import hippocampus, metrics
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext, fmt,
                                                              markdown_table, plt, show)
from assocmem.experiments.consolidation.analyses.hybrid_model import codec, n_test_images

N_SHAPES = len(shapes3d.SHAPE_NAMES)
_SHAPE_COLUMN = shapes3d.FACTOR_NAMES.index("shape")


@dataclasses.dataclass(frozen=True)
class CarmichaelSettings:
  """Attributes:
    n_scenes: test scenes made ambiguous (each recalled with each of the 3 other shapes' latents).
    threshold: reconstruction-error threshold in (0, 1) (the authors: 0.2).
    beta: β of the trace network (the authors: 5, their function's default).
    cue_noise: fraction of the cue's values set to 0 (the authors: 0.1).
    n_steps: Hopfield updates per recall, at most (the authors: 5).
    n_fit: test-split latents the shape classifier is fitted on (at most the test images after the
      scenes).
    blur_centre, blur_radius, blur_strength: the blurred disk (the authors' (32, 45), 15, 3).
    n_examples: scenes shown in the figure.
  """
  n_scenes: int = 40
  threshold: float = references.AUTHORS_CARMICHAEL_SETTINGS["threshold"]
  beta: float = references.AUTHORS_CARMICHAEL_SETTINGS["beta"]
  cue_noise: float = references.AUTHORS_CARMICHAEL_SETTINGS["cue_noise"]
  n_steps: int = references.AUTHORS_CARMICHAEL_SETTINGS["max_updates"]
  n_fit: int = 500
  blur_centre: tuple[int, int] = references.AUTHORS_CARMICHAEL_SETTINGS["blur_centre"]
  blur_radius: int = references.AUTHORS_CARMICHAEL_SETTINGS["blur_radius"]
  blur_strength: float = references.AUTHORS_CARMICHAEL_SETTINGS["blur_strength"]
  n_examples: int = 4

  def __post_init__(self):
    _checks.check_int("n_scenes", self.n_scenes)
    hybrid.check_threshold(self.threshold, "carmichael threshold")
    _checks.check_positive("beta", self.beta)
    _checks.check_open_unit("cue_noise", self.cue_noise)
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_int("n_fit", self.n_fit, 8)
    c = tuple(self.blur_centre) if isinstance(self.blur_centre, (tuple, list)) else ()
    if len(c) != 2 or not all(_checks.is_int(v) for v in c):
      raise ValueError(f"blur_centre must be (x, y) integers, got {self.blur_centre!r}")
    object.__setattr__(self, "blur_centre", tuple(int(v) for v in c))
    _checks.check_int("blur_radius", self.blur_radius)
    _checks.check_positive("blur_strength", self.blur_strength)
    _checks.check_int("n_examples", self.n_examples, 0)


# ----------------------------------------------------------------------------- ambiguous images

def disk_mask(size: int, centre: tuple[int, int], radius: int) -> np.ndarray:
  """(size, size) bool: PIL's filled ellipse in the box centre ± radius (the authors' circular mask)."""
  from PIL import Image, ImageDraw  # pylint: disable=import-outside-toplevel
  mask = Image.new("L", (size, size), 0)
  ImageDraw.Draw(mask).ellipse((centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius),
                               fill=255)
  return np.asarray(mask) > 0


def blur_centre(images: np.ndarray, centre: tuple[int, int] = (32, 45), radius: int = 15,
                strength: float = 3.0) -> np.ndarray:
  """The authors' `blur_centre` on a batch: PIL GaussianBlur(strength) inside the disk, the image
  outside, on 8-bit pixels. (N, H, H, 3) in [0, 1] → (N, H, H, 3) uint8."""
  from PIL import Image, ImageFilter  # pylint: disable=import-outside-toplevel
  x = np.asarray(images)
  if x.ndim != 4 or x.shape[1] != x.shape[2] or x.shape[3] != 3:
    raise ValueError(f"images must have shape (N, H, H, 3), got shape {x.shape}")
  u8 = (x * 255).astype(np.uint8)
  blurred = np.stack([np.asarray(Image.fromarray(im).filter(ImageFilter.GaussianBlur(strength))) for im in u8])
  inside = disk_mask(x.shape[1], centre, radius)[None, :, :, None]
  return np.where(inside, blurred, u8)


def ambiguous_images(key: jax.Array, images: np.ndarray, settings: CarmichaelSettings) -> np.ndarray:
  """The authors' ambiguous stimuli (`add_white_square` with `blur_centre`): the centre blurred, then
  a white square of side H/8 pasted at a position drawn uniformly in [0, H)² (clipped at the
  border) from `key`. (N, H, H, 3) in [0, 1] → float32 in [0, 1]."""
  u8 = blur_centre(images, settings.blur_centre, settings.blur_radius, settings.blur_strength)
  n, h = u8.shape[0], u8.shape[1]
  size = h // 8
  pos = np.asarray(jax.random.randint(key, (n, 2), 0, h))
  rows, cols = np.arange(h)[None, :, None], np.arange(h)[None, None, :]
  col0, row0 = pos[:, 0, None, None], pos[:, 1, None, None]
  square = (rows >= row0) & (rows < row0 + size) & (cols >= col0) & (cols < col0 + size)
  return (np.where(square[..., None], 255, u8) / 255.0).astype(np.float32)


# ----------------------------------------------------------------------------- target scenes

def target_scenes(ctx: Context, factors: np.ndarray, shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Images of the scenes `factors` (N, 6) with their shape set to `shapes` (N,): rendered for the
  offline procedural data, else looked up among the run's loaded images. Returns (images (M, H, W, C),
  indices (M,) of the scenes found)."""
  f = np.array(factors)
  f[:, _SHAPE_COLUMN] = shapes
  if ctx.config.data.data_dir is None:
    return shapes3d.render(f), np.arange(len(f))
  pools = [ctx.prepared.train, ctx.prepared.test]
  pool_images = np.concatenate([p.images for p in pools])
  pool_keys = shapes3d.factors_to_index(np.concatenate([shapes3d.labels_to_factors(p.labels) for p in pools]))
  where = {int(k): i for i, k in enumerate(pool_keys)}
  found = [(i, where[int(k)]) for i, k in enumerate(shapes3d.factors_to_index(f)) if int(k) in where]
  idx = np.array([i for i, _ in found], np.int64)
  return pool_images[np.array([j for _, j in found], np.int64)].reshape((-1,) + pool_images.shape[1:]), idx


def fit_classifier(latents: np.ndarray, labels: np.ndarray):
  """StandardScaler + multinomial logistic regression on latents (sklearn pipeline)."""
  from sklearn.linear_model import LogisticRegression  # pylint: disable=import-outside-toplevel
  from sklearn.pipeline import make_pipeline  # pylint: disable=import-outside-toplevel
  from sklearn.preprocessing import StandardScaler  # pylint: disable=import-outside-toplevel
  clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
  clf.fit(np.asarray(latents, np.float64), np.asarray(labels))
  return clf


def _proba(clf: Any, latents: Any, classes: np.ndarray) -> np.ndarray:
  """(N,) probability of class classes[i] for latent i."""
  p = clf.predict_proba(np.asarray(latents, np.float64))
  col = {int(c): j for j, c in enumerate(clf.classes_)}
  return np.array([p[i, col[int(c)]] if int(c) in col else 0.0 for i, c in enumerate(classes)])


def _distance(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
  """(N,) Σ pixels (of `region`) of the channel-mean |a − b|."""
  e = np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)), axis=-1)
  if region is not None:
    e = e * region[None]
  return e.sum(axis=(1, 2))


# ----------------------------------------------------------------------------- run

def check(settings: CarmichaelSettings, config: Any) -> None:
  if settings.n_examples > settings.n_scenes:
    raise ValueError(f"carmichael n_examples={settings.n_examples} exceeds n_scenes={settings.n_scenes}")
  n_test = n_test_images(config)
  if n_test is not None and settings.n_scenes + 8 > n_test:
    raise ValueError(f"carmichael n_scenes={settings.n_scenes} leaves fewer than 8 of the {n_test} test images "
                     f"(data.n_images={config.data.n_images}) for the shape classifier; lower it or load more images")


def run(settings: CarmichaelSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """numbers {"n_trials", "classifier_accuracy", "rows": per condition (before / control / after)
  {"p_target", "p_original", "d_target", "d_original", "shift", "disk_shift"} means, plus sems}."""
  test = ctx.prepared.test
  n = settings.n_scenes
  n_fit = min(settings.n_fit, len(test.images) - n)     # the test images left after the scenes
  if n_fit < 8:
    raise ValueError(f"carmichael n_scenes={n} leaves {max(n_fit, 0)} of the {len(test.images)} test images to fit "
                     "the shape classifier on (need >= 8): lower n_scenes or load more images")
  k_square, k_cue = jax.random.split(key)
  encoder, decoder = codec(ctx)
  factors = shapes3d.labels_to_factors(test.labels)
  originals = np.asarray(test.images[:n])
  own = factors[:n, _SHAPE_COLUMN]
  # The shape classifier on latents of other test images.
  fit_z = np.asarray(encoder(jnp.asarray(test.images[n:n + n_fit])))
  fit_y = factors[n:n + n_fit, _SHAPE_COLUMN]
  half = len(fit_y) // 2
  accuracy = float(fit_classifier(fit_z[:half], fit_y[:half]).score(fit_z[half:], fit_y[half:]))
  clf = fit_classifier(fit_z, fit_y)

  amb = jnp.asarray(ambiguous_images(k_square, originals, settings))
  cues = jnp.asarray(hippocampus.noisy_cues(k_cue, np.asarray(amb), settings.cue_noise))
  z_amb = encoder(amb)
  recon = decoder(z_amb)
  z_cue = encoder(cues)
  cue_traces = hybrid.hpc_traces(cues, decoder(z_cue), z_cue, settings.threshold)
  memory = make_memory("hybrid", encoder=encoder, decoder=decoder, image_shape=tuple(amb.shape[1:]),
                       threshold=settings.threshold, beta=settings.beta, n_steps=settings.n_steps, tol=0.0)
  disk = disk_mask(amb.shape[1], settings.blur_centre, settings.blur_radius)

  def recall(latents: Any) -> np.ndarray:
    state = memory.store_traces(hybrid.hpc_traces(amb, recon, latents, settings.threshold))
    return np.asarray(memory.complete(memory.retrieve(state, cue_traces)))

  control = recall(z_amb)
  z_before, z_control = (np.asarray(z) for z in jnp.split(encoder(jnp.concatenate([amb, jnp.asarray(control)])), 2))
  per = {c: {m: [] for m in ("p_target", "p_original", "d_target", "d_original", "shift", "disk_shift")}
         for c in ("before", "control", "after")}
  examples = {}
  for offset in range(1, N_SHAPES):
    target = (own + offset) % N_SHAPES
    target_images, found = target_scenes(ctx, factors[:n], target)
    m = len(found)
    if m == 0:
      continue
    z_target = np.asarray(z_amb).copy()
    z_target[found] = np.asarray(encoder(jnp.asarray(target_images)))
    after = recall(jnp.asarray(z_target))
    z_after = np.asarray(encoder(jnp.asarray(after[found])))
    for cond, imgs, z in (("before", np.asarray(amb)[found], z_before[found]),
                          ("control", control[found], z_control[found]), ("after", after[found], z_after)):
      d_t, d_o = _distance(imgs, target_images), _distance(imgs, originals[found])
      rec = per[cond]
      rec["p_target"].append(_proba(clf, z, target[found]))
      rec["p_original"].append(_proba(clf, z, own[found]))
      rec["d_target"].append(d_t)
      rec["d_original"].append(d_o)
      rec["shift"].append(d_o - d_t)
      rec["disk_shift"].append(_distance(imgs, originals[found], disk) - _distance(imgs, target_images, disk))
    if offset == 1:
      k = min(settings.n_examples, m)
      sel = found[:k]
      examples = {"originals": originals[sel], "ambiguous": np.asarray(amb)[sel], "control": control[sel],
                  "targets": target_images[:k], "after": after[sel],
                  "target_names": [shapes3d.SHAPE_NAMES[t] for t in target[sel]]}
  rows = []
  for cond, rec in per.items():
    row = {"condition": cond}
    for m, vals in rec.items():
      v = np.concatenate(vals) if vals else np.zeros(0)
      row[m] = float(v.mean()) if v.size else float("nan")
      row[m + "_sem"] = float(v.std() / np.sqrt(v.size)) if v.size else float("nan")
    rows.append(row)
  n_trials = int(sum(len(v) for v in per["after"]["shift"]))
  numbers = {"n_scenes": n, "n_trials": n_trials, "threshold": settings.threshold, "beta": settings.beta,
             "classifier": "StandardScaler + LogisticRegression on latent means",
             "classifier_accuracy": accuracy, "n_fit": int(n_fit), "rows": rows}
  arrays = {k: np.asarray(v) for k, v in examples.items() if k != "target_names"} if examples else {}
  if examples:
    numbers["example_targets"] = examples["target_names"]
  return AnalysisResult(numbers, arrays)


# ----------------------------------------------------------------------------- figure and table

def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """carmichael.png: per example scene, original / ambiguous / recall with own latent / target scene /
  recall with the target's latent."""
  del ctx
  a = result.arrays
  if not a:
    return ()
  pyplot = plt()
  names = ("original", "ambiguous", "recall (own z)", "target scene", "recall (target z)")
  keys = ("originals", "ambiguous", "control", "targets", "after")
  k = a["originals"].shape[0]
  fig, axes = pyplot.subplots(k, 5, figsize=(6.5, 1.35 * max(k, 1)), squeeze=False)
  targets = result.numbers.get("example_targets", [""] * k)
  for i in range(k):
    for j, key in enumerate(keys):
      show(axes[i, j], a[key][i])
      if i == 0:
        axes[i, j].set_title(names[j], fontsize=7)
    axes[i, 3].set_xlabel(targets[i], fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, os.path.join(directory, "carmichael.png"), dpi=100)
  pyplot.close(fig)
  return ("carmichael.png",)


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  del ctx
  labels = {"before": "ambiguous image", "control": "recall, own latent stored",
            "after": "recall, target's latent stored"}
  pm = lambda r, m, spec: f"{fmt(r[m], spec)} ± {fmt(r[m + '_sem'], spec)}"
  rows = [(labels[r["condition"]], pm(r, "p_target", ".3f"), pm(r, "p_original", ".3f"), pm(r, "d_target", ".0f"),
           pm(r, "d_original", ".0f"), pm(r, "shift", ".0f"), pm(r, "disk_shift", ".1f")) for r in numbers["rows"]]
  return ([f"{numbers['n_trials']} trials ({numbers['n_scenes']} ambiguous scenes × the other shapes), threshold "
           f"{numbers['threshold']:g}, β = {numbers['beta']:g}. p = probability of the shape from a logistic "
           f"regression on latents (held-out accuracy {numbers['classifier_accuracy']:.2f}); d = Σ pixels of the "
           "channel-mean |·| to the target scene (same factors, target shape) and to the original; shift = "
           "d(original) − d(target) (whole image; 'disk': the blurred disk only), mean ± sem. The authors show "
           "this effect as pictures only (four recalls); these are our numbers for it.", ""]
          + markdown_table(("image", "p(target)", "p(original)", "d(target)", "d(original)", "shift", "disk shift"),
                           rows))


ANALYSIS = Analysis(name="carmichael", title="The context-driven (Carmichael) distortion",
                    settings_cls=CarmichaelSettings, run=run, table=table, figure=figure, check=check,
                    datasets=("shapes3d",))
