"""Outputs of the consolidation experiment: figures, CSV, summary table and a REPORT.md section.

Files written by `write_outputs` into the experiment's directory DIR:

  consolidation.csv        the first source's per-epoch curve (header
                           epoch,recon_error,decoding_accuracy,vae_recall_error)
  comparison.csv           one row per replay source: replay speed and fidelity, first and final
                           metrics, training time
  summary.md, summary.json the tables below, the settings, the authors' numbers beside ours
  consolidation_curves.png the per-epoch curves of every source, the authors' beside them
  <source>/                the source's own run (consolidation.csv, training.csv, checkpoints/,
                           replays) and its analyses: analysis.json, recall.png,
                           imagination.png, few_shot.png, embedding.png, replays.png

The authors' numbers (ellie-as/generative-memory, Shapes3D, read off its committed CSV and plots;
../shared/REFERENCE_NUMBERS.md) are `AUTHORS_*`. They are comparable with ours only for the paper
preset on real Shapes3D; `comparability` says what a run allows.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

import numpy as np

from assocmem import files

from assocmem.experiments.consolidation.config import (CSV_HEADER, ConsolidationConfig, PRESET_NOTES,
                                                        SOURCE_LABELS)

# Shape decoding accuracy at the start of each epoch (Shapes3D, 10,000 MHN replays, large VAE).
AUTHORS_DECODING: dict[int, float] = {1: 0.38, 2: 0.28, 3: 0.31, 4: 0.36, 5: 0.46, 6: 0.53, 8: 0.57,
                                      13: 0.57, 21: 0.64, 31: 0.72, 41: 0.80, 50: 0.83}
# Training reconstruction loss (mean over the epoch's batches of replays), approximate.
AUTHORS_RECON_LOSS: dict[int, float] = {1: 368.0, 2: 151.0, 10: 84.0, 30: 54.0, 50: 47.0}
# Few-shot shape decoding (SVC) after consolidation, by number of training examples.
AUTHORS_FEW_SHOT: dict[str, dict[int, float]] = {
    "latents": {10: 0.40, 50: 0.60, 100: 0.75, 200: 0.86, 1000: 0.92},
    "pixels": {200: 0.43, 500: 0.63, 1000: 0.75},
}
SOURCE_COLORS = {"mhn": "tab:green", "diffusion": "tab:blue"}


def comparability(config: ConsolidationConfig) -> tuple[str, str]:
  """("comparable" | "same setting, other images" | "not comparable", one sentence why)."""
  paper_like = (config.vae == "large" and config.label_name == "label_shape" and config.n_stored == 10_000
                and config.n_replays == 10_000 and config.latent_dim == 20)
  if config.dataset == "shapes3d" and config.data_dir is not None and paper_like:
    return "comparable", ("real Shapes3D with the authors' settings: our numbers and theirs measure "
                          "the same quantities")
  if config.dataset == "shapes3d" and paper_like:
    return "same setting, other images", (
        "the authors' settings on the procedural Shapes3D (same factors and labels, other renders): "
        "the shapes of the curves are comparable, the values only roughly")
  return "not comparable", (
      f"the authors report these curves for Shapes3D (object shape, 4 classes, 64×64×3, the large "
      f"VAE); this run is {config.dataset} ({config.label_name}, {config.vae} VAE, {config.n_stored} "
      f"stored, {config.n_replays} replays), so only the trends compare: reconstruction error falling "
      "and decoding accuracy rising over the epochs")


# ----------------------------------------------------------------------------- figures

def _plt():
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  return plt


def _show(ax, image: np.ndarray) -> None:
  image = np.clip(np.asarray(image), 0.0, 1.0)
  if image.shape[-1] == 1:
    ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
  else:
    ax.imshow(image)
  ax.set_xticks([])
  ax.set_yticks([])


def curves_figure(runs: Mapping[str, Mapping[str, Any]], path: str, authors: bool) -> None:
  """Per-epoch curves of every source: reconstruction error of the originals, decoding accuracy
  (the authors' beside it when `authors`), and the training reconstruction loss on replays.

  Args:
    runs: source -> {"rows": [...], "final": {...}, "training": [...]}.
    path: PNG path.
    authors: draw the authors' Shapes3D numbers.
  """
  plt = _plt()
  fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
  for source, run in runs.items():
    rows = run["rows"]
    if not rows:
      continue
    color = SOURCE_COLORS.get(source)
    ep = [r["epoch"] for r in rows]
    after = len(rows) + 1
    for ax, key in zip(axes[:2], ("recon_error", "decoding_accuracy")):
      ax.plot(ep, [r[key] for r in rows], "-o", ms=3, color=color, label=f"{source} (start of epoch)")
      ax.plot([after], [run["final"][key]], "*", ms=10, color=color, label=f"{source} after training")
    axes[0].plot(ep, [r["vae_recall_error"] for r in rows], "--", color=color, label=f"{source}: noisy-cue recall")
    train = run.get("training", [])
    axes[2].plot([h["epoch"] + 1 for h in train], [h["reconstruction"] for h in train], "-o", ms=3,
                 color=color, label=f"{source} (ours)")
  if authors:
    axes[1].plot(list(AUTHORS_DECODING), list(AUTHORS_DECODING.values()), "s:", color="k", ms=4,
                 label="authors (Shapes3D shape)")
    axes[2].plot(list(AUTHORS_RECON_LOSS), list(AUTHORS_RECON_LOSS.values()), "s:", color="k", ms=4,
                 label="authors (Shapes3D)")
  axes[0].set(xlabel="epoch", ylabel="error per image (Σ pixels, MAE)", title="stored originals through the VAE")
  axes[1].set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title="latent decoding of the held-out label")
  axes[2].set(xlabel="epoch", ylabel="reconstruction loss", title="training loss on replays (epoch mean)")
  for ax in axes:
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=110)
  plt.close(fig)


def recall_figure(examples: Mapping[str, np.ndarray], path: str) -> None:
  """Per cue kind: rows original / cue / VAE recall / MHN recall."""
  plt = _plt()
  kinds = list(examples)
  n = max(v.shape[1] for v in examples.values())
  fig, axes = plt.subplots(4 * len(kinds), n, figsize=(1.3 * n, 1.35 * 4 * len(kinds)), squeeze=False)
  names = ("original", "cue", "VAE", "MHN")
  for i, kind in enumerate(kinds):
    arr = examples[kind]
    for r in range(4):
      for c in range(n):
        ax = axes[4 * i + r, c]
        if c < arr.shape[1]:
          _show(ax, arr[r, c])
        else:
          ax.axis("off")
      axes[4 * i + r, 0].set_ylabel(f"{names[r]}\n({kind})" if r == 1 else names[r], fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=100)
  plt.close(fig)


def imagination_figure(prior: np.ndarray, interpolation: np.ndarray, arithmetic: np.ndarray, path: str) -> None:
  """Prior samples, latent interpolations and vector arithmetic (−z₁ + z₂ + z₃)."""
  plt = _plt()
  cols = max(8, interpolation.shape[1] if interpolation.size else 0)
  prior_rows = int(np.ceil(len(prior) / cols))
  n_rows = prior_rows + len(interpolation) + len(arithmetic)
  fig, axes = plt.subplots(n_rows, cols, figsize=(0.9 * cols, 1.05 * n_rows), squeeze=False)
  fig.subplots_adjust(left=0.02, right=0.98, top=0.95, bottom=0.02, wspace=0.05, hspace=0.35)
  for ax in axes.ravel():
    ax.axis("off")

  def put(r: int, c: int, img: np.ndarray) -> None:
    axes[r, c].axis("on")
    _show(axes[r, c], img)

  def label(r: int, text: str) -> None:
    axes[r, 0].text(0.0, 1.08, text, transform=axes[r, 0].transAxes, fontsize=8, ha="left", va="bottom")

  for i, img in enumerate(prior):
    put(i // cols, i % cols, img)
  label(0, "prior samples z ~ N(0, I)")
  for r, row in enumerate(interpolation):
    for c, img in enumerate(row):
      put(prior_rows + r, c, img)
  if len(interpolation):
    label(prior_rows, "latent interpolation between two test items")
  base = prior_rows + len(interpolation)
  for r, row in enumerate(arithmetic):
    for c, img in enumerate(row):
      put(base + r, c, img)
  if len(arithmetic):
    label(base, "items 1, 2, 3 (1 and 3 of one class) → decode(−z₁ + z₂ + z₃)")
  files.save_figure(fig, path, dpi=100)
  plt.close(fig)


def few_shot_figure(curves: Mapping[str, Mapping[str, float]], path: str, authors: bool) -> None:
  """Few-shot decoding accuracy against the number of training examples (latents and pixels)."""
  plt = _plt()
  fig, ax = plt.subplots(figsize=(5, 3.6))
  for kind, style in (("latents", "-o"), ("pixels", "-s")):
    curve = curves.get(kind, {})
    ns = sorted(int(n) for n in curve)
    ax.plot(ns, [curve[str(n)] for n in ns], style, ms=4, label=f"ours: {kind}")
    if authors:
      ref = AUTHORS_FEW_SHOT[kind]
      ax.plot(list(ref), list(ref.values()), style.replace("-", ":"), color="k", ms=4, alpha=0.6,
              label=f"authors: {kind}")
  ax.set(xscale="log", xlabel="training examples", ylabel="accuracy", ylim=(0, 1),
         title="few-shot decoding (StandardScaler + RBF SVC)")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=110)
  plt.close(fig)


def embedding_figure(points: np.ndarray, labels: np.ndarray, path: str, method: str, label_name: str) -> None:
  """2-d embedding of latent means, coloured by label."""
  plt = _plt()
  fig, ax = plt.subplots(figsize=(4.4, 4))
  sc = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10" if np.max(labels) < 10 else "plasma",
                  s=8, alpha=0.7)
  fig.colorbar(sc, ax=ax, label=label_name)
  ax.set(title=f"test latents ({method.upper()})", xticks=[], yticks=[])
  fig.tight_layout()
  files.save_figure(fig, path, dpi=110)
  plt.close(fig)


def replays_figure(replays: np.ndarray, stored: np.ndarray, path: str, n: int = 12) -> None:
  """A few stored images and a few replays."""
  plt = _plt()
  n = min(n, len(replays), len(stored))
  fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.6), squeeze=False)
  for c in range(n):
    _show(axes[0, c], stored[c])
    _show(axes[1, c], replays[c])
  axes[0, 0].set_ylabel("stored", fontsize=8)
  axes[1, 0].set_ylabel("replays", fontsize=8)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=100)
  plt.close(fig)


# ----------------------------------------------------------------------------- tables

def _f(x: Any, spec: str = ".3f") -> str:
  if isinstance(x, bool) or not isinstance(x, (int, float)) or (isinstance(x, float) and np.isnan(x)):
    return "–"
  return format(x, spec)


def comparison_rows(summaries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
  """One row per source for comparison.csv / the summary table."""
  rows = []
  for source, s in summaries.items():
    first, final, rep = s.get("first") or {}, s.get("final") or {}, s.get("replay") or {}
    rows.append({"source": source, "replays_per_second": rep.get("replays_per_second"),
                 "fraction_near_stored": rep.get("fraction_near_stored"),
                 "mean_abs_to_nearest": rep.get("mean_abs_to_nearest"),
                 "distinct_replayed": rep.get("distinct_replayed"), "epochs": s.get("epochs_run"),
                 **{f"first_{k}": first.get(k) for k in ("recon_error", "decoding_accuracy", "vae_recall_error")},
                 **{f"final_{k}": final.get(k) for k in ("recon_error", "decoding_accuracy", "vae_recall_error")},
                 "train_seconds": s.get("train_seconds")})
  return rows


def comparison_csv(rows: list[dict[str, Any]]) -> str:
  keys = list(rows[0]) if rows else ["source"]
  out = [",".join(keys)]
  for r in rows:
    out.append(",".join("" if r[k] is None else (f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]))
                        for k in keys))
  return "\n".join(out) + "\n"


def summary_markdown(config: ConsolidationConfig, summaries: Mapping[str, Mapping[str, Any]],
                     analyses: Mapping[str, Mapping[str, Any]], preset: str | None,
                     seconds: float | None, heading: str = "#", link_prefix: str = "") -> str:
  """The summary: settings, the sources side by side, the curve, recall, few-shot, comparability.

  Args:
    config: the run's settings.
    summaries: source -> `SourceResult.summary()`.
    analyses: source -> `analysis.analyze` numbers.
    preset: preset name (or None).
    seconds: wall time of the whole experiment.
    heading: Markdown heading prefix of the title ("#" alone, "##" inside REPORT.md).
    link_prefix: path prefix of figure links (relative to where the Markdown lives).
  """
  h2 = heading + "#"
  kind, why = comparability(config)
  authors = kind != "not comparable"
  sources = list(summaries)
  primary = sources[0] if sources else None
  lines = [f"{heading} Seed 000: generative consolidation (hippocampal replay → neocortical VAE)", ""]
  lines += [f"Preset `{preset}`" + (f": {PRESET_NOTES[preset]}" if preset in PRESET_NOTES else "") + "."
            if preset else "Custom settings.", "",
            f"{config.dataset} ({'tfds at ' + str(config.data_dir) if config.data_dir else 'offline data'}), "
            f"{config.n_stored} images stored in one shot, {config.n_replays} replays from noise, "
            f"{config.vae} VAE (latent {config.latent_dim}) trained on the replays only (never on the "
            f"originals), ≤ {config.epochs} epochs, early stopping patience {config.patience}. "
            f"Hippocampus: β = {config.beta:g}" + (" on similarities scaled by 1/√d" if config.scale_by_sqrt_d else "")
            + f", ≤ {config.max_updates} updates until unchanged, mode `{config.mode}`"
            + (f" (chunks of {config.chunk_size})" if "streaming" in config.mode else "") + ". "
            "Per-epoch metrics are measured at the start of each epoch (the authors' callback), so "
            "epoch 1 is the untrained VAE; 'final' is after the last epoch.", ""]
  if seconds is not None:
    lines += [f"Wall time: {seconds:.0f} s.", ""]
  lines += [f"{h2} Replay sources side by side", "",
            "| source | replays/s | replays near a stored image | distinct images replayed | epochs | "
            "recon error first → final | decoding first → final | noisy recall error first → final | VAE training s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
  for r in comparison_rows(summaries):
    lines.append(f"| {SOURCE_LABELS.get(r['source'], r['source'])} | {_f(r['replays_per_second'], '.1f')} | "
                 f"{_f(r['fraction_near_stored'], '.1%')} (mean \\|Δ\\| {_f(r['mean_abs_to_nearest'], '.3f')}) | "
                 f"{_f(r['distinct_replayed'], 'd')} | {_f(r['epochs'], 'd')} | "
                 f"{_f(r['first_recon_error'], '.1f')} → {_f(r['final_recon_error'], '.1f')} | "
                 f"{_f(r['first_decoding_accuracy'])} → {_f(r['final_decoding_accuracy'])} | "
                 f"{_f(r['first_vae_recall_error'], '.1f')} → {_f(r['final_vae_recall_error'], '.1f')} | "
                 f"{_f(r['train_seconds'], '.0f')} |")
  lines += ["", "Replays per second include compilation. 'Near a stored image': mean |replay − nearest "
            "stored image| < 0.05 per unit in [−1, 1] (exact diffusion stops at t = 1e-3, whose "
            "residual noise is ≈ 0.02 per unit).", ""]
  lines += [f"{h2} Per-epoch curves", "", f"![consolidation curves]({link_prefix}consolidation_curves.png)", ""]
  for source in sources:
    rows = summaries[source].get("rows") or []
    lines += [f"`{source}` (`{source}/consolidation.csv`):", "",
              "| epoch | recon_error | decoding_accuracy | vae_recall_error |" + (" authors' decoding |" if authors else ""),
              "|---:|---:|---:|---:|" + ("---:|" if authors else "")]
    for r in rows:
      ref = AUTHORS_DECODING.get(int(r["epoch"])) if authors else None
      lines.append(f"| {r['epoch']} | {r['recon_error']:.2f} | {r['decoding_accuracy']:.3f} | "
                   f"{r['vae_recall_error']:.2f} |" + (f" {_f(ref, '.2f')} |" if authors else ""))
    final = summaries[source].get("final") or {}
    lines.append(f"| final | {_f(final.get('recon_error'), '.2f')} | {_f(final.get('decoding_accuracy'))} | "
                 f"{_f(final.get('vae_recall_error'), '.2f')} |" + (" |" if authors else ""))
    lines.append("")
  if primary in analyses:
    a = analyses[primary]
    lines += [f"{h2} After consolidation (VAE trained on `{primary}` replays)", "",
              "Recall of stored memories, error per image against the original (Σ pixels of the "
              "channel-mean absolute error); 'MHN correct' = the MHN's recall is nearest to the cued "
              "memory.", "",
              "| cue | cue error | VAE recall | MHN recall | MHN correct |", "|---|---:|---:|---:|---:|"]
    for r in a.get("recall", []):
      lines.append(f"| {r['cue']} | {r['cue_error']:.1f} | {r['vae_error']:.1f} | {r['mhn_error']:.1f} | "
                   f"{r['mhn_correct']:.1%} |")
    lines += ["", f"![recall]({link_prefix}{primary}/recall.png)", "",
              "Imagination: prior samples, interpolation and vector arithmetic.", "",
              f"![imagination]({link_prefix}{primary}/imagination.png)", "",
              "Few-shot decoding (classifier fitted on the first n training items, scored on the test split):", ""]
    fs = a.get("few_shot", {})
    ns = sorted({int(n) for curve in fs.values() for n in curve})
    head = "| n | latents | pixels |" + (" authors: latents | authors: pixels |" if authors else "")
    lines += [head, "|---:|---:|---:|" + ("---:|---:|" if authors else "")]
    for n in ns:
      row = f"| {n} | {_f(fs.get('latents', {}).get(str(n)))} | {_f(fs.get('pixels', {}).get(str(n)))} |"
      if authors:
        row += (f" {_f(AUTHORS_FEW_SHOT['latents'].get(n), '.2f')} |"
                f" {_f(AUTHORS_FEW_SHOT['pixels'].get(n), '.2f')} |")
      lines.append(row)
    lines += ["", f"![few-shot]({link_prefix}{primary}/few_shot.png) "
              f"![embedding]({link_prefix}{primary}/embedding.png)", ""]
  lines += [f"{h2} Against the authors' numbers", "", f"{kind.capitalize()}: {why}.", ""]
  if authors and primary:
    rows = {int(r["epoch"]): r for r in summaries[primary].get("rows") or []}
    training = {int(h["epoch"]) + 1: h for h in summaries[primary].get("training") or []}
    lines += ["| epoch | decoding (ours) | decoding (authors) | training recon loss (ours) | (authors) |",
              "|---:|---:|---:|---:|---:|"]
    for e in sorted(set(AUTHORS_DECODING) | set(AUTHORS_RECON_LOSS)):
      ours = rows.get(e, {}).get("decoding_accuracy")
      loss = training.get(e, {}).get("reconstruction")
      lines.append(f"| {e} | {_f(ours)} | {_f(AUTHORS_DECODING.get(e), '.2f')} | {_f(loss, '.0f')} | "
                   f"{_f(AUTHORS_RECON_LOSS.get(e), '.0f')} |")
    lines.append("")
  else:
    lines += ["The authors' curves (Shapes3D shape decoding 0.38 at epoch 1 → 0.83 at epoch 50; "
              "training reconstruction loss ≈ 368 → 47; few-shot from latents 0.40 (10) → 0.92 "
              "(1,000) against 0.75 from pixels at 1,000) are listed in ../shared/REFERENCE_NUMBERS.md; "
              "run `--preset=paper --data_dir=DIR` for the comparable numbers.", ""]
  return "\n".join(lines)


# ----------------------------------------------------------------------------- writing

def write_source_figures(out_dir: str, source_result: Any, stored: np.ndarray,
                         arrays: Mapping[str, np.ndarray], numbers: Mapping[str, Any],
                         config: ConsolidationConfig) -> None:
  """The per-source figures and analysis.json into out_dir/<source>/."""
  src_dir = os.path.join(out_dir, source_result.source)
  authors = comparability(config)[0] != "not comparable"
  files.write_json(os.path.join(src_dir, "analysis.json"), numbers)
  recall = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("recall/")}
  recall_figure(recall, os.path.join(src_dir, "recall.png"))
  imagination_figure(arrays["prior"], arrays["interpolation"], arrays["arithmetic"],
                     os.path.join(src_dir, "imagination.png"))
  few_shot_figure(numbers["few_shot"], os.path.join(src_dir, "few_shot.png"), authors)
  embedding_figure(arrays["embedding"], arrays["embedding_labels"], os.path.join(src_dir, "embedding.png"),
                   config.embedding, config.label_name)
  replays_figure(source_result.replays, stored, os.path.join(src_dir, "replays.png"))


def write_outputs(out_dir: str, config: ConsolidationConfig, summaries: Mapping[str, Mapping[str, Any]],
                  analyses: Mapping[str, Mapping[str, Any]], preset: str | None = None,
                  seconds: float | None = None) -> None:
  """consolidation.csv (first source), comparison.csv, summary.md/json, consolidation_curves.png."""
  from assocmem.experiments.consolidation.pipeline import csv_text  # pylint: disable=import-outside-toplevel
  sources = list(summaries)
  if not sources:
    raise ValueError("summaries is empty: nothing to write")
  files.write_text(os.path.join(out_dir, "consolidation.csv"), csv_text(summaries[sources[0]]["rows"]))
  files.write_text(os.path.join(out_dir, "comparison.csv"), comparison_csv(comparison_rows(summaries)))
  authors = comparability(config)[0] != "not comparable"
  curves_figure(summaries, os.path.join(out_dir, "consolidation_curves.png"), authors)
  files.write_text(os.path.join(out_dir, "summary.md"),
                   summary_markdown(config, summaries, analyses, preset, seconds))
  kind, why = comparability(config)
  record = {"preset": preset, "config": json.loads(json.dumps(config.__dict__, default=str)),
            "sources": sources, "primary": sources[0], "csv_header": CSV_HEADER,
            "comparability": {"kind": kind, "why": why}, "wall_seconds": seconds,
            "summaries": summaries, "analyses": analyses}
  files.write_json(os.path.join(out_dir, "summary.json"), record)


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """The REPORT.md section of a finished experiment in `out_dir` (figure links relative to
  `results_dir`, default: out_dir's parent)."""
  title = "## Seed 000: generative consolidation"
  path = os.path.join(out_dir, "summary.json")
  if not os.path.exists(path):
    return f"{title}\n\nNot run (no `{os.path.basename(out_dir)}/summary.json`; run scripts/consolidate.py).\n"
  with open(path) as f:
    record = json.load(f)
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  prefix = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir)) + "/"
  cfg = ConsolidationConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in record["config"].items()})
  return summary_markdown(cfg, record["summaries"], record["analyses"], record.get("preset"),
                          record.get("wall_seconds"), heading="##", link_prefix=prefix) + "\n"
