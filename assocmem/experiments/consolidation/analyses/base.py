"""The shape of one after-consolidation analysis: settings, run, figure, table.

An analysis is one module under `consolidation/analyses/` that builds an `Analysis` and is
registered once in `analyses/__init__.py` (`ANALYSES`). The experiment runs every selected analysis
on each replay source's trained VAE (`run`), writes its figures (`figure`) and its numbers
(DIR/<source>/analysis.json, keyed by the analysis's name), and the report shows, for the primary
source, each analysis's title, table (`table`) and figures, in registry order.

    run(settings, context, key) -> AnalysisResult(numbers, arrays)
      numbers: JSON-ready (they go to analysis.json and summary.json; the table reads them back);
      arrays: what the figure draws (not saved).
    figure(result, directory, context) -> file names written in `directory` (may be none)
    table(numbers, table_context) -> Markdown lines (a table and a sentence or two)
    check(settings, config): cross-checks against the rest of the configuration (ValueError)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

import jax
import numpy as np


@dataclasses.dataclass(frozen=True)
class Context:
  """What an analysis sees of one consolidation run.

  Attributes:
    config: the run's `ConsolidationConfig`.
    source: the replay source whose replays trained the VAE ("mhn", …).
    student, state: the trained VAE memory (`VAEMemory`) and its `TrainState`.
    prepared: the run's data (`pipeline.Prepared`: train/test splits, stored images, labels).
  """
  config: Any
  source: str
  student: Any
  state: Any
  prepared: Any


@dataclasses.dataclass(frozen=True)
class TableContext:
  """What a table sees: the settings, the source, and whether the authors' numbers compare
  (`report.comparability`: the same quantities on Shapes3D)."""
  config: Any
  source: str
  authors: bool


@dataclasses.dataclass(frozen=True)
class AnalysisResult:
  """numbers: JSON-ready results; arrays: what the figure draws."""
  numbers: Mapping[str, Any]
  arrays: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)


def _no_check(settings: Any, config: Any) -> None:
  del settings, config


def _no_figure(result: AnalysisResult, directory: str, context: Context) -> Sequence[str]:
  del result, directory, context
  return ()


@dataclasses.dataclass(frozen=True)
class Analysis:
  """One registered analysis (see the module docstring).

  Attributes:
    name: registry key and the key of its numbers in analysis.json.
    title: its heading in the report.
    settings_cls: its frozen settings dataclass (defaults: the paper's; validated on construction).
    run: `(settings, Context, key) -> AnalysisResult`.
    table: `(numbers, TableContext) -> Markdown lines`.
    figure: `(AnalysisResult, directory, Context) -> file names`; default none.
    check: `(settings, config) -> None`, raising ValueError; default none.
    datasets: the datasets (`DataSettings.dataset`) it applies to (None: every dataset); a run on
      another dataset skips it unless it is named explicitly, which is a ValueError.
  """
  name: str
  title: str
  settings_cls: type
  run: Callable[[Any, Context, jax.Array], AnalysisResult]
  table: Callable[[Mapping[str, Any], TableContext], list[str]]
  figure: Callable[[AnalysisResult, str, Context], Sequence[str]] = _no_figure
  check: Callable[[Any, Any], None] = _no_check
  datasets: tuple[str, ...] | None = None

  def applies_to(self, dataset: str) -> bool:
    """Whether the analysis runs on `dataset`."""
    return self.datasets is None or dataset in self.datasets

  def __post_init__(self):
    if not isinstance(self.name, str) or not self.name.isidentifier():
      raise ValueError(f"Analysis name must be an identifier, got {self.name!r}")
    if not dataclasses.is_dataclass(self.settings_cls):
      raise ValueError(f"Analysis {self.name!r}: settings_cls must be a dataclass, got {self.settings_cls!r}")
    for field in ("run", "table", "figure", "check"):
      if not callable(getattr(self, field)):
        raise ValueError(f"Analysis {self.name!r}: {field} must be callable")
    if self.datasets is not None:
      if isinstance(self.datasets, str) or not all(isinstance(d, str) for d in self.datasets):
        raise ValueError(f"Analysis {self.name!r}: datasets must be None or a tuple of dataset names, "
                         f"got {self.datasets!r}")
      object.__setattr__(self, "datasets", tuple(self.datasets))


# ----------------------------------------------------------------------------- shared helpers

def plt():
  """matplotlib.pyplot on the Agg backend."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as pyplot  # pylint: disable=import-outside-toplevel
  return pyplot


def show(ax: Any, image: np.ndarray) -> None:
  """An (H, W, C) image in [0, 1] on `ax`, without ticks (grey for one channel)."""
  image = np.clip(np.asarray(image), 0.0, 1.0)
  if image.shape[-1] == 1:
    ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
  else:
    ax.imshow(image)
  ax.set_xticks([])
  ax.set_yticks([])


def fmt(x: Any, spec: str = ".3f") -> str:
  """A number for a table ("–" for None, NaN or a non-number)."""
  if isinstance(x, bool) or not isinstance(x, (int, float)) or (isinstance(x, float) and np.isnan(x)):
    return "–"
  return format(x, spec)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "---:") -> list[str]:
  """Markdown lines of a table (first column left-aligned, the others `align`)."""
  return (["| " + " | ".join(header) + " |", "|---|" + "|".join([align] * (len(header) - 1)) + "|"]
          + ["| " + " | ".join(r) + " |" for r in rows])


def images(student: Any, state: Any, z: Any, shape: Sequence[int]) -> np.ndarray:
  """The decoder's images of (N, L) latents, (N, H, W, C) in [0, 1] (the student's data range is
  [0, 1], so its flat decodings reshape to images)."""
  return np.asarray(student.decode(state, np.asarray(z, np.float32))).reshape((-1,) + tuple(shape))
