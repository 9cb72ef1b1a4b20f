"""Learned capacity (seed 002, App. A): all candidates at once == the sequential procedure; outputs; resume."""

from __future__ import annotations

import csv
import dataclasses
import json
import os

import jax
import numpy as np
import pytest

from assocmem.experiments import learned_capacity as lc
from assocmem.experiments import registry, sweep
from assocmem.experiments.learned_capacity import compute
from assocmem.train import score as train_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY = lc.LearnedCapacityConfig(dims=(4,), repeats=2, margin=2, floor=1, hidden_per_dim=4, n_iterations=40,
                                chunk_size=20, n_batches=3, ode_steps=20, threshold=0.2,
                                block=None, exact_capacity=((4, 2),))


def test_patterns_are_nested_and_cues_are_per_candidate():
  a = lc.repeat_patterns(TINY, 6, 1, 3)
  b = lc.repeat_patterns(TINY, 6, 1, 5)
  np.testing.assert_array_equal(a, b[:3])
  assert set(np.unique(b)) <= {-1.0, 1.0}
  assert not np.array_equal(lc.repeat_patterns(TINY, 6, 0, 5), b)
  c = lc.candidate_cues(TINY, b, 6, 1)
  assert c.shape == (TINY.n_batches, 5, 6)
  np.testing.assert_array_equal(c, lc.candidate_cues(TINY, b, 6, 1))


def test_plan_walks_down_until_a_pass():
  h = TINY.config_hash()
  rec = lambda r, n, ok: (sweep.cell_id({"d": 4, "repeat": r, "n_patterns": n, "config": h}),
                          {"d": 4, "repeat": r, "n_patterns": n, "config": h, "passed": ok})
  done = dict([rec(0, 5, False), rec(0, 4, True), rec(1, 5, False)])
  seq = dataclasses.replace(TINY, block=1)
  assert compute._plan(seq, 4, 5, done) == [(1, 4)]                       # repeat 0 finished at 4
  every = dataclasses.replace(TINY, block=None)
  assert compute._plan(every, 4, 5, done) == [(1, 4), (1, 3), (1, 2), (1, 1)]
  rows = lc.capacities_from_records(seq, [v for _, v in [rec(0, 5, False), rec(0, 4, True), rec(1, 5, False),
                                                          rec(1, 4, False), rec(1, 3, False), rec(1, 2, False),
                                                          rec(1, 1, False)]], {4: 5})
  assert rows == [{"d": 4, "repeat": 0, "capacity": 4}, {"d": 4, "repeat": 1, "capacity": 0}]


