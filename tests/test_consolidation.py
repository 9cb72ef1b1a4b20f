"""Seed 000's consolidation: the Hopfield hippocampus, its replays, and the VAE trained on them.

Properties: a stored image is a fixed point the MHN recalls exactly (Eq. 3, β = 20/√d), also
from noisy and partial cues; replay through the streaming bank equals the dense one and never
builds a batch × bank × dimension array; replay sources are memories by name; consolidation on a
tiny set lowers the reconstruction error of the originals; an interrupted run resumes to exactly the
uninterrupted result; a registered analysis runs and appears in the report; the nested settings
validate per group and bad settings fail with a ValueError naming the setting.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from assocmem import data as data_lib
from assocmem.experiments import consolidation, references
from assocmem.experiments.consolidation import analyses, hippocampus, pipeline, report
from assocmem.experiments.consolidation.analyses import semantic_decoding
from assocmem.experiments.consolidation.analyses.base import Analysis, AnalysisResult
from assocmem.experiments.consolidation.analyses.embedding import EmbeddingSettings
from assocmem.experiments.consolidation.analyses.imagination import ImaginationSettings
from assocmem.experiments.consolidation.analyses.recall import RecallSettings
from assocmem.experiments.consolidation.analyses.semantic_decoding import SemanticDecodingSettings
from assocmem.experiments.consolidation.config import (AnalysesSettings, ConsolidationConfig, DataSettings,
                                                        DecodingSettings, HippocampusSettings, ReplaySettings,
                                                        VAESettings, with_overrides)
from conftest import tree_allclose

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}

# 300 offline digits (270 train / 30 test), 64 stored, 96 replays (3 batches of 32), 2–3 epochs.
TINY = ConsolidationConfig(
    data=DataSettings(dataset="mnist", n_images=300, n_stored=64),
    hippocampus=HippocampusSettings(chunk_size=16),
    replay=ReplaySettings(n_replays=96, batch_size=32, diffusion_steps=8),
    vae=VAESettings(arch="compact", epochs=3, batch_size=8),
    decoding=DecodingSettings(n_eval=32, n_fit=10, n_score=15),
    analyses=AnalysesSettings(settings={
        "recall": RecallSettings(n_recall=8), "imagination": ImaginationSettings(n_imagine=4),
        "semantic_decoding": SemanticDecodingSettings(few_shot_sizes=(10, 20)),
        "embedding": EmbeddingSettings(method="pca", n_embed=20)}))
SHAPES = {"data.dataset": "shapes3d", "vae.arch": "large", "data.n_stored": 8, "hippocampus.chunk_size": 4,
          "decoding.n_eval": 8, "analyses.recall.n_recall": 8,
          "analyses.names": ("recall",)}   # the Shapes3D-only analyses need larger test splits


@pytest.fixture(scope="module")
def prepared():
  return pipeline.prepare_data(TINY)


@pytest.fixture(scope="module")
def shapes():
  """Eight procedural Shapes3D scenes (64×64×3, d = 12,288) in [0, 1]."""
  return data_lib.load("shapes3d", n=8, seed=3).images


def _signed(images: np.ndarray) -> np.ndarray:
  return data_lib.flatten(data_lib.to_signed(images))


# ----------------------------------------------------------------------------- settings

def test_presets_keep_their_values():
  quick, paper = consolidation.PRESETS["quick"], consolidation.PRESETS["paper"]
  assert dataclasses.asdict(quick.data) == dict(dataset="mnist", data_dir=None, n_images=None, data_seed=0,
                                                label=None, n_stored=2000)
  assert dataclasses.asdict(quick.hippocampus) == dict(beta=20.0, scale_by_sqrt_d=True, max_updates=10, tol=0.0,
                                                       mode="streaming", chunk_size=1000, incremental=False)
  assert dataclasses.asdict(quick.replay) == dict(sources=("mhn", "diffusion"), n_replays=2000,
                                                  batch_size=500, diffusion_gamma=0.8, diffusion_theta=1e-3,
                                                  diffusion_steps=100, learned_variant="unit_mixture",
                                                  learned_components=8,
                                                  learned_hidden=1024, learned_iterations=4000,
                                                  learned_learning_rate=2e-3, learned_batch_size=128,
                                                  learned_theta_min=0.01, learned_sampler="ode",
                                                  classify_delta_m=2.8, classify_delta_s=2.8)
  assert dataclasses.asdict(quick.vae) == dict(arch="compact", latent_dim=20, epochs=15, patience=3, batch_size=32,
                                               learning_rate=1e-3, kl_weight=1.0, steps_per_call=None,
                                               training_mode="authors_code")
  assert dataclasses.asdict(quick.decoding) == dict(n_eval=1000, noise_fraction=0.1, n_fit=200, n_score=250)
  assert quick.analyses.get("recall") == RecallSettings(n_recall=250, noise_fractions=(0.1, 0.4), partial_fraction=0.5)
  assert quick.analyses.get("semantic_decoding").few_shot_sizes == (10, 20, 50, 100, 200, 500, 1000)
  assert quick.analyses.get("embedding") == EmbeddingSettings(method="tsne", n_embed=500)
  assert quick.analyses.get("imagination").n_imagine == 16
  assert (paper.data.n_stored, paper.replay.n_replays, paper.replay.batch_size, paper.hippocampus.chunk_size,
          paper.replay.diffusion_steps, paper.vae.arch, paper.vae.epochs, paper.decoding.n_eval,
          paper.decoding.n_score, paper.analyses.get("recall").n_recall, paper.analyses.get("embedding").n_embed) == \
      (10_000, 10_000, 250, 2000, 300, "large", 50, 2000, 750, 500, 800)
  assert paper.replay.sources == ("mhn",) and paper.data.dataset == "shapes3d"


def test_identity_ignores_only_the_resumable_settings():
  base = TINY.identity_hash()
  for address, value in {"vae.epochs": 9, "vae.patience": None, "data.data_dir": "/x", "replay.sources": ("diffusion",),
                         "analyses.recall.n_recall": 4, "analyses.enabled": False}.items():
    assert with_overrides(TINY, {address: value}).identity_hash() == base, address
  for address, value in {"replay.n_replays": 64, "hippocampus.beta": 10.0, "vae.batch_size": 16, "seed": 1,
                         "decoding.n_fit": 12, "data.n_stored": 60}.items():
    changed = with_overrides(TINY, {address: value})
    assert changed.identity_hash() != base, address
    assert changed.identity()[address] == value
  assert ConsolidationConfig.from_dict(json.loads(json.dumps(TINY.to_dict()))) == TINY


def test_each_group_validates_its_settings():
  for make, name in ((lambda: DataSettings(dataset="cifar10"), "dataset"),
                     (lambda: HippocampusSettings(mode="fast"), "mode"),
                     (lambda: HippocampusSettings(beta=-1.0), "beta"),
                     (lambda: ReplaySettings(sources=("mhn", "gan")), "replay_source"),
                     (lambda: ReplaySettings(sources=("mhn", "modern_hopfield")), "replay_source"),
                     (lambda: ReplaySettings(learned_variant="wide"), "learned_variant"),
                     (lambda: ReplaySettings(learned_batch_size=0), "learned_batch_size"),
                     (lambda: ReplaySettings(learned_theta_min=1.0), "learned_theta_min"),
                     (lambda: ReplaySettings(learned_sampler="heun"), "learned_sampler"),
                     (lambda: ReplaySettings(learned_components=1), "learned_components"),
                     (lambda: ReplaySettings(learned_learning_rate=-1e-3), "learned_learning_rate"),
                     (lambda: ReplaySettings(classify_delta_m=0.0), "classify_delta_m"),
                     (lambda: VAESettings(arch="huge"), "vae"),
                     (lambda: DecodingSettings(noise_fraction=1.5), "noise_fraction"),
                     (lambda: AnalysesSettings(names=("nope",)), "analysis"),
                     (lambda: AnalysesSettings(settings={"recall": EmbeddingSettings()}), "recall"),
                     (lambda: RecallSettings(noise_fractions=(0.1, 1.0)), "recall_noise_fractions"),
                     (lambda: RecallSettings(baseline="gan"), "replay_source"),
                     (lambda: EmbeddingSettings(method="umap"), "embedding"),
                     (lambda: with_overrides(TINY, {"vae.arch": "large"}), "vae"),     # 64×64×3 VAE, 28×28 digits
                     (lambda: with_overrides(TINY, {"analyses.recall.n_recall": 65}), "n_recall"),
                     (lambda: with_overrides(TINY, {"decoding.n_eval": 65}), "n_eval"),
                     (lambda: with_overrides(TINY, {"replay.speed": 2}), "replay.speed"),
                     (lambda: consolidation.get_preset("paper"), "data_dir")):
    with pytest.raises(ValueError, match=name):
      make()


def test_experiment_is_registered_with_the_makefile_rule():
  from assocmem.experiments import registry
  exp = registry.get("consolidation")
  assert exp is consolidation.EXPERIMENT and exp in registry.experiments()
  assert exp.script_path == "scripts/consolidate.py" and exp.folder == "consolidation"
  assert tuple(exp.reproduce_args("results", "quick", None)) == ()
  assert tuple(exp.reproduce_args("results", "paper", None)) == ("--offline",)
  assert tuple(exp.reproduce_args("results", "paper", "/data")) == ("--data_dir=/data",)
  assert exp.config("paper", offline=True) == consolidation.PRESETS["paper"]
  assert exp.config("quick", **{"vae.epochs": 2}).vae.epochs == 2


def test_every_flag_sets_one_setting_through_the_table():
  """The script's flag table names a real setting for every flag; the derived defaults hold."""
  code = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("consolidate_script", "scripts/consolidate.py")
