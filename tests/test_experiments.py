"""The experiment registry: every experiment has one shape, `make reproduce` and the report read the registry,
and a user's own experiment is one `Experiment` plus one registration."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import textwrap

import pytest

from assocmem.experiments import registry, report, reproduce
from assocmem.experiments.base import Experiment

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- a toy experiment

@dataclasses.dataclass(frozen=True)
class ToyConfig:
  n: int = 3
  seed: int = 0

  def __post_init__(self):
    if self.n < 1:
      raise ValueError(f"n must be >= 1, got {self.n}")


def _toy_run(config: ToyConfig, out_dir: str, *, key=None) -> dict:
  del key
  os.makedirs(out_dir, exist_ok=True)
  summary = {"n": config.n, "squares": [i * i for i in range(config.n)]}
  with open(os.path.join(out_dir, "toy.json"), "w") as f:
    json.dump(summary, f)
  return summary


def _toy_section(out_dir: str, results_dir: str) -> str:
  del results_dir
  with open(os.path.join(out_dir, "toy.json")) as f:
    summary = json.load(f)
  return f"## Toy squares\n\nSum of the first {summary['n']} squares: {sum(summary['squares'])}.\n"


# What the toy's script does (a real script calls EXP.run; the toy lives only in the test process).
_TOY_SCRIPT = textwrap.dedent("""
  import argparse, json, os
  parser = argparse.ArgumentParser()
  parser.add_argument("--preset")
  parser.add_argument("--out_dir")
  parser.add_argument("--n", type=int)
  args = parser.parse_args()
  os.makedirs(args.out_dir, exist_ok=True)
  n = args.n if args.n is not None else {"quick": 3, "paper": 10}[args.preset]
  with open(os.path.join(args.out_dir, "toy.json"), "w") as f:
    json.dump({"n": n, "squares": [i * i for i in range(n)], "preset": args.preset}, f)
""")


def _toy(script: str, **kw) -> Experiment:
  return Experiment(name="toy", title="Toy squares", config_cls=ToyConfig,
                    presets={"quick": ToyConfig(3), "paper": ToyConfig(10)}, run=_toy_run,
                    report_section=_toy_section, out_subdir="toy_out", script=script, **kw)


def test_a_registered_toy_experiment_runs_and_appears_in_the_report(tmp_path):
  script = tmp_path / "toy.py"
  script.write_text(_TOY_SCRIPT)
  results = tmp_path / "results"
  toy = _toy(str(script), reproduce_args=lambda results_dir, preset, data_dir: ["--n=4"])
  with registry.REGISTRY.registered("toy", toy):
    assert registry.get("toy") is toy and registry.experiments()[-1] is toy
    # Directly: config and key in, files and a summary out.
    summary = toy.run(toy.config("quick", n=5), toy.output_dir(str(tmp_path / "direct")))
    assert summary["squares"] == [0, 1, 4, 9, 16]
    # Through `make reproduce`'s runner: the toy's script runs in a subprocess with its flags.
    cmd = reproduce.command(toy, "quick", str(results), None, REPO)
    assert cmd == [sys.executable, str(script), "--preset=quick", f"--out_dir={results}/toy_out", "--n=4"]
    path = reproduce.reproduce("quick", str(results), names=["toy"], root=REPO)
    with open(results / "toy_out" / "toy.json") as f:
      assert json.load(f) == {"n": 4, "squares": [0, 1, 4, 9], "preset": "quick"}
    with open(path) as f:
      md = f.read()
    assert "## Toy squares\n\nSum of the first 4 squares: 14." in md
    # The toy's section comes after the built-in ones, in registry order.
    titles = re.findall(r"^## (.+)$", md, re.M)
    assert titles[:len(registry.experiments())] == [e.title for e in registry.experiments()]
  assert "toy" not in registry.REGISTRY                     # removed again on exit
  assert "Toy squares" not in report.build_report(str(results))


def test_an_experiment_without_the_preset_is_skipped(tmp_path):
  toy = _toy(str(tmp_path / "never.py"))
  toy = dataclasses.replace(toy, presets={"quick": ToyConfig(3)})
  with registry.REGISTRY.registered("toy", toy):
    runnable, skipped = reproduce.select(["toy", "table1"], "reproduce")     # table1's own extra preset
    assert [e.name for e in runnable] == ["table1"] and skipped == ("toy",)
    with pytest.raises(ValueError, match="preset"):
      reproduce.select(["toy"], "paper")
  with pytest.raises(ValueError, match="experiments"):
    reproduce.select(["table1", "nope"], "quick")
  assert [e.name for e in reproduce.select(None, "quick")[0]] == [e.name for e in registry.experiments()]


def test_registering_checks_the_entry():
  with pytest.raises(ValueError, match="experiment"):
    registry.register("table1")                              # not an Experiment
  with pytest.raises(ValueError, match="already registered"):
    registry.register(registry.get("table1"))
  with pytest.raises(ValueError, match="unknown experiment"):
    registry.get("nope")
  with pytest.raises(ValueError, match="presets"):
    Experiment(name="x", title="x", config_cls=ToyConfig, presets={}, run=_toy_run, report_section=_toy_section)


# ---------------------------------------------------------------- every registered experiment

@pytest.mark.parametrize("name", registry.REGISTRY.names())
def test_every_registered_experiment_has_a_script_and_the_common_presets(name):
  experiment = registry.get(name)
  assert os.path.isfile(os.path.join(REPO, experiment.script_path)), experiment.script_path
  assert {"quick", "paper"} <= set(experiment.presets)
  for preset in experiment.presets:
    try:
      cfg = experiment.config(preset)
    except ValueError as err:          # consolidation's paper preset needs real data or offline=True
      assert "data_dir" in str(err), err
      cfg = experiment.config(preset, offline=True)
    assert isinstance(cfg, experiment.config_cls)
    assert dataclasses.is_dataclass(cfg) and experiment.config_cls.__dataclass_params__.frozen
  cmd = reproduce.command(experiment, "quick", "results", None, REPO)
  assert cmd[1] == os.path.join(REPO, experiment.script_path)
  assert cmd[2:4] == ["--preset=quick", f"--out_dir={os.path.join('results', experiment.folder)}"]
  assert experiment.title and callable(experiment.run) and callable(experiment.report_section)


def test_experiment_folders_and_titles_are_distinct():
  experiments = registry.experiments()
  assert len({e.folder for e in experiments}) == len({e.title for e in experiments}) == len(experiments)
  assert [e.name for e in experiments[:4]] == ["table1", "capacity", "trajectories", "landscapes"]
