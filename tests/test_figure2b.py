"""Figure 2b (seed 002): the run's files agree with its summary; the registry entry; the key contract."""

from __future__ import annotations

import csv
import json
import os

import jax
import pytest

from assocmem.experiments import figure2b, registry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY = figure2b.Figure2bConfig(n_steps=40, hidden=16, n_iterations=40, chunk_size=20)


def test_run_writes_one_row_per_cue_matching_the_summary(tmp_path):
  out = str(tmp_path / "f")
  s = figure2b.run(TINY, out)
  with open(os.path.join(out, "figure2b.csv")) as f:
    rows = list(csv.DictReader(f))
  assert tuple(rows[0]) == figure2b.CSV_HEADER and len(rows) == TINY.n_cues
  for row, cue in zip(rows, s["cues"]):
    assert int(row["cue"]) == cue["cue"] and int(row["target"]) == cue["target"] == cue["cue"] % TINY.n_patterns
    assert int(row["exact_pattern"]) == cue["exact_pattern"] and int(row["agree"]) == int(cue["agree"])
    assert float(row["max_abs_endpoint_diff"]) == pytest.approx(cue["max_abs_endpoint_diff"], abs=1e-4)
  # the exact score recovers the cued pattern from Figure 2a's cues (θ = 0.68)
  assert s["fraction_exact_recovers_target"] == 1.0
  assert s["fraction_endpoints_agree"] == pytest.approx(sum(c["agree"] for c in s["cues"]) / TINY.n_cues)
  with open(os.path.join(out, "figure2b.json")) as f:
    assert json.load(f)["cues"] == s["cues"]
  assert os.path.getsize(os.path.join(out, "figure2b.png")) > 0
  with pytest.raises(ValueError, match="key"):
    figure2b.run(TINY, out, key=jax.random.PRNGKey(TINY.seed + 1))


def test_registered_with_its_script_and_presets():
  exp = registry.get("figure2b")
  assert exp is figure2b.EXPERIMENT and exp.folder == "figure2b"
  assert exp.script_path == "scripts/train_score.py" and os.path.exists(os.path.join(REPO, exp.script_path))
  assert exp.config("quick").n_steps == 300 and exp.config("paper").n_steps == 2000
  assert exp.config("quick", hidden=8).hidden == 8
  with pytest.raises(ValueError, match="hidden"):
    exp.config("quick", hidden=0)
