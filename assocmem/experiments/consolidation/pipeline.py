"""Seed 000's consolidation as teacher → student: replays of a one-shot memory train a VAE.

`run_source(config, source, out_dir)`:

  1. data: the first `n_images` images in [0, 1], split 90/10 (`assocmem.data.load_seed000`);
     the first `n_stored` training images are the experiences;
  2. teacher: the experiences, flattened and mapped to [−1, 1], are stored in the replay source
     (a memory of the registry: the modern Hopfield hippocampus, exact or learned diffusion, …);
  3. replays: `n_replays` retrievals from noise, generated `replay.batch_size` at a time, rescaled to
     [0, 1] (cached in `replays.npy`, so a resumed run reuses them);
  4. student: the VAE (`assocmem.memories.vae.VAEMemory`) trains on the replays only — it never
     sees an original — with an orbax checkpoint after every epoch;
  5. metrics, at the START of every epoch (the authors' `DecodingHistory.on_epoch_begin`, so row
     1 is the untrained VAE and row e the VAE after e − 1 epochs), all in inference mode:
       recon_error        §A.2.1 reconstruction error of the first `n_eval` stored originals
                          (posterior mean decoded), mean per image;
       decoding_accuracy  RBF SVC on the test split's latent means (200 fit / 750 scored);
       vae_recall_error   the same error for noisy cues of those originals (`noise_fraction` of
                          the values set to 0) recalled through the VAE, against the originals;
     and the same three once more after the last epoch (`final`).

Everything random derives from `config.seed` (`run_keys`): the replay noise, the VAE's
initialisation, shuffles, dropout and z samples (`TrainState.rng`), and the noisy cues. A run
interrupted at any point and started again with the same settings resumes from its last
checkpoint (the per-epoch metrics are kept in the checkpoint's `history.json`) and ends exactly
where an uninterrupted run ends; more epochs may be asked for on resume (`RESUMABLE_FIELDS`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from typing import Any

from absl import logging
import jax
import numpy as np

from assocmem import data as data_lib, files
from assocmem.data import ImageData
from assocmem.memories.vae import VAEMemory
from assocmem.train import vae as train_vae

from assocmem.experiments.consolidation import hippocampus, metrics
from assocmem.experiments.memorisation.classify import classify, fractions
from assocmem.experiments.consolidation.config import CSV_HEADER, ConsolidationConfig

RUN_FILE = "run.json"
REPLAYS_FILE = "replays.npy"
REPLAYS_INFO = "replays.json"
CHECKPOINT_DIR = "checkpoints"
METRICS = ("recon_error", "decoding_accuracy", "vae_recall_error")


# ----------------------------------------------------------------------------- data and keys

@dataclasses.dataclass(frozen=True)
class Prepared:
  """The data of one consolidation run.

  Attributes:
    train, test: the 90/10 split (`ImageData`, images (N, H, W, C) in [0, 1]).
    stored: (n_stored, H, W, C) the experiences (the first training images).
    eval_cues: (n_eval, H, W, C) noisy cues of the first n_eval stored images.
    test_labels: (N_test,) the decoded label of the test split.
  """
  train: ImageData
  test: ImageData
  stored: np.ndarray
  eval_cues: np.ndarray
  test_labels: np.ndarray

  @property
  def eval_images(self) -> np.ndarray:
    return self.stored[:self.eval_cues.shape[0]]


def run_keys(config: ConsolidationConfig, key: jax.Array | None = None) -> dict[str, jax.Array]:
  """The run's PRNG keys, each `fold_in(root, i)` with root = `key` or PRNGKey(config.seed): replay,
  vae, cues, analysis, and store (the training key of a learned replay source)."""
  root = jax.random.PRNGKey(config.seed) if key is None else key
  return {name: jax.random.fold_in(root, i + 1)
          for i, name in enumerate(("replay", "vae", "cues", "analysis", "store"))}


def identity_hash(config: ConsolidationConfig, key: jax.Array | None = None) -> str:
  """`config.identity_hash()`, and the root key's data when a key other than the seed's is given
  (the hash that run.json and the replay cache check before resuming)."""
  if key is None:
    return config.identity_hash()
  blob = config.identity_hash() + str(np.asarray(jax.random.key_data(key)).tolist())
  return hashlib.sha256(blob.encode()).hexdigest()[:16]


def prepare_data(config: ConsolidationConfig, key: jax.Array | None = None) -> Prepared:
  """Loads and splits the data, picks the experiences and draws the per-epoch noisy cues.

  Raises ValueError for an unknown dataset, a missing or unprepared data_dir, a label the data
  lack, or more stored images than the training split holds.
  """
  d = config.data
  train, test = data_lib.load_seed000(d.dataset, data_dir=d.data_dir, n=d.n_images, seed=d.data_seed)
  if tuple(train.images.shape[1:]) != config.image_shape:
    raise ValueError(f"the {d.dataset} images have shape {train.images.shape[1:]}, but the "
                     f"configuration expects {config.image_shape}")
  if d.n_stored > train.num_examples:
    raise ValueError(f"n_stored={d.n_stored} exceeds the {train.num_examples} training images "
                     f"(n_images={d.n_images}); lower n_stored or load more images")
  if config.label_name not in test.labels:
    raise ValueError(f"label {config.label_name!r} is not a label of {d.dataset} "
                     f"(it has {sorted(test.labels)})")
  if test.num_examples < 4:
    raise ValueError(f"the test split has {test.num_examples} images; decoding needs at least 4")
  stored = train.images[:d.n_stored]
  cues = hippocampus.noisy_cues(run_keys(config, key)["cues"], stored[:config.eval_count],
                                config.decoding.noise_fraction)
  return Prepared(train=train, test=test, stored=stored, eval_cues=cues,
                  test_labels=np.asarray(test.labels[config.label_name]))


# ----------------------------------------------------------------------------- student

def make_student(config: ConsolidationConfig) -> VAEMemory:
  """The neocortex: a `VAEMemory` with the configuration's network and §A.2.1 training settings."""
  v = config.vae
  train = train_vae.TrainConfig(learning_rate=v.learning_rate, batch_size=v.batch_size, epochs=v.epochs,
                                patience=v.patience, kl_weight=v.kl_weight, steps_per_call=v.steps_per_call,
                                training_mode=v.training_mode)
  return VAEMemory(config=config.vae_config(), train=train, data_range="unit")


