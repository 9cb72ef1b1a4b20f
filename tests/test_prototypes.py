"""Prototypical distortion (consolidation analysis "prototypical_distortion", seed 000 §3).

Tiny instances that pin the sign and the axes: a recall that maps every image to its class mean
has zero within-class variance, so every class is lower with t < 0 and d < 0 (swapping the roles
flips both); an identity recall gives equal variances and undefined (None) statistics without a
warning; the variance is over the class's images, not over the pixels of an image (constant
images that differ from each other against one textured image repeated); the first n_per_class
images of each class are used; bad settings name the field; the analysis runs on a memory-like
student, draws its figure and puts the authors' count beside ours in its table.
"""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest
from scipy import stats

from assocmem.experiments import references
from assocmem.experiments.consolidation import analyses
from assocmem.experiments.consolidation.analyses import prototypes as P
from assocmem.experiments.consolidation.analyses.base import Context, TableContext
from assocmem.experiments.consolidation.config import PRESETS


def _data(n_classes: int = 3, per_class: int = 6, shape=(4, 5, 1), seed: int = 0):
  """Random images in [0, 1] with labels 0 … n_classes − 1 interleaved; and each image's class mean."""
  rng = np.random.default_rng(seed)
  labels = np.tile(np.arange(n_classes), per_class)
  images = rng.uniform(0, 1, (labels.size,) + shape).astype(np.float32)
  means = np.stack([images[labels == c].mean(axis=0) for c in range(n_classes)])
  return images, labels, means[labels]


def test_class_mean_recall_is_lower_in_every_class_with_negative_t_and_d():
  images, labels, class_means = _data()
  numbers, arrays = P.prototype_numbers(images, class_means, labels, n_per_class=100)
  assert numbers["n_classes"] == numbers["n_lower"] == numbers["n_significant"] == 3
  assert np.all(arrays["recall_var"] < 1e-12) and arrays["input_var"].shape == (3, 20)
  for r in numbers["classes"]:
    assert r["recall_variance"] < 1e-12 < r["input_variance"] and r["lower"]
    assert r["t"] < 0 and r["d"] < 0 and r["p"] < 0.05 and r["mean_difference"] < 0
  assert numbers["pooled"]["t"] < 0 and numbers["pooled"]["d"] < 0
  # Pooled test = scipy's paired test on all classes' pixels concatenated (the authors' is the
  # negative: ttest_rel(before, after)); d = mean / population sd of the differences.
  expect = stats.ttest_rel(arrays["recall_var"].ravel(), arrays["input_var"].ravel())
  assert numbers["pooled"]["t"] == pytest.approx(expect.statistic)
  assert numbers["pooled"]["t"] == pytest.approx(-stats.ttest_rel(arrays["input_var"].ravel(),
                                                                  arrays["recall_var"].ravel()).statistic)
  diff = arrays["recall_var"].ravel() - arrays["input_var"].ravel()
  assert numbers["pooled"]["d"] == pytest.approx(diff.mean() / diff.std())
  # Roles swapped: the recalls vary more, the signs flip.
  swapped, _ = P.prototype_numbers(class_means, images, labels, n_per_class=100)
  assert swapped["n_lower"] == 0 and all(r["t"] > 0 and r["d"] > 0 for r in swapped["classes"])


def test_identity_recall_gives_equal_variances_and_undefined_statistics_without_warnings():
  images, labels, _ = _data()
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    numbers, arrays = P.prototype_numbers(images, images.copy(), labels, n_per_class=100)
  np.testing.assert_array_equal(arrays["input_var"], arrays["recall_var"])
  assert numbers["n_lower"] == numbers["n_significant"] == 0
  for r in numbers["classes"] + [numbers["pooled"]]:
    assert r["t"] is None and r["p"] is None and r["d"] is None and r["mean_difference"] == 0.0


def test_variance_is_over_images_not_over_pixels():
  # Inputs: three constant images 0, 0.3, 0.6: variance over images 0.06 at every pixel, over the
  # pixels of one image 0. Recalls: one textured image three times: over images 0, over pixels > 0.
  inputs = np.stack([np.full((3, 3, 1), v, np.float32) for v in (0.0, 0.3, 0.6)])
  texture = np.linspace(0, 1, 9, dtype=np.float32).reshape(3, 3, 1)
  recalls = np.stack([texture] * 3)
  numbers, arrays = P.prototype_numbers(inputs, recalls, np.zeros(3, int), n_per_class=3)
  np.testing.assert_allclose(arrays["input_var"], 0.06, rtol=1e-6)
  np.testing.assert_array_equal(arrays["recall_var"], 0.0)
  (row,) = numbers["classes"]
  assert row["input_variance"] == pytest.approx(0.06) and row["recall_variance"] == 0.0 and row["lower"]
  np.testing.assert_allclose(arrays["input_mean"][0], 0.3, rtol=1e-6)
  np.testing.assert_allclose(arrays["recall_mean"][0], texture)


