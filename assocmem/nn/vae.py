"""Convolutional VAEs of seed 000 (Spens & Burgess 2024, supplement §A.2.1), in Flax linen.

Two architectures, picked by `VAEConfig.arch`, with one preset each:

* ``"large"`` (`shapes3d_config`, 64×64×3 Shapes3D images; §A.2.1's numbered lists). Encoder:
  Dropout(0.2) on the input, then 4 × [Conv k4 stride 2 'VALID' (32, 64, 128, 256 filters) →
  BatchNorm → LeakyReLU], global average pooling, Dense heads for the mean and the log-variance
  (latent 20). Decoder: Dense 4096 → reshape 4×4×256 → 3 × [nearest UpSampling ×2 → Conv k3 'SAME'
  (128, 64, 32) → BatchNorm → LeakyReLU] → UpSampling ×2 → Conv k3 to 3 channels → sigmoid.
* ``"small"`` (`mnist_config`, 28×28×1 MNIST; "a reduced architecture, with fewer convolutional
  layers"). The authors' public code (`build_encoder_decoder_small`): Dropout(0.1) → Conv k3 s2
  'SAME' 32 → ReLU → Conv k3 s2 'SAME' 64 → ReLU → flatten → Dense 16 → ReLU → Dense(latent) → Dense
  heads; decoder Dense 7·7·64 → ReLU → reshape → ConvTranspose k3 s2 'SAME' 64, 32 → ReLU →
  ConvTranspose k3 to 1 channel → sigmoid. No BatchNorm. (ReLU is `leaky_slope = 0`.)

Settings follow the authors' TF/Keras code (ellie-as/generative-memory, TensorFlow 2.11, so Keras 2):
LeakyReLU slope 0.3 (the Keras default of both Keras 2 and the Keras 3 *layer*), BatchNorm momentum
0.99 and epsilon 1e-3 (Keras defaults; Flax's momentum has the same meaning), Glorot-uniform kernels
and zero biases (Keras defaults, not Flax's LeCun-normal). One known difference: Keras' fused
BatchNorm kernel updates the moving variance with the unbiased (n / (n − 1)) batch variance, Flax
with the biased one; it changes only the inference-mode statistics, by < 1 %.

Fast exact forms (large VAE; parameters, initial values and the function are those of the plain
layers, so the forms can be switched on a trained model; tests check each against the plain layer).
Layout is NHWC throughout (XLA:CPU's native conv layout). On a 2-core CPU they make a training step
about 1.4-1.6× faster than the plain Flax port (docs in scripts/benchcases/vae.py):

* `upsample_impl="auto"`: "nearest UpSampling ×2 → Conv k3 'SAME'" as a *sub-pixel* conv
  (`subpixel_upsample_conv`): each output phase (a, b) reads only a 2×2 low-res neighbourhood, so
  one 2×2 conv on the low-res map with 4·C_out outputs (the four phases' summed kernels,
  `upsample_conv_kernel`) and a phase interleave compute it with 16 instead of 36 taps per low-res
  pixel and no upsampled copy. "auto" keeps the plain form on maps smaller than 8×8, where building
  the phase kernel costs more than it saves.
* `downsample_impl="space_to_depth"`: the encoder's stride-2 k4 'VALID' convs as stride-1 k2 convs
  on the 2×2 space-to-depth of their input: XLA:CPU computes the input gradient of a strided conv
  with an input-dilated conv that has no fast kernel.
* `fold_first_conv=True`: Dense → reshape → upsample → conv0 is affine in z, so it is evaluated on
  the L unit vectors and the origin (L + 1 = 21 maps instead of the batch of 32) and combined.
* Always: `BatchNorm` (Flax's variables and arithmetic) and the conv biases take their per-channel
  sums, and their gradients' sums, as GEMVs (`channel_sum`, `channel_broadcast`), which XLA:CPU
  runs 2-3× faster than its reduce; and every jit of these networks in `assocmem.train.vae` is
  compiled with `COMPILER_OPTIONS` (YNNPACK fusions off on CPU: Eigen's convolutions are faster here).

    model = ConvVAE(shapes3d_config())
    variables = model.init({"params": k1, "dropout": k2, "sample": k3}, images[:1])
    mean, logvar = model.apply(variables, images, method=ConvVAE.encode)   # (B, 20) each
    recon = model.apply(variables, mean, method=ConvVAE.decode)             # (B, 64, 64, 3)

Randomness comes only from the explicit Flax RNG streams ``"dropout"`` (input dropout, train only)
and ``"sample"`` (the reparameterised sample of z).

Training modes (`TRAINING_MODES`, `training_flags`). `train=True` switches on input dropout AND
batch-statistics BatchNorm (with moving-average updates of "batch_stats"); the two switches
`dropout` and `batch_stats` of `ConvVAE.__call__` / `encode` / `decode` override that one at a time:

* ``"paper_text"``: dropout on, batch statistics (the paper's text, §A.2.1, and Keras `fit` with
  `training=True`);
* ``"authors_code"``: dropout off, BatchNorm in inference mode with its moving statistics used and
  never updated (the authors' Keras `VAE.train_step` calls encoder and decoder without
  `training=True`, so under their `fit` the moving statistics stay at their initial 0 / 1).

    flags = training_flags("authors_code")                   # {"dropout": False, "batch_stats": False}
    recon, mean, logvar = model.apply(variables, x, train=True, **flags, rngs={"sample": k})
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Literal

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks

Array = jax.Array

ARCHS = ("large", "small")
# How a training step runs the network (see the module docstring): the paper's text (dropout and
# batch statistics) or the authors' code (neither).
TRAINING_MODES = ("paper_text", "authors_code")
UPSAMPLE_IMPLS = ("auto", "plain", "subpixel", "transpose")
DOWNSAMPLE_IMPLS = ("plain", "space_to_depth")


# ----------------------------------------------------------------------------- configuration

@dataclasses.dataclass(frozen=True)
class VAEConfig:
  """Static settings of a conv VAE (hashable, so a model can be a static jit argument).

  Attributes:
    image_shape: (H, W, C) of one image; values in [0, 1].
    latent_dim: size of z.
    arch: "large" (Shapes3D network of §A.2.1) or "small" (MNIST network).
    encoder_filters: filters of the encoder's stride-2 convs.
    decoder_filters: filters of the decoder's hidden convs (large: after each ×2 upsampling; small:
      the stride-2 transposed convs). The decoder doubles the resolution
      `len(decoder_filters) + 1` times (large) or `len(decoder_filters)` times (small).
    decoder_base_channels: channels of the Dense layer's reshaped map (large: 256 → 4×4×256).
    encoder_kernel: kernel size of the encoder convs (large: 4 'VALID'; small: 3 'SAME').
    decoder_kernel: kernel size of the decoder convs (3).
    hidden_dim: small only: the Dense layer before the latent heads (16).
    dropout_rate: input dropout during training (large 0.2, small 0.1).
    leaky_slope: negative slope of LeakyReLU (0.3 = Keras default; 0 = ReLU).
    batch_norm: BatchNorm after each hidden conv (large: True; small: False).
    bn_momentum, bn_epsilon: BatchNorm settings (Keras defaults 0.99, 1e-3).
    upsample_impl: how the large decoder computes nearest-upsample ×2 + conv 'SAME' (all exact;
      one name, or a tuple with one per upsampling layer): "plain" (repeat, then conv),
      "subpixel" (conv on the low-res map with the 4 phase kernels, then a phase interleave),
      "transpose" (one input-dilated conv with the 4×4 kernel equal to upsample-then-conv; slow
      on CPU, kept for comparison), "auto" (default: subpixel on maps of at least 8×8, else
      plain). Even kernel sizes always use "plain".
    downsample_impl: how the large encoder computes its stride-2 'VALID' convs (one name or one
      per layer): "plain" or "space_to_depth" (default; see `DownConv`).
    fold_first_conv: large decoder: evaluate Dense → conv0 as an affine map of z when the batch
      exceeds latent_dim + 1 (see `ConvDecoder`); exact.
  """
  image_shape: tuple[int, int, int] = (64, 64, 3)
  latent_dim: int = 20
  arch: Literal["large", "small"] = "large"
  encoder_filters: tuple[int, ...] = (32, 64, 128, 256)
  decoder_filters: tuple[int, ...] = (128, 64, 32)
  decoder_base_channels: int = 256
  encoder_kernel: int = 4
  decoder_kernel: int = 3
  hidden_dim: int = 16
  dropout_rate: float = 0.2
  leaky_slope: float = 0.3
  batch_norm: bool = True
  bn_momentum: float = 0.99
  bn_epsilon: float = 1e-3
  upsample_impl: str | tuple[str, ...] = "auto"
  downsample_impl: str | tuple[str, ...] = "space_to_depth"
  fold_first_conv: bool = True

  def __post_init__(self):
    shape = tuple(self.image_shape) if isinstance(self.image_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or not all(_checks.is_int(s) and s >= 1 for s in shape):
      raise ValueError(f"image_shape must be three positive integers (H, W, C), got {self.image_shape!r}")
    object.__setattr__(self, "image_shape", tuple(int(s) for s in shape))
    if not _checks.is_int(self.latent_dim) or self.latent_dim < 1:
      raise ValueError(f"latent_dim must be a positive integer, got {self.latent_dim!r}")
    if self.arch not in ARCHS:
      raise ValueError(f"unknown arch {self.arch!r}; expected one of {ARCHS}")
    for name in ("encoder_filters", "decoder_filters"):
      value = getattr(self, name)
      if (not isinstance(value, (tuple, list)) or not value
          or not all(_checks.is_int(f) and f >= 1 for f in value)):
        raise ValueError(f"{name} must be a non-empty sequence of positive integers, got {value!r}")
      object.__setattr__(self, name, tuple(int(f) for f in value))
    for name in ("decoder_base_channels", "encoder_kernel", "decoder_kernel", "hidden_dim"):
      value = getattr(self, name)
      if not _checks.is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (isinstance(self.dropout_rate, (int, float)) and 0.0 <= self.dropout_rate < 1.0):
      raise ValueError(f"dropout_rate must lie in [0, 1), got {self.dropout_rate!r}")
    if not (isinstance(self.leaky_slope, (int, float)) and math.isfinite(self.leaky_slope)):
      raise ValueError(f"leaky_slope must be a finite number, got {self.leaky_slope!r}")
    if not (isinstance(self.bn_momentum, (int, float)) and 0.0 <= self.bn_momentum < 1.0):
      raise ValueError(f"bn_momentum must lie in [0, 1), got {self.bn_momentum!r}")
    if not (isinstance(self.bn_epsilon, (int, float)) and self.bn_epsilon > 0):
      raise ValueError(f"bn_epsilon must be > 0, got {self.bn_epsilon!r}")
    object.__setattr__(self, "upsample_impl", _per_layer("upsample_impl", self.upsample_impl,
                                                         UPSAMPLE_IMPLS, self.n_upsamplings))
    object.__setattr__(self, "downsample_impl", _per_layer("downsample_impl", self.downsample_impl,
                                                           DOWNSAMPLE_IMPLS, len(self.encoder_filters)))
    h, w, _ = self.image_shape
    factor = 2 ** self.n_upsamplings
    if h % factor or w % factor:
      raise ValueError(f"image_shape {self.image_shape} is not divisible by {factor} = 2 ** (number of "
                       f"decoder upsamplings), which the {self.arch} decoder needs")
    if self.arch == "large":
      size = min(h, w)
      for _ in self.encoder_filters:
        size = (size - self.encoder_kernel) // 2 + 1
        if size < 1:
          raise ValueError(f"image_shape {self.image_shape} is too small for {len(self.encoder_filters)} "
                           f"'VALID' stride-2 convs of kernel {self.encoder_kernel}")

  @property
  def n_upsamplings(self) -> int:
    """How many times the decoder doubles the resolution."""
    return len(self.decoder_filters) + (1 if self.arch == "large" else 0)

  @property
  def base_shape(self) -> tuple[int, int, int]:
    """(h, w, c) of the decoder's reshaped Dense output (large preset: (4, 4, 256))."""
    h, w, _ = self.image_shape
    f = 2 ** self.n_upsamplings
    return h // f, w // f, self.decoder_base_channels


