"""Tests of the Figure 1 (landscapes) and Figure 2a (trajectories) experiments of seed 002."""

import json
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import extended
from assocmem.experiments import landscapes, registry, report, trajectories
from assocmem.sde import VPSDE


def test_grid_fields_shapes_and_score_points_to_nearby_memory():
  sde, t = VPSDE(0.8), 0.1
  pts = jnp.array([[-1.0, 1.0], [1.2, -0.5]])
  edges = jnp.zeros((2, 0, 2))
  f = landscapes.grid_fields(lambda x: extended.box_log_density(pts, edges, x, t, sde),
                             lambda x: extended.box_score(pts, edges, x, t, sde), 2.0, 21)
  assert f["x"].shape == f["y"].shape == (21,)
  assert f["log_density"].shape == (21, 21) and f["score"].shape == (21, 21, 2)
  assert np.all(np.isfinite(f["log_density"])) and np.all(np.isfinite(f["score"]))
  # Grid points within 0.5 of a memory (but not on it): the score points at θ_t y.
  gx, gy = np.meshgrid(f["x"], f["y"], indexing="xy")
  theta = float(sde.theta(t))
  for y in np.asarray(pts) * theta:
    offset = y[None, None, :] - np.stack([gx, gy], axis=-1)
    dist = np.linalg.norm(offset, axis=-1)
    near = (dist > 0.05) & (dist < 0.5)
    assert near.sum() >= 4
    cos = np.sum(offset[near] * f["score"][near], -1) / (
        dist[near] * np.linalg.norm(f["score"][near], axis=-1))
    assert np.min(cos) > 0.99, cos
  # The density peaks at a memory.
  i, j = np.unravel_index(np.argmax(f["log_density"]), f["log_density"].shape)
  peak = np.array([f["x"][j], f["y"][i]])
  assert np.min(np.linalg.norm(np.asarray(pts) * theta - peak, axis=-1)) < 0.2


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """Both figures' experiments run once, tiny, into one results directory: (results, {name: summary})."""
  results = tmp_path_factory.mktemp("results")
  traj, land = trajectories.EXPERIMENT, landscapes.EXPERIMENT
  summaries = {
      "trajectories": traj.run(traj.config("quick", n_steps=50, n_cues=2), traj.output_dir(str(results))),
      "landscapes": land.run(land.config("quick", n_grid=16, n_segments=64), land.output_dir(str(results))),
  }
  return results, summaries


def test_landscape_run_writes_all_panels(runs):
  results, summaries = runs
  tmp_path, summary = results / "landscapes", summaries["landscapes"]
  assert summary["all_finite"]
  assert os.path.getsize(tmp_path / "figure1.png") > 0
  for panel in landscapes.PANELS:
    with np.load(tmp_path / f"{panel}.npz") as data:
      assert data["log_density"].shape == (16, 16)
      assert data["score"].shape == (16, 16, 2)
  assert json.loads((tmp_path / "summary.json").read_text())["config"]["n_grid"] == 16
  assert set(summary["panels"]) == set(landscapes.PANELS)
  assert all(p["n_regions_above_half_max"] >= 1 for p in summary["panels"].values())
  assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_semantic_panel_density_is_highest_on_the_curve():
  cfg = landscapes.get_preset("quick", n_grid=12)
  log_p, score, geometry = landscapes.panel_functions("semantic", cfg)
  theta = float(VPSDE(cfg.gamma).theta(cfg.t))
  curve = theta * geometry["curve"]
  tangent = np.gradient(curve, axis=0)
  normal = np.stack([-tangent[:, 1], tangent[:, 0]], -1) / np.linalg.norm(tangent, axis=-1)[:, None]
  idx = np.arange(40, 361, 40)  # interior points of the curve
  on, n = curve[idx], normal[idx]
  lp = jax.jit(jax.vmap(log_p))
  score = jax.jit(jax.vmap(score))
  for sign in (1.0, -1.0):
    # Points 0.6 off the curve whose side is clear of other parts of the curve.
    off = on + sign * 0.6 * n
    clear = np.min(np.linalg.norm(off[:, None] - curve[None], axis=-1), axis=1) > 0.45
    assert clear.sum() >= 3
    assert np.all(np.asarray(lp(jnp.asarray(on)))[clear] > np.asarray(lp(jnp.asarray(off)))[clear])
    # Just off the curve on that side, the score points back to it.
    s = np.asarray(score(jnp.asarray(on + sign * 0.15 * n)))
    assert np.all(sign * np.sum(s * n, -1)[clear] < 0)


def test_trajectories_ode_and_mhn_agree_for_light_corruption():
  cfg = trajectories.TrajectoryConfig(theta=0.95, n_steps=200, n_cues=4, seed=3)
  problem = trajectories.make_problem(cfg)
  paths = trajectories.run_trajectories(cfg, problem["patterns"], problem["cues"], problem["sde_keys"])
  assert paths["times"].shape == (201,)
  assert paths["ode"].shape == paths["sde"].shape == (4, 201, 5)
  assert paths["mhn"].shape == (4, cfg.mhn_steps + 1, 5)
  np.testing.assert_allclose(paths["ode"][:, 0], problem["cues"])
  np.testing.assert_allclose(paths["mhn"][:, 0], problem["cues"])
  summary = trajectories.summarize(problem["patterns"], problem["targets"], paths)
  for row in summary["cues"]:
    assert row["ode"] == row["mhn"] == row["target"], row
  # Both end near the stored ±1 pattern itself, not only on its sign.
  assert max(r["max_abs_ode_minus_mhn"] for r in summary["cues"]) < 0.15


