"""Memorisation → generalisation: the sample classifier on constructed cases, the exact model, outputs."""

from __future__ import annotations

import json
import os

import jax
import numpy as np
import pytest

from assocmem.experiments import memorisation as mm
from assocmem.experiments import registry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_classifier_on_constructed_cases():
  rng = np.random.default_rng(0)
  patterns = np.stack([np.ones(8), -np.ones(8), np.tile([1.0, -1.0], 4)])
  z1 = np.repeat([1.0, -1.0], 4)                         # a binary state 4 bits from every pattern
  z2 = np.full(8, 0.05)                                  # a second, distinct non-pattern attractor
  samples = np.stack([
      patterns[0] + 0.1 * rng.standard_normal(8),        # memorised
      patterns[2] + 0.3 * rng.standard_normal(8) / np.sqrt(8),  # memorised
      z1 + 0.05, z1 - 0.05, z1 + 0.02,                   # one spurious attractor, 3 samples
      z2, z2 + 0.1,                                      # another, 2 samples
      3.0 * np.ones(8),                                  # isolated: other
      np.linspace(-2.0, 2.0, 8),                         # isolated: other
  ])
  labels, n_att = mm.classify(samples, patterns, delta_m=1.0, delta_s=1.0)
  assert labels.tolist() == [mm.MEMORISED] * 2 + [mm.SPURIOUS] * 5 + [mm.OTHER] * 2
  assert n_att == 2
  f = mm.fractions(labels)
  assert f == pytest.approx({"memorised": 2 / 9, "spurious": 5 / 9, "other": 2 / 9})
  # a sample near a training pattern never counts as spurious, even next to another sample
  labels, n_att = mm.classify(np.stack([patterns[0], patterns[0] + 0.01]), patterns)
  assert labels.tolist() == [mm.MEMORISED] * 2 and n_att == 0
  # radii: just outside δ_m is not memorised; two samples 0.9 apart share an attractor at δ_s = 1
  far = patterns[0] + np.r_[1.01, np.zeros(7)]
  assert mm.classify(far[None], patterns)[0].tolist() == [mm.OTHER]
  pair = np.stack([z2, z2 + np.r_[0.9, np.zeros(7)]])
  assert mm.classify(pair, patterns, delta_s=1.0)[0].tolist() == [mm.SPURIOUS] * 2
  assert mm.classify(pair, patterns, delta_s=0.5)[0].tolist() == [mm.OTHER] * 2
  with pytest.raises(ValueError, match="share d"):
    mm.classify(samples[:, :4], patterns)


TINY = mm.MemorisationConfig(dims=(6,), capacity=((6, 2),), ratios=(8.0,), repeats=2, hidden_per_dim=4,
                             n_iterations=20, chunk_size=10, n_samples=32, sample_steps=60)


def test_exact_model_memorises_at_eight_times_capacity():
  res = mm.run_cell(TINY, "exact", 6, 16)
  assert res["memorised"] == [1.0, 1.0] and res["spurious_attractors"] == [0, 0]
  assert max(res["median_distance_to_pattern"]) < 0.2


def test_csv_text_has_the_header_and_one_row_per_repeat():
  rec = {"d": 6, "n_patterns": 4, "memorised": [0.5, 1.0], "spurious": [0.25, 0.0], "other": [0.25, 0.0]}
  lines = mm.csv_text([rec]).splitlines()
  assert lines == ["d,n_patterns,repeat,memorised,spurious,other", "6,4,0,0.5000,0.2500,0.2500",
                   "6,4,1,1.0000,0.0000,0.0000"]


@pytest.mark.slow
def test_exact_model_memorises_at_every_n():
  for n in (2, 32, 128):
    res = mm.run_cell(TINY, "exact", 6, n)
    assert res["memorised"] == [1.0, 1.0], (n, res)
    assert res["spurious_attractors"] == [0, 0]
    assert max(res["median_distance_to_pattern"]) < 0.2


@pytest.mark.slow
def test_run_writes_csvs_and_resumes(tmp_path):
  out = str(tmp_path / "m")
  s = mm.run(TINY, out)
  assert TINY.n_grid(6) == [16]                        # 8 × the capacity
  for name in ("memorisation.csv", "memorisation_exact.csv"):
    with open(os.path.join(out, name)) as f:
      lines = f.read().splitlines()
    assert lines[0] == "d,n_patterns,repeat,memorised,spurious,other"
    assert len(lines) == 1 + 2
    for line in lines[1:]:
      d, n, rep, *fr = line.split(",")
      assert int(d) == 6 and int(n) == 16 and int(rep) in (0, 1)
      assert sum(map(float, fr)) == pytest.approx(1.0, abs=1e-3)
  exact_rows = [r for r in s["table"] if r["model"] == "exact"]
  assert exact_rows and all(r["memorised"] == 1.0 for r in exact_rows)   # the exact model memorises
  assert os.path.getsize(os.path.join(out, "memorisation.png")) > 0
  with open(os.path.join(out, "memorisation.json")) as f:
    written = json.load(f)
  learned = [r for r in written["table"] if r["model"] == "learned"]
  assert [(r["d"], r["n_patterns"], r["n_over_capacity"]) for r in learned] == [(6, 16, 8.0)]
  assert learned[0]["memorised"] + learned[0]["spurious"] + learned[0]["other"] == pytest.approx(1.0)
  assert written["table"] == s["table"] and written["config_hash"] == TINY.config_hash()
  before = {n: open(os.path.join(out, n), "rb").read() for n in ("memorisation.csv", "memorisation_exact.csv")}
  again = mm.run(TINY, out)
  assert again["cells_computed_this_run"] == 0 and again["table"] == s["table"]
  assert before == {n: open(os.path.join(out, n), "rb").read() for n in before}