def _per_layer(name: str, value: Any, choices: tuple[str, ...], n: int) -> str | tuple[str, ...]:
  """A layer implementation: one name for every layer, or a tuple with one name per layer."""
  values = (value,) if isinstance(value, str) else value
  if not isinstance(values, (tuple, list)) or not values or not all(v in choices for v in values):
    raise ValueError(f"{name} must be one of {choices} or a tuple of them (one per layer), got {value!r}")
  if isinstance(value, str):
    return value
  if len(values) != n:
    raise ValueError(f"{name} has {len(values)} entries but the network has {n} such layers")
  return tuple(values)


def _impl(setting: str | tuple[str, ...], i: int) -> str:
  return setting if isinstance(setting, str) else setting[i]


def shapes3d_config(latent_dim: int = 20, **overrides: Any) -> VAEConfig:
  """The large VAE of §A.2.1 for 64×64×3 Shapes3D images (latent 20 in the paper's results)."""
  return VAEConfig(**{**dict(image_shape=(64, 64, 3), latent_dim=latent_dim, arch="large"), **overrides})


def mnist_config(latent_dim: int = 20, **overrides: Any) -> VAEConfig:
  """The small VAE of §A.2.1 for 28×28×1 MNIST images (the authors' `build_encoder_decoder_small`)."""
  base = dict(image_shape=(28, 28, 1), latent_dim=latent_dim, arch="small", encoder_filters=(32, 64),
              decoder_filters=(64, 32), decoder_base_channels=64, encoder_kernel=3, decoder_kernel=3,
              hidden_dim=16, dropout_rate=0.1, leaky_slope=0.0, batch_norm=False)
  return VAEConfig(**{**base, **overrides})


