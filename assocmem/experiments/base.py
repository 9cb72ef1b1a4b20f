"""The one shape of every experiment: a config dataclass with presets, a run, a report section.

Every experiment is a package `assocmem/experiments/<name>/` with

  config.py   a frozen dataclass (validated in `__post_init__`), its presets and helpers;
  compute.py  the run: `run(config, out_dir, *, key=None) -> summary` (config and key in, result
              files and a JSON-able summary out; resumable where it is long). `key=None` means
              `jax.random.PRNGKey(config.seed)`, so a preset alone fixes the result;
  report.py   the result files, figures, and `report_section(out_dir, results_dir) -> str`
              (Markdown for results/REPORT.md, or a 'not run' paragraph);

and its `__init__.py` builds one `Experiment` (below) that `assocmem.experiments.registry` lists.
The scripts, `make reproduce` (scripts/reproduce.py) and the report read that registry; adding an
experiment is one package plus one registry entry (docs/architecture.md has a worked example).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Generic, Mapping, Sequence, TypeVar

C = TypeVar("C")


def _no_args(results_dir: str, preset: str, data_dir: str | None) -> Sequence[str]:
  del results_dir, preset, data_dir
  return ()


@dataclasses.dataclass(frozen=True)
class Experiment(Generic[C]):
  """What the registry, the scripts, `make reproduce` and the report need to know of an experiment.

  Attributes:
    name: registry key (an identifier), e.g. "table1".
    title: the heading of its REPORT.md section, e.g. "Seed 002, Table 1".
    config_cls: its frozen configuration dataclass.
    presets: preset name -> configuration ("quick" for `make reproduce`, "paper" at the paper's
      full settings, others where the experiment has them).
    run: `run(config, out_dir, *, key=None) -> summary dict`; writes the result files (atomically).
    report_section: `report_section(out_dir, results_dir) -> Markdown` (a 'not run' paragraph when
      its files are missing; `results_dir` lets a section draw on other experiments' results).
    out_subdir: its folder under the results directory (default: `name`).
    script: the absl script that runs it (default: scripts/<name>.py).
    reproduce_args: `(results_dir, preset, data_dir) -> extra flags` that `make reproduce` passes
      to the script (e.g. another experiment's results it reads); default none.
    make_config: optional `(preset, **overrides) -> config` for presets with extra logic; default
      `dataclasses.replace(presets[preset], **overrides)` (which re-runs the validation).
  """
  name: str
  title: str
  config_cls: type
  presets: Mapping[str, Any]
  run: Callable[..., Mapping[str, Any]]
  report_section: Callable[[str, str], str]
  out_subdir: str = ""
  script: str = ""
  reproduce_args: Callable[[str, str, str | None], Sequence[str]] = _no_args
  make_config: Callable[..., Any] | None = None

  def __post_init__(self):
    if not isinstance(self.name, str) or not self.name.isidentifier():
      raise ValueError(f"Experiment name must be an identifier, got {self.name!r}")
    if not self.presets:
      raise ValueError(f"Experiment {self.name!r}: presets must name at least one configuration")
    for field in ("run", "report_section"):
      if not callable(getattr(self, field)):
        raise ValueError(f"Experiment {self.name!r}: {field} must be callable")

  @property
  def folder(self) -> str:
    """The experiment's folder under a results directory."""
    return self.out_subdir or self.name

  @property
  def script_path(self) -> str:
    """The script, relative to the repository root."""
    return self.script or os.path.join("scripts", f"{self.name}.py")

  def output_dir(self, results_dir: str) -> str:
    """results_dir/<folder>."""
    return os.path.join(results_dir, self.folder)

  def config(self, preset: str, **overrides: Any) -> Any:
    """The configuration of `preset` with `overrides` applied (ValueError naming a bad preset or setting)."""
    if self.make_config is not None:
      return self.make_config(preset, **overrides)
    if preset not in self.presets:
      raise ValueError(f"preset must be one of {tuple(self.presets)} for {self.name}, got {preset!r}")
    base = self.presets[preset]
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(base)})
    if unknown:
      raise ValueError(f"unknown {self.name} settings {unknown}")
    return dataclasses.replace(base, **overrides)