def test_all_at_once_equals_sequential_and_resumes(tmp_path):
  exact = lc.exact_capacities(TINY)
  assert exact == {4: {"capacity": 2, "value": 2.0, "source": "table"}}
  at_once = lc.run(TINY, str(tmp_path / "once"), exact=exact)
  seq_cfg = dataclasses.replace(TINY, block=1)
  sequential = lc.run(seq_cfg, str(tmp_path / "seq"))           # exact capacities from the config's table
  assert at_once["capacity"] == sequential["capacity"]
  assert sequential["candidates_trained"] <= at_once["candidates_trained"] == 2 * 4
  caps = at_once["capacity"]["4"]
  assert all(0 <= c <= 4 for c in caps)
  # the candidates both runs trained have the same errors
  load = lambda d: {(r["repeat"], r["n_patterns"]): r["mean_error"]
                    for r in sweep.JsonlStore(os.path.join(d, "candidates.jsonl"), lc.ID_FIELDS).load().values()}
  once, seq = load(str(tmp_path / "once")), load(str(tmp_path / "seq"))
  for k, v in seq.items():
    assert once[k] == pytest.approx(v, abs=1e-6)
  # CSV: exactly the header d,repeat,capacity; load_points; the JSON summary; the figure
  path = str(tmp_path / "once" / "learned_capacity.csv")
  with open(path) as f:
    assert f.readline().strip() == "d,repeat,capacity"
  assert lc.load_points(path) == [(4, c) for c in caps]
  with open(tmp_path / "once" / "learned_capacity.json") as f:
    written = json.load(f)
  assert written["capacity"] == {"4": caps} and written["n_top"] == {"4": 2 + TINY.margin}
  assert written["mean_capacity"]["4"] == pytest.approx(np.mean(caps))
  assert written["config_hash"] == TINY.config_hash() and written["candidates_trained"] == 2 * 4
  assert os.path.getsize(tmp_path / "once" / "learned_capacity.png") > 0
  # a sequential run interrupted during training resumes from candidates.jsonl to the same CSV
  calls = [0]

  def abort(*args):
    del args
    calls[0] += 1
    if calls[0] == 3:
      raise KeyboardInterrupt("planted interruption")

  with pytest.raises(KeyboardInterrupt):
    lc.run(seq_cfg, str(tmp_path / "cut"), on_chunk=abort)
  done = sweep.JsonlStore(os.path.join(tmp_path / "cut", "candidates.jsonl"), lc.ID_FIELDS).load()
  assert 0 < len(done) < sequential["candidates_trained"]
  resumed = lc.run(seq_cfg, str(tmp_path / "cut"))
  assert resumed["candidates_trained"] == sequential["candidates_trained"]
  assert (open(tmp_path / "cut" / "learned_capacity.csv", "rb").read()
          == open(tmp_path / "seq" / "learned_capacity.csv", "rb").read())
  # a rerun trains nothing and rewrites the same CSV, byte for byte
  before = open(path, "rb").read()
  os.remove(path)
  again = lc.run(TINY, str(tmp_path / "once"), exact=exact)
  assert again["rounds_this_run"] == 0 and open(path, "rb").read() == before


def test_exact_capacity_sources(tmp_path):
  path = tmp_path / "capacity.csv"
  with open(path, "w") as f:
    w = csv.writer(f)
    w.writerow(["model", "d", "capacity", "lower", "upper"])
    w.writerow(["mhn", 10, 9.0, 1, 2])
    w.writerow(["diffusion", 10, 5.6, 3.6, 9.5])
    w.writerow(["diffusion", 12, 8.4, 5, 12])
  cfg = lc.LearnedCapacityConfig(dims=(10, 12))
  assert cfg.start_rounding == "floor"
  got = lc.exact_capacities(cfg, str(path))
  # floor: the start floor(c) + 4 never exceeds c + 4 (5.6 + 4 = 9.6 -> 9; 8.4 + 4 -> 12).
  assert got[10]["capacity"] == 5 and got[12]["capacity"] == 8 and got[10]["source"] == "capacity.csv"
  assert got[10]["value"] == 5.6
  near = lc.exact_capacities(dataclasses.replace(cfg, start_rounding="nearest"), str(path))
  assert near[10]["capacity"] == 6 and near[12]["capacity"] == 8
  with pytest.raises(ValueError, match="no exact capacity"):
    lc.exact_capacities(lc.LearnedCapacityConfig(dims=(10, 14)), str(path))
  with pytest.raises(ValueError, match="exact_capacity_csv"):
    lc.exact_capacities(cfg, str(tmp_path / "missing.csv"))


def test_integer_capacity_floor_and_nearest():
  assert [lc.integer_capacity(v) for v in (3.95, 7.58, 15.59, 27.86, 7.0, 6.9999999999, 0.2)] == [3, 7, 15, 27, 7, 7, 0]
  assert [lc.integer_capacity(v, "nearest") for v in (3.95, 7.58, 15.59, 27.86, 7.0, 0.2)] == [4, 8, 16, 28, 7, 0]
  for bad in (float("nan"), -1.0, "7"):
    with pytest.raises(ValueError, match="value"):
      lc.integer_capacity(bad)
  with pytest.raises(ValueError, match="rounding"):
    lc.integer_capacity(3.0, "ceil")