PRESETS = {"shapes3d": shapes3d_config, "mnist": mnist_config}


def training_flags(mode: str) -> dict[str, bool]:
  """The switches of a training step in training mode `mode` (a `TRAINING_MODES` name):
  {"dropout": input dropout on, "batch_stats": BatchNorm on batch statistics, updating the moving ones}.

  "paper_text" → both True (§A.2.1's text); "authors_code" → both False (the authors' Keras
  `VAE.train_step`, which calls the encoder and decoder without `training=True`).
  """
  if mode not in TRAINING_MODES:
    raise ValueError(f"training_mode must be one of {TRAINING_MODES}, got {mode!r}")
  on = mode == "paper_text"
  return {"dropout": on, "batch_stats": on}


# ----------------------------------------------------------------------------- math

def kl_divergence(mean: Array, logvar: Array) -> Array:
  """KL(q(z|x) || N(0, I)) of a diagonal Gaussian q = N(mean, exp(logvar)), summed over the last axis.

  Closed form (Kingma & Welling 2013, App. B; seed 000 §A.2.1 loss):

      KL = -1/2 · Σ_j (1 + logvar_j − mean_j² − exp(logvar_j)).

  Args:
    mean, logvar: (..., latent_dim).
  Returns:
    (...,) the divergence of each distribution (nats).
  """
  mean, logvar = jnp.asarray(mean), jnp.asarray(logvar)
  if mean.shape != logvar.shape or mean.ndim < 1:
    raise ValueError(f"mean and logvar must have the same shape (..., latent_dim), got "
                     f"{mean.shape} and {logvar.shape}")
  return -0.5 * jnp.sum(1.0 + logvar - jnp.square(mean) - jnp.exp(logvar), axis=-1)


