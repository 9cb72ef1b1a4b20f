"""Seed 002, Table 1: the experiment (JAX vs the benchmark's NumPy reference), its presets, and its files."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from assocmem import metrics
from assocmem.experiments import references, registry, table1
from assocmem.sde import VPSDE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from benchcases import numpy_ref  # noqa: E402  (scripts/benchcases: the benchmark's NumPy baseline)

# Small enough to compile and run in seconds; the models and their step counts are the paper's
# except where shortened (the NumPy reference loops over time steps in Python).
TINY = dict(n_patterns=(6,), repeats=6, mhn_steps=20, ode_steps=40, classic_steps=3)


def _rows(n=(10, 30)):
  return [{"task": t, "n_patterns": k, "diffusion": 0.99, "classic": 0.7, "true": 0.8}
          for t in table1.TASKS for k in n]


def test_files_hold_the_rows_and_the_configuration(tmp_path):
  rows = [dict(r, diffusion=0.99 - i / 1000) for i, r in enumerate(_rows((10, 20, 30)))]
  table1.write_outputs(str(tmp_path), rows, table1.PRESETS["quick"], seconds=1.0)
  text = (tmp_path / "table1.csv").read_text()
  assert text.splitlines()[0] == "task,n_patterns,diffusion,classic,true"
  parsed = list(csv.DictReader(text.splitlines()))
  assert [(r["task"], int(r["n_patterns"])) for r in parsed] == [
      ("denoising", 10), ("denoising", 20), ("denoising", 30),
      ("completion", 10), ("completion", 20), ("completion", 30)]
  for m in table1.MODELS:
    assert [float(r[m]) for r in parsed] == pytest.approx([r[m] for r in rows], abs=5e-5)
  for back, want in zip(table1.read_rows(str(tmp_path)), rows, strict=True):
    assert (back["task"], back["n_patterns"]) == (want["task"], want["n_patterns"])
    assert [back[m] for m in table1.MODELS] == pytest.approx([want[m] for m in table1.MODELS], abs=5e-5)
  # The json records the preset and the configuration that ran.
  record = json.loads((tmp_path / "table1.json").read_text())
  assert record["preset"] == "quick" and record["config"]["repeats"] == 50
  assert record["config"]["classic_zero_diagonal"] is False and record["config"]["precision"] == "float64"
  assert record["wall_seconds"] == 1.0
  assert (tmp_path / "table1.md").stat().st_size > 0
  assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_difference_from_the_paper_uses_the_published_table():
  rows = _rows((10, 20, 30))
  want = max(abs(r[m] - references.TABLE1[(r["task"], r["n_patterns"])][m]) for r in rows for m in table1.MODELS)
  assert table1.max_abs_diff_from_paper(rows) == pytest.approx(want)
  assert table1.max_abs_diff_from_paper([dict(rows[0], n_patterns=7)]) is None      # no published row
  assert table1.paper_row("denoising", 10) == references.TABLE1[("denoising", 10)]
  assert table1.paper_row("completion", 40) is None


def test_csv_rejects_unknown_task():
  with pytest.raises(ValueError, match="task"):
    table1.csv_text([dict(_rows()[0], task="recall")])


def test_run_writes_the_table_it_returns(tmp_path):
  """EXPERIMENT.run: config in, files and a summary out; the same key gives the same table."""
  exp = registry.get("table1")
  cfg = exp.config("quick", **TINY)
  summary = exp.run(cfg, str(tmp_path), preset="quick")
  assert {f for f in os.listdir(tmp_path)} == {"table1.csv", "table1.md", "table1.json"}
  back = table1.read_rows(str(tmp_path))
  assert [(r["task"], r["n_patterns"]) for r in back] == [(r["task"], r["n_patterns"]) for r in summary["rows"]]
  for a, b in zip(back, summary["rows"]):
    for m in table1.MODELS:
      assert a[m] == pytest.approx(b[m], abs=5e-5)
  assert summary["max_abs_diff_from_paper"] is None            # N = 6: the paper has no such row
  assert summary["preset"] == "quick + n_patterns=(6,), repeats=6, mhn_steps=20, ode_steps=40, classic_steps=3"
  assert json.loads((tmp_path / "table1.json").read_text())["preset"] == "quick"
  assert json.loads((tmp_path / "table1.json").read_text())["config"]["ode_steps"] == 40
  # key=None is the configuration's own key; an explicit key changes the inputs.
  assert table1.run_table1(cfg, table1.base_key(cfg)) == summary["rows"]
  other = table1.run_table1(cfg, jax.random.key(1, impl=table1.PRNG_IMPL))
  assert other != summary["rows"]


@pytest.mark.parametrize("variant", [
    dict(),
    dict(classic_mode="async", classic_zero_diagonal=True, aggregate="pooled", classic_start="sign",
         completion_theta=0.75),
    # float32 on denoising only: its tied completion cues are broken by rounding noise.
    dict(precision="float32", tasks=("denoising",), cues="one", repeats=12),
], ids=["quick", "variants", "float32"])
def test_jax_and_numpy_agree(variant):
  cfg = dataclasses.replace(table1.PRESETS["quick"], **dict(TINY, **variant))
  ours, ref = table1.run_table1(cfg), numpy_ref.run_table1_numpy(cfg)
  assert [(r["task"], r["n_patterns"]) for r in ours] == [(r["task"], r["n_patterns"]) for r in ref]
  for a, b in zip(ours, ref):
    for m in table1.MODELS:
      assert a[m] == pytest.approx(b[m], abs=1e-6), (a, b)


def test_numpy_per_repeat_loop_equals_batched():
  """The plain (per-repeat) NumPy reference computes exactly what the batched one does."""
  cfg = dataclasses.replace(table1.PRESETS["quick"], **TINY)
  loop, batched = numpy_ref.run_table1_numpy(cfg, batched=False), numpy_ref.run_table1_numpy(cfg, batched=True)
  for a, b in zip(loop, batched):
    for m in table1.MODELS:
      assert a[m] == pytest.approx(b[m], abs=1e-12), (a, b)


def test_unknown_names_raise():
  with pytest.raises(ValueError, match="task"):
    table1.Table1Config(tasks=("denoising", "recall"))
  with pytest.raises(ValueError, match="classic_mode"):
    table1.Table1Config(classic_mode="parallel")
  with pytest.raises(ValueError, match="cues"):
    table1.Table1Config(cues="some")
  with pytest.raises(ValueError, match="precision"):
    table1.Table1Config(precision="float16")
  with pytest.raises(ValueError, match="aggregate"):
    table1.Table1Config(aggregate="median")
  with pytest.raises(ValueError, match="preset"):
    table1.get_preset("fast")
  with pytest.raises(ValueError, match="preset"):
    table1.EXPERIMENT.config("fast")
  with pytest.raises(ValueError, match="unknown table1 settings"):
    table1.EXPERIMENT.config("quick", n_repeats=3)
  with pytest.raises(ValueError, match="task"):
    table1.run_row(table1.PRESETS["quick"], "recall", 10)
  with pytest.raises(ValueError, match="theta"):
    table1.Table1Config(theta=1.5)


def test_paper_preset_has_the_stated_settings():
  paper = table1.PRESETS["paper"]
  assert {k: getattr(paper, k) for k in references.TABLE1_SETTINGS} == references.TABLE1_SETTINGS
  assert set(references.TABLE1) == {(t, n) for t in paper.tasks for n in paper.n_patterns}


def test_presets_differ_only_where_documented():
  """paper = the stated settings at full size; reproduce = diagonal kept; quick = reproduce, 50 repeats."""
  paper, reproduce, quick = (table1.PRESETS[k] for k in ("paper", "reproduce", "quick"))
  assert set(table1.PRESETS) == {"paper", "reproduce", "quick"} == set(table1.PRESET_NOTES)
  assert paper.classic_zero_diagonal and not reproduce.classic_zero_diagonal
  assert dataclasses.replace(reproduce, classic_zero_diagonal=True) == paper
  assert dataclasses.replace(quick, repeats=100) == reproduce and quick.repeats == 50
  assert table1.Table1Config() == paper                      # the defaults are the stated settings
  assert reproduce.precision == paper.precision == "float64"
  assert (paper.d, paper.n_patterns, paper.theta, paper.repeats, paper.beta, paper.mhn_steps,
          paper.gamma, paper.ode_steps, paper.t_end, paper.completion_p, paper.classic_mode,
          paper.classic_steps, paper.classic_start) == (
              10, (10, 20, 30), 0.68, 100, 5.0, 150, 0.8, 300, 1e-3, 0.5, "sync", 10, "cue")


def test_preset_labels_name_the_preset_and_the_changed_settings():
  """table1.md and table1.json name the preset a configuration is, or is nearest to, and what differs."""
  for preset in ("paper", "reproduce", "quick"):
    assert table1.nearest_preset(table1.PRESETS[preset]) == preset
    assert table1.preset_label(table1.PRESETS[preset]) == preset
    record = json.loads(table1.config_json(table1.PRESETS[preset]))
    assert record["preset"] == preset
    assert record["config"]["classic_zero_diagonal"] == (preset == "paper")
  cfg = dataclasses.replace(table1.PRESETS["reproduce"], classic_mode="async", classic_steps=3,
                            precision="float32")
  assert table1.preset_label(cfg) == "reproduce + classic_mode=async, classic_steps=3, precision=float32"
  assert table1.preset_label(cfg, "paper").startswith("paper + classic_mode=async")


def test_one_implementation_of_binarize_pearson_and_t_start(monkeypatch):
  """Table 1 uses the library's binarize and Pearson (planted copies change its numbers) and VPSDE.t_start."""
  cfg = dataclasses.replace(table1.PRESETS["quick"], **dict(TINY, seed=987))   # a fresh trace
  calls = {"pearson": 0, "binarize": 0}
  pearson, binarize = metrics.pearson, metrics.binarize

  def counted(name, fn):
    def wrapper(*args, **kwargs):
      calls[name] += 1
      return fn(*args, **kwargs)
    return wrapper

  monkeypatch.setattr(metrics, "pearson", counted("pearson", pearson))
  monkeypatch.setattr(metrics, "binarize", counted("binarize", binarize))
  table1.run_table1(cfg)
  assert calls["pearson"] > 0 and calls["binarize"] > 0, calls
  cfg = dataclasses.replace(table1.PRESETS["quick"], completion_theta=0.8)
  assert cfg.t_start("denoising") == pytest.approx(float(VPSDE(0.8).t_start(0.68)), rel=1e-6)
  assert cfg.t_start("completion") == pytest.approx(float(VPSDE(0.8).t_start(0.8)), rel=1e-6)
  a, b = np.array([1.0, -1.0, 1.0, 1.0]), np.array([1.0, -1.0, -1.0, 1.0])
  assert numpy_ref.pearson_np(a, b) == pytest.approx(float(metrics.pearson(a, b)), abs=1e-7)


