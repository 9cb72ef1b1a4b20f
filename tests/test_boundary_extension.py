"""Boundary extension and contraction (consolidation analysis) and the consolidation_shapes3d experiment."""

import types

import jax
import numpy as np
import pytest

from assocmem.data import splits
from assocmem.experiments import registry
from assocmem.experiments import consolidation, consolidation_shapes3d
from assocmem.experiments.consolidation.analyses import ANALYSES, Context, TableContext
from assocmem.experiments.consolidation.analyses import boundary_extension as be

SIZE = 64


def _bar_scene(height: int, top: int | None = None) -> np.ndarray:
  """A blue wall over a grey floor with a red bar of `height` rows from row `top` in the middle columns."""
  img = np.zeros((SIZE, SIZE, 3), np.float32)
  img[:SIZE // 2] = (0.2, 0.4, 0.8)
  img[SIZE // 2:] = (0.5, 0.5, 0.5)
  top = 30 if top is None else top     # covers the detection rows 32..50 at every zoom
  img[top:top + height, SIZE // 2 - 6:SIZE // 2 + 6] = (0.9, 0.1, 0.1)
  return img


def _red_height(images: np.ndarray) -> np.ndarray:
  red = (images[..., 0] > 0.7) & (images[..., 1] < 0.3)
  return be.mask_heights(red.astype(np.float32))


def test_zoom_border_is_the_notebooks():
  assert [be.zoom_border(z) for z in be.ZOOMS] == [8, 5, 3, 1, 0, 1, 2, 4, 5]


@pytest.mark.parametrize("zoom", [0.8, 0.9, 1.1, 1.2])
def test_zoom_scales_the_object_by_the_expected_factor(zoom):
  image = _bar_scene(20)[None]
  b = be.zoom_border(zoom)
  factor = SIZE / (SIZE - 2 * b) if zoom > 1 else SIZE / (SIZE + 2 * b)
  got = _red_height(be.zoom_images(image, zoom))[0]
  assert abs(got - 20 * factor) <= 1.0
  assert (got > 20) == (zoom > 1)
  np.testing.assert_allclose(be.zoom_images(image, 1.0), image, atol=1 / 255)


def test_kmeans_segmentation_recovers_a_three_colour_image():
  image = _bar_scene(20)
  quantised = np.floor(image * 255 + 0.5) / 255
  seg = be.segment(jax.random.PRNGKey(0), quantised[None], k=5, attempts=2, max_iter=20)[0]
  np.testing.assert_array_equal(seg, np.floor(quantised * 255 + 1e-4).astype(np.int32))
  assert len(np.unique(seg.reshape(-1, 3), axis=0)) == 3


def test_height_rule_on_a_hand_made_image():
  seg = np.zeros((1, SIZE, SIZE, 3), np.int32)
  seg[0, :, :] = (10, 20, 30)
  seg[0, 30:51, SIZE // 2] = (200, 100, 50)        # covers the detection rows 32..50
  assert be.object_heights(seg).tolist() == [21]
  seg[0, 10, SIZE // 2] = (216, 100, 50)           # differs by 16 in one channel: uint8 wraps to 0
  assert be.object_heights(seg, "notebook").tolist() == [22]
  assert be.object_heights(seg, "exact").tolist() == [21]
  seg[0, 12, SIZE // 2] = (201, 100, 50)
  assert be.object_heights(seg, "notebook").tolist() == [22]


class _FixedRecall:
  """A fake VAE whose recall of every cue is the unzoomed (100%) scene."""

  def __init__(self, scenes, n_zooms):
    self.out = np.tile(np.floor(scenes * 255 + 0.5) / 255, (n_zooms, 1, 1, 1))

  def recall(self, state, cues):
    del state
    assert cues.shape == self.out.shape
    return self.out


def test_the_sign_of_the_change_with_a_recall_of_the_unzoomed_scene():
  scenes = np.stack([_bar_scene(h) for h in (24, 26, 28)])
  settings = be.BoundaryExtensionSettings(n_images=3, zooms=(0.8, 1.0, 1.2), kmeans_attempts=2,
                                          kmeans_iterations=20, n_bootstrap=50)
  measured = be.measure(settings, _FixedRecall(scenes, 3), None, scenes, jax.random.PRNGKey(0))
  rows = be.summarise(settings, measured, jax.random.PRNGKey(1))
  assert rows[0]["median"] > 0.1 and rows[2]["median"] < -0.1 and rows[1]["median"] == 0.0
  assert [r["zoom"] for r in rows] == [0.8, 1.0, 1.2]


def test_relative_change_excludes_empty_views_and_the_bootstrap_interval_holds_the_median():
  change = be.relative_change([0, 10, 20], [5, 5, 30])
  assert np.isnan(change[0]) and change[1:].tolist() == [-0.5, 0.5]
  values = np.random.default_rng(0).normal(size=101)
  med, lo, hi = be.median_interval(jax.random.PRNGKey(0), np.append(values, np.nan), 200)
  assert med == pytest.approx(np.median(values)) and lo <= med <= hi and lo < hi
  assert all(np.isnan(be.median_interval(jax.random.PRNGKey(0), [np.nan], 10)))


def test_bad_settings_and_inputs_raise_value_errors():
  for bad in ((2.0,), (0.0,), (), (1.2, -0.1), "1.2"):
    with pytest.raises(ValueError, match="zoom"):
      be.BoundaryExtensionSettings(zooms=bad)
  with pytest.raises(ValueError, match="n_images"):
    be.BoundaryExtensionSettings(n_images=0)
  with pytest.raises(ValueError, match="colour_rule"):
    be.BoundaryExtensionSettings(colour_rule="close")
  with pytest.raises(ValueError, match="noise_fraction"):
    be.BoundaryExtensionSettings(noise_fraction=1.0)
  with pytest.raises(ValueError, match="images"):
    be.zoom_images(np.zeros((2, 64, 32, 3)), 1.1)
  with pytest.raises(ValueError, match="images"):
    be.segment(jax.random.PRNGKey(0), np.zeros((64, 64, 3)))
  with pytest.raises(ValueError, match="zoom"):
    be.zoom_border(2.5)
  with pytest.raises(ValueError, match="segmented"):
    be.object_heights(np.zeros((1, 64, 64, 3), np.float32))


def test_generator_masks_cover_the_object_only():
  from assocmem.data import shapes3d
  factors = np.array([[0, 5, 2, 7, 0, 7], [3, 6, 9, 0, 2, 0]])
  masks = be.object_masks(factors)
  assert masks.shape == (2, 64, 64) and set(np.unique(masks)) <= {0.0, 1.0}
  heights = be.mask_heights(masks)
  assert 5 < heights[1] < heights[0] < 40                # a large cube above a small sphere
  images = shapes3d.render(factors)
  room = images[:, 2, 2]                                  # a corner pixel: the room, never the object
  assert masks[:, 2, 2].sum() == 0 and np.all(np.isfinite(room))


@pytest.mark.slow   # ~30 s on the shared 2-core CPU (k-means compilation, rendering, the figure)
def test_run_table_and_figure_on_a_tiny_procedural_split(tmp_path):
  from assocmem.data import shapes3d
  factors = np.array([[0, 5, 2, 7, 0, 7], [3, 6, 9, 4, 0, 3], [1, 1, 1, 3, 2, 5]])
  images = shapes3d.render(factors)
  test = splits.ImageData(images, shapes3d.factors_to_labels(factors))
  settings = be.BoundaryExtensionSettings(n_images=5, zooms=(0.8, 1.0, 1.2), kmeans_attempts=2,
                                          kmeans_iterations=20, n_bootstrap=20)
  config = consolidation_shapes3d.PRESETS["quick"]
  prepared = types.SimpleNamespace(test=test)
  ctx = Context(config=config, source="mhn", student=_FixedRecall(images[:2], 3), state=None, prepared=prepared)
  result = be.run(settings, ctx, jax.random.PRNGKey(0))
  assert result.numbers["n_images"] == 2 and result.numbers["procedural"]
  rows = result.numbers["rows"]
  assert rows[0]["median"] > 0 > rows[2]["median"] and "mask_median" in rows[0]
  assert rows[0]["authors"] == 0.16 and rows[2]["authors"] == -0.15
  lines = be.table(result.numbers, TableContext(config=config, source="mhn", authors=False))
  assert any("120%" in line for line in lines)
  assert be.figure(result, str(tmp_path), ctx) == ("boundary_extension.png",)
  assert (tmp_path / "boundary_extension.png").stat().st_size > 0


def test_the_experiment_is_registered_after_consolidation_and_its_presets_are_valid():
  names = [e.name for e in registry.experiments()]
  assert names.index("consolidation_shapes3d") == names.index("consolidation") + 1
  exp = registry.get("consolidation_shapes3d")
  quick = exp.config("quick")
  assert quick.data.dataset == "shapes3d" and quick.vae.arch == "large"
  assert "boundary_extension" in quick.selected_analyses()
  assert set(quick.selected_analyses()) == set(consolidation_shapes3d.SHAPES3D_ANALYSES)
  assert all(ANALYSES.get(n).applies_to("shapes3d") for n in quick.selected_analyses())
  with pytest.raises(ValueError, match="data_dir"):
    exp.config("paper")
  paper = exp.config("paper", offline=True)
  assert paper == consolidation.PRESETS["paper"] and "boundary_extension" in paper.selected_analyses()
  assert exp.reproduce_args("results", "quick", None) == ("--offline",)
  # The MNIST consolidation run skips the Shapes3D analysis.
  assert "boundary_extension" not in consolidation.get_preset("quick").selected_analyses()
  with pytest.raises(ValueError, match="dataset"):
    exp.config("quick", **{"data.dataset": "mnist", "vae.arch": "compact"})


def test_report_section_not_run_names_the_experiment(tmp_path):
  text = consolidation_shapes3d.report_section(str(tmp_path / "none"), str(tmp_path))
  assert text.startswith(f"## {consolidation_shapes3d.TITLE}") and "consolidate_shapes3d.py" in text
