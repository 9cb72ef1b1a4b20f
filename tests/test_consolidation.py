"""Seed 000's consolidation: the Hopfield hippocampus, its replays, and the VAE trained on them.

Properties: a stored image is a fixed point the MHN recalls exactly (Eq. 3, β = 20/√d), also
from noisy and partial cues; replay through the streaming bank equals the dense one and never
builds a batch × bank × dimension array; consolidation on a tiny set lowers the reconstruction
error of the originals; an interrupted run resumes to exactly the uninterrupted result; bad
settings fail with a ValueError naming the setting.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from assocmem import data as data_lib
from assocmem.experiments import consolidation
from assocmem.experiments.consolidation import hippocampus, pipeline
from conftest import tree_allclose

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 300 offline digits (270 train / 30 test), 64 stored, 96 replays (12 batches of 8), 2–3 epochs.
TINY = consolidation.ConsolidationConfig(
    dataset="mnist", n_images=300, n_stored=64, n_replays=96, replay_batch=32, chunk_size=16,
    vae="compact", epochs=3, batch_size=8, n_eval=32, decode_fit=10, decode_score=15, n_recall=8,
    few_shot_sizes=(10, 20), embedding="pca", n_embed=20, n_imagine=4, diffusion_steps=8)


@pytest.fixture(scope="module")
def prepared():
  return pipeline.prepare_data(TINY)


@pytest.fixture(scope="module")
def shapes():
  """Eight procedural Shapes3D scenes (64×64×3, d = 12,288) in [0, 1]."""
  return data_lib.load("shapes3d", n=8, seed=3).images


def _signed(images: np.ndarray) -> np.ndarray:
  return data_lib.flatten(data_lib.to_signed(images))


# ----------------------------------------------------------------------------- hippocampus

@pytest.mark.parametrize("incremental", [False, True])
def test_mhn_stores_an_image_and_recalls_it_exactly(shapes, incremental):
  cfg = dataclasses.replace(TINY, dataset="shapes3d", vae="large", n_stored=8, chunk_size=4, n_eval=8,
                            n_recall=8)
  hippo = hippocampus.make_hippocampus(cfg)
  assert hippo.effective_beta(12288) == pytest.approx(20.0 / np.sqrt(12288))
  patterns = _signed(shapes)
  bank = hippocampus.store(hippo, patterns, incremental=incremental)
  assert bank.capacity == 8 and bank.dim == 12288
  for name, cue in {"stored": shapes, "noisy": hippocampus.noisy_cues(jax.random.PRNGKey(0), shapes, 0.05)}.items():
    out = hippocampus.recall_batched(hippo, bank, _signed(cue), batch_size=8)
    np.testing.assert_allclose(out, patterns, atol=1e-5, err_msg=name)
  # From heavier damage (half the image occluded) a recall still ends exactly on a stored image
  # (β = 20/√d makes the softmax one-hot), though with a dot-product similarity not always the
  # cued one: darkened pixels favour patterns of larger norm.
  out = hippocampus.recall_batched(hippo, bank, _signed(hippocampus.partial_cues(shapes, 0.5)), batch_size=8)
  nearest, err = hippocampus.nearest_patterns(out, patterns)
  assert np.max(err) < 1e-5 and np.mean(nearest == np.arange(8)) >= 0.5


def test_cues_change_the_stated_fraction(shapes):
  noisy = hippocampus.noisy_cues(jax.random.PRNGKey(1), np.ones_like(shapes), 0.1)
  np.testing.assert_array_equal(np.sum(noisy == 0.0, axis=(1, 2, 3)), round(0.1 * 12288))
  partial = hippocampus.partial_cues(np.ones_like(shapes), 0.5)
  assert np.all(partial[:, 32:] == 0.0) and np.all(partial[:, :32] == 1.0)


@pytest.mark.parametrize("source", ["mhn", "diffusion"])
def test_replay_streaming_equals_dense(prepared, source):
  patterns = _signed(prepared.stored)                   # 64 digits, d = 784
  out = {}
  for mode in ("dense", "streaming", "sharded"):
    cfg = dataclasses.replace(TINY, mode=mode)
    memory = hippocampus.make_source(source, cfg)
    bank = hippocampus.store(memory, patterns)
    out[mode] = hippocampus.replay_batched(memory, bank, jax.random.PRNGKey(7), 40, batch_size=20)
  assert out["dense"].shape == (40, 784)
  np.testing.assert_allclose(out["streaming"], out["dense"], atol=1e-4)
  np.testing.assert_allclose(out["sharded"], out["dense"], atol=1e-4)
  if source == "mhn":      # replays from noise land on stored digits
    fid = hippocampus.replay_fidelity(out["dense"], patterns)
    assert fid["fraction_near_stored"] == 1.0 and fid["mean_abs_to_nearest"] < 1e-5


def test_exact_diffusion_replays_full_size_images(shapes):
  """The exact-diffusion source at d = 12,288 (streaming): Euler–Maruyama from the prior ends on
  stored images, up to the residual noise of t_end = 1e-3 (≈ 0.025 per unit)."""
  cfg = dataclasses.replace(TINY, dataset="shapes3d", vae="large", n_stored=8, chunk_size=4, n_eval=8,
                            n_recall=8, diffusion_steps=30)
  patterns = _signed(shapes)
  memory = hippocampus.make_diffusion(cfg)
  replays = hippocampus.replay_batched(memory, hippocampus.store(memory, patterns), jax.random.PRNGKey(0),
                                       8, batch_size=8)
  assert np.all(np.isfinite(replays))
  fid = hippocampus.replay_fidelity(replays, patterns)
  assert fid["fraction_near_stored"] == 1.0 and fid["mean_abs_to_nearest"] < 0.04


def test_learned_diffusion_source_plugs_in(prepared, tmp_path):
  """The third pluggable source: a ScoreMLP is trained (Eq. 27, orbax-checkpointed) on the stored
  digits and replays through the same pipeline; the replays are cached and reused. (Replay quality
  is not asserted: at image dimensionality the paper's MLP barely learns, see docs/reproduction.md.)"""
  cfg = dataclasses.replace(TINY, n_stored=8, n_eval=8, n_recall=8, n_replays=16, replay_batch=16,
                            learned_hidden=64, learned_iterations=60, diffusion_steps=10)
  memory = hippocampus.make_source("learned", cfg)
  assert memory.hidden == 64 and memory.train.n_iterations == 60
  prep = pipeline.prepare_data(cfg)
  replays, info = pipeline.generate_replays(cfg, "learned", prep, str(tmp_path))
  assert replays.shape == (16, 28, 28, 1) and np.all((replays >= 0) & (replays <= 1))
  assert info["source"] == "learned" and np.isfinite(info["mean_abs_to_nearest"])
  assert os.path.isdir(tmp_path / "source_checkpoint")
  again, info2 = pipeline.generate_replays(cfg, "learned", prep, str(tmp_path))
  np.testing.assert_array_equal(again, replays)
  assert info2 == info


def test_every_source_rejects_patterns_outside_the_signed_range():
  cfg = dataclasses.replace(TINY, learned_hidden=8, learned_iterations=1)
  bad = np.full((4, 784), 2.0, np.float32)
  for name in consolidation.SOURCES:
    memory = hippocampus.make_source(name, cfg)
    with pytest.raises(ValueError, match=r"patterns must hold finite values in \[-1, 1\]"):
      hippocampus.store_source(memory, bad, jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="patterns must have shape"):
      hippocampus.store_source(memory, np.zeros((4, 28, 28)), jax.random.PRNGKey(0))


def _max_intermediate(jaxpr) -> tuple[int, set]:
  """Largest array any equation of a (closed) jaxpr produces, and all output shapes, sub-jaxprs included."""
  biggest, shapes = 0, set()
  for eqn in jaxpr.eqns:
    for v in eqn.outvars:
      shape = tuple(getattr(v.aval, "shape", ()))
      shapes.add(shape)
      biggest = max(biggest, int(np.prod(shape)) if shape else 1)
    for p in eqn.params.values():
      for sub in (p if isinstance(p, (list, tuple)) else [p]):
        inner = getattr(sub, "jaxpr", sub)
        if hasattr(inner, "eqns"):
          b, s = _max_intermediate(inner)
          biggest, shapes = max(biggest, b), shapes | s
  return biggest, shapes


def test_streaming_replay_holds_chunks_never_batch_by_bank_by_dim(prepared):
  b, n, d, chunk = 32, 64, 784, 16
  memory = hippocampus.make_hippocampus(TINY)
  bank = hippocampus.store(memory, _signed(prepared.stored))
  jaxpr = jax.make_jaxpr(lambda st, k: memory.replay(st, k, b))(bank, jax.random.PRNGKey(0))
  biggest, shapes = _max_intermediate(jaxpr.jaxpr)
  assert biggest <= n * d                               # nothing beyond the bank itself
  assert (b, chunk) in shapes and (b, n) not in shapes  # chunked logits, never all N at once


# ----------------------------------------------------------------------------- consolidation

@pytest.fixture(scope="module")
def straight(prepared, tmp_path_factory):
  """An uninterrupted three-epoch run from the hippocampus, with its files."""
  out = str(tmp_path_factory.mktemp("consolidation") / "straight")
  return out, consolidation.run_source(TINY, "mhn", out, prepared)


def test_consolidation_lowers_reconstruction_error(straight):
  _, res = straight
  assert [r["epoch"] for r in res.rows] == [1, 2, 3]
  assert res.replay["fraction_near_stored"] == 1.0      # the VAE trained on replays of stored digits
  assert res.replays.shape == (96, 28, 28, 1)
  first, final = res.rows[0], res.final
  assert final["recon_error"] < 0.9 * first["recon_error"]
  assert final["vae_recall_error"] < first["vae_recall_error"]
  assert 0.0 <= final["decoding_accuracy"] <= 1.0


def test_interrupted_consolidation_resumes_to_the_same_result(prepared, straight, tmp_path):
  straight_dir, straight = straight
  two = dataclasses.replace(TINY, epochs=2)
  interrupted = str(tmp_path / "interrupted")
  consolidation.run_source(two, "mhn", interrupted, prepared)         # stops after epoch 2
  resumed = consolidation.run_source(TINY, "mhn", interrupted, prepared)
  assert resumed.resumed_from_epoch == 2
  assert resumed.rows == straight.rows and resumed.final == straight.final
  assert tree_allclose(resumed.state, straight.state, rtol=0, atol=0)
  with open(os.path.join(interrupted, "consolidation.csv")) as a, \
       open(os.path.join(straight_dir, "consolidation.csv")) as b:
    assert a.read() == b.read()
  with pytest.raises(ValueError, match="other settings.*n_replays"):
    consolidation.run_source(dataclasses.replace(TINY, n_replays=64), "mhn", interrupted, prepared)


def test_experiment_writes_the_csv_and_both_sources_side_by_side(tmp_path):
  cfg = dataclasses.replace(TINY, epochs=2)
  out = str(tmp_path / "run")
  results = consolidation.run_experiment(cfg, out, ("mhn", "diffusion"), preset="test")
  with open(os.path.join(out, "consolidation.csv")) as f:
    lines = f.read().splitlines()
  assert lines[0] == "epoch,recon_error,decoding_accuracy,vae_recall_error"
  assert [int(ln.split(",")[0]) for ln in lines[1:]] == [1, 2]
  assert pipeline.read_csv(os.path.join(out, "consolidation.csv")) == \
      pipeline.read_csv(os.path.join(out, "mhn", "consolidation.csv"))
  with open(os.path.join(out, "comparison.csv")) as f:
    assert [ln.split(",")[0] for ln in f.read().splitlines()[1:]] == ["mhn", "diffusion"]
  assert results["diffusion"].replay["fraction_near_stored"] > 0.5
  for name in ("consolidation_curves.png", "summary.md", "summary.json", "mhn/recall.png",
               "mhn/imagination.png", "mhn/few_shot.png", "mhn/embedding.png", "diffusion/replays.png"):
    assert os.path.exists(os.path.join(out, name)), name
  section = consolidation.report_section(out, str(tmp_path))
  assert "modern Hopfield" in section and "exact diffusion" in section and "run/consolidation_curves.png" in section


# ----------------------------------------------------------------------------- bad input

def test_bad_settings_name_the_setting(tmp_path, prepared):
  with pytest.raises(ValueError, match="dataset"):
    consolidation.ConsolidationConfig(dataset="cifar10")
  with pytest.raises(ValueError, match="data_dir"):
    consolidation.get_preset("paper")
  with pytest.raises(ValueError, match="data_dir"):
    pipeline.prepare_data(dataclasses.replace(TINY, data_dir=str(tmp_path / "missing")))
  with pytest.raises(ValueError, match="vae"):
    dataclasses.replace(TINY, vae="large")              # a 64×64×3 VAE for 28×28×1 digits
  with pytest.raises(ValueError, match="n_stored"):
    pipeline.prepare_data(dataclasses.replace(TINY, n_stored=280, n_eval=32))
  with pytest.raises(ValueError, match="replay_source"):
    consolidation.check_sources(("mhn", "gan"))
  memory = hippocampus.make_hippocampus(TINY)
  with pytest.raises(ValueError, match="patterns must have shape"):
    hippocampus.store(memory, prepared.stored)          # images, not flattened rows
  with pytest.raises(ValueError, match=r"\[-1, 1\]"):
    hippocampus.store(memory, 3.0 * _signed(prepared.stored))


def test_script_turns_a_missing_data_dir_into_a_usage_error(tmp_path):
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  out = subprocess.run([sys.executable, "scripts/consolidate.py", "--preset=paper",
                        f"--out_dir={tmp_path}"], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=300)
  assert out.returncode == 1, out.stderr[-2000:]
  assert "Traceback" not in out.stderr
  assert any(line.startswith("data_dir is required") for line in out.stderr.splitlines()), out.stderr[-2000:]


def test_report_sets_the_authors_numbers_beside_ours_only_when_comparable(tmp_path):
  from assocmem.experiments.consolidation import report
  paper = consolidation.get_preset("paper", data_dir=str(tmp_path))
  assert report.comparability(paper)[0] == "comparable"
  assert report.comparability(consolidation.get_preset("paper", offline=True))[0] == "same setting, other images"
  assert report.comparability(TINY)[0] == "not comparable"
  rows = [{"epoch": e, "recon_error": 300.0 / e, "decoding_accuracy": 0.3 + 0.01 * e, "vae_recall_error": 310.0 / e}
          for e in range(1, 51)]
  summary = {"rows": rows, "first": rows[0], "final": rows[-1], "epochs_run": 50, "train_seconds": 1.0,
             "replay": {"replays_per_second": 10.0, "fraction_near_stored": 1.0, "mean_abs_to_nearest": 0.0,
                        "distinct_replayed": 6000},
             "training": [{"epoch": e - 1, "loss": 1.0, "reconstruction": 400.0 / e, "kl": 1.0} for e in range(1, 51)]}
  analyses = {"mhn": {"recall": [{"cue": "noisy 0.1", "fraction": 0.1, "cue_error": 1.0, "vae_error": 2.0,
                                  "mhn_error": 0.0, "mhn_correct": 1.0}],
                      "few_shot": {"latents": {"10": 0.4, "1000": 0.9}, "pixels": {"10": 0.3, "1000": 0.7}}}}
  md = report.summary_markdown(paper, {"mhn": summary}, analyses, "paper", 1.0)
  assert "| 50 | 0.800 | 0.83 | 8 | 47 |" in md          # ours beside the authors' at epoch 50
  assert "| 1000 | 0.900 | 0.700 | 0.92 | 0.75 |" in md   # few-shot, ours beside theirs
  report.curves_figure({"mhn": summary}, str(tmp_path / "curves.png"), authors=True)
  report.few_shot_figure(analyses["mhn"]["few_shot"], str(tmp_path / "few_shot.png"), authors=True)
  assert os.path.getsize(tmp_path / "curves.png") > 0 and os.path.getsize(tmp_path / "few_shot.png") > 0
  assert "authors'" not in report.summary_markdown(TINY, {"mhn": summary}, analyses, None, None).split(
      "Against the authors")[0].split("Per-epoch curves")[1]