def epoch_metrics(student: VAEMemory, state: train_vae.TrainState, prepared: Prepared,
                  config: ConsolidationConfig) -> dict[str, float]:
  """recon_error, decoding_accuracy and vae_recall_error of one VAE state (see the module docstring)."""
  recon = np.asarray(student.recall(state, prepared.eval_images))
  recalled = np.asarray(student.recall(state, prepared.eval_cues))
  latents = np.asarray(student.encode(state, prepared.test.images))
  return {
      "recon_error": float(np.mean(metrics.reconstruction_errors(prepared.eval_images, recon))),
      "decoding_accuracy": metrics.decoding_accuracy(latents, prepared.test_labels, config.decoding.n_fit,
                                                     config.decoding.n_score),
      "vae_recall_error": float(np.mean(metrics.reconstruction_errors(prepared.eval_images, recalled))),
  }


# ----------------------------------------------------------------------------- bookkeeping

def _check_run_file(out_dir: str, config: ConsolidationConfig, source: str, key: jax.Array | None) -> None:
  """Writes run.json, or checks that an existing one is of the same settings (else ValueError)."""
  path = os.path.join(out_dir, RUN_FILE)
  record = {"source": source, "identity_hash": identity_hash(config, key), "identity": config.identity()}
  if os.path.exists(path):
    with open(path) as f:
      old = json.load(f)
    if old.get("source") != source or old.get("identity_hash") != record["identity_hash"]:
      old_id = old.get("identity", {})
      changed = sorted(k for k in set(old_id) | set(record["identity"])
                       if old_id.get(k) != record["identity"].get(k))
      if old.get("source") != source:
        changed.insert(0, "source")
      raise ValueError(f"out_dir {out_dir!r} holds a run with other settings (differing: "
                       f"{', '.join(changed)}); use a fresh out_dir or delete it to start over")
    return
  files.write_json(path, record)


def csv_text(rows: list[dict[str, Any]]) -> str:
  """consolidation.csv: the header `CSV_HEADER` and one line per epoch."""
  lines = [CSV_HEADER]
  for r in rows:
    lines.append(f"{int(r['epoch'])},{r['recon_error']:.4f},{r['decoding_accuracy']:.4f},"
                 f"{r['vae_recall_error']:.4f}")
  return "\n".join(lines) + "\n"


def read_csv(path: str) -> list[dict[str, float]]:
  """Rows of a consolidation.csv (raises ValueError when the header is not `CSV_HEADER`)."""
  with open(path) as f:
    lines = [ln.strip() for ln in f if ln.strip()]
  if not lines or lines[0] != CSV_HEADER:
    raise ValueError(f"{path} does not start with the header {CSV_HEADER!r}")
  keys = CSV_HEADER.split(",")
  return [dict(zip(keys, [int(v) if i == 0 else float(v) for i, v in enumerate(ln.split(","))]))
          for ln in lines[1:]]