m = importlib.util.module_from_spec(spec); sys.modules["consolidate_script"] = m; spec.loader.exec_module(m)
from absl import flags
flags.FLAGS(["x"])
from assocmem.experiments import consolidation as c
defined = {n for n in flags.FLAGS if n not in ("preset", "out_dir", "offline")}
out = {"missing": sorted(n for n in m.FLAG_SETTINGS if n not in flags.FLAGS),
       "unmapped": sorted(n for n in ("mode", "data_dir", "dataset", "vae", "n_stored", "n_replays", "epochs",
                                      "chunk_size", "replay_batch", "diffusion_steps", "learned_hidden",
                                      "learned_iterations", "learned_variant", "learned_learning_rate",
                                      "learned_batch_size", "learned_theta_min", "learned_sampler",
                                      "learned_components", "beta",
                                      "scale_by_sqrt_d", "incremental",
                                      "steps_per_call", "seed", "analysis", "replay_source",
                                      "vae_training_mode")
                          if n not in m.FLAG_SETTINGS)}
q = c.PRESETS["quick"]
cfg = c.get_preset("quick", **m.flag_overrides({"mode": "dense", "replay_source": ["all"], "n_stored": 100,
                                                "replay_batch": 50, "analysis": False, "seed": 3,
                                                "dataset": None}, "quick"))
