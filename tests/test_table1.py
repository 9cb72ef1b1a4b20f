"""Seed 002, Table 1: the experiment (JAX vs the benchmark's NumPy reference), its presets, and the script's writers."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import os
import sys

import numpy as np
import pytest

from assocmem import metrics
from assocmem.experiments import table1
from assocmem.sde import VPSDE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from benchcases import numpy_ref  # noqa: E402  (scripts/benchcases: the benchmark's NumPy baseline)

# Small enough to compile and run in seconds; the models and their step counts are the paper's
# except where shortened (the NumPy reference loops over time steps in Python).
TINY = dict(n_patterns=(6,), repeats=6, mhn_steps=20, ode_steps=40, classic_steps=3)


def _load_script():
  spec = importlib.util.spec_from_file_location("table1_script_under_test",
                                                os.path.join(ROOT, "scripts", "table1.py"))
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module          # dataclasses resolve their annotations through sys.modules
  spec.loader.exec_module(module)
  return module


@pytest.fixture(scope="module")
def script():
  return _load_script()


def _rows(n=(10, 30)):
  return [{"task": t, "n_patterns": k, "diffusion": 0.99, "classic": 0.7, "true": 0.8}
          for t in table1.TASKS for k in n]


def test_csv_header_and_rows(script, tmp_path):
  rows = [dict(r, diffusion=0.99 - i / 1000) for i, r in enumerate(_rows((10, 20, 30)))]
  script.write_outputs(str(tmp_path), rows, table1.PRESETS["quick"], "quick", seconds=1.0)
  text = (tmp_path / "table1.csv").read_text()
  assert text.splitlines()[0] == "task,n_patterns,diffusion,classic,true"
  parsed = list(csv.DictReader(text.splitlines()))
  assert [(r["task"], int(r["n_patterns"])) for r in parsed] == [
      ("denoising", 10), ("denoising", 20), ("denoising", 30),
      ("completion", 10), ("completion", 20), ("completion", 30)]
  assert [float(r["diffusion"]) for r in parsed] == pytest.approx([r["diffusion"] for r in rows])
  # The markdown carries the paper's value and the difference; the json the config used.
  md = (tmp_path / "table1.md").read_text()
  assert "| denoising | 10 | 0.990 | 0.995 | -0.005 |" in md
  record = json.loads((tmp_path / "table1.json").read_text())
  assert record["preset"] == "quick" and record["config"]["repeats"] == 50
  assert "diagonal kept" in record["classic_network"] and "float64" in record["precision"]
  assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp_")]


def test_csv_rejects_unknown_task(script):
  with pytest.raises(ValueError, match="task"):
    script.csv_text([dict(_rows()[0], task="recall")])


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
  with pytest.raises(ValueError, match="task"):
    table1.run_row(table1.PRESETS["quick"], "recall", 10)
  with pytest.raises(ValueError, match="theta"):
    table1.Table1Config(theta=1.5)


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


def test_reports_name_the_classical_network_and_precision(script):
  """Every table1.md says which classical network (diagonal, schedule, steps) and precision ran."""
  rows = _rows((10, 20, 30))
  for preset, diagonal in (("paper", "zero diagonal"), ("reproduce", "diagonal kept"),
                           ("quick", "diagonal kept")):
    md = script.markdown_text(rows, table1.PRESETS[preset], preset)
    ran = next(line for line in md.splitlines() if line.startswith("Ran:"))
    assert diagonal in ran and "10 synchronous updates" in ran and "float64" in ran, ran
    assert f"# Seed 002, Table 1 (preset `{preset}`)" in md
  cfg = dataclasses.replace(table1.PRESETS["reproduce"], classic_mode="async", classic_steps=3,
                            precision="float32")
  md = script.markdown_text(rows, cfg, "reproduce")
  assert "3 asynchronous sweeps" in md and "float32" in md
  assert "(preset `reproduce + classic_mode=async, classic_steps=3, precision=float32`)" in md
  assert "0.27–0.33 below" in script.markdown_text(rows, table1.PRESETS["paper"], "paper")


def test_one_implementation_of_binarize_pearson_and_t_start():
  """Table 1 uses the library's binarize, Pearson and VPSDE.t_start (no private copies)."""
  src = open(table1.__file__).read()
  for copy in ("np.log", "def _pearson", "jnp.where(x >= 0", "def _sign", "_np("):
    assert copy not in src, copy
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


def test_mixture_modes_give_the_same_table():
  """The mesh setting changes the layout only: dense, streaming and sharded retrieval agree."""
  rows = {}
  for mode in table1.MIXTURE_MODES:
    cfg = table1.get_preset("quick", repeats=2, n_patterns=(10, 20), mixture_mode=mode, chunk_size=8)
    rows[mode] = [[r[m] for m in table1.MODELS] for r in table1.run_table1(cfg)]
  np.testing.assert_allclose(rows["streaming"], rows["dense"], atol=1e-12)
  np.testing.assert_allclose(rows["sharded"], rows["dense"], atol=1e-12)