def reparameterize(key: Array, mean: Array, logvar: Array) -> Array:
  """z = mean + exp(logvar / 2) · ε, ε ~ N(0, I) (the Keras `Sampling` layer of §A.2.1); shapes (..., L)."""
  _checks.check_key("key", key)
  eps = jax.random.normal(key, mean.shape, mean.dtype)
  return mean + jnp.exp(0.5 * logvar) * eps


def leaky_relu(x: Array, slope: float) -> Array:
  """max(x, 0) + slope · min(x, 0) (Keras LeakyReLU; slope 0 is ReLU)."""
  if slope == 0.0:
    return jax.nn.relu(x)
  return jnp.where(x >= 0, x, slope * x)


def dropout(key: Array, x: Array, rate: float) -> Array:
  """Inverted dropout of the encoder's input (seed 000 §A.2.1: Dropout 0.2; Keras `Dropout` in
  training): each unit is zeroed with probability `rate`, the
  rest scaled by 1 / (1 − rate). The keep test compares raw uint32 random bits with
  round(rate · 2³²), exact to 2⁻³², and skips Flax's bits-to-float conversion (3 ms of a training
  step on CPU). `rate` must lie in [0, 1)."""
  if not 0.0 <= float(rate) < 1.0:
    raise ValueError(f"rate (the dropout probability) must lie in [0, 1), got {rate!r}")
  _checks.check_key("key", key)
  threshold = np.uint32(min(round(rate * 2.0 ** 32), 2 ** 32 - 1))
  keep = jax.random.bits(key, x.shape, jnp.uint32) >= threshold
  return jnp.where(keep, x / (1.0 - rate), jnp.zeros_like(x))


_dropout = dropout     # for the modules, whose `dropout` switch shadows the function's name


def upsample_nearest(x: Array, factor: int = 2) -> Array:
  """(B, H, W, C) -> (B, factor·H, factor·W, C), each pixel repeated (Keras UpSampling2D 'nearest')."""
  return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


