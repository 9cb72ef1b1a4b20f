"""The extended (hybrid) model's threshold sweep (seed 000; the authors' notebook 3 and `test_extended_model`).

The hippocampus stores, per image, the trained VAE's latent and the sensory elements the VAE fails
to predict (`assocmem.memories.hybrid`, memory "hybrid"). As the authors do:

  * images: `n_images` test images (shuffled with the analysis key) given atypical elements, the
    authors' `add_multiple_white_squares`: `n_squares` translucent 8×8 white squares, the same
    positions and opacities in every image (Python's `random` seeded with `square_seed`, as theirs),
    composited on 8-bit pixels;
  * storage: the traces of those images at each threshold in a modern Hopfield network of β = 100
    (β/√d, ≤ 5 updates);
  * recall: from a noisy copy (10% of values set to 0, the authors' `noise(…, 0.1)`) turned into a
    trace the same way; recalled elements where stored, the decoded recalled latent elsewhere;
  * error per image: the authors' Σ over pixels and channels of (x − recall)² (their
    `return_errors_and_counts`), and the project's Σ pixels of the channel-mean |x − recall|;
  * sensory units: the authors' count (elements with |x − x̂| > threshold, of H·W·C = 12,288)
    and the elements actually stored (3 × the pixels whose channel-mean error exceeds it);
  * Spearman correlation of threshold against mean error and mean units (the authors' test), and
    over all images pooled.

The authors' numbers are `references.AUTHORS_HYBRID` (β and n as `AUTHORS_HYBRID_SETTINGS`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from assocmem import _checks, files
from assocmem.data import SEED000_NUM_IMAGES
from assocmem.memories import hybrid, make_memory
from assocmem.nn.vae import COMPILER_OPTIONS
from assocmem.experiments import references
from assocmem.experiments.consolidation import hippocampus, metrics
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext, fmt,
                                                              markdown_table, plt, show)


@dataclasses.dataclass(frozen=True)
class HybridModelSettings:
  """Attributes:
    thresholds: reconstruction-error thresholds swept (each in (0, 1); the authors' 0.01 … 0.20).
    beta: β of the trace network (the authors: 100).
    n_images: test images stored and recalled (the authors: 100).
    n_squares: translucent white squares added to each image (the authors: 3).
    square_seed: seed of the squares' positions and opacities (the authors: 4321).
    cue_noise: fraction of a cue's values set to 0 (the authors: 0.1).
    n_steps: Hopfield updates per recall, at most (the authors: 5).
    n_examples: images shown in the examples figure.
  """
  thresholds: tuple[float, ...] = references.AUTHORS_HYBRID_SETTINGS["thresholds"]
  beta: float = references.AUTHORS_HYBRID_SETTINGS["beta"]
  n_images: int = references.AUTHORS_HYBRID_SETTINGS["n_images"]
  n_squares: int = references.AUTHORS_HYBRID_SETTINGS["n_squares"]
  square_seed: int = references.AUTHORS_HYBRID_SETTINGS["square_seed"]
  cue_noise: float = references.AUTHORS_HYBRID_SETTINGS["cue_noise"]
  n_steps: int = references.AUTHORS_HYBRID_SETTINGS["max_updates"]
  n_examples: int = 4

  def __post_init__(self):
    ts = tuple(self.thresholds) if isinstance(self.thresholds, (tuple, list)) else None
    if not ts:
      raise ValueError(f"hybrid_model thresholds must be a non-empty tuple, got {self.thresholds!r}")
    object.__setattr__(self, "thresholds", tuple(hybrid.check_threshold(t, "hybrid_model threshold") for t in ts))
    _checks.check_positive("beta", self.beta)
    _checks.check_int("n_images", self.n_images, 2)
    _checks.check_int("n_squares", self.n_squares, 0)
    _checks.check_int("square_seed", self.square_seed, 0)
    _checks.check_open_unit("cue_noise", self.cue_noise)
    _checks.check_int("n_steps", self.n_steps)
    _checks.check_int("n_examples", self.n_examples, 0)


# ----------------------------------------------------------------------------- atypical elements

def add_white_squares(images: np.ndarray, n_squares: int = 3, seed: int = 4321) -> np.ndarray:
  """The authors' `add_multiple_white_squares` on a batch: `n_squares` white squares of side H/8 at
  positions and opacities drawn by Python's `random` seeded with `seed` (the same in every image),
  alpha-composited on the 8-bit image (truncated to 8 bits, as theirs). (N, H, W, 3) in [0, 1] →
  the same shape."""
  x = np.asarray(images)
  if x.ndim != 4 or x.shape[1] != x.shape[2]:
    raise ValueError(f"images must have shape (N, H, H, C), got shape {x.shape}")
  size = x.shape[1] // 8
  out = (x * 255).astype(np.uint8)
  rng = random.Random(seed)
  for _ in range(n_squares):
    alpha = rng.randint(0, 255) / 255
    col = rng.randrange(0, x.shape[1] - size)
    row = rng.randrange(0, x.shape[1] - size)
    patch = out[:, row:row + size, col:col + size].astype(np.float64)
    out[:, row:row + size, col:col + size] = (255.0 * alpha + patch * (1 - alpha)).astype(np.uint8)
  return (out / 255.0).astype(np.float32)


# ----------------------------------------------------------------------------- run

def n_test_images(config: Any) -> int | None:
  """The run's test-split size on Shapes3D (10% of `data.n_images`, rounded up as sklearn's split),
  or None for another dataset (the analysis does not run there)."""
  if config.data.dataset != "shapes3d":
    return None
  return math.ceil(round(0.1 * (config.data.n_images or SEED000_NUM_IMAGES), 9))


def check(settings: HybridModelSettings, config: Any) -> None:
  if settings.n_examples > settings.n_images:
    raise ValueError(f"hybrid_model n_examples={settings.n_examples} exceeds n_images={settings.n_images}")
  n_test = n_test_images(config)
  if n_test is not None and settings.n_images > n_test:
    raise ValueError(f"hybrid_model n_images={settings.n_images} exceeds the {n_test} test images "
                     f"(data.n_images={config.data.n_images}); lower it or load more images")


def codec(ctx: Context):
  """The trained VAE's jit-compiled batched (encoder, decoder) on [0, 1] images (`hybrid.vae_codec`;
  one compilation per batch shape, so callers batch whole sets of images)."""
  enc, dec = hybrid.vae_codec(ctx.student.model, hybrid.state_variables(ctx.state))
  return tuple(jax.jit(f, compiler_options=COMPILER_OPTIONS) for f in (enc, dec))


def _spearman(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
  r = stats.spearmanr(x, y)
  return {"rho": float(r.statistic), "p": float(r.pvalue)}


def sweep(settings: HybridModelSettings, originals: np.ndarray, encoder: Any, decoder: Any,
          key: jax.Array) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
  """The threshold sweep on (N, H, W, C) images (before the squares); returns (numbers, arrays)."""
  x = jnp.asarray(add_white_squares(originals, settings.n_squares, settings.square_seed))
  cues = jnp.asarray(hippocampus.noisy_cues(key, np.asarray(x), settings.cue_noise))
  z, zc = encoder(x), encoder(cues)
  recon, recon_c = decoder(z), decoder(zc)
  shape = tuple(x.shape[1:])
  rows, recalls, sse_all, units_all = [], [], [], []
  for t in settings.thresholds:
    memory = make_memory("hybrid", encoder=encoder, decoder=decoder, image_shape=shape, threshold=t,
                         beta=settings.beta, n_steps=settings.n_steps, tol=0.0)
    traces = hybrid.hpc_traces(x, recon, z, t)
    state = memory.store_traces(traces)
    out = np.asarray(memory.complete(memory.retrieve(state, hybrid.hpc_traces(cues, recon_c, zc, t))))
    sse = np.sum((np.asarray(x, np.float64) - out) ** 2, axis=(1, 2, 3))
    mae = metrics.reconstruction_errors(np.asarray(x), out)
    units = np.asarray(hybrid.authors_unit_count(x, recon, t), np.float64)
    stored = np.asarray(hybrid.stored_units(traces, shape), np.float64)
    n = len(sse)
    sem = lambda v: float(np.std(v) / np.sqrt(n))   # the authors' sem (population std / √n)
    rows.append({"threshold": t, "sse": float(sse.mean()), "sse_sem": sem(sse), "mae": float(mae.mean()),
                 "mae_sem": sem(mae), "units": float(units.mean()), "units_sem": sem(units),
                 "stored": float(stored.mean()), "stored_sem": sem(stored)})
    recalls.append(out)
    sse_all.append(sse)
    units_all.append(units)
  ts = list(settings.thresholds)
  pooled_t = np.repeat(ts, len(originals))
  numbers = {
      "n_images": int(len(originals)), "beta": settings.beta, "rows": rows,
      "vae_sse": float(np.mean(np.sum((np.asarray(x, np.float64) - np.asarray(recon_c)) ** 2, axis=(1, 2, 3)))),
      "spearman_error": _spearman(ts, [r["sse"] for r in rows]),
      "spearman_units": _spearman(ts, [r["units"] for r in rows]),
      "spearman_error_pooled": _spearman(pooled_t, np.concatenate(sse_all)),
      "spearman_units_pooled": _spearman(pooled_t, np.concatenate(units_all)),
  }
  k = settings.n_examples
  arrays = {"originals": np.asarray(x[:k]), "cues": np.asarray(cues[:k]), "vae": np.asarray(recon_c[:k]),
            "recalls": np.stack([r[:k] for r in recalls])}
  return numbers, arrays


def run(settings: HybridModelSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """numbers {"n_images", "beta", "rows": per threshold {"threshold", "sse", "sse_sem", "mae", "mae_sem",
  "units", "units_sem", "stored", "stored_sem"}, "vae_sse", "spearman_*": {"rho", "p"}}."""
  test = ctx.prepared.test.images
  if settings.n_images > len(test):
    raise ValueError(f"hybrid_model n_images={settings.n_images} exceeds the {len(test)} test images")
  k_perm, k_cue = jax.random.split(key)
  idx = np.asarray(jax.random.permutation(k_perm, len(test)))[:settings.n_images]
  encoder, decoder = codec(ctx)
  numbers, arrays = sweep(settings, np.asarray(test[idx]), encoder, decoder, k_cue)
  return AnalysisResult(numbers, arrays)


# ----------------------------------------------------------------------------- figure and table

def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """hybrid_thresholds.png (the authors' twin-axis plot, theirs dashed) and hybrid_examples.png."""
  del ctx
  pyplot = plt()
  rows = result.numbers["rows"]
  ts = [r["threshold"] for r in rows]
  fig, ax = pyplot.subplots(figsize=(5, 3.4))
  ax2 = ax.twinx()
  ax.errorbar(ts, [r["sse"] for r in rows], yerr=[r["sse_sem"] for r in rows], color="red", fmt="-o", capsize=4,
              markersize=4, label="error (ours)")
  ax2.errorbar(ts, [r["units"] for r in rows], yerr=[r["units_sem"] for r in rows], color="blue", fmt="-o",
               capsize=4, markersize=4, label="units (ours)")
  ref = references.AUTHORS_HYBRID
  ax.plot(list(ref), [v[0] for v in ref.values()], "--", color="red", alpha=0.5, label="error (authors)")
  ax2.plot(list(ref), [v[1] for v in ref.values()], "--", color="blue", alpha=0.5, label="units (authors)")
  ax.set_xlabel("threshold")
  ax.set_ylabel("reconstruction error (SSE per image)", color="red")
  ax2.set_ylabel("no. of sensory feature units", color="blue")
  ax.set_title("Error and memory size by threshold\n(solid: ours, dashed: the authors')", fontsize=9)
  fig.tight_layout()
  files.save_figure(fig, os.path.join(directory, "hybrid_thresholds.png"), dpi=100)
  pyplot.close(fig)
  a = result.arrays
  k = a["originals"].shape[0]
  names = ["image", "cue", "VAE"] + [f"t={t:g}" for t in ts]
  fig, axes = pyplot.subplots(k, len(names), figsize=(1.2 * len(names), 1.25 * max(k, 1)), squeeze=False)
  for i in range(k):
    imgs = [a["originals"][i], a["cues"][i], a["vae"][i]] + [a["recalls"][j, i] for j in range(len(ts))]
    for j, img in enumerate(imgs):
      show(axes[i, j], img)
      if i == 0:
        axes[i, j].set_title(names[j], fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, os.path.join(directory, "hybrid_examples.png"), dpi=100)
  pyplot.close(fig)
  return ("hybrid_thresholds.png", "hybrid_examples.png")


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  ref = references.AUTHORS_HYBRID
  rows = []
  for r in numbers["rows"]:
    theirs = ref.get(round(r["threshold"], 2))
    rows.append((f"{r['threshold']:g}", f"{r['sse']:.1f} ± {r['sse_sem']:.1f}", fmt(theirs and theirs[0], ".0f"),
                 f"{r['units']:.0f} ± {r['units_sem']:.0f}", fmt(theirs and theirs[1], ".0f"),
                 f"{r['stored']:.0f}", f"{r['mae']:.1f}"))
  se, su = numbers["spearman_error"], numbers["spearman_units"]
  lines = [f"{numbers['n_images']} test images with translucent white squares, stored as VAE latent + the "
           f"elements whose reconstruction error exceeds the threshold (modern Hopfield, β = {numbers['beta']:g}), "
           "recalled from noisy cues (10% zeros). Error = Σ pixels and channels of (x − recall)² (the authors' "
           "metric), mean ± sem; units = elements with |x − x̂| > threshold of 12,288 (the authors' count); "
           "stored = the elements actually stored (3 × pixels whose channel-mean error exceeds the threshold); "
           f"the VAE alone recalls at SSE {numbers['vae_sse']:.1f}.", ""]
  lines += markdown_table(("threshold", "error (ours)", "error (authors)", "units (ours)", "units (authors)",
                           "stored", "Σ px channel-mean abs. error"), rows)
  lines += ["", f"Spearman, threshold vs mean error ρ = {se['rho']:.2f} (p = {se['p']:.2g}), vs mean units "
                f"ρ = {su['rho']:.2f} (p = {su['p']:.2g}); over all images pooled: "
                f"ρ = {numbers['spearman_error_pooled']['rho']:.2f} and {numbers['spearman_units_pooled']['rho']:.2f}."]
  if not ctx.authors:
    lines += ["", "The authors' columns are for real Shapes3D and their VAE trained for 50 epochs on 10,000 images; "
              "these are other data (procedural scenes, or another VAE), so the columns are a reference, "
              "not a match to expect."]
  return lines


ANALYSIS = Analysis(name="hybrid_model", title="The extended (hybrid) model: error and memory size by threshold",
                    settings_cls=HybridModelSettings, run=run, table=table, figure=figure, check=check,
                    datasets=("shapes3d",))