def test_trajectories_run_writes_outputs(runs):
  results, summaries = runs
  tmp_path, summary = results / "trajectories", summaries["trajectories"]
  assert set(os.listdir(tmp_path)) == {"figure2a.png", "trajectories.npz", "summary.json"}
  with np.load(tmp_path / "trajectories.npz") as data:
    assert data["ode"].shape == (2, 51, 5) and data["patterns"].shape == (4, 5)
  assert len(summary["cues"]) == 2


def test_bad_settings_raise():
  with pytest.raises(ValueError, match="preset"):
    landscapes.get_preset("huge")
  with pytest.raises(ValueError, match="theta"):
    trajectories.TrajectoryConfig(theta=1.5)
  with pytest.raises(ValueError, match="n_grid"):
    landscapes.LandscapeConfig(n_grid=1)
  with pytest.raises(ValueError, match="panel"):
    landscapes.panel_functions("fractal", landscapes.LandscapeConfig())


def test_high_density_regions():
  x = np.linspace(-3, 3, 61)
  gx, gy = np.meshgrid(x, x)
  two_bumps = np.logaddexp(-((gx - 1) ** 2 + gy ** 2), -((gx + 1.5) ** 2 + (gy - 1) ** 2))
  n, area = landscapes.high_density_regions(two_bumps)
  assert n == 2 and 0 < area < 0.2
  ridge = -np.minimum(np.abs(gy), 5.0) ** 2 + 1e-3 * np.sin(40 * gx)    # one ridge with ripples
  assert landscapes.high_density_regions(ridge)[0] == 1


@pytest.mark.parametrize("panel, n_memories", [("points", len(landscapes.POINTS)),
                                               ("segments", len(landscapes.SEGMENTS)),
                                               ("semantic", 1)])
def test_each_memory_is_one_high_density_region(panel, n_memories):
  cfg = landscapes.get_preset("quick")
  log_p, score, _ = landscapes.panel_functions(panel, cfg)
  stats = landscapes.panel_stats(landscapes.grid_fields(log_p, score, cfg.extent, cfg.n_grid))
  assert stats["n_regions_above_half_max"] == n_memories
  assert 0 < stats["density_min"] < stats["density_max"]


def test_trajectory_t_start_is_the_sde_one():
  cfg = trajectories.TrajectoryConfig(theta=0.7, gamma=0.9)
  assert cfg.t_start == pytest.approx(float(VPSDE(0.9).t_start(0.7)), rel=1e-6)
  assert trajectories.get_preset("paper").n_steps == 2000        # Figure 2's caption
  assert trajectories.get_preset("quick").n_steps == 300         # §7's text


def _image_links(md):
  return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)


def _table(md, header_start):
  """The body rows of the Markdown table whose header starts with `header_start`, as lists of cells."""
  lines = md.splitlines()
  i = next(k for k, line in enumerate(lines) if line.startswith(header_start))
  rows = []
  for line in lines[i + 2:]:
    if not line.startswith("|"):
      break
    rows.append([c.strip() for c in line.strip("|").split("|")])
  return rows


def test_report_sections_show_the_figures_and_the_numbers_of_the_runs(runs):
  """REPORT.md: each figure's section links the figure the run wrote and tabulates the run's summary."""
  results, summaries = runs
  traj, land = summaries["trajectories"], summaries["landscapes"]
  md = report.build_report(str(results), [trajectories.EXPERIMENT, landscapes.EXPERIMENT])
  assert "```json" not in md and '"cues"' not in md               # tables, not JSON dumps
  links = _image_links(md)
  assert links == ["trajectories/figure2a.png", "landscapes/figure1.png"]
  assert all((results / link).exists() for link in links)
  # Per cue: the stored pattern each method ends on (-1 is "none"), as in summary.json.
  rows = _table(md, "| cue |")
  assert len(rows) == len(traj["cues"]) == 2
  for cells, cue in zip(rows, traj["cues"]):
    ends = [int(c) if c != "none" else -1 for c in cells[1:5]]
    assert ends == [cue["target"], cue["ode"], cue["sde"], cue["mhn"]]
    assert float(cells[6]) == pytest.approx(cue["max_abs_ode_minus_mhn"], abs=5e-4)
  # Per panel: its number of high-density regions and their share of the window.
  rows = _table(md, "| panel |")
  assert [r[0] for r in rows] == [landscapes.PANEL_TITLES[p] for p in landscapes.PANELS]
  for cells, panel in zip(rows, landscapes.PANELS):
    stats = land["panels"][panel]
    assert int(cells[2]) == stats["n_regions_above_half_max"]
    assert float(cells[3].rstrip(" %")) == pytest.approx(100 * stats["area_fraction_above_half_max"], abs=0.05)


def test_report_marks_experiments_that_did_not_run(tmp_path):
  """Without results every registered experiment's section says it did not run, and links no figure."""
  md = report.build_report(str(tmp_path))
  sections = md.split("\n## ")[1:]
  assert [s.splitlines()[0] for s in sections] == [e.title for e in registry.experiments()]
  assert all("Not run" in s for s in sections)
  assert _image_links(md) == []
  # A folder without the expected files is not a run either.
  (tmp_path / "trajectories").mkdir()
  md = report.build_report(str(tmp_path), [trajectories.EXPERIMENT])
  assert "Not run" in md and _image_links(md) == []