def _save_npy(path: str, array: np.ndarray) -> None:
  with files.atomic_open(path, "wb") as f:
    np.save(f, array)


# ----------------------------------------------------------------------------- replays

def generate_replays(config: ConsolidationConfig, source: str, prepared: Prepared,
                     out_dir: str | None = None, key: jax.Array | None = None) -> tuple[np.ndarray, dict[str, Any]]:
  """Stores the experiences in the source and replays from noise: ((n, H, W, C) in [0, 1], info).

  With `out_dir`, the replays are cached there (`replays.npy`, `replays.json` with the settings'
  hash); a cache of the same settings is reused. `info` has the storage and replay wall times
  and the replays' fidelity to the stored images (`hippocampus.replay_fidelity`).
  """
  npy = os.path.join(out_dir, REPLAYS_FILE) if out_dir else None
  info_path = os.path.join(out_dir, REPLAYS_INFO) if out_dir else None
  if npy and os.path.exists(npy) and os.path.exists(info_path):
    with open(info_path) as f:
      info = json.load(f)
    if info.get("identity_hash") == identity_hash(config, key) and info.get("source") == source:
      replays = np.load(npy)
      logging.info("consolidation[%s]: reusing %d cached replays from %s", source, len(replays), npy)
      return replays, info
  memory = hippocampus.make_source(source, config)
  patterns = data_lib.flatten(data_lib.to_signed(prepared.stored))
  start = time.perf_counter()
  keys = run_keys(config, key)
  ckpt = os.path.join(out_dir, "source_checkpoint") if out_dir else None
  bank = hippocampus.store_source(memory, patterns, keys["store"], config.hippocampus.incremental, ckpt)
  jax.block_until_ready(bank)
  store_seconds = time.perf_counter() - start
  start = time.perf_counter()
  n_replays = config.replay.n_replays
  raw = hippocampus.replay_batched(memory, bank, keys["replay"], n_replays, config.replay.batch_size)
  replay_seconds = time.perf_counter() - start
  logging.info("consolidation[%s]: %d replays in %.1f s (%.1f replays/s, incl. compilation)", source,
               n_replays, replay_seconds, n_replays / replay_seconds)
  info = {"source": source, "identity_hash": identity_hash(config, key), "n_replays": n_replays,
          "store_seconds": store_seconds, "replay_seconds": replay_seconds,
          "replays_per_second": n_replays / replay_seconds,
          "raw_min": float(raw.min()), "raw_max": float(raw.max()),
          **hippocampus.replay_fidelity(raw, patterns), **replay_classes(raw, patterns, config)}
  replays = hippocampus.to_images(raw, config.image_shape)
  if out_dir:
    _save_npy(npy, replays)
    files.write_json(info_path, info)
  return replays, info


def replay_classes(raw: np.ndarray, patterns: Any, config: ConsolidationConfig) -> dict[str, Any]:
  """The replays (M, d), clipped to [−1, 1], classified as the memorisation sweep does
  (`memorisation.classify`, radii `replay.classify_delta_m` / `_s`): the fractions memorised
  (within δ_m of a stored image), spurious (not memorised, within δ_s of another such replay) and
  other, under "classes", and the number of distinct spurious attractors."""
  r = config.replay
  labels, n_att = classify(np.clip(np.asarray(raw), -1.0, 1.0), np.asarray(patterns), r.classify_delta_m,
                           r.classify_delta_s)
  return {"classes": {**fractions(labels), "n_attractors": n_att, "delta_m": r.classify_delta_m,
                      "delta_s": r.classify_delta_s}}


# ----------------------------------------------------------------------------- one source

