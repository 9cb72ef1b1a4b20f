"""The scripts' entry point (`assocmem.experiments.cli.run`) and the results writers (`assocmem.files`).

`cli.run(main, settings)` turns a ValueError raised while *building the settings*
into a one-line usage error (exit status 1, no traceback), and lets anything raised
inside `main` propagate with its traceback. The writers are atomic and, in a
multi-host run, write on process 0 only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from assocmem import files
from assocmem.experiments import cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROBE = textwrap.dedent('''
  """Probe script for cli.run."""
  import sys
  from absl import flags
  from assocmem.experiments import cli

  flags.DEFINE_string("where", "none", "Which stage raises.")
  FLAGS = flags.FLAGS

  def settings():
    if FLAGS.where == "settings":
      raise ValueError("repeats must be an integer >= 1, got 0")
    return {"where": FLAGS.where}

  def main(cfg):
    if cfg["where"] == "main":
      raise ValueError("a bug inside the library")
    sys.stdout.write("ran with " + cfg["where"] + "\\n")

  if __name__ == "__main__":
    cli.run(main, settings)
''')


def _run(args, cwd=REPO, timeout=300):
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=timeout)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
  path = tmp_path_factory.mktemp("cli") / "probe.py"
  path.write_text(_PROBE)
  return str(path)


def test_bad_settings_are_a_one_line_usage_error(probe):
  out = _run([probe, "--where=settings"])
  assert out.returncode == 1, out
  assert "Traceback" not in out.stderr
  errors = [line for line in out.stderr.splitlines() if "repeats must be" in line]
  assert errors == ["repeats must be an integer >= 1, got 0"], out.stderr


def test_an_error_inside_main_keeps_its_traceback(probe):
  out = _run([probe, "--where=main"])
  assert out.returncode != 0
  assert "Traceback" in out.stderr and "ValueError: a bug inside the library" in out.stderr
  assert "in main" in out.stderr


def test_good_settings_run_main_and_extra_arguments_are_usage_errors(probe):
  assert _run([probe, "--where=none"]).stdout == "ran with none\n"
  out = _run([probe, "stray"])
  assert out.returncode == 1 and "unexpected arguments: stray" in out.stderr
  assert "Traceback" not in out.stderr


@pytest.mark.parametrize("args, message", [
    (["scripts/table1.py", "--repeats=0", "--out_dir=/nonexistent/never"], "repeats"),
    (["scripts/landscapes.py", "--t=0.1", "--theta=0.9", "--out_dir=/nonexistent/never"],
     "give --t or --theta, not both"),
    (["scripts/trajectories.py", "--n_cues=0", "--out_dir=/nonexistent/never"], "n_cues"),
    (["scripts/report.py", "--results_dir=/nonexistent/never"], "results_dir"),
    (["scripts/reproduce.py", "--experiments=table1,nope", "--results_dir=/nonexistent/never"], "experiments"),
    (["scripts/reproduce.py", "--preset=huge", "--results_dir=/nonexistent/never"], "preset"),
], ids=["table1", "landscapes", "trajectories", "report", "reproduce_experiments", "reproduce_preset"])
def test_scripts_report_bad_settings_as_usage_errors(args, message):
  out = _run(args)
  assert out.returncode == 1, out.stderr[-2000:]
  assert "Traceback" not in out.stderr and message in out.stderr
  assert not os.path.exists("/nonexistent/never")


def test_make_reproduce_passes_its_settings_to_the_registry_runner():
  """`make reproduce` lists no experiment: it hands PRESET, RESULTS, DATA_DIR and EXPERIMENTS to
  scripts/reproduce.py, which runs every registered experiment (tests/test_experiments.py)."""
  out = subprocess.run(["make", "-n", "reproduce", "PRESET=paper", "RESULTS=/r", "DATA_DIR=/d",
                        "EXPERIMENTS=table1,capacity"], cwd=REPO, capture_output=True, text=True, timeout=60)
  assert out.returncode == 0, out.stderr
  line = next(line for line in out.stdout.splitlines() if "scripts/reproduce.py" in line)
  assert line.split()[1:] == ["scripts/reproduce.py", "--preset=paper", "--results_dir=/r", "--data_dir=/d",
                              "--experiments=table1,capacity"]
  with open(os.path.join(REPO, "Makefile")) as f:
    assert "--out_dir" not in f.read()                   # no experiment command of its own


# ---------------------------------------------------------------- files


def _listing(path):
  return sorted(os.listdir(path)) if os.path.exists(path) else []


def test_writers_are_atomic_and_leave_no_temporaries(tmp_path):
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  out = tmp_path / "new" / "dir"
  files.write_text(str(out / "a.txt"), "hello\n")
  files.write_json(str(out / "b.json"), {"x": [1, 2]})
  files.save_npz(str(out / "c.npz"), x=np.arange(3))
  fig = plt.figure()
  files.save_figure(fig, str(out / "d.png"))
  plt.close(fig)
  assert _listing(out) == ["a.txt", "b.json", "c.npz", "d.png"]      # no .tmp left behind
  assert (out / "a.txt").read_text() == "hello\n"
  with np.load(out / "c.npz") as data:
    np.testing.assert_array_equal(data["x"], np.arange(3))
  # A failure mid-write leaves the old file in place and no temporary.
  with pytest.raises(RuntimeError):
    with files.atomic_open(str(out / "a.txt")) as f:
      f.write("half")
      raise RuntimeError("killed")
  assert (out / "a.txt").read_text() == "hello\n"
  assert _listing(out) == ["a.txt", "b.json", "c.npz", "d.png"]


def test_only_process_zero_writes(tmp_path, monkeypatch):
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  monkeypatch.setattr(jax, "process_index", lambda: 1)
  assert not files.is_writer()
  out = tmp_path / "results"
  files.write_text(str(out / "a.txt"), "hello\n")
  files.write_json(str(out / "b.json"), {"x": 1})
  files.save_npz(str(out / "c.npz"), x=np.arange(3))
  fig = plt.figure()
  files.save_figure(fig, str(out / "d.png"))
  plt.close(fig)
  with files.atomic_open(str(out / "e.bin"), "wb") as f:
    f.write(b"bytes")
  assert not out.exists()                      # not even the directory
  monkeypatch.setattr(jax, "process_index", lambda: 0)
  assert files.is_writer()
  files.write_text(str(out / "a.txt"), "hello\n")
  assert _listing(out) == ["a.txt"]


def test_atomic_open_rejects_other_modes(tmp_path):
  with pytest.raises(ValueError, match="mode"):
    with files.atomic_open(str(tmp_path / "x"), "a"):
      pass


def test_cli_flag_helpers():
  assert cli.int_tuple("dims", ["10", "12"]) == (10, 12)
  assert cli.int_tuple("dims", None) is None
  with pytest.raises(ValueError, match="dims must be integers"):
    cli.int_tuple("dims", ["10", "x"])

  class Flags:
    repeats, seed, n_max = 3, None, 0
  assert cli.overrides(Flags, ("repeats", "seed", "n_max")) == {"repeats": 3, "n_max": 0}
  assert cli.abort_after(None) is None


def test_library_info_filter_drops_only_quiet_libraries_below_warning():
  import logging as std_logging
  f = cli.LibraryInfoFilter(("orbax",))

  def record(path, level):
    return std_logging.LogRecord("absl", level, path, 1, "msg", None, None)

  orbax = os.path.join(os.sep, "venv", "site-packages", "orbax", "checkpoint", "x.py")
  ours = os.path.join(os.sep, "repo", "assocmem", "train", "score.py")
  assert not f.filter(record(orbax, std_logging.INFO))
  assert not f.filter(record(orbax, std_logging.DEBUG))
  assert f.filter(record(orbax, std_logging.WARNING))
  assert f.filter(record(ours, std_logging.INFO))


def test_abort_after_exits_abruptly_on_the_limit():
  code = ("from assocmem.experiments import cli\n"
          "cb = cli.abort_after(2)\n"
          "cb('state'); print('first', flush=True); cb('state'); print('never')\n")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
  assert out.returncode == 3 and "first" in out.stdout and "never" not in out.stdout


def test_learned_capacity_script_rejects_bad_dims_as_a_usage_error():
  out = subprocess.run([sys.executable, "scripts/learned_capacity.py", "--dims=10,x", "--out_dir=/nonexistent/x"],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
  assert out.returncode == 1 and "dims must be integers" in out.stderr
