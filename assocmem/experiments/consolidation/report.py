"""Outputs of the consolidation experiment: figures, CSV, summary table and a REPORT.md section.

Files written by `write_outputs` into the experiment's directory DIR:

  consolidation.csv        the first source's per-epoch curve (header
                           epoch,recon_error,decoding_accuracy,vae_recall_error)
  comparison.csv           one row per replay source: replay speed and fidelity, first and final
                           metrics, training time
  summary.md, summary.json the tables below, the settings (`ConsolidationConfig.to_dict`), the
                           analyses' numbers, the authors' numbers beside ours
  consolidation_curves.png the per-epoch curves of every source, the authors' beside them
  <source>/                the source's own run (consolidation.csv, training.csv, checkpoints/,
                           replays, replays.png) and its analyses: analysis.json and each analysis's
                           figures (recall.png, imagination.png, few_shot.png, embedding.png, …)

The summary shows, for the primary source, every registered analysis (`analyses.ANALYSES`, in
registry order) whose numbers the run wrote: its title, its table and its figures.

The authors' numbers (ellie-as/generative-memory, Shapes3D, read off its committed CSV and plots)
are `assocmem.experiments.references.AUTHORS_*`. They are comparable with ours only for the paper
preset on real Shapes3D; `comparability` says what a run allows.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

import numpy as np

from assocmem import files
from assocmem.experiments import references

from assocmem.experiments.consolidation import hippocampus
from assocmem.experiments.consolidation.analyses import ANALYSES, TableContext, base
from assocmem.experiments.consolidation.analyses.base import fmt as _f
from assocmem.experiments.consolidation.config import CSV_HEADER, ConsolidationConfig, PRESET_NOTES

TITLE = "Seed 000: generative consolidation"
SOURCE_COLORS = {"mhn": "tab:green", "diffusion": "tab:blue", "learned": "tab:orange"}
REFERENCE_SOURCE = "mhn"     # the other sources' final metrics are compared with this one's
TOLERANCE = 0.10             # "within 10%": |final − reference's| <= 10% of the reference's


def comparability(config: ConsolidationConfig) -> tuple[str, str]:
  """("comparable" | "same setting, other images" | "not comparable", one sentence why)."""
  d, v = config.data, config.vae
  paper_like = (v.arch == "large" and config.label_name == "label_shape" and d.n_stored == 10_000
                and config.replay.n_replays == 10_000 and v.latent_dim == 20)
  if d.dataset == "shapes3d" and d.data_dir is not None and paper_like:
    return "comparable", ("real Shapes3D with the authors' settings: our numbers and theirs measure "
                          "the same quantities")
  if d.dataset == "shapes3d" and paper_like:
    return "same setting, other images", (
        "the authors' settings on the procedural Shapes3D (same factors and labels, other renders): "
        "the shapes of the curves are comparable, the values only roughly")
  return "not comparable", (
      f"the authors report these curves for Shapes3D (object shape, 4 classes, 64×64×3, the large "
      f"VAE); this run is {d.dataset} ({config.label_name}, {v.arch} VAE, {d.n_stored} "
      f"stored, {config.replay.n_replays} replays), so only the trends compare: reconstruction error falling "
      "and decoding accuracy rising over the epochs")


# ----------------------------------------------------------------------------- figures

def curves_figure(runs: Mapping[str, Mapping[str, Any]], path: str, authors: bool) -> None:
  """Per-epoch curves of every source: reconstruction error of the originals, decoding accuracy
  (the authors' beside it when `authors`), and the training reconstruction loss on replays.

  Args:
    runs: source -> {"rows": [...], "final": {...}, "training": [...]}.
    path: PNG path.
    authors: draw the authors' Shapes3D numbers.
  """
  plt = base.plt()
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
    axes[1].plot(list(references.AUTHORS_DECODING), list(references.AUTHORS_DECODING.values()), "s:", color="k", ms=4,
                 label="authors (Shapes3D shape)")
    axes[2].plot(list(references.AUTHORS_RECON_LOSS), list(references.AUTHORS_RECON_LOSS.values()), "s:", color="k", ms=4,
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


def replays_figure(replays: np.ndarray, stored: np.ndarray, path: str, n: int = 12) -> None:
  """A few stored images and a few replays."""
  plt = base.plt()
  n = min(n, len(replays), len(stored))
  fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.6), squeeze=False)
  for c in range(n):
    base.show(axes[0, c], stored[c])
    base.show(axes[1, c], replays[c])
  axes[0, 0].set_ylabel("stored", fontsize=8)
  axes[1, 0].set_ylabel("replays", fontsize=8)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=100)
  plt.close(fig)


# ----------------------------------------------------------------------------- tables

def versus_reference(summaries: Mapping[str, Mapping[str, Any]], source: str) -> dict[str, Any]:
  """`source`'s final recon_error and decoding_accuracy relative to the MHN source's in the same
  run: (ours − MHN's) / MHN's for each, and whether both lie within `TOLERANCE` (None without an
  MHN source, or for the MHN source itself)."""
  ref = (summaries.get(REFERENCE_SOURCE) or {}).get("final") or {}
  final = (summaries.get(source) or {}).get("final") or {}
  out = {"recon_vs_mhn": None, "decoding_vs_mhn": None, "within_10pct_of_mhn": None}
  if source == REFERENCE_SOURCE or not ref or not final:
    return out
  rel = {}
  for key, name in (("recon_error", "recon_vs_mhn"), ("decoding_accuracy", "decoding_vs_mhn")):
    if ref.get(key) and final.get(key) is not None:
      rel[name] = (final[key] - ref[key]) / ref[key]
  out.update(rel)
  if len(rel) == 2:
    out["within_10pct_of_mhn"] = bool(all(abs(v) <= TOLERANCE for v in rel.values()))
  return out


def comparison_rows(summaries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
  """One row per source for comparison.csv / the summary table."""
  rows = []
  for source, s in summaries.items():
    first, final, rep = s.get("first") or {}, s.get("final") or {}, s.get("replay") or {}
    classes = rep.get("classes") or {}
    rows.append({"source": source, "replays_per_second": rep.get("replays_per_second"),
                 "fraction_near_stored": rep.get("fraction_near_stored"),
                 "mean_abs_to_nearest": rep.get("mean_abs_to_nearest"),
                 "distinct_replayed": rep.get("distinct_replayed"), "epochs": s.get("epochs_run"),
                 **{f"first_{k}": first.get(k) for k in ("recon_error", "decoding_accuracy", "vae_recall_error")},
                 **{f"final_{k}": final.get(k) for k in ("recon_error", "decoding_accuracy", "vae_recall_error")},
                 "train_seconds": s.get("train_seconds"),
                 **{k: classes.get(k) for k in ("memorised", "spurious", "other")},
                 **versus_reference(summaries, source)})
  return rows


def comparison_csv(rows: list[dict[str, Any]]) -> str:
  keys = list(rows[0]) if rows else ["source"]
  out = [",".join(keys)]
  for r in rows:
    out.append(",".join("" if r[k] is None else (f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]))
                        for k in keys))
  return "\n".join(out) + "\n"


def authors_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
  """Ours beside the authors' at every epoch they report: epoch, decoding (ours, authors), training
  reconstruction loss (ours, authors); None where a value is missing."""
  rows = {int(r["epoch"]): r for r in summary.get("rows") or []}
  training = {int(h["epoch"]) + 1: h for h in summary.get("training") or []}
  return [{"epoch": e, "decoding": rows.get(e, {}).get("decoding_accuracy"),
           "authors_decoding": references.AUTHORS_DECODING.get(e),
           "recon_loss": training.get(e, {}).get("reconstruction"),
           "authors_recon_loss": references.AUTHORS_RECON_LOSS.get(e)}
          for e in sorted(set(references.AUTHORS_DECODING) | set(references.AUTHORS_RECON_LOSS))]


def analysis_lines(config: ConsolidationConfig, source: str, numbers: Mapping[str, Any], heading: str,
                   link_prefix: str) -> list[str]:
  """Per registered analysis with numbers for `source`: heading, table and figure links."""
  ctx = TableContext(config=config, source=source, authors=comparability(config)[0] != "not comparable")
  lines = []
  for name, analysis in ANALYSES.items():
    if name not in numbers:
      continue
    lines += [f"{heading} {analysis.title} (VAE trained on `{source}` replays)", ""]
    lines += analysis.table(numbers[name], ctx) + [""]
    figs = " ".join(f"![{name}]({link_prefix}{source}/{f})" for f in numbers[name].get("figures", ()))
    if figs:
      lines += [figs, ""]
  return lines


def summary_markdown(config: ConsolidationConfig, summaries: Mapping[str, Mapping[str, Any]],
                     analyses: Mapping[str, Mapping[str, Any]], preset: str | None,
                     seconds: float | None, heading: str = "#", link_prefix: str = "") -> str:
  """The summary: settings, the sources side by side, the curves, the analyses, comparability.

  Args:
    config: the run's settings.
    summaries: source -> `SourceResult.summary()`.
    analyses: source -> analysis name -> numbers (`analyses.run_all`).
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
  d, h, v = config.data, config.hippocampus, config.vae
  lines = [f"{heading} Seed 000: generative consolidation (hippocampal replay → neocortical VAE)", ""]
  lines += [f"Preset `{preset}`" + (f": {PRESET_NOTES[preset]}" if preset in PRESET_NOTES else "") + "."
            if preset else "Custom settings.", "",
            f"{d.dataset} ({'tfds at ' + str(d.data_dir) if d.data_dir else 'offline data'}), "
            f"{d.n_stored} images stored in one shot, {config.replay.n_replays} replays from noise, "
            f"{v.arch} VAE (latent {v.latent_dim}) trained on the replays only (never on the "
            f"originals), ≤ {v.epochs} epochs, early stopping patience {v.patience}. "
            f"Hippocampus: β = {h.beta:g}" + (" on similarities scaled by 1/√d" if h.scale_by_sqrt_d else "")
            + f", ≤ {h.max_updates} updates until unchanged, mode `{h.mode}`"
            + (f" (chunks of {h.chunk_size})" if "streaming" in h.mode else "") + ". "
            "Per-epoch metrics are measured at the start of each epoch (the authors' callback), so "
            "epoch 1 is the untrained VAE; 'final' is after the last epoch.", ""]
  if seconds is not None:
    lines += [f"Wall time: {seconds:.0f} s.", ""]
  lines += [f"{h2} Replay sources side by side", ""]
  lines += base.markdown_table(
      ("source", "replays/s", "replays near a stored image", "distinct images replayed", "epochs",
       "recon error first → final", "decoding first → final", "noisy recall error first → final", "VAE training s"),
      [(hippocampus.source_label(r["source"]), _f(r["replays_per_second"], ".1f"),
        f"{_f(r['fraction_near_stored'], '.1%')} (mean \\|Δ\\| {_f(r['mean_abs_to_nearest'], '.3f')})",
        _f(r["distinct_replayed"], "d"), _f(r["epochs"], "d"),
        f"{_f(r['first_recon_error'], '.1f')} → {_f(r['final_recon_error'], '.1f')}",
        f"{_f(r['first_decoding_accuracy'])} → {_f(r['final_decoding_accuracy'])}",
        f"{_f(r['first_vae_recall_error'], '.1f')} → {_f(r['final_vae_recall_error'], '.1f')}",
        _f(r["train_seconds"], ".0f")) for r in comparison_rows(summaries)])
  lines += ["", "Replays per second include compilation. 'Near a stored image': mean |replay − nearest "
            "stored image| < 0.05 per unit in [−1, 1] (exact diffusion stops at t = 1e-3, whose "
            "residual noise is ≈ 0.02 per unit).", ""]
  rows = comparison_rows(summaries)
  if any(r["memorised"] is not None for r in rows):
    r0 = config.replay
    lines += [f"{h2} What the replays are", "",
              "Each replay (clipped to [−1, 1]) classified as the memorisation sweep does "
              f"(`memorisation.classify`, Euclidean radii δ_m = {r0.classify_delta_m:g}, δ_s = "
              f"{r0.classify_delta_s:g}): memorised = within δ_m of a stored image; spurious = not memorised "
              "but within δ_s of another such replay (a shared attractor that is no stored image); other = "
              "neither.", ""]
    lines += base.markdown_table(
        ("source", "memorised", "spurious", "other", "spurious attractors"),
        [(hippocampus.source_label(r["source"]), _f(r["memorised"], ".1%"), _f(r["spurious"], ".1%"),
          _f(r["other"], ".1%"), _f((summaries[r["source"]].get("replay") or {}).get("classes", {}).get("n_attractors"), "d"))
         for r in rows if r["memorised"] is not None]) + [""]
  versus = [r for r in rows if r["within_10pct_of_mhn"] is not None]
  if versus:
    lines += [f"{h2} Against the MHN source", "",
              f"Final reconstruction error and decoding accuracy of each source relative to the MHN source's "
              f"in this run; the target is both within {TOLERANCE:.0%}.", ""]
    lines += base.markdown_table(
        ("source", "recon error vs MHN", "decoding vs MHN", f"within {TOLERANCE:.0%}"),
        [(hippocampus.source_label(r["source"]), f"{r['recon_vs_mhn']:+.1%}", f"{r['decoding_vs_mhn']:+.1%}",
          "yes" if r["within_10pct_of_mhn"] else "no") for r in versus]) + [""]
  lines += [f"{h2} Per-epoch curves", "", f"![consolidation curves]({link_prefix}consolidation_curves.png)", ""]
  for source in sources:
    rows = summaries[source].get("rows") or []
    final = summaries[source].get("final") or {}
    body = [(str(r["epoch"]), f"{r['recon_error']:.2f}", f"{r['decoding_accuracy']:.3f}", f"{r['vae_recall_error']:.2f}")
            + ((_f(references.AUTHORS_DECODING.get(int(r["epoch"])), ".2f"),) if authors else ()) for r in rows]
    body.append(("final", _f(final.get("recon_error"), ".2f"), _f(final.get("decoding_accuracy")),
                 _f(final.get("vae_recall_error"), ".2f")) + (("",) if authors else ()))
    lines += [f"`{source}` (`{source}/consolidation.csv`):", ""]
    lines += base.markdown_table(("epoch", "recon_error", "decoding_accuracy", "vae_recall_error")
                                 + (("authors' decoding",) if authors else ()), body) + [""]
  if primary in analyses:
    lines += analysis_lines(config, primary, analyses[primary], h2, link_prefix)
  lines += [f"{h2} Against the authors' numbers", "", f"{kind.capitalize()}: {why}.", ""]
  if authors and primary:
    lines += base.markdown_table(
        ("epoch", "decoding (ours)", "decoding (authors)", "training recon loss (ours)", "(authors)"),
        [(str(r["epoch"]), _f(r["decoding"]), _f(r["authors_decoding"], ".2f"), _f(r["recon_loss"], ".0f"),
          _f(r["authors_recon_loss"], ".0f")) for r in authors_rows(summaries[primary])]) + [""]
  else:
    lines += ["The authors' curves (Shapes3D shape decoding 0.38 at epoch 1 → 0.83 at epoch 50; "
              "training reconstruction loss ≈ 368 → 47; few-shot from latents 0.40 (10) → 0.92 "
              "(1,000) against 0.75 from pixels at 1,000) are `assocmem.experiments.references."
              "AUTHORS_DECODING`, `AUTHORS_RECON_LOSS` and `AUTHORS_FEW_SHOT`; run "
              "`--preset=paper --data_dir=DIR` for the comparable numbers.", ""]
  return "\n".join(lines)


# ----------------------------------------------------------------------------- writing

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
  record = {"preset": preset, "config": config.to_dict(), "sources": sources, "primary": sources[0],
            "csv_header": CSV_HEADER, "comparability": {"kind": kind, "why": why}, "wall_seconds": seconds,
            "summaries": summaries, "analyses": analyses}
  files.write_json(os.path.join(out_dir, "summary.json"), record)


def report_section(out_dir: str, results_dir: str | None = None) -> str:
  """The REPORT.md section of a finished experiment in `out_dir` (figure links relative to
  `results_dir`, default: out_dir's parent), followed by the full-size runs found in `results_dir`
  (`full_size_section`)."""
  path = os.path.join(out_dir, "summary.json")
  results_dir = results_dir or os.path.dirname(os.path.abspath(out_dir))
  full = full_size_section(results_dir, exclude=(out_dir,))
  if not os.path.exists(path):
    return (f"## {TITLE}\n\nNot run (no `{os.path.basename(out_dir)}/summary.json`; run scripts/consolidate.py).\n"
            + ("\n" + full if full else ""))
  with open(path) as f:
    record = json.load(f)
  prefix = os.path.relpath(os.path.abspath(out_dir), os.path.abspath(results_dir)) + "/"
  cfg = ConsolidationConfig.from_dict(record["config"])
  # summary.json's objects have sorted keys: restore the sources' order (the first is the primary).
  summaries = {s: record["summaries"][s] for s in record.get("sources", record["summaries"])}
  return (summary_markdown(cfg, summaries, record["analyses"], record.get("preset"),
                           record.get("wall_seconds"), heading="##", link_prefix=prefix) + "\n"
          + ("\n" + full if full else ""))


# ----------------------------------------------------------------------------- full-size runs

FULL_SIZE_PREFIX = "consolidation_paper"   # results/<this…>/: full-size runs picked up by REPORT.md


def curve_distance(summary: Mapping[str, Any]) -> dict[str, Any]:
  """How far one source's per-epoch curves lie from the authors' (`authors_rows`): the mean absolute
  difference of the shape-decoding accuracy and the mean relative difference |ours − theirs| / theirs
  of the training reconstruction loss, each over the authors' epochs that this run reached (None
  where none)."""
  rows = authors_rows(summary)
  dec = [abs(r["decoding"] - r["authors_decoding"]) for r in rows
         if r["decoding"] is not None and r["authors_decoding"] is not None]
  rec = [abs(r["recon_loss"] - r["authors_recon_loss"]) / r["authors_recon_loss"] for r in rows
         if r["recon_loss"] is not None and r["authors_recon_loss"] is not None]
  return {"decoding_mean_abs_diff": float(np.mean(dec)) if dec else None, "n_decoding": len(dec),
          "recon_loss_mean_rel_diff": float(np.mean(rec)) if rec else None, "n_recon": len(rec)}


def full_size_runs(results_dir: str, exclude: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
  """(folder name, summary.json record) of every finished run in results_dir/`FULL_SIZE_PREFIX`*/
  whose settings are the authors' (`comparability` not "not comparable"), sorted by name."""
  if not os.path.isdir(results_dir):
    return []
  skip = {os.path.abspath(e) for e in exclude}
  out = []
  for name in sorted(os.listdir(results_dir)):
    d = os.path.join(results_dir, name)
    path = os.path.join(d, "summary.json")
    if not name.startswith(FULL_SIZE_PREFIX) or os.path.abspath(d) in skip or not os.path.exists(path):
      continue
    with open(path) as f:
      record = json.load(f)
    if comparability(ConsolidationConfig.from_dict(record["config"]))[0] != "not comparable":
      out.append((name, record))
  return out


def full_size_section(results_dir: str, exclude: tuple[str, ...] = ()) -> str:
  """REPORT.md's "Full-size runs" part: per run in results_dir/consolidation_paper*/ (the paper
  preset, e.g. `scripts/consolidate.py --preset=paper --offline --vae_training_mode=MODE
  --out_dir=results/consolidation_paper_MODE`), its per-epoch shape decoding and training
  reconstruction loss beside the authors' and its distance to their curve (`curve_distance`);
  "" when there is none."""
  runs = full_size_runs(results_dir, exclude)
  if not runs:
    return ""
  lines = ["### Full-size runs (the paper preset)", "",
           "Runs found in `" + FULL_SIZE_PREFIX + "*/`: the authors' settings (10,000 stored, 10,000 replays, the "
           "large VAE, ≤ 50 epochs). Decoding is the shape SVC at the start of each epoch; the training "
           "reconstruction loss is the epoch's mean over its batches of replays (the authors' plotted loss).", ""]
  dist_rows = []
  for name, record in runs:
    cfg = ConsolidationConfig.from_dict(record["config"])
    primary = record.get("primary") or record["sources"][0]
    summary = record["summaries"][primary]
    kind, _ = comparability(cfg)
    secs = record.get("wall_seconds")
    lines += [f"`{name}/` — training mode `{cfg.vae.training_mode}`, source `{primary}`, "
              f"{summary.get('epochs_run')} epochs, {kind}"
              + (f", wall time {secs / 60:.1f} min" if secs else "") + ":", ""]
    lines += base.markdown_table(
        ("epoch", "decoding (ours)", "decoding (authors)", "training recon loss (ours)", "(authors)"),
        [(str(r["epoch"]), _f(r["decoding"]), _f(r["authors_decoding"], ".2f"), _f(r["recon_loss"], ".0f"),
          _f(r["authors_recon_loss"], ".0f")) for r in authors_rows(summary)]) + [""]
    if os.path.exists(os.path.join(results_dir, name, "consolidation_curves.png")):
      lines += [f"![{name} curves]({name}/consolidation_curves.png)", ""]
    dist = curve_distance(summary)
    dist_rows.append((f"`{name}`", f"`{cfg.vae.training_mode}`",
                      _f(dist["decoding_mean_abs_diff"], ".3f") + f" ({dist['n_decoding']} epochs)",
                      _f(dist["recon_loss_mean_rel_diff"], ".1%") + f" ({dist['n_recon']} epochs)"))
  lines += ["Distance to the authors' curves (smaller is closer):", ""]
  lines += base.markdown_table(("run", "training mode", "decoding: mean \\|ours − authors\\|",
                                "training recon loss: mean \\|ours − authors\\| / authors"), dist_rows) + [""]
  return "\n".join(lines)