out["cfg"] = [cfg.hippocampus.mode, list(cfg.replay.sources), cfg.data.n_stored, cfg.decoding.n_eval,
              cfg.analyses.get("recall").n_recall, cfg.replay.batch_size, cfg.analyses.enabled, cfg.seed]
paper = c.get_preset("paper", **m.flag_overrides({"dataset": "mnist"}, "paper"))
out["paper_mnist_vae"] = paper.vae.arch
out["quick_shapes_vae"] = c.get_preset("quick", **m.flag_overrides({"dataset": "shapes3d"}, "quick")).vae.arch
print(json.dumps(out))
"""
  res = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**ENV, "PYTHONPATH": REPO},
                       capture_output=True, text=True, timeout=300)
  assert res.returncode == 0, res.stderr[-2000:]
  out = json.loads(res.stdout.strip().splitlines()[-1])
  assert out["missing"] == [] and out["unmapped"] == []
  assert out["cfg"] == ["dense", ["mhn", "diffusion", "learned"], 100, None, 100, 50, False, 3]
  assert out["paper_mnist_vae"] == "small" and out["quick_shapes_vae"] == "large"


# ----------------------------------------------------------------------------- hippocampus

@pytest.mark.parametrize("incremental", [False, True])
def test_mhn_stores_an_image_and_recalls_it_exactly(shapes, incremental):
  cfg = with_overrides(TINY, SHAPES)
  hippo = hippocampus.make_hippocampus(cfg)
  assert hippo.effective_beta(12288) == pytest.approx(20.0 / np.sqrt(12288))
  patterns = _signed(shapes)
  bank = hippocampus.store_source(hippo, patterns, jax.random.PRNGKey(0), incremental=incremental)
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


def test_the_memory_lays_out_its_bank_for_the_mode(prepared):
  """The experiment passes a mode only: 64 patterns in chunks of 24 get 72 slots, 8 of them empty."""
  cfg = with_overrides(TINY, {"hippocampus.chunk_size": 24})
  for source in ("mhn", "diffusion"):
    for incremental in (False, True):
      bank = hippocampus.store_source(hippocampus.make_source(source, cfg), _signed(prepared.stored),
                                      jax.random.PRNGKey(0), incremental=incremental)
      assert bank.capacity == 72
      assert int(np.sum(np.isneginf(np.asarray(bank.log_weights)))) == 8


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
    memory = hippocampus.make_source(source, with_overrides(TINY, {"hippocampus.mode": mode}))
    bank = hippocampus.store_source(memory, patterns, jax.random.PRNGKey(0))
    out[mode] = hippocampus.replay_batched(memory, bank, jax.random.PRNGKey(7), 40, batch_size=20)
  assert out["dense"].shape == (40, 784)
  np.testing.assert_allclose(out["streaming"], out["dense"], atol=1e-4)
  np.testing.assert_allclose(out["sharded"], out["dense"], atol=1e-4)
  if source == "mhn":      # replays from noise land on stored digits
    fid = hippocampus.replay_fidelity(out["dense"], patterns)
    assert fid["fraction_near_stored"] == 1.0 and fid["mean_abs_to_nearest"] < 1e-5


def test_sources_are_memories_by_name(prepared):
  """The CLI names map to registry names, and any other registered memory is a source as it is."""
  assert hippocampus.SOURCE_MEMORIES == {"mhn": "modern_hopfield", "diffusion": "exact_diffusion",
                                         "learned": "learned_diffusion"}
  assert hippocampus.check_sources(("mhn", "exact_diffusion", "classical_hopfield")) == \
      ("mhn", "exact_diffusion", "classical_hopfield")
  classical = hippocampus.make_source("classical_hopfield", TINY)
  patterns = np.sign(_signed(prepared.stored[:4]) + 1e-3)
  weights = hippocampus.store_source(classical, patterns, jax.random.PRNGKey(0))
  replays = hippocampus.replay_batched(classical, weights, jax.random.PRNGKey(1), 6, batch_size=4)
  assert replays.shape == (6, 784) and set(np.unique(replays)) <= {-1.0, 1.0}


def test_exact_diffusion_replays_full_size_images(shapes):
  """The exact-diffusion source at d = 12,288 (streaming): Euler–Maruyama from the prior ends on
  stored images, up to the residual noise of t_end = 1e-3 (≈ 0.025 per unit)."""
  cfg = with_overrides(TINY, {**SHAPES, "replay.diffusion_steps": 30})
  patterns = _signed(shapes)
  memory = hippocampus.make_source("diffusion", cfg)
  state = hippocampus.store_source(memory, patterns, jax.random.PRNGKey(0))
  replays = hippocampus.replay_batched(memory, state, jax.random.PRNGKey(0), 8, batch_size=8)
  assert np.all(np.isfinite(replays))
  fid = hippocampus.replay_fidelity(replays, patterns)
  assert fid["fraction_near_stored"] == 1.0 and fid["mean_abs_to_nearest"] < 0.04


def test_learned_diffusion_source_plugs_in(prepared, tmp_path):
  """The third source: a ScoreMLP is trained (Eq. 27, orbax-checkpointed) on the stored digits and
  replays through the same pipeline; the replays are cached and reused, and classified as the
  memorisation sweep does. (Replay quality is not asserted at this size.)"""
  cfg = with_overrides(TINY, {"data.n_stored": 8, "decoding.n_eval": 8, "analyses.recall.n_recall": 8,
                              "replay.n_replays": 16, "replay.batch_size": 16, "replay.learned_hidden": 64,
                              "replay.learned_iterations": 60, "replay.diffusion_steps": 10})
  memory = hippocampus.make_source("learned", cfg)
  assert memory.hidden == 64 and memory.train.n_iterations == 60 and memory.variant == "unit_mixture"
  assert (memory.train.batch_size, memory.train.theta_min, memory.train.learning_rate) == (128, 0.01, 2e-3)
  assert memory.replay_sampler == "ode" and memory.components == 4 and memory.replay_denoise
  assert memory.replay_start_theta() == 0.01
  prep = pipeline.prepare_data(cfg)
  replays, info = pipeline.generate_replays(cfg, "learned", prep, str(tmp_path))
  assert replays.shape == (16, 28, 28, 1) and np.all((replays >= 0) & (replays <= 1))
  assert info["source"] == "learned" and np.isfinite(info["mean_abs_to_nearest"])
  classes = info["classes"]
  assert classes["memorised"] + classes["spurious"] + classes["other"] == pytest.approx(1.0)
  assert os.path.isdir(tmp_path / "source_checkpoint")
  again, info2 = pipeline.generate_replays(cfg, "learned", prep, str(tmp_path))
  np.testing.assert_array_equal(again, replays)
  assert info2 == info


def test_every_source_rejects_patterns_outside_the_signed_range():
  cfg = with_overrides(TINY, {"replay.learned_hidden": 8, "replay.learned_iterations": 1})
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
  bank = hippocampus.store_source(memory, _signed(prepared.stored), jax.random.PRNGKey(0))
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
  two = with_overrides(TINY, {"vae.epochs": 2})
  interrupted = str(tmp_path / "interrupted")
  consolidation.run_source(two, "mhn", interrupted, prepared)         # stops after epoch 2
  resumed = consolidation.run_source(TINY, "mhn", interrupted, prepared)
  assert resumed.resumed_from_epoch == 2
  assert resumed.rows == straight.rows and resumed.final == straight.final
  assert tree_allclose(resumed.state, straight.state, rtol=0, atol=0)
  with open(os.path.join(interrupted, "consolidation.csv")) as a, \
       open(os.path.join(straight_dir, "consolidation.csv")) as b:
    assert a.read() == b.read()
  with pytest.raises(ValueError, match="other settings.*replay.n_replays"):
    consolidation.run_source(with_overrides(TINY, {"replay.n_replays": 64}), "mhn", interrupted, prepared)


@dataclasses.dataclass(frozen=True)
class ToySettings:
  scale: float = 2.0


def _toy_run(settings, ctx, key):
  z = np.asarray(ctx.student.encode(ctx.state, ctx.prepared.test.images[:5]))
  return AnalysisResult({"latent_norm": float(settings.scale * np.mean(np.linalg.norm(z, axis=1))), "n": len(z)},
                        {"z": z})


def _toy_figure(result, directory, ctx):
  path = os.path.join(directory, "toy.txt")
  np.savetxt(path, result.arrays["z"])
  return ("toy.txt",)


def _toy_table(numbers, ctx):
  return ["| toy n | latent norm |", "|---:|---:|", f"| {numbers['n']} | {numbers['latent_norm']:.4f} |"]


TOY = Analysis(name="toy", title="Toy latent norm", settings_cls=ToySettings, run=_toy_run, table=_toy_table,
               figure=_toy_figure)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
  """A two-epoch experiment from both sources, with a toy analysis registered for its duration."""
  tmp = tmp_path_factory.mktemp("experiment")
  out = str(tmp / "run")
  cfg = with_overrides(TINY, {"vae.epochs": 2, "replay.sources": ("mhn", "diffusion")})
  with analyses.ANALYSES.registered("toy", TOY):
    summary = consolidation.run(cfg, out, preset="test")
    section = consolidation.report_section(out, str(tmp))
  return out, summary, section


def test_experiment_writes_the_csv_and_both_sources_side_by_side(experiment):
  out, summary, _ = experiment
  assert summary["sources"] == ["mhn", "diffusion"] and summary["primary"] == "mhn"
  rows = pipeline.read_csv(os.path.join(out, "consolidation.csv"))
  assert [r["epoch"] for r in rows] == [1, 2]
  assert rows == pipeline.read_csv(os.path.join(out, "mhn", "consolidation.csv"))
  assert rows[0]["recon_error"] == pytest.approx(summary["mhn"]["first"]["recon_error"], abs=1e-4)
  with open(os.path.join(out, "comparison.csv")) as f:
    lines = f.read().splitlines()
  assert [ln.split(",")[0] for ln in lines[1:]] == ["mhn", "diffusion"]
  record = dict(zip(lines[0].split(","), lines[1].split(",")))
  assert float(record["fraction_near_stored"]) == 1.0 and int(record["epochs"]) == 2
  with open(os.path.join(out, "diffusion", "replays.json")) as f:
    assert json.load(f)["fraction_near_stored"] > 0.5
  for name in ("consolidation_curves.png", "summary.md", "summary.json", "mhn/recall.png", "mhn/imagination.png",
               "mhn/few_shot.png", "mhn/embedding.png", "mhn/analysis.json", "diffusion/replays.png"):
    assert os.path.getsize(os.path.join(out, name)) > 0, name


def test_analyses_write_their_numbers(experiment):
  out, _, _ = experiment
  with open(os.path.join(out, "mhn", "analysis.json")) as f:
    numbers = json.load(f)
  assert set(numbers) == {"recall", "imagination", "semantic_decoding", "embedding", "prototypical_distortion",
                          "toy"}
  proto = numbers["prototypical_distortion"]
  assert proto["label"] == "label" and proto["figures"] == ["prototypes.png"]
  assert 0 <= proto["n_lower"] <= proto["n_classes"] == len(proto["classes"]) <= 10
  recall = {r["cue"]: r for r in numbers["recall"]["rows"]}
  assert list(recall) == ["noisy 0.1", "noisy 0.4", "partial 0.5"] and numbers["recall"]["baseline"] == "mhn"
  assert recall["noisy 0.1"]["baseline_correct"] == 1.0          # the MHN recalls lightly damaged digits
  assert recall["noisy 0.1"]["baseline_error"] < 1e-3 < recall["noisy 0.1"]["cue_error"]
  assert recall["noisy 0.4"]["cue_error"] > recall["noisy 0.1"]["cue_error"]
  for kind in ("latents", "pixels"):
    assert set(numbers["semantic_decoding"][kind]) == {"10", "20"}
    assert all(0.0 <= v <= 1.0 for v in numbers["semantic_decoding"][kind].values())
  assert numbers["embedding"]["n_embed"] == 20 and numbers["embedding"]["method"] == "pca"
  assert numbers["imagination"]["n_prior"] == 4


def test_a_registered_analysis_runs_and_appears_in_the_report(experiment):
  out, _, section = experiment
  with open(os.path.join(out, "mhn", "analysis.json")) as f:
    toy = json.load(f)["toy"]
  assert toy["n"] == 5 and toy["latent_norm"] > 0 and toy["figures"] == ["toy.txt"]
  assert np.loadtxt(os.path.join(out, "mhn", "toy.txt")).shape == (5, TINY.vae.latent_dim)
  assert "Toy latent norm" in section and f"| 5 | {toy['latent_norm']:.4f} |" in section
  assert "run/mhn/toy.txt" in section and "run/mhn/recall.png" in section
  assert "run/diffusion/recall.png" not in section            # the analyses of the primary source
  assert "toy" not in analyses.ANALYSES                     # removed again after the block
  # Without the toy registered, the report shows the built-in analyses only.
  assert "Toy latent norm" not in consolidation.report_section(out, os.path.dirname(out))


def test_an_analysis_for_another_dataset_is_skipped_and_cannot_be_named():
  other = dataclasses.replace(TOY, name="toy_shapes", datasets=("shapes3d",))
  with analyses.ANALYSES.registered("toy_shapes", other):
    assert TINY.data.dataset == "mnist"
    assert "toy_shapes" in TINY.analyses.selected() and "toy_shapes" not in TINY.selected_analyses()
    with pytest.raises(ValueError, match="toy_shapes.*mnist"):
      with_overrides(TINY, {"analyses.names": ("recall", "toy_shapes")})
  with pytest.raises(ValueError, match="datasets"):
    dataclasses.replace(TOY, datasets="mnist")


# ----------------------------------------------------------------------------- bad input

def test_bad_settings_name_the_setting(tmp_path, prepared):
  with pytest.raises(ValueError, match="data_dir"):
    pipeline.prepare_data(with_overrides(TINY, {"data.data_dir": str(tmp_path / "missing")}))
  with pytest.raises(ValueError, match="n_stored"):
    pipeline.prepare_data(with_overrides(TINY, {"data.n_stored": 280}))
  with pytest.raises(ValueError, match="replay_source"):
    consolidation.check_sources(("mhn", "gan"))
  memory = hippocampus.make_hippocampus(TINY)
  with pytest.raises(ValueError, match="patterns must have shape"):
    hippocampus.store_source(memory, prepared.stored, jax.random.PRNGKey(0))   # images, not flattened rows
  with pytest.raises(ValueError, match=r"\[-1, 1\]"):
    hippocampus.store_source(memory, 3.0 * _signed(prepared.stored), jax.random.PRNGKey(0))


def test_script_turns_a_missing_data_dir_into_a_usage_error(tmp_path):
  out = subprocess.run([sys.executable, "scripts/consolidate.py", "--preset=paper",
                        f"--out_dir={tmp_path}"], cwd=REPO, env=ENV, capture_output=True, text=True,
                       timeout=300)
  assert out.returncode == 1, out.stderr[-2000:]
  assert "Traceback" not in out.stderr
  assert any(line.startswith("data_dir is required") for line in out.stderr.splitlines()), out.stderr[-2000:]


def test_report_sets_the_authors_numbers_beside_ours_only_when_comparable(tmp_path):
  paper = consolidation.get_preset("paper", **{"data.data_dir": str(tmp_path)})
  assert report.comparability(paper)[0] == "comparable"
  assert report.comparability(consolidation.get_preset("paper", offline=True))[0] == "same setting, other images"
  assert report.comparability(TINY)[0] == "not comparable"
  rows = [{"epoch": e, "recon_error": 300.0 / e, "decoding_accuracy": 0.3 + 0.01 * e, "vae_recall_error": 310.0 / e}
          for e in range(1, 51)]
  summary = {"rows": rows, "first": rows[0], "final": rows[-1], "epochs_run": 50, "train_seconds": 1.0,
             "replay": {"replays_per_second": 10.0, "fraction_near_stored": 1.0, "mean_abs_to_nearest": 0.0,
                        "distinct_replayed": 6000},
             "training": [{"epoch": e - 1, "loss": 1.0, "reconstruction": 400.0 / e, "kl": 1.0} for e in range(1, 51)]}
  by_epoch = {r["epoch"]: r for r in report.authors_rows(summary)}
  assert set(by_epoch) == set(references.AUTHORS_DECODING) | set(references.AUTHORS_RECON_LOSS)
  assert by_epoch[50] == {"epoch": 50, "decoding": pytest.approx(0.8), "authors_decoding": 0.83,
                          "recon_loss": 8.0, "authors_recon_loss": 47.0}
  assert by_epoch[2]["authors_recon_loss"] == 151.0 and by_epoch[2]["decoding"] == pytest.approx(0.32)
  few_shot = {"latents": {"10": 0.4, "1000": 0.9}, "pixels": {"10": 0.3, "1000": 0.7}}
  ours_and_theirs = {r["n"]: r for r in semantic_decoding.rows(few_shot, authors=True)}
  assert ours_and_theirs[1000] == {"n": 1000, "latents": 0.9, "pixels": 0.7, "authors_latents": 0.92,
                                   "authors_pixels": 0.75}
  assert ours_and_theirs[10]["authors_pixels"] is None
  assert all(set(r) == {"n", "latents", "pixels"} for r in semantic_decoding.rows(few_shot, authors=False))
  report.curves_figure({"mhn": summary}, str(tmp_path / "curves.png"), authors=True)
  semantic_decoding.few_shot_figure(few_shot, str(tmp_path / "few_shot.png"), authors=True)
  assert os.path.getsize(tmp_path / "curves.png") > 0 and os.path.getsize(tmp_path / "few_shot.png") > 0


def test_report_compares_every_source_with_the_mhn_source():
  def summary(recon, acc, memorised):
    return {"final": {"recon_error": recon, "decoding_accuracy": acc, "vae_recall_error": recon},
            "first": None, "rows": [], "replay": {"classes": {"memorised": memorised, "spurious": 0.0,
                                                              "other": 1.0 - memorised, "n_attractors": 0}}}
  sums = {"mhn": summary(40.0, 0.80, 1.0), "diffusion": summary(43.0, 0.76, 0.9), "learned": summary(60.0, 0.81, 0.0)}
  rows = {r["source"]: r for r in report.comparison_rows(sums)}
  assert rows["mhn"]["within_10pct_of_mhn"] is None
  assert rows["diffusion"]["recon_vs_mhn"] == pytest.approx(0.075) and rows["diffusion"]["within_10pct_of_mhn"]
  assert rows["learned"]["recon_vs_mhn"] == pytest.approx(0.5) and rows["learned"]["within_10pct_of_mhn"] is False
  assert rows["learned"]["memorised"] == 0.0 and rows["learned"]["other"] == 1.0
  text = report.summary_markdown(TINY, sums, {}, None, None)
  assert "Against the MHN source" in text and "What the replays are" in text
  assert "| +50.0% | +1.3% | no |" in text and "| +7.5% | -5.0% | yes |" in text
  csv = report.comparison_csv(report.comparison_rows(sums)).splitlines()
  assert "within_10pct_of_mhn" in csv[0].split(",") and csv[3].endswith(",False")


def _fake_record(cfg, decoding, recon, mode_seconds=600.0):
  rows = [{"epoch": e, "recon_error": 1.0, "decoding_accuracy": a, "vae_recall_error": 1.0} for e, a in decoding.items()]
  training = [{"epoch": e - 1, "reconstruction": r} for e, r in recon.items()]
  return {"config": cfg.to_dict(), "sources": ["mhn"], "primary": "mhn", "wall_seconds": mode_seconds,
          "summaries": {"mhn": {"rows": rows, "training": training, "epochs_run": max(decoding)}}}


def test_full_size_runs_appear_beside_the_authors_curve(tmp_path):
  paper = consolidation.PRESETS["paper"]
  ac = dataclasses.replace(paper, vae=dataclasses.replace(paper.vae, training_mode="authors_code"))
  pt = dataclasses.replace(paper, vae=dataclasses.replace(paper.vae, training_mode="paper_text"))
  # decoding 0.10 off at epoch 1, exact at 50; recon loss 50% above at epoch 1, exact at 50
  runs = {"consolidation_paper_authors_code": _fake_record(ac, {1: 0.48, 50: 0.83}, {1: 552.0, 50: 47.0}),
          "consolidation_paper_paper_text": _fake_record(pt, {1: 0.38, 50: 0.63}, {1: 368.0}),
          "consolidation_paper_small": _fake_record(consolidation.PRESETS["quick"], {1: 0.5}, {1: 1.0}),
          "other_run": _fake_record(paper, {1: 0.1}, {1: 1.0})}
  for name, record in runs.items():
    os.makedirs(tmp_path / name)
    (tmp_path / name / "summary.json").write_text(json.dumps(record))
  found = [n for n, _ in report.full_size_runs(str(tmp_path))]
  assert found == ["consolidation_paper_authors_code", "consolidation_paper_paper_text"]
  d = report.curve_distance(runs["consolidation_paper_authors_code"]["summaries"]["mhn"])
  assert d["decoding_mean_abs_diff"] == pytest.approx(0.05) and d["n_decoding"] == 2
  assert d["recon_loss_mean_rel_diff"] == pytest.approx(0.25) and d["n_recon"] == 2
  d = report.curve_distance(runs["consolidation_paper_paper_text"]["summaries"]["mhn"])
  assert d["decoding_mean_abs_diff"] == pytest.approx(0.10) and d["recon_loss_mean_rel_diff"] == pytest.approx(0.0)
  text = report.full_size_section(str(tmp_path))
  assert "`authors_code`" in text and "`paper_text`" in text and "consolidation_paper_small" not in text
  assert "0.050 (2 epochs)" in text and "25.0% (2 epochs)" in text
  assert "mean \\|ours − authors\\|" in text          # escaped: a bare | would split the table's cells
  # the REPORT.md section of the quick run carries it; without such runs there is none
  section = report.report_section(str(tmp_path / "consolidation"), str(tmp_path))
  assert "Full-size runs" in section
  assert report.full_size_section(str(tmp_path / "nothing")) == ""
