"""Fault tolerance: checkpoints that fail safe, and one writer per output folder (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem import files
from assocmem.nn import vae as V
from assocmem.nn.score_mlp import ScoreMLP
from assocmem.train import score as ts
from assocmem.train import vae as T
from assocmem.train.checkpoint import CheckpointError, Checkpointer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _corrupt(step_dir: str) -> None:
  """Truncates every file of one orbax step (a disk that lost the tail of a write)."""
  hit = 0
  for root, _, names in os.walk(step_dir):
    for name in names:
      with open(os.path.join(root, name), "r+b") as f:
        f.truncate(max(os.path.getsize(f.name) // 3, 0))
      hit += 1
  assert hit, f"no files under {step_dir}"


def _tree(seed: float) -> dict:
  return {"w": jnp.full((3, 2), seed, jnp.float32), "step": np.asarray(int(seed), np.int64)}


# ----------------------------------------------------------------------------- Checkpointer


def test_corrupted_newest_falls_back_to_older_with_warning(tmp_path, caplog):
  d = str(tmp_path / "ck")
  with Checkpointer(d, max_to_keep=3) as ck:
    for s in (1, 2, 3):
      ck.save(s, _tree(float(s)))
  _corrupt(os.path.join(d, "3"))
  with Checkpointer(d, max_to_keep=3) as ck, caplog.at_level("WARNING"):
    step, state = ck.restore(_tree(0.0))
    assert step == 2
    np.testing.assert_array_equal(np.asarray(state["w"]), np.full((3, 2), 2.0, np.float32))
    assert any("step 3" in r.getMessage() and d in r.getMessage() for r in caplog.records)
    assert os.path.isdir(os.path.join(d, "3.corrupt")) and ck.all_steps() == [1, 2]
    ck.save(3, _tree(3.0))                     # the resumed run can write step 3 again
    assert ck.restore(_tree(0.0))[0] == 3


def test_every_step_unreadable_names_directory_and_remedy(tmp_path):
  d = str(tmp_path / "ck")
  with Checkpointer(d) as ck:
    ck.save(1, _tree(1.0))
  _corrupt(os.path.join(d, "1"))
  with Checkpointer(d) as ck:
    with pytest.raises(CheckpointError, match=r"(?s)no checkpoint in .*ck.*step 1.*delete"):
      ck.restore(_tree(0.0))
    assert ck.all_steps() == [1]              # nothing is moved when no step can be read


def test_wrong_target_and_missing_step_are_clear(tmp_path):
  d = str(tmp_path / "ck")
  with Checkpointer(d) as ck:
    ck.save(5, _tree(1.0))
    with pytest.raises(CheckpointError, match=r"step 7 is not in .*steps there: \[5\]"):
      ck.restore(_tree(0.0), step=7)
    with pytest.raises(CheckpointError, match="cannot be restored"):
      ck.restore({"other": jnp.zeros((9,))}, step=5)
    with pytest.raises(CheckpointError, match="settings changed"):
      ck.restore({"other": jnp.zeros((9,))})
    assert ck.all_steps() == [5]


# ----------------------------------------------------------------------------- trainers


def test_score_trainer_resumes_past_a_corrupted_checkpoint(tmp_path):
  model = ScoreMLP(dim=6, hidden=32)
  cfg = ts.ScoreTrainConfig(n_iterations=40, chunk_size=10, log_every_s=1e9, checkpoint_every_s=0.0)
  pats = jnp.sign(jax.random.normal(jax.random.PRNGKey(3), (4, 6)))
  key = jax.random.PRNGKey(0)
  full = ts.fit(model, key, pats, cfg=cfg)
  ckpt = str(tmp_path / "run")
  ts.fit(model, key, pats, cfg=cfg, checkpoint_dir=ckpt)
  assert Checkpointer(ckpt).all_steps() == [30, 40]
  _corrupt(os.path.join(ckpt, "40"))
  ran = []
  resumed = ts.fit(model, key, pats, cfg=cfg, checkpoint_dir=ckpt,
                   on_chunk=lambda s: ran.append(int(np.asarray(s.step))))
  assert ran == [40]                               # fell back to step 30 and trained the last chunk
  for a, b in zip(jax.tree.leaves(full), jax.tree.leaves(resumed)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_vae_trainer_resumes_past_a_corrupted_checkpoint(tmp_path):
  model = V.ConvVAE(V.mnist_config(latent_dim=4))
  data = np.random.default_rng(0).uniform(size=(12, 28, 28, 1)).astype(np.float32)
  cfg = T.TrainConfig(batch_size=8, epochs=3, patience=None)
  key = jax.random.PRNGKey(7)
  d = str(tmp_path / "vae")
  full = T.fit_vae(model, data, key, config=cfg, checkpoint_dir=d)
  newest = Checkpointer(d).all_steps()[-1]
  _corrupt(os.path.join(d, str(newest)))
  resumed = T.fit_vae(model, data, key, config=cfg, checkpoint_dir=d)
  assert resumed.resumed_from_epoch == newest - 1
  assert resumed.losses == full.losses
  for a, b in zip(jax.tree.leaves(full.state), jax.tree.leaves(resumed.state)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# ----------------------------------------------------------------------------- one writer per folder


def test_lock_output_dir_is_exclusive_and_released(tmp_path):
  out = str(tmp_path / "out")
  with files.lock_output_dir(out) as path:
    assert path == os.path.abspath(out) and os.path.isdir(out)
    with pytest.raises(files.OutputDirLocked, match=rf"out_dir .*out.* in use by another run \(process {os.getpid()}\)"):
      with files.lock_output_dir(out):
        pass
  with files.lock_output_dir(out):              # released on exit
    pass


def test_output_dir_that_is_a_file_or_unwritable(tmp_path):
  f = tmp_path / "file"
  f.write_text("x")
  with pytest.raises(ValueError, match="out_dir .* is an existing file"):
    with files.lock_output_dir(str(f)):
      pass
  with pytest.raises(ValueError, match="out_dir must be a non-empty path"):
    files.check_output_dir("")
  if os.geteuid() != 0:                          # root may write anywhere
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(ValueError, match="not writable"):
      files.check_output_dir(str(ro))


_HOLDER = textwrap.dedent("""
    import sys, time
    from assocmem import files
    with files.lock_output_dir(sys.argv[1]):
      print("locked", flush=True)
      time.sleep(600)