def test_diffusion_tracks_mhn_better_than_classic():
  """The paper's claim in miniature: exact diffusion ≈ MHN, far closer than the classical network."""
  cfg = dataclasses.replace(table1.PRESETS["quick"], n_patterns=(10,))
  for row in table1.run_table1(cfg):
    assert row["diffusion"] > 0.95
    assert row["diffusion"] > row["classic"] + 0.15
    assert row["diffusion"] > row["true"]


def test_inputs_follow_the_task():
  cfg = dataclasses.replace(table1.PRESETS["quick"], repeats=3)
  den = table1.sample_inputs(cfg, "denoising", 10)
  com = table1.sample_inputs(cfg, "completion", 10)
  assert den["patterns"].shape == (3, 10, 10) and den["cues"].shape == (3, 10, 10)
  np.testing.assert_array_equal(np.abs(np.asarray(den["patterns"])), 1.0)
  np.testing.assert_array_equal(den["targets"], den["patterns"])     # every pattern cued once
  cues, targets = np.asarray(com["cues"]), np.asarray(com["targets"])
  assert np.all((cues == 0) | (cues == targets))                     # zero-masked, never flipped
  assert 0.3 < np.mean(cues == 0) < 0.7                              # p = 0.5


_MODES_SCRIPT = textwrap.dedent("""
  import json
  import jax
  from assocmem.experiments import table1
  rows = {}
  for mode in table1.MIXTURE_MODES:
    cfg = table1.get_preset("quick", repeats=2, n_patterns=(12,), mhn_steps=30, ode_steps=40, mixture_mode=mode,
                            chunk_size=8)
    rows[mode] = [[r[m] for m in table1.MODELS] for r in table1.run_table1(cfg)]
  print(json.dumps({"devices": len(jax.devices()), "rows": rows}))
""")


def test_mixture_modes_give_the_same_table_on_8_devices(tmp_path):
  """The mesh setting changes the layout only: dense, streaming and sharded retrieval over 8 (forced
  CPU) devices give the same table, so combining the shards is tested, not a one-device mesh."""
  script = tmp_path / "modes.py"
  script.write_text(_MODES_SCRIPT)
  env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
         "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)}
  res = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
  assert res.returncode == 0, res.stderr[-3000:]
  out = json.loads(res.stdout.strip().splitlines()[-1])
  assert out["devices"] == 8
  rows = out["rows"]
  np.testing.assert_allclose(rows["streaming"], rows["dense"], atol=1e-12)
  np.testing.assert_allclose(rows["sharded"], rows["dense"], atol=1e-12)