def test_start_rounding_changes_only_where_the_walk_starts():
  """Same candidate records: the two starts give the same capacity unless a repeat passes above ⌊c⌋ + margin."""
  cfg = lc.LearnedCapacityConfig(dims=(10,), repeats=2)
  chash = cfg.config_hash()
  rec = lambda r, n, ok: {"d": 10, "repeat": r, "n_patterns": n, "config": chash, "passed": ok}
  # repeat 0 passes at 5 (below both starts); repeat 1 passes at the nearest start 8 only.
  records = [rec(0, n, n <= 5) for n in range(1, 9)] + [rec(1, n, n in (8, 3)) for n in range(1, 9)]
  exact = 3.95   # floor start 7, nearest start 8
  caps = {rnd: [r["capacity"] for r in lc.capacities_from_records(
      cfg, records, {10: lc.integer_capacity(exact, rnd) + cfg.margin})] for rnd in lc.START_ROUNDINGS}
  assert caps == {"floor": [5, 3], "nearest": [5, 8]}
  assert dataclasses.replace(cfg, start_rounding="nearest").config_hash() == chash   # records stay valid


def test_load_points_rejects_other_headers(tmp_path):
  path = tmp_path / "x.csv"
  path.write_text("d,capacity\n10,5\n")
  with pytest.raises(ValueError, match="header"):
    lc.load_points(str(path))


def test_bad_settings_name_the_argument():
  for kw, name in (({"dims": ()}, "dims"), ({"repeats": 0}, "repeats"), ({"block": 0}, "block"),
                   ({"n_iterations": 0}, "n_iterations"), ({"theta_min": 0.0}, "theta_min"),
                   ({"theta_max": 1.1}, "theta_max"), ({"hidden_per_dim": 0}, "hidden_per_dim"),
                   ({"theta": 1.0}, "theta"), ({"exact_capacity": ((10, "a"),)}, "exact_capacity"),
                   ({"start_rounding": "up"}, "start_rounding")):
    with pytest.raises(ValueError, match=name):
      lc.LearnedCapacityConfig(**kw)
  with pytest.raises(ValueError, match="preset"):
    lc.get_preset("huge")


def test_figure3b_gets_the_learned_points_as_black_dots(tmp_path):
  from assocmem.experiments import capacity
  cap_dir = tmp_path / "capacity"
  cap_dir.mkdir()
  rows = [{"model": m, "d": d, "capacity": c, "lower": 0.8 * c, "upper": 1.2 * c, "raw_capacity": c}
          for m in ("mhn", "diffusion") for d, c in ((10, 4.0), (12, 8.0))]
  capacity.write_capacity_csv([{**r, "raw_lower": r["lower"], "raw_upper": r["upper"]} for r in rows],
                              str(cap_dir))
  back = capacity.read_capacity_rows(str(cap_dir))
  assert [(r["model"], r["d"], r["capacity"], r["raw_capacity"]) for r in back] == \
      [(r["model"], r["d"], r["capacity"], r["raw_capacity"]) for r in rows]
  learned = tmp_path / "learned_capacity.csv"
  lc.write_csv([{"d": 10, "repeat": 0, "capacity": 3}, {"d": 12, "repeat": 0, "capacity": 6}], str(learned))
  with_dots = capacity.draw_figure3b_with_learned(str(cap_dir), str(learned))
  plain = capacity.plot_capacity(back, ("mhn", "diffusion"), 0.03, str(tmp_path / "plain.png"))
  assert open(with_dots, "rb").read() != open(plain, "rb").read()
  assert os.path.basename(with_dots) == "fig3b_capacity_learned.png" and os.path.getsize(with_dots) > 0