def _phase_offsets(kernel_size: int) -> tuple[list[list[int]], list[int], int]:
  """Low-res row offsets read by a 'SAME' conv of size k on the ×2 nearest-upsampled map.

  Output row 2i + a (phase a ∈ {0, 1}) reads, through tap t, low-res row i + d with
  d = floor((a + t − p) / 2), p = (k − 1) // 2. Returns (offs, starts, m): offs[a][t] = d,
  starts[a] = the smallest offset of phase a, m = the most distinct offsets of one phase (2 for k = 3).
  """
  p = (kernel_size - 1) // 2
  offs = [[(a + t - p) // 2 for t in range(kernel_size)] for a in range(2)]
  starts = [min(o) for o in offs]
  return offs, starts, max(max(o) - min(o) + 1 for o in offs)


def upsample_conv_kernel(kernel: Array) -> tuple[Array, tuple[int, int], tuple[int, int]]:
  """Sub-pixel form of nearest-upsample ×2 followed by a stride-1 'SAME' conv with `kernel` (k, k, I, O).

  Output pixel (2i + a, 2j + b) reads, through tap t, low-res row i + floor((a + t − p) / 2)
  (`_phase_offsets`; zero outside the image exactly as the upsampled map's zero padding). Summing
  the taps that read the same low-res pixel gives each phase (a, b) an m × m kernel on the low-res
  map (m = 2 for k = 3: rows [W0, W1 + W2] read offsets (−1, 0) for a = 0, and [W0 + W1, W2] read
  (0, +1) for a = 1). The four phase kernels are stacked into one (m, m, I, 4·O) kernel, output
  channels ordered (a, b, o), whose 'VALID' conv on the low-res map padded by `pad` = (lo, hi) has
  phase (a, b) of output pixel (i, j) at position (i + start_a + lo, j + start_b + lo), `starts` =
  (start_0, start_1). 4·m² = 16 taps per low-res pixel for k = 3, against 4·k² = 36 for the
  upsampled conv. Returns (K, pad, starts).
  """
  k, _, c_in, c_out = kernel.shape
  offs, starts, m = _phase_offsets(k)
  # Sums of kernel taps (not an einsum with a 0/1 tap matrix, which XLA:CPU runs as a slow dot).
  zero = jnp.zeros((c_in, c_out), kernel.dtype)
  rows = []
  for y in range(m):
    cols = []
    for x in range(m):
      phases = []
      for a in range(2):
        for b in range(2):
          terms = [kernel[t, s] for t in range(k) if offs[a][t] - starts[a] == y
                   for s in range(k) if offs[b][s] - starts[b] == x]
          phases.append(functools.reduce(jnp.add, terms) if terms else zero)
      cols.append(jnp.stack(phases, axis=1))                               # (I, 4, O)
    rows.append(jnp.stack(cols))
  pad = (-min(starts), max(s + m - 1 for s in starts))
  return jnp.stack(rows).reshape(m, m, c_in, 4 * c_out), pad, (starts[0], starts[1])


def subpixel_upsample_conv(x: Array, kernel: Array) -> Array:
  """§A.2.1's decoder block "nearest UpSampling2D ×2 → Conv2D(k, 'same')" with `kernel` (k, k, I, O),
  k odd, computed exactly as one m × m conv on the low-res map (`upsample_conv_kernel`) and a phase
  interleave. (B, H, W, I) -> (B, 2H, 2W, O).

  The padding is explicit (`jnp.pad`, then 'VALID'): with YNNPACK fusions on, XLA:CPU ran the kernel
  gradient of an even conv with implicit padding about 10× slower."""
  if x.ndim != 4 or kernel.ndim != 4 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 == 0 \
      or kernel.shape[2] != x.shape[-1]:
    raise ValueError(f"x must be (B, H, W, I) and kernel (k, k, I, O) with k odd, got shapes "
                     f"{tuple(x.shape)} and {tuple(kernel.shape)}")
  b, h, w, _ = x.shape
  c_out = kernel.shape[-1]
  combined, (lo, hi), starts = upsample_conv_kernel(kernel)
  y = _conv(jnp.pad(x, ((0, 0), (lo, hi), (lo, hi), (0, 0))), combined, "VALID")
  y = y.reshape(y.shape[:3] + (2, 2, c_out))
  rows = []
  for a in range(2):
    r0 = starts[a] + lo
    cols = [y[:, r0:r0 + h, starts[c] + lo:starts[c] + lo + w, a, c] for c in range(2)]
    rows.append(jnp.stack(cols, axis=3))                                   # (B, H, W, 2, O)
  return jnp.stack(rows, axis=2).reshape(b, 2 * h, 2 * w, c_out)          # (B, H, 2, W, 2, O)


def upsample_conv_transpose_kernel(kernel: Array) -> Array:
  """The (4, 4, I, O) kernel of a stride-2 input-dilated conv equal to nearest-upsample ×2 + conv k3 'SAME'.

  With x dilated by 2 and padded by 2 on each side, output o reads dilated index o + u − 2: for even
  o the even u ∈ {0, 2} hit low-res rows m − 1 and m with weights W0 and W1 + W2; for odd o the odd
  u ∈ {1, 3} hit rows m and m + 1 with W0 + W1 and W2. So the 1-D kernel is [W0, W0 + W1, W1 + W2, W2].
  """
  if kernel.shape[0] != 3 or kernel.shape[1] != 3:
    raise ValueError(f"kernel must be 3×3 for the transposed form, got {kernel.shape}")
  rows = lambda w: jnp.stack([w[0], w[0] + w[1], w[1] + w[2], w[2]])   # [W0, W0+W1, W1+W2, W2]
  return rows(jnp.swapaxes(rows(jnp.swapaxes(kernel, 0, 1)), 0, 1))


# ----------------------------------------------------------------------------- layers

# XLA options for every jit of these networks (`assocmem.train.vae` passes them as `compiler_options`):
# XLA:CPU's YNNPACK fusions run this network's convolutions slower than its Eigen kernels (a
# batch-32 training step of the large VAE, same process, interleaved: median 110 ms with YNN off
# against 122-138 ms with it, on the 2-core benchmark machine; docs/benchmarks.md). The option is
# a per-compilation XLA debug option: it changes nothing outside these jits, and other backends
# ignore it.
COMPILER_OPTIONS: dict[str, Any] = {"xla_cpu_experimental_ynn_fusion_type": ""}

_DN = ("NHWC", "HWIO", "NHWC")
Padding = tuple[tuple[int, int], tuple[int, int]]


def _conv(x: Array, w: Array, padding: Padding | str, stride: int = 1) -> Array:
  """NHWC × HWIO convolution (XLA's own gradient rules)."""
  return jax.lax.conv_general_dilated(x, w, (stride, stride), padding, dimension_numbers=_DN)


def channel_sum(x: Array) -> Array:
  """Σ of x (..., C) over every axis but the last (the per-channel sums of §A.2.1's BatchNorm and of
  the conv-bias gradients), as a matrix-vector product 1ᵀ·x (N, C) at full f32 precision: XLA:CPU runs such a sum 2-3× faster as a GEMV than as a reduce (whose cotangent, a
  broadcast, stays cheap)."""
  c = x.shape[-1]
  ones = jnp.ones((x.size // c,), x.dtype)
  return jnp.dot(ones, x.reshape(-1, c), precision=jax.lax.Precision.HIGHEST)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def channel_broadcast(v: Array, shape: tuple[int, ...]) -> Array:
  """Broadcast a per-channel vector v (C,) to `shape` (..., C); its cotangent is `channel_sum` (a
  GEMV) instead of the reduce that autodiff of a plain broadcast gives."""
  return jnp.broadcast_to(v, shape)


def _channel_broadcast_fwd(v, shape):
  return jnp.broadcast_to(v, shape), None


def _channel_broadcast_bwd(shape, _, g):
  return (channel_sum(g),)


channel_broadcast.defvjp(_channel_broadcast_fwd, _channel_broadcast_bwd)


class BatchNorm(nn.Module):
  """BatchNorm over every axis but the last (Keras `BatchNormalization` of §A.2.1), with the
  variables and arithmetic of `flax.linen.BatchNorm` (params "scale", "bias"; batch_stats "mean",
  "var"; var = E[x²] − E[x]², clipped at 0; moving averages updated with `momentum` outside init),
  whose per-channel sums and broadcast cotangents run as GEMVs (`channel_sum`, `channel_broadcast`).
  """
  use_running_average: bool
  momentum: float = 0.99
  epsilon: float = 1e-3

  @nn.compact
  def __call__(self, x: Array) -> Array:
    c = x.shape[-1]
    ra_mean = self.variable("batch_stats", "mean", lambda: jnp.zeros((c,), jnp.float32))
    ra_var = self.variable("batch_stats", "var", lambda: jnp.ones((c,), jnp.float32))
    scale = self.param("scale", nn.initializers.ones_init(), (c,), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (c,), jnp.float32)
    if self.use_running_average:
      mean, var = ra_mean.value, ra_var.value
    else:
      n = x.size // c
      mean = channel_sum(x) / n
      var = jnp.maximum(0.0, channel_sum(x * x) / n - mean * mean)
      if not self.is_initializing():
        ra_mean.value = self.momentum * ra_mean.value + (1.0 - self.momentum) * mean
        ra_var.value = self.momentum * ra_var.value + (1.0 - self.momentum) * var
    y = x - channel_broadcast(mean, x.shape)
    y = y * channel_broadcast(scale * jax.lax.rsqrt(var + self.epsilon), x.shape)
    return y + channel_broadcast(bias, x.shape)


_KERNEL_INIT = nn.initializers.glorot_uniform()   # Keras default


class UpsampleConv(nn.Module):
  """Nearest UpSampling2D ×2 followed by Conv2D(features, k, 'SAME') (§A.2.1 decoder), computed exactly.

  Parameters `kernel` (k, k, C_in, features) and `bias` (features,) are those of the plain conv for
  every `impl`, so the variants are interchangeable (see `VAEConfig.upsample_impl`).
  """
  features: int
  kernel_size: int = 3
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: Array) -> Array:
    """(B, H, W, C_in) -> (B, 2H, 2W, features)."""
    k = self.kernel_size
    kernel = self.param("kernel", _KERNEL_INIT, (k, k, x.shape[-1], self.features), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
    impl = self.impl
    if impl == "auto":     # measured: on a 4×4 map the phase-kernel build costs more than it saves
      impl = "subpixel" if x.shape[1] * x.shape[2] >= 64 else "plain"
    if k % 2 == 0:
      impl = "plain"
    if impl == "transpose" and k != 3:
      impl = "subpixel"
    if impl == "plain":
      p_lo, p_hi = (k - 1) // 2, k // 2
      y = _conv(upsample_nearest(x), kernel, ((p_lo, p_hi), (p_lo, p_hi)))
    elif impl == "subpixel":
      y = subpixel_upsample_conv(x, kernel)
    else:   # transpose
      y = jax.lax.conv_general_dilated(x, upsample_conv_transpose_kernel(kernel), (1, 1),
                                       ((2, 2), (2, 2)), lhs_dilation=(2, 2), dimension_numbers=_DN)
    return y + channel_broadcast(bias, y.shape)


def space_to_depth(x: Array, block: int = 2) -> Array:
  """(B, block·H, block·W, C) -> (B, H, W, block·block·C), channel order (row phase, column phase, c)."""
  b, h, w, c = x.shape
  x = x.reshape(b, h // block, block, w // block, block, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h // block, w // block, block * block * c)


def strided_conv_s2d_kernel(kernel: Array) -> Array:
  """The kernel (k/2, k/2, 4·I, O) that, on `space_to_depth(x, 2)`, equals a stride-2 conv of x with
  `kernel` (k, k, I, O), k even: tap (2p + a, 2q + b) of the original reads phase (a, b) of block (p, q)."""
  k, _, i, o = kernel.shape
  kernel = kernel.reshape(k // 2, 2, k // 2, 2, i, o).transpose(0, 2, 1, 3, 4, 5)
  return kernel.reshape(k // 2, k // 2, 4 * i, o)


class DownConv(nn.Module):
  """Conv2D(features, k, strides=2, padding) of the §A.2.1 encoder, computed exactly.

  `impl="space_to_depth"` (only for 'VALID' padding and even k) rewrites the stride-2 conv as a
  stride-1 conv with kernel k/2 on the 2×2 space-to-depth of the input (cropped to the rows the
  strided conv reads). XLA's CPU backend computes the gradient of a strided conv with an
  input-dilated conv that it has no fast kernel for; the stride-1 form has none. Parameters are
  the plain conv's `kernel` (k, k, C_in, features) and `bias` for every impl.
  """
  features: int
  kernel_size: int
  padding: str = "VALID"
  impl: str = "plain"

  @nn.compact
  def __call__(self, x: Array) -> Array:
    """(B, H, W, C_in) -> (B, H', W', features)."""
    k = self.kernel_size
    kernel = self.param("kernel", _KERNEL_INIT, (k, k, x.shape[-1], self.features), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
    if self.impl == "space_to_depth" and self.padding == "VALID" and k % 2 == 0:
      h_out, w_out = (x.shape[1] - k) // 2 + 1, (x.shape[2] - k) // 2 + 1
      x = x[:, :2 * h_out + k - 2, :2 * w_out + k - 2, :]       # the rows and columns read
      y = _conv(space_to_depth(x, 2), strided_conv_s2d_kernel(kernel), "VALID")
    else:
      y = _conv(x, kernel, self.padding, stride=2)
    return y + channel_broadcast(bias, y.shape)


def _check_images(name: str, x: Array, image_shape: tuple[int, int, int]) -> Array:
  x = jnp.asarray(x)
  if x.ndim != 4 or tuple(x.shape[1:]) != tuple(image_shape):
    raise ValueError(f"{name} must have shape (batch, {', '.join(map(str, image_shape))}), "
                     f"got shape {tuple(x.shape)}")
  if x.shape[0] == 0:
    raise ValueError(f"{name} is an empty batch: expected batch size >= 1, got shape {tuple(x.shape)}")
  if not jnp.issubdtype(x.dtype, jnp.floating):
    x = x.astype(jnp.float32)
  return x


class ConvEncoder(nn.Module):
  """q(z|x) of §A.2.1: images (B, H, W, C) -> (mean (B, L), logvar (B, L)).

  Uses the RNG stream "dropout" when `dropout` (default: `train`) and `dropout_rate > 0`; BatchNorm
  uses and updates batch statistics when `batch_stats` (default: `train`; apply with
  `mutable=["batch_stats"]`), else the moving statistics, unchanged.
  """
  config: VAEConfig

  @nn.compact
  def __call__(self, x: Array, train: bool = False, dropout: bool | None = None,
               batch_stats: bool | None = None) -> tuple[Array, Array]:
    cfg = self.config
    x = _check_images("images", x, cfg.image_shape)
    use_dropout = train if dropout is None else dropout
    train = train if batch_stats is None else batch_stats
    if use_dropout and cfg.dropout_rate > 0:
      x = _dropout(self.make_rng("dropout"), x, cfg.dropout_rate)
    padding = "VALID" if cfg.arch == "large" else "SAME"
    for i, f in enumerate(cfg.encoder_filters):
      x = DownConv(f, cfg.encoder_kernel, padding, _impl(cfg.downsample_impl, i), name=f"conv{i}")(x)
      x = _norm(cfg, x, train, f"bn{i}")
      x = leaky_relu(x, cfg.leaky_slope)
    if cfg.arch == "large":
      x = jnp.mean(x, axis=(1, 2))                       # GlobalAveragePooling2D
    else:
      x = x.reshape(x.shape[0], -1)                      # Flatten
      x = jax.nn.relu(nn.Dense(cfg.hidden_dim, kernel_init=_KERNEL_INIT, name="hidden")(x))
      x = nn.Dense(cfg.latent_dim, kernel_init=_KERNEL_INIT, name="latent")(x)
    mean = nn.Dense(cfg.latent_dim, kernel_init=_KERNEL_INIT, name="mean")(x)
    logvar = nn.Dense(cfg.latent_dim, kernel_init=_KERNEL_INIT, name="logvar")(x)
    return mean, logvar


def _norm(cfg: VAEConfig, x: Array, train: bool, name: str) -> Array:
  """BatchNorm (Keras momentum and epsilon) when the config has it, else identity."""
  if not cfg.batch_norm:
    return x
  return BatchNorm(use_running_average=not train, momentum=cfg.bn_momentum, epsilon=cfg.bn_epsilon,
                   name=name)(x)


class ConvDecoder(nn.Module):
  """p(x|z) of §A.2.1: latents (B, L) -> images (B, H, W, C) in (0, 1) (sigmoid output).

  With `fold_first_conv` and B > L + 1 the large decoder computes its first block's pre-BatchNorm
  output conv0(upsample(reshape(Dense(z)))) as z @ (C[:L] − C[L]) + C[L], where C = conv0(upsample(
  reshape(Dense([I_L; 0])))) is the same affine map applied to the L unit vectors and the origin:
  the same function and parameters, with the conv run on L + 1 maps instead of B.
  """
  config: VAEConfig

  @nn.compact
  def __call__(self, z: Array, train: bool = False, batch_stats: bool | None = None) -> Array:
    """`train` (or `batch_stats`, when given): BatchNorm on batch statistics, updating the moving
    ones; else the moving statistics."""
    cfg = self.config
    train = train if batch_stats is None else batch_stats
    z = jnp.asarray(z)
    if z.ndim != 2 or z.shape[1] != cfg.latent_dim:
      raise ValueError(f"z must have shape (batch, {cfg.latent_dim}), got shape {tuple(z.shape)}")
    if z.shape[0] == 0:
      raise ValueError(f"z is an empty batch: expected batch size >= 1, got shape {tuple(z.shape)}")
    h, w, c = cfg.base_shape
    k = cfg.decoder_kernel
    out_channels = cfg.image_shape[2]
    n = len(cfg.decoder_filters)
    dense = nn.Dense(h * w * c, kernel_init=_KERNEL_INIT, name="dense")
    if cfg.arch == "large":
      b, latent = z.shape
      conv0 = UpsampleConv(cfg.decoder_filters[0], k, _impl(cfg.upsample_impl, 0), name="conv0")
      if cfg.fold_first_conv and b > latent + 1:
        # Dense -> reshape -> upsample -> conv0 is affine in z: run it on the L unit vectors and the
        # origin (L + 1 "images" instead of B) and combine: exact, and cheaper when B > L + 1.
        basis = jnp.concatenate([jnp.eye(latent, dtype=z.dtype), jnp.zeros((1, latent), z.dtype)])
        cols = conv0(dense(basis).reshape(latent + 1, h, w, c))        # (L + 1, 2h, 2w, F0)
        origin = cols[latent]
        x = (z @ (cols[:latent] - origin).reshape(latent, -1)).reshape((b,) + origin.shape) + origin
      else:
        x = conv0(dense(z).reshape(b, h, w, c))          # Dense 4096 -> Reshape (4, 4, 256) -> conv
      for i, f in enumerate(cfg.decoder_filters):
        if i > 0:
          x = UpsampleConv(f, k, _impl(cfg.upsample_impl, i), name=f"conv{i}")(x)
        x = _norm(cfg, x, train, f"bn{i}")
        x = leaky_relu(x, cfg.leaky_slope)
      x = UpsampleConv(out_channels, k, _impl(cfg.upsample_impl, n), name=f"conv{n}")(x)
    else:
      x = jax.nn.relu(dense(z)).reshape(z.shape[0], h, w, c)
      for i, f in enumerate(cfg.decoder_filters):
        x = nn.ConvTranspose(f, (k, k), strides=(2, 2), padding="SAME", kernel_init=_KERNEL_INIT,
                             name=f"conv{i}")(x)
        x = _norm(cfg, x, train, f"bn{i}")
        x = leaky_relu(x, cfg.leaky_slope)
      x = nn.ConvTranspose(out_channels, (k, k), strides=(1, 1), padding="SAME",
                           kernel_init=_KERNEL_INIT, name=f"conv{n}")(x)
    return jax.nn.sigmoid(x)


class ConvVAE(nn.Module):
  """The VAE of §A.2.1: encoder, reparameterised sample, decoder.

  Variables: {"params", "batch_stats"} (no "batch_stats" for configs without BatchNorm).

      recon, mean, logvar = model.apply(variables, x)                          # inference
      (recon, mean, logvar), upd = model.apply(variables, x, train=True, mutable=["batch_stats"],
                                               rngs={"dropout": k1, "sample": k2})
  """
  config: VAEConfig

  def setup(self):
    self.encoder = ConvEncoder(self.config)
    self.decoder = ConvDecoder(self.config)

  def encode(self, x: Array, train: bool = False, dropout: bool | None = None,
             batch_stats: bool | None = None) -> tuple[Array, Array]:
    """(B, H, W, C) -> (mean (B, L), logvar (B, L)) of q(z|x); switches as `__call__`."""
    return self.encoder(x, train, dropout, batch_stats)

  def decode(self, z: Array, train: bool = False, batch_stats: bool | None = None) -> Array:
    """(B, L) -> (B, H, W, C) images in (0, 1); switches as `__call__`."""
    return self.decoder(z, train, batch_stats)

  def __call__(self, x: Array, train: bool = False, sample: bool | None = None,
               dropout: bool | None = None, batch_stats: bool | None = None
               ) -> tuple[Array, Array, Array]:
    """(B, H, W, C) -> (reconstruction (B, H, W, C), mean (B, L), logvar (B, L)).

    Args:
      x: images in [0, 1].
      train: dropout on and BatchNorm in batch-statistics mode (updates "batch_stats"): the
        default of the three switches below.
      sample: decode a reparameterised sample z ~ q(z|x) (RNG stream "sample") rather than the
        mean; defaults to `train`.
      dropout: input dropout (RNG stream "dropout"); defaults to `train`.
      batch_stats: BatchNorm on batch statistics, updating the moving ones; defaults to `train`.
        False: the moving statistics, used and never updated (`training_flags("authors_code")`).
    """
    batch_stats = train if batch_stats is None else batch_stats
    mean, logvar = self.encode(x, train, dropout, batch_stats)
    if train if sample is None else sample:
      z = reparameterize(self.make_rng("sample"), mean, logvar)
    else:
      z = mean
    return self.decode(z, train, batch_stats), mean, logvar
