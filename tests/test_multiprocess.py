"""Two processes on 127.0.0.1 (jax.distributed, gloo CPU collectives) give one process's results.

Each test starts the same script twice with --coordinator_address/--num_processes/--process_id and
once as a single process, then compares the result files (timing fields aside). Process 1 is given
its own --out_dir to show that it writes nothing and creates no directory.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _env() -> dict:
  return dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="",
              PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))


def _run_two(script: str, args: list[str], out0: str, out1: str) -> None:
  port = _free_port()
  procs = [subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", script), *args, f"--out_dir={out}",
                             f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2", f"--process_id={i}"],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
           for i, out in enumerate((out0, out1))]
  logs = [p.communicate(timeout=600)[0] for p in procs]
  for i, (p, log) in enumerate(zip(procs, logs)):
    assert p.returncode == 0, f"process {i} failed:\n{log[-3000:]}"
  assert "process 1 of 2" in logs[1] or "process 1" in logs[1]


def _run_one(script: str, args: list[str], out: str) -> None:
  res = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script), *args, f"--out_dir={out}"],
                       env=_env(), capture_output=True, text=True, timeout=600)
  assert res.returncode == 0, res.stderr[-3000:]


def _rows(path: str, drop=("seconds", "per_second")) -> list[list[str]]:
  with open(path) as f:
    rows = list(csv.reader(f))
  keep = [i for i, h in enumerate(rows[0]) if not any(d in h for d in drop)]
  return [[r[i] for i in keep] for r in rows]


@pytest.mark.parametrize("script,args,csvs", [
    ("capacity.py", ["--preset=quick", "--models=mhn,diffusion", "--dims=6,8", "--n_max=8", "--nofigures"],
     ["capacity.csv", "capacity_raw.csv"]),
    ("train_score.py", ["--preset=quick", "--n_iterations=500", "--hidden=64", "--n_steps=100"], ["figure2b.csv"]),
    pytest.param("learned_capacity.py", ["--preset=quick", "--dims=6", "--repeats=1", "--n_iterations=200"],
                 ["learned_capacity.csv"], marks=pytest.mark.slow),
    pytest.param("memorisation.py", ["--preset=quick", "--repeats=1", "--n_iterations=100", "--n_samples=16",
                                     "--noexact"], ["memorisation.csv"], marks=pytest.mark.slow),
    pytest.param("consolidate.py", ["--preset=quick", "--replay_source=mhn", "--n_stored=48", "--n_replays=64",
                                    "--epochs=2", "--noanalysis"],
                 ["consolidation.csv", "mhn/training.csv", "comparison.csv"], marks=pytest.mark.slow),
    pytest.param("table1.py", ["--preset=quick", "--repeats=2"], ["table1.csv"], marks=pytest.mark.slow),
    pytest.param("capacity.py", ["--preset=quick", "--models=mhn,diffusion", "--dims=6,8", "--n_max=8",
                                 "--nofigures", "--mode=sharded"], ["capacity.csv", "capacity_raw.csv"],
                 marks=pytest.mark.slow),
], ids=["capacity_sweep", "score_training", "learned_capacity", "memorisation", "consolidate", "table1",
        "capacity_sharded"])
def test_two_processes_equal_one(tmp_path, script, args, csvs):
  two, stray, one = (str(tmp_path / n) for n in ("two", "process1_out", "one"))
  _run_two(script, args, two, stray)
  assert not os.path.exists(stray), "process 1 created its --out_dir"
  _run_one(script, args, one)
  for name in csvs:
    assert _rows(os.path.join(two, name)) == _rows(os.path.join(one, name)), name
  assert not [f for f in os.listdir(two) if f.endswith("-tmp")]


_STORE = """
import json, os, sys
from assocmem.experiments import cli, sweep
cli.initialize_distributed(sys.argv[1], 2, int(sys.argv[2]))
import jax
store = sweep.JsonlStore(sys.argv[3], ("i",))
first = store.load()
if jax.process_index() == 1:
  import time; time.sleep(2)          # process 0 appends long before process 1 loads again
store.append({"i": 7, "v": 1.5})
print(json.dumps({"first": sorted(first), "after": sorted(store.load()), "values": [r["v"] for r in store.load().values()]}))
"""


def test_store_gives_every_process_the_same_records(tmp_path):
  # Process 0's store holds one record and a torn last line; process 1's path does not exist (it is
  # sent process 0's file). After an append, both see the same records, whatever the timing: before,
  # process 1 re-read the file, missed (or saw early) process 0's appends, and planned other cells.
  p0, p1 = tmp_path / "store0.jsonl", tmp_path / "no" / "store1.jsonl"
  p0.write_text(json.dumps({"i": 3, "v": 0.5}) + "\n" + '{"i": 4, "v"')
  port = _free_port()
  procs = [subprocess.Popen([sys.executable, "-c", _STORE, f"127.0.0.1:{port}", str(i), str(p)], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for i, p in enumerate((p0, p1))]
  outs = [p.communicate(timeout=300) for p in procs]
  for p, (out, err) in zip(procs, outs):
    assert p.returncode == 0, err[-3000:]
  seen = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
  assert seen[0] == seen[1]
  assert len(seen[0]["first"]) == 1 and len(seen[0]["after"]) == 2 and sorted(seen[0]["values"]) == [0.5, 1.5]
  assert p0.read_text().splitlines()[-1] == '{"i":7,"v":1.5}'   # torn line cut, the append written once
  assert len(p0.read_text().splitlines()) == 2
  assert not (tmp_path / "no").exists()                           # process 1 wrote nothing


_CKPT = """
import json, os, sys
from assocmem.experiments import cli
cli.initialize_distributed(sys.argv[1], 2, int(sys.argv[2]))
import jax, jax.numpy as jnp, numpy as np
from jax.experimental import multihost_utils
from assocmem.train.checkpoint import Checkpointer
d = sys.argv[3]
tree = lambda v: {"w": jnp.full((2, 3), v, jnp.float32)}
with Checkpointer(d, max_to_keep=3) as ck:
  for s in (1, 2):
    ck.save(s, tree(float(s)))
multihost_utils.sync_global_devices("saved")
if jax.process_index() == 0:                     # a disk that lost the tail of step 2's files
  for root, _, names in os.walk(os.path.join(d, "2")):
    for n in names:
      with open(os.path.join(root, n), "r+b") as f:
        f.truncate(os.path.getsize(f.name) // 3)
multihost_utils.sync_global_devices("corrupted")
with Checkpointer(d, max_to_keep=3) as ck:
  step, state = ck.restore(tree(0.0))
  ck.save(2, tree(5.0))                          # the resumed run saves step 2 again on every process
  again = ck.restore(tree(0.0))
print(json.dumps({"step": step, "w": float(state["w"][0, 0]), "again": [again[0], float(again[1]["w"][0, 0])]}))
"""


def test_corrupt_checkpoint_falls_back_on_every_process(tmp_path):
  port = _free_port()
  d = str(tmp_path / "ck")
  procs = [subprocess.Popen([sys.executable, "-c", _CKPT, f"127.0.0.1:{port}", str(i), d], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
  outs = [p.communicate(timeout=300) for p in procs]
  for p, (out, err) in zip(procs, outs):
    assert p.returncode == 0, err[-3000:]
  seen = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
  assert seen[0] == seen[1] == {"step": 1, "w": 1.0, "again": [2, 5.0]}
  assert "cannot be restored" in outs[0][1] and sorted(os.listdir(d)) == ["1", "2", "2.corrupt"]
