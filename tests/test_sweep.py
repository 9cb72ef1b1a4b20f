"""Tests of the resumable sweep engine (assocmem.experiments.sweep)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest

from assocmem.experiments import sweep

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cell_fn(params, key):
  """A pure cell: a few draws from the cell's key."""
  x = np.asarray(jax.random.normal(key, (3,)))
  return {"value": float(x.sum() + params["n"] * params["d"])}


def _series(stop_at=None):
  stop = None if stop_at is None else (lambda recs: recs[-1]["n"] >= stop_at)
  return [sweep.Series({"d": d}, "n", [1, 2, 4, 8, 16], stop) for d in (3, 5)]


def _read_lines(path):
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def test_cell_key_depends_only_on_named_fields():
  base = jax.random.PRNGKey(0)
  k1 = sweep.cell_key(base, {"d": 3, "n": 4, "model": "a"}, ("d", "n"))
  k2 = sweep.cell_key(base, {"model": "b", "n": 4, "d": 3}, ("d", "n"))
  k3 = sweep.cell_key(base, {"d": 4, "n": 3}, ("d", "n"))
  np.testing.assert_array_equal(k1, k2)
  assert not np.array_equal(k1, k3)
  ks = sweep.cell_key(base, {"m": "diffusion"}, ("m",))
  np.testing.assert_array_equal(ks, sweep.cell_key(base, {"m": "diffusion"}, ("m",)))
  with pytest.raises(ValueError, match="not a parameter"):
    sweep.cell_key(base, {"d": 3}, ("n",))
  with pytest.raises(ValueError, match=r"\[0, 2\*\*32\)"):
    sweep.cell_key(base, {"n": -1}, ("n",))


def test_store_roundtrip_and_truncated_last_line(tmp_path):
  path = str(tmp_path / "cells.jsonl")
  store = sweep.JsonlStore(path, ("d", "n"))
  assert store.load() == {}
  store.append({"d": 1, "n": 2, "v": 0.5})
  store.append({"d": 1, "n": 3, "v": 0.25})
  with open(path, "ab") as f:
    f.write(b'{"d": 1, "n": 4, "v"')          # a run killed mid-line
  loaded = store.load()
  assert sorted(r["n"] for r in loaded.values()) == [2, 3]
  with open(path, "rb") as f:
    assert f.read().endswith(b"\n")            # the partial line was cut off
  store.append({"d": 1, "n": 4, "v": 0.125})
  assert [r["n"] for r in _read_lines(path)] == [2, 3, 4]


def test_run_sweep_skips_done_cells_and_is_order_independent(tmp_path):
  base = jax.random.PRNGKey(7)
  store = sweep.JsonlStore(str(tmp_path / "a.jsonl"), ("d", "n"))
  recs, stats = sweep.run_sweep(_series(), _cell_fn, store, base, ("d", "n"), progress_every_s=0)
  assert (stats.computed, stats.reused) == (10, 0)
  recs2, stats2 = sweep.run_sweep(_series(), _cell_fn, store, base, ("d", "n"))
  assert (stats2.computed, stats2.reused) == (0, 10)
  assert recs2 == recs
  assert len(_read_lines(store.path)) == 10
  # Reversed order of series and values: the same records.
  rev = [sweep.Series(s.fixed, s.field, list(reversed(s.values))) for s in reversed(_series())]
  store_b = sweep.JsonlStore(str(tmp_path / "b.jsonl"), ("d", "n"))
  recs3, _ = sweep.run_sweep(rev, _cell_fn, store_b, base, ("d", "n"))
  key = lambda r: (r["d"], r["n"])  # noqa: E731
  assert sorted(recs3, key=key) == sorted(recs, key=key)


def test_adaptive_series_stops_and_shared_cells_run_once(tmp_path):
  base = jax.random.PRNGKey(0)
  store = sweep.JsonlStore(str(tmp_path / "c.jsonl"), ("d", "n"))
  series = _series(stop_at=4) + [sweep.Series({"d": 3}, "n", [2, 16])]
  calls = []

  def fn(params, key):
    calls.append((params["d"], params["n"]))
    return _cell_fn(params, key)

  recs, stats = sweep.run_sweep(series, fn, store, base, ("d", "n"))
  assert sorted(calls) == [(3, 1), (3, 2), (3, 4), (3, 16), (5, 1), (5, 2), (5, 4)]
  assert stats.computed == 7 and len(recs) == 7


_KILL_SCRIPT = textwrap.dedent("""
  import sys, time, json
  import jax
  from assocmem.experiments import sweep
  sys.path.insert(0, {tests!r})
  from test_sweep import _cell_fn, _series

  def slow(params, key):
    time.sleep(float(sys.argv[2]))
    return _cell_fn(params, key)

  store = sweep.JsonlStore(sys.argv[1], ("d", "n"))
  _, stats = sweep.run_sweep(_series(), slow, store, jax.random.PRNGKey(7), ("d", "n"))
  print(json.dumps({{"computed": stats.computed, "reused": stats.reused}}))
""")


@pytest.mark.slow
def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
  script = tmp_path / "run.py"
  script.write_text(_KILL_SCRIPT.format(tests=os.path.join(REPO, "tests")))
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  killed = str(tmp_path / "killed.jsonl")
  proc = subprocess.Popen([sys.executable, str(script), killed, "0.3"], env=env, cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
  deadline = time.time() + 120
  while time.time() < deadline:
    if os.path.exists(killed) and len(_read_lines(killed)) >= 3:
      break
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  n_before = len(_read_lines(killed))
  assert 3 <= n_before < 10
  out = subprocess.run([sys.executable, str(script), killed, "0"], env=env, cwd=REPO,
                       capture_output=True, text=True, check=True)
  counts = json.loads(out.stdout.strip().splitlines()[-1])
  assert counts == {"computed": 10 - n_before, "reused": n_before}   # nothing recomputed
  full = str(tmp_path / "full.jsonl")
  subprocess.run([sys.executable, str(script), full, "0"], env=env, cwd=REPO, capture_output=True,
                 check=True)
  canon = lambda p: sorted(json.dumps(r, sort_keys=True) for r in _read_lines(p))  # noqa: E731
  assert canon(killed) == canon(full)


def test_only_process_zero_writes_the_store(tmp_path, monkeypatch):
  """Multi-host: a process other than 0 neither appends records nor repairs a torn last line."""
  path = tmp_path / "cells.jsonl"
  store = sweep.JsonlStore(str(path), ("d", "n"))
  monkeypatch.setattr(jax, "process_index", lambda: 1)
  store.append({"d": 1, "n": 2, "v": 0.5})
  assert not path.exists()
  recs, stats = sweep.run_sweep(_series(stop_at=2), _cell_fn, store, jax.random.PRNGKey(0), ("d", "n"))
  assert stats.computed == 4 and len(recs) == 4 and not path.exists()   # computed, not stored
  path.write_bytes(b'{"d":1,"n":2,"v":0.5}\n{"d":1,"n"')                # torn last line
  assert list(store.load().values()) == [{"d": 1, "n": 2, "v": 0.5}]
  assert path.read_bytes().endswith(b'"n"')                               # left alone
  monkeypatch.setattr(jax, "process_index", lambda: 0)
  assert len(store.load()) == 1 and path.read_bytes().endswith(b"\n")     # process 0 repairs it
  store.append({"d": 1, "n": 3, "v": 0.25})
  assert [r["n"] for r in _read_lines(str(path))] == [2, 3]