""")


def _start_holder(out: str) -> subprocess.Popen:
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), JAX_PLATFORMS="cpu")
  proc = subprocess.Popen([sys.executable, "-c", _HOLDER, out], stdout=subprocess.PIPE, text=True, env=env)
  assert proc.stdout.readline().strip() == "locked"
  return proc


def test_second_script_on_same_out_dir_stops_at_once_and_sigkill_leaves_no_stuck_lock(tmp_path):
  out = str(tmp_path / "shared_out")
  holder = _start_holder(out)
  try:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), JAX_PLATFORMS="cpu")
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "landscapes.py"), "--preset=quick",
                          f"--out_dir={out}"], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 1, res.stderr[-2000:]
    assert f"in use by another run (process {holder.pid})" in res.stderr
    assert time.perf_counter() - t0 < 60
    assert sorted(os.listdir(out)) == [files.LOCK_NAME]      # it wrote nothing
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  with files.lock_output_dir(out):                  # the killed holder left no stuck lock
    pass


# ----------------------------------------------------------------------------- silent bad input


def test_write_many_overflow_nan_and_x64():
  import assocmem as am
  bank = am.empty_bank(4, 3, jnp.zeros(3))
  p = jnp.ones((3, 3))
  with pytest.raises(ValueError, match=r"start=2 with 3 patterns overflows the bank's 4 slots"):
    am.write_many(bank, 2, p)
  with pytest.raises(ValueError, match="patterns contains non-finite"):
    am.write_many(bank, 0, p.at[1, 2].set(jnp.nan))
  safe = am.checked(lambda s, x: am.write_many(bank, s, x))
  with pytest.raises(am.CheckError, match="start must lie in"):
    safe(2, p)
  with pytest.raises(am.CheckError, match="non-finite"):
    safe(0, p.at[0, 0].set(jnp.inf))
  np.testing.assert_array_equal(np.asarray(safe(1, p).log_weights), [-np.inf, 0, 0, 0])
  code = textwrap.dedent("""
      import jax, jax.numpy as jnp
      jax.config.update("jax_enable_x64", True)
      import assocmem as am
      b = am.empty_bank(4, 3, jnp.zeros(3))
      out = jax.jit(am.write_many)(b, 1, jnp.ones((3, 3)))
      assert out.log_weights.tolist() == [float("-inf"), 0.0, 0.0, 0.0], out.log_weights
      print("ok")
  """)
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), JAX_PLATFORMS="cpu")
  res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
  assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]


# ----------------------------------------------------------------------------- multi-process flags


@pytest.mark.parametrize("args,match", [
    (("127.0.0.1:1234", None, 0), "missing --num_processes"),
    ((None, 2, None), "missing --coordinator_address, --process_id"),
    (("localhost", 2, 0), "host:port"),
    (("127.0.0.1:1234", 0, 0), "--num_processes must be >= 1"),
    (("127.0.0.1:1234", 2, 2), r"--process_id must lie in \[0, 2\)"),
])
def test_distributed_flags_are_checked_before_anything_starts(args, match):
  from assocmem.experiments import cli
  with pytest.raises(ValueError, match=match):
    cli.initialize_distributed(*args)
  assert cli.initialize_distributed(None, None, None) is False


def test_empty_bank_all_inf_logits_bad_dtypes_and_recall_one_defaults():
  import assocmem as am
  from assocmem import mixture
  empty = am.empty_bank(4, 3, jnp.zeros(3))
  x = jnp.ones(3)
  with pytest.raises(ValueError, match="bank has no filled slot"):
    am.mhn_update(empty, x, 1.0)
  with pytest.raises(ValueError, match="bank has no filled slot"):
    am.score(empty, x, 0.5, am.VPSDE(0.8))
  with pytest.raises(am.CheckError, match="bank has no filled slot"):
    am.checked(lambda b: am.mhn_update(b, x, 1.0))(empty)
  with pytest.raises(am.CheckError, match="bank has no filled slot"):
    am.checked(lambda b: am.score(b, x, 0.5, am.VPSDE(0.8)))(empty)
  filled = am.write(empty, 1, x)
  np.testing.assert_allclose(am.mhn_update(filled, jnp.zeros(3), 1.0), x, atol=1e-6)
  with pytest.raises(ValueError, match="logits are all -inf"):
    mixture.weighted_mean(jnp.full((3,), -jnp.inf), jnp.ones((3, 2)))
  with pytest.raises(am.CheckError, match="logits are all -inf"):
    am.checked(mixture.weighted_mean)(jnp.full((3,), -jnp.inf), jnp.ones((3, 2)))
  for bad in (jnp.int8, "banana"):
    with pytest.raises(ValueError, match="similarity_dtype"):
      mixture.Dense(similarity_dtype=bad)
    with pytest.raises(ValueError, match="similarity_dtype"):
      mixture.Streaming(4, similarity_dtype=bad)
  assert mixture.Dense(jnp.bfloat16).similarity_dtype == jnp.bfloat16
  # recall_one's None defaults are the memory's own n_steps and tol
  bank = am.make_bank(am.random_binary_patterns(jax.random.PRNGKey(0), n_patterns=4, dim=16))
  cue = jnp.asarray(bank.centered[0] + bank.center) * 0.3
  mem = am.ModernHopfield(beta=0.05, n_steps=50, tol=10.0)       # tol so large that one step stops it
  one_step = am.ModernHopfield(beta=0.05, n_steps=1)
  np.testing.assert_allclose(mem.recall_one(bank, cue), one_step.recall_one(bank, cue), atol=1e-6)
  np.testing.assert_allclose(mem.recall(bank, cue[None])[0], mem.recall_one(bank, cue), atol=1e-6)


# ----------------------------------------------------------------------------- SIGKILL and resume, per script

_CSV_TIMING = ("seconds", "per_second", "wall", "time")


def _script_env() -> dict:
  return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), JAX_PLATFORMS="cpu",
              XLA_FLAGS="")


def _script_cmd(script: str, args: list[str], out: str) -> list[str]:
  return [sys.executable, os.path.join(ROOT, "scripts", script), *args, f"--out_dir={out}"]


def _csv_without_timing(path: str) -> list[list[str]]:
  import csv  # pylint: disable=import-outside-toplevel
  with open(path) as f:
    rows = list(csv.reader(f))
  keep = [i for i, h in enumerate(rows[0]) if not any(t in h for t in _CSV_TIMING)]
  return [[r[i] for i in keep] for r in rows]


def _kill_at_first(pattern: str, cmd: list[str], timeout: float = 600) -> bool:
  """Runs `cmd` and SIGKILLs it as soon as a path matching the glob `pattern` exists (a finished
  checkpoint step); True when it was killed, False when it finished first."""
  import glob  # pylint: disable=import-outside-toplevel
  proc = subprocess.Popen(cmd, env=_script_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  t0 = time.perf_counter()
  try:
    while proc.poll() is None and time.perf_counter() - t0 < timeout:
      if glob.glob(pattern):
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True
      time.sleep(0.02)
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    return False
  finally:
    if proc.poll() is None:
      proc.kill()
      proc.wait()


_KILL_CASES = [
    # script, tiny arguments, glob of a finished checkpoint step (relative to --out_dir), result CSVs
    pytest.param("train_score.py", ["--preset=quick", "--n_iterations=500", "--hidden=32", "--n_steps=50"],
                 "checkpoints/[0-9]*", ["figure2b.csv"], id="train_score", marks=pytest.mark.slow),
    pytest.param("consolidate.py", ["--preset=quick", "--replay_source=mhn", "--n_stored=48", "--n_replays=64",
                                    "--epochs=3", "--noanalysis"],
                 "mhn/checkpoints/[0-9]*", ["consolidation.csv", "mhn/consolidation.csv", "mhn/training.csv"],
                 id="consolidate", marks=pytest.mark.slow),
    pytest.param("learned_capacity.py", ["--preset=quick", "--dims=6", "--repeats=1", "--n_iterations=200",
                                         "--block=2"],
                 "checkpoints/*/[0-9]*", ["learned_capacity.csv"], id="learned_capacity", marks=pytest.mark.slow),
    pytest.param("memorisation.py", ["--preset=quick", "--repeats=1", "--n_iterations=100", "--n_samples=16",
                                     "--noexact"],
                 "checkpoints/*/[0-9]*", ["memorisation.csv"], id="memorisation", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("script,args,ckpt_glob,csvs", _KILL_CASES)
def test_sigkill_at_a_checkpoint_then_resume_equals_uninterrupted(tmp_path, script, args, ckpt_glob, csvs):
  straight, cut = str(tmp_path / "straight"), str(tmp_path / "cut")
  res = subprocess.run(_script_cmd(script, args, straight), env=_script_env(), capture_output=True, text=True,
                       timeout=900)
  assert res.returncode == 0, res.stderr[-3000:]
  assert _kill_at_first(os.path.join(cut, ckpt_glob), _script_cmd(script, args, cut)), "finished before a checkpoint"
  res = subprocess.run(_script_cmd(script, args, cut), env=_script_env(), capture_output=True, text=True,
                       timeout=900)
  assert res.returncode == 0, res.stderr[-3000:]
  for name in csvs:
    assert _csv_without_timing(os.path.join(cut, name)) == _csv_without_timing(os.path.join(straight, name)), name