def test_capacity_table_and_bad_settings(tmp_path):
  path = tmp_path / "lc.csv"
  path.write_text("d,repeat,capacity\n10,0,4\n10,1,5\n12,0,7\n")
  assert mm.capacity_table_from_csv(str(path)) == {10: 4, 12: 7}
  assert mm.MemorisationConfig(capacity=((10, 4), (12, 8))).n_grid(10) == [2, 4, 8, 16, 32, 64]
  with pytest.raises(ValueError, match="capacity"):
    mm.MemorisationConfig(dims=(10, 14))
  with pytest.raises(ValueError, match="delta_s"):
    mm.MemorisationConfig(delta_s=0.0)
  with pytest.raises(ValueError, match="theta_min"):
    mm.MemorisationConfig(theta_min=0.0)
  with pytest.raises(ValueError, match="ratios"):
    mm.MemorisationConfig(ratios=())


def test_registered_and_reads_the_learned_capacities_it_is_given(tmp_path):
  exp = registry.get("memorisation")
  assert exp is mm.EXPERIMENT and exp.folder == "memorisation" and os.path.exists(os.path.join(REPO, exp.script_path))
  assert set(exp.presets) == {"quick", "paper"}
  # make reproduce passes the learned_capacity experiment's CSV of the same results directory
  results = str(tmp_path / "results")
  lc_exp = registry.get("learned_capacity")
  assert list(exp.reproduce_args(results, "quick", None)) == [
      f"--learned_capacity_csv={os.path.join(lc_exp.output_dir(results), 'learned_capacity.csv')}"]
  path = tmp_path / "lc.csv"
  path.write_text("d,repeat,capacity\n6,0,3\n6,1,4\n8,0,5\n")
  cfg = exp.config("quick", learned_capacity_csv=str(path), repeats=1)
  assert cfg.capacity == ((6, 4), (8, 5)) and cfg.repeats == 1 and cfg.n_grid(6) == [2, 4, 8, 16, 32, 64]
  assert exp.config("quick").capacity == ((6, 2),)
  with pytest.raises(ValueError, match="learned_capacity_csv"):
    exp.config("quick", learned_capacity_csv=str(tmp_path / "missing.csv"))
  with pytest.raises(ValueError, match="preset"):
    exp.config("huge")
  with pytest.raises(ValueError, match="unknown"):
    exp.config("quick", n_sample=3)


def test_the_key_tags_the_cells():
  assert mm.run_hash(TINY) == mm.run_hash(TINY, jax.random.PRNGKey(TINY.seed)) == TINY.config_hash()
  assert mm.run_hash(TINY, jax.random.PRNGKey(5)) != TINY.config_hash()
  with pytest.raises(ValueError, match="model_kind"):
    mm.run_cell(TINY, "hopfield", 6, 4)


def test_classifier_in_blocks_equals_the_exact_one_and_counts_sum_to_n(monkeypatch):
  import importlib
  cl = importlib.import_module("assocmem.experiments.memorisation.classify")
  rng = np.random.default_rng(0)
  patterns = np.sign(rng.normal(size=(30, 40)))
  samples = np.concatenate([patterns[:10] + 0.05 * rng.normal(size=(10, 40)),   # memorised
                            np.repeat(rng.normal(size=(5, 40)), 2, axis=0) + 0.01 * rng.normal(size=(10, 40)),
                            5.0 * rng.normal(size=(7, 40))])                       # spurious pairs, others
  exact = cl.classify(samples, patterns)
  monkeypatch.setattr(cl, "EXACT_ELEMENTS", 0)
  monkeypatch.setattr(cl, "_BLOCK", 4)
  blocks = cl.classify(samples, patterns)
  np.testing.assert_array_equal(blocks[0], exact[0])
  assert blocks[1] == exact[1] == 5
  assert np.bincount(exact[0], minlength=3).tolist() == [10, 10, 7]
  assert sum(cl.fractions(exact[0]).values()) == pytest.approx(1.0)