@dataclasses.dataclass
class SourceResult:
  """What `run_source` returns.

  Attributes:
    source: the replay source ('mhn', 'diffusion', 'learned' or a memory registry name).
    rows: one dict per trained epoch: epoch (1-based), recon_error, decoding_accuracy,
      vae_recall_error (measured at the start of that epoch).
    final: the three metrics after the last epoch.
    history: `fit` history (per-epoch training loss, reconstruction, kl, seconds).
    replay: replay timing and fidelity (`generate_replays`).
    student, state: the VAE memory and its trained `TrainState`.
    stopped_early: early stopping ended training before `epochs`.
    resumed_from_epoch: epochs restored from a checkpoint (None: fresh).
    replays: (n, H, W, C) the replays the VAE trained on.
  """
  source: str
  rows: list[dict[str, Any]]
  final: dict[str, float]
  history: list[dict[str, Any]]
  replay: dict[str, Any]
  student: VAEMemory
  state: train_vae.TrainState
  stopped_early: bool
  resumed_from_epoch: int | None
  replays: np.ndarray

  @property
  def train_seconds(self) -> float:
    return float(sum(h.get("seconds", 0.0) for h in self.history))

  def summary(self) -> dict[str, Any]:
    """JSON-ready summary (no arrays)."""
    return {"source": self.source, "epochs_run": len(self.rows), "stopped_early": self.stopped_early,
            "resumed_from_epoch": self.resumed_from_epoch, "final": self.final,
            "first": self.rows[0] if self.rows else None, "rows": self.rows, "replay": self.replay,
            "train_seconds": self.train_seconds,
            "training": [{k: h[k] for k in ("epoch", "loss", "reconstruction", "kl", "seconds") if k in h}
                         for h in self.history]}


def run_source(config: ConsolidationConfig, source: str, out_dir: str | None = None,
               prepared: Prepared | None = None, key: jax.Array | None = None) -> SourceResult:
  """Consolidation with one replay source (see the module docstring).

  Args:
    config: the settings.
    source: 'mhn' (the hippocampus), 'diffusion' (exact diffusion), 'learned' (learned diffusion) or
      any name of the memory registry (`hippocampus.check_sources`).
    out_dir: where the run's files go (run.json, replays, checkpoints/, consolidation.csv,
      training.csv, summary.json); resumes the run found there. None: in memory only.
    prepared: the data (`prepare_data(config, key)`), to share them between sources.
    key: root PRNG key (None: PRNGKey(config.seed)).
  Returns:
    a `SourceResult`.
  """
  if not isinstance(config, ConsolidationConfig):
    raise ValueError(f"config must be a ConsolidationConfig, got {type(config).__name__}")
  hippocampus.check_sources((source,))
  if out_dir is not None:
    out_dir = os.path.abspath(os.fspath(out_dir))
    files.makedirs(out_dir)
    _check_run_file(out_dir, config, source, key)
  prepared = prepare_data(config, key) if prepared is None else prepared
  replays, replay_info = generate_replays(config, source, prepared, out_dir, key)

  student = make_student(config)

  def on_epoch_begin(epoch: int, state: train_vae.TrainState) -> dict[str, float]:
    start = time.perf_counter()
    m = epoch_metrics(student, state, prepared, config)
    logging.info("consolidation[%s]: start of epoch %d: recon_error %.2f, decoding_accuracy %.3f, "
                 "vae_recall_error %.2f (%.1f s)", source, epoch + 1, m["recon_error"],
                 m["decoding_accuracy"], m["vae_recall_error"], time.perf_counter() - start)
    return m

  ckpt = os.path.join(out_dir, CHECKPOINT_DIR) if out_dir else None
  result = student.fit_result(run_keys(config, key)["vae"], replays, checkpoint_dir=ckpt,
                              on_epoch_begin=on_epoch_begin)
  rows = [{"epoch": h["epoch"] + 1, **{k: h["callback"][k] for k in METRICS}} for h in result.history]
  final = epoch_metrics(student, result.state, prepared, config)
  logging.info("consolidation[%s]: after %d epochs: recon_error %.2f, decoding_accuracy %.3f, "
               "vae_recall_error %.2f", source, len(rows), final["recon_error"],
               final["decoding_accuracy"], final["vae_recall_error"])
  out = SourceResult(source=source, rows=rows, final=final, history=result.history, replay=replay_info,
                     student=student, state=result.state, stopped_early=result.stopped_early,
                     resumed_from_epoch=result.resumed_from_epoch, replays=replays)
  if out_dir is not None:
    files.write_text(os.path.join(out_dir, "consolidation.csv"), csv_text(rows))
    files.write_text(os.path.join(out_dir, "training.csv"), training_csv_text(result.history))
    files.write_json(os.path.join(out_dir, "summary.json"), out.summary())
  return out


def training_csv_text(history: list[dict[str, Any]]) -> str:
  """training.csv: epoch,loss,reconstruction,kl,seconds (means over the epoch's batches, on replays)."""
  lines = ["epoch,loss,reconstruction,kl,seconds"]
  for h in history:
    lines.append(f"{h['epoch'] + 1},{h['loss']:.4f},{h['reconstruction']:.4f},{h['kl']:.4f},"
                 f"{h['seconds']:.2f}")
  return "\n".join(lines) + "\n"