def test_first_images_of_each_class_and_small_classes_skipped():
  labels = np.array([2, 0, 2, 0, 2, 0, 2, 1, 0])          # class 1 has one image: skipped
  classes, picks = P.class_indices(labels, n_per_class=3)
  assert classes.tolist() == [0, 2]
  assert [p.tolist() for p in picks] == [[1, 3, 5], [0, 2, 4]]
  images = np.arange(18, dtype=np.float32).reshape(9, 1, 2, 1)     # image i holds 2i, 2i + 1
  numbers, _ = P.prototype_numbers(images, images, labels, n_per_class=3)
  assert [(r["class"], r["n"]) for r in numbers["classes"]] == [(0, 3), (2, 3)]
  assert numbers["classes"][0]["input_variance"] == pytest.approx(np.var([2.0, 6.0, 10.0]))


def test_bad_settings_and_inputs_name_the_field():
  for make, name in ((lambda: P.PrototypeSettings(n_per_class=1), "n_per_class"),
                     (lambda: P.PrototypeSettings(alpha=1.5), "alpha"),
                     (lambda: P.PrototypeSettings(n_figure_classes=0), "n_figure_classes"),
                     (lambda: P.class_indices(np.arange(4), 5), "2 images"),
                     (lambda: P.class_indices(np.zeros((2, 2)), 5), "labels"),
                     (lambda: P.prototype_numbers(np.zeros((4, 2, 2, 1)), np.zeros((4, 2, 2, 3)), np.zeros(4), 2),
                      "recalls"),
                     (lambda: P.prototype_numbers(np.zeros((4, 2, 2, 1)), np.zeros((4, 2, 2, 1)), np.zeros(3), 2),
                      "labels")):
    with pytest.raises(ValueError, match=name):
      make()
  assert P.PrototypeSettings().n_per_class == references.AUTHORS_PROTOTYPE_SETTINGS["n_per_class"] == 500


class _ClassMeanStudent:
  """A memory-like student whose recall maps an image to its class mean (class in pixel (0, 0, 0))."""

  def __init__(self, means: np.ndarray):
    self.means = means
    self.calls = 0

  def recall(self, state, cues):
    del state
    self.calls += 1
    return self.means[np.rint(np.asarray(cues)[:, 0, 0, 0] * 10).astype(int)]


def test_analysis_runs_on_a_student_draws_and_reports_the_authors_beside_ours(tmp_path):
  assert "prototypical_distortion" in analyses.ANALYSES
  analysis = analyses.ANALYSES.get("prototypical_distortion")
  assert analysis.datasets is None and analysis.settings_cls is P.PrototypeSettings
  images, labels, _ = _data(n_classes=4, per_class=5, shape=(6, 6, 1))
  images[:, 0, 0, 0] = labels / 10                          # the class marker the student reads
  means = np.stack([images[labels == c][:3].mean(axis=0) for c in range(4)])
  student = _ClassMeanStudent(means)
  config = PRESETS["quick"]
  prepared = types.SimpleNamespace(test=types.SimpleNamespace(images=images), test_labels=labels)
  ctx = Context(config=config, source="mhn", student=student, state=None, prepared=prepared)
  settings = P.PrototypeSettings(n_per_class=3, n_figure_classes=2)
  result = analysis.run(settings, ctx, None)
  assert student.calls == 1                                   # one batched recall
  assert result.numbers["n_lower"] == result.numbers["n_classes"] == 4 and result.numbers["label"] == "label"
  assert [r["n"] for r in result.numbers["classes"]] == [3] * 4
  assert result.arrays["input_mean"].shape == (2, 6, 6, 1)
  assert analysis.figure(result, str(tmp_path), ctx) == ("prototypes.png",)
  assert (tmp_path / "prototypes.png").stat().st_size > 0
  text = "\n".join(analysis.table(result.numbers, TableContext(config=config, source="mhn", authors=False)))
  assert "| ours | 4 of 4 |" in text and "| authors (MNIST) | 10 of 10 |" in text
  assert "Our data differ" in text and "| pooled |" in text