def test_early_decision_gives_the_full_evaluation_verdicts():
  """Stopping a candidate's test once its verdict is settled changes no verdict; the batches it
  takes are whole groups, and a full evaluation's error is the mean over all batches."""
  cfg = dataclasses.replace(TINY, n_batches=6, eval_group=1, threshold=0.2)
  d, plan = 4, [(0, 1), (0, 3), (1, 4), (1, 2)]
  sizes = [n for _, n in plan]
  patterns = np.zeros((len(plan), 4, d), np.float32)
  cues = np.zeros((len(plan), cfg.n_batches, 4, d), np.float32)
  keys = []
  for k, (r, n) in enumerate(plan):
    p = lc.repeat_patterns(cfg, d, r, n)
    patterns[k, :n] = p
    cues[k, :, :n] = lc.candidate_cues(cfg, p, d, r)
    keys.append(np.asarray(lc.candidate_key(cfg, d, r, n)))
  masks = (np.arange(4)[None] < np.array(sizes)[:, None]).astype(np.float32)
  state = train_lib.fit_ensemble(cfg.model(d), np.stack(keys), patterns, masks, cfg.train_config())
  full_err, full_taken, full_pass = lc.evaluate_candidates(
      dataclasses.replace(cfg, early_decision=False), d, state.params, patterns, sizes, cues)
  early_err, early_taken, early_pass = lc.evaluate_candidates(cfg, d, state.params, patterns, sizes, cues)
  assert np.all(full_taken == cfg.n_batches) and np.all(early_taken <= cfg.n_batches)
  np.testing.assert_array_equal(early_pass, full_pass)
  assert full_pass.any() and not full_pass.all() and early_taken.min() < cfg.n_batches   # both verdicts, a stop
  np.testing.assert_array_equal(full_pass, full_err <= cfg.threshold)
  for k in range(len(plan)):             # a stopped evaluation agrees with the full one on its batches
    if early_taken[k] == cfg.n_batches:
      assert early_err[k] == full_err[k]
  with pytest.raises(ValueError, match="eval_group"):
    lc.LearnedCapacityConfig(eval_group=0)
  with pytest.raises(ValueError, match="early_decision"):
    lc.LearnedCapacityConfig(early_decision="yes")


def test_registered_with_its_script_presets_and_folder():
  exp = registry.get("learned_capacity")
  assert exp is lc.EXPERIMENT and exp.folder == "learned_capacity"
  assert exp.script_path == "scripts/learned_capacity.py" and os.path.exists(os.path.join(REPO, exp.script_path))
  assert set(exp.presets) == {"quick", "paper"} and exp.presets["paper"] == lc.LearnedCapacityConfig()
  cfg = exp.config("quick", repeats=3, exact_capacity_csv="capacity.csv")
  assert cfg.repeats == 3 and cfg.exact_capacity_csv == "capacity.csv"
  assert cfg.config_hash() == exp.presets["quick"].config_hash()      # which candidates run, not what they give
  with pytest.raises(ValueError, match="preset"):
    exp.config("huge")
  with pytest.raises(ValueError, match="exact_capacity_csv"):
    lc.LearnedCapacityConfig(exact_capacity_csv="")


def test_the_key_is_the_base_of_every_draw_and_tags_the_records():
  """key=None and PRNGKey(seed) are the seed's draws and records; another key draws anew under its own tag."""
  seed_key, other = jax.random.PRNGKey(TINY.seed), jax.random.PRNGKey(7)
  np.testing.assert_array_equal(lc.repeat_patterns(TINY, 6, 1, 5, key=seed_key), lc.repeat_patterns(TINY, 6, 1, 5))
  assert not np.array_equal(lc.repeat_patterns(TINY, 6, 1, 5, key=other), lc.repeat_patterns(TINY, 6, 1, 5))
  np.testing.assert_array_equal(lc.candidate_key(TINY, 4, 0, 3, key=seed_key), lc.candidate_key(TINY, 4, 0, 3))
  p = lc.repeat_patterns(TINY, 6, 1, 5)
  assert not np.array_equal(lc.candidate_cues(TINY, p, 6, 1, key=other), lc.candidate_cues(TINY, p, 6, 1))
  assert lc.run_hash(TINY) == lc.run_hash(TINY, seed_key) == TINY.config_hash()
  assert lc.run_hash(TINY, other) not in (TINY.config_hash(), lc.run_hash(TINY, jax.random.PRNGKey(8)))
