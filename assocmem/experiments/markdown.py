"""Small helpers the experiments' `report_section`s share: reading result files, numbers, figure links."""

from __future__ import annotations

import json
import os
from typing import Any, Sequence


def read_json(path: str) -> dict[str, Any] | None:
  """The JSON object in `path`, or None when the file is missing, unreadable or not an object."""
  try:
    with open(path) as f:
      out = json.load(f)
  except (OSError, json.JSONDecodeError):
    return None
  return out if isinstance(out, dict) else None


def fmt(value: Any, spec: str = ".3g") -> str:
  """A number for a report (integers in full, others with `spec`), or "–" when it is not a number."""
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    return "–"
  return str(value) if isinstance(value, int) else format(value, spec)


def relative_dir(out_dir: str, results_dir: str | None) -> str:
  """`out_dir` relative to `results_dir` (default: its parent), for links in results/REPORT.md."""
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  return os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir))


def figure_lines(out_dir: str, results_dir: str | None, figures: Sequence[str]) -> list[str]:
  """A Markdown image line `![name](<out_dir relative to results_dir>/name)` per existing figure."""
  rel = relative_dir(out_dir, results_dir)
  return [f"![{fig}]({rel}/{fig})" for fig in figures if os.path.exists(os.path.join(out_dir, fig))]
