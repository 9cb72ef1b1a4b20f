"""The extended (hybrid) model: a hippocampal trace of a VAE latent plus the unpredictable sensory elements.

Seed 000's extended model (Spens & Burgess 2024, the authors' `extended_model.py`): the hippocampus
does not store a whole experience, only what the neocortex cannot predict. Per image x (H, W, C) in
[0, 1], with the VAE's reconstruction x̂ = decode(encode(x)) and posterior mean z = encode(x):

  * error map e = mean over channels of |x − x̂|, (H, W);
  * sensory elements s = 2x − 1 where e > threshold, 0 elsewhere (all C channels of a pixel),
    flattened to H·W·C; the "stored sensory units" are these nonzero elements;
  * the trace [s, z] (H·W·C + L) is stored in a modern Hopfield network with its own β
    (ξ ← X softmax(β Xᵀξ / √d), seed 000 Eq. 3; the authors' `ContinuousHopfield(normalization=True)`,
    ≤ 5 updates, stopping once the state no longer changes);

the authors' `ims_to_hpc_format`. Recall (`extended_model.recall_memories`): the cue image (a
noisy copy of the stored one) is turned into a trace the same way, the network completes it to
[s̃, z̃], and the recalled image is s̃ where an element was stored (|s̃| > 0.01, the authors'
`not isclose(s̃, 0, atol=1e-2)`) and the decoded recalled latent 2·decode(z̃) − 1 elsewhere,
mapped back to [0, 1]. (An element whose stored value is exactly 0, i.e. a pixel value of 0.5, is
therefore read as "not stored": the authors' convention, kept.)

This is a discrete instance of seed 002's reconstructive memory (§6.1, Eq. 25,
`assocmem.reconstructive`): a stored core pinned by the Hopfield term (here the latent and the
surprising elements) with the remaining degrees of freedom filled in by the semantic model (here the
VAE decoder rather than a Gaussian-mixture φ). The threshold sets W, the core's size: a low
threshold stores nearly every element (recall ≈ verbatim, large trace), a high one only the latent
and the few atypical elements (small trace, recall pulled towards the VAE's prototypes).

Two layers:

  pure functions    `error_map`, `sensory_mask`, `hpc_traces` (the authors' `ims_to_hpc_format`),
                    `split_traces`, `combine_recall` (the recall's combination); jit- and
                    vmap-friendly, on batches.
  `HybridMemory`    the memory protocol (registered as "hybrid"): `store` / `recall` / `replay` of
                    (N, H·W·C) images in [0, 1], with the codec (`encoder`, `decoder`: batched
                    pure functions (N, H, W, C) → (N, L) and back, e.g. `vae_codec`) as settings.

Explicit keys; `HybridMemory.recall` is deterministic (the key is unused).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from assocmem import _checks, bank as bank_lib, hopfield, mixture
from assocmem.bank import PatternBank
from assocmem.memories import batching
from assocmem.nn.vae import ConvVAE
from assocmem.train.vae import state_variables  # re-exported: vae_codec(model, state_variables(state))

Array = jax.Array
Encoder = Callable[[Array], Array]   # (N, H, W, C) in [0, 1] -> (N, L)
Decoder = Callable[[Array], Array]   # (N, L) -> (N, H, W, C) in [0, 1]

# The authors' test of "stored" in a recalled sensory element: not isclose(s, 0, atol=1e-2).
STORED_ATOL = 1e-2


# ----------------------------------------------------------------------------- checks

def check_threshold(threshold: Any, name: str = "threshold") -> float:
  """A reconstruction-error threshold in the open interval (0, 1) (ValueError otherwise)."""
  if isinstance(threshold, bool) or not _checks.is_number(threshold):
    raise ValueError(f"{name} must be a number in the open interval (0, 1), got {threshold!r}")
  _checks.check_open_unit(name, threshold)
  return float(threshold)


def check_images(name: str, images: Any, image_shape: tuple[int, ...]) -> Array:
  """(N, H, W, C) images, or (N, H·W·C) rows reshaped to them; ValueError naming `name` otherwise."""
  x = _checks.as_float_array(name, images)
  d = int(np.prod(image_shape))
  if x.ndim == 2 and x.shape[1] == d:
    x = x.reshape((x.shape[0],) + tuple(image_shape))
  elif not (x.ndim == 4 and tuple(x.shape[1:]) == tuple(image_shape)):
    raise ValueError(f"{name} must have shape (N, {', '.join(map(str, image_shape))}) or (N, {d}), "
                     f"got shape {tuple(x.shape)}")
  if x.shape[0] == 0:
    raise ValueError(f"{name} is empty: expected at least one image")
  return x


def _check_pair(images: Array, reconstructions: Array) -> None:
  if jnp.ndim(images) != 4 or jnp.shape(images) != jnp.shape(reconstructions):
    raise ValueError(f"images and reconstructions must have one shape (N, H, W, C), got "
                     f"{tuple(jnp.shape(images))} and {tuple(jnp.shape(reconstructions))}")


# ----------------------------------------------------------------------------- pure functions

def error_map(images: Array, reconstructions: Array) -> Array:
  """Per-pixel reconstruction error, the mean over channels of |x − x̂|: (N, H, W, C) → (N, H, W)."""
  _check_pair(images, reconstructions)
  return jnp.mean(jnp.abs(images - reconstructions), axis=-1)


def sensory_mask(images: Array, reconstructions: Array, threshold: float) -> Array:
  """(N, H, W) bool: the pixels whose reconstruction error exceeds `threshold` (the authors'
  `mean(|diff|, axis=-1) > threshold`), i.e. the elements the hippocampus stores."""
  check_threshold(threshold)
  return error_map(images, reconstructions) > threshold


def hpc_traces(images: Array, reconstructions: Array, latents: Array, threshold: float) -> Array:
  """Hippocampal traces [s, z] of images (the authors' `ims_to_hpc_format`).

  Args:
    images: (N, H, W, C) in [0, 1].
    reconstructions: (N, H, W, C) decode(encode(images)) in [0, 1].
    latents: (N, L) the VAE's posterior means (or any latent to store with the elements).
    threshold: error threshold in (0, 1).
  Returns:
    (N, H·W·C + L): 2x − 1 at the pixels of `sensory_mask` (all channels), 0 elsewhere, then z.
  """
  mask = sensory_mask(images, reconstructions, threshold)
  latents = jnp.asarray(latents)
  if latents.ndim != 2 or latents.shape[0] != images.shape[0]:
    raise ValueError(f"latents must have shape ({images.shape[0]}, L), got {tuple(latents.shape)}")
  sensory = jnp.where(mask[..., None], 2.0 * images - 1.0, 0.0)
  return jnp.concatenate([sensory.reshape(images.shape[0], -1), latents.astype(sensory.dtype)], axis=1)


def split_traces(traces: Array, image_shape: tuple[int, int, int]) -> tuple[Array, Array]:
  """(N, H·W·C + L) traces → (sensory (N, H, W, C) in [−1, 1], latents (N, L))."""
  d = int(np.prod(image_shape))
  if jnp.ndim(traces) != 2 or jnp.shape(traces)[1] <= d:
    raise ValueError(f"traces must have shape (N, {d} + L) with L >= 1, got {tuple(jnp.shape(traces))}")
  return traces[:, :d].reshape((-1,) + tuple(image_shape)), traces[:, d:]


def combine_recall(sensory: Array, decoded: Array, atol: float = STORED_ATOL) -> Array:
  """The recalled image: recalled sensory element where one was stored, the decoded latent elsewhere.

  The authors' `recall_memories`: where(not isclose(s̃, 0, atol), s̃, 2·decode(z̃) − 1), mapped to
  [0, 1] by (· + 1) / 2.

  Args:
    sensory: (N, H, W, C) recalled sensory elements in [−1, 1] (0 = not stored).
    decoded: (N, H, W, C) the decoded recalled latents in [0, 1].
    atol: |s̃| above this counts as stored.
  Returns:
    (N, H, W, C) in [0, 1].
  """
  if jnp.shape(sensory) != jnp.shape(decoded):
    raise ValueError(f"sensory and decoded must have one shape, got {tuple(jnp.shape(sensory))} and "
                     f"{tuple(jnp.shape(decoded))}")
  combined = jnp.where(jnp.abs(sensory) > atol, sensory, 2.0 * decoded - 1.0)
  return (combined + 1.0) / 2.0


def stored_units(traces: Array, image_shape: tuple[int, int, int]) -> Array:
  """(N,) number of stored (nonzero) sensory elements of each trace (of H·W·C)."""
  sensory, _ = split_traces(traces, image_shape)
  return jnp.sum(sensory.reshape(sensory.shape[0], -1) != 0, axis=1)


def authors_unit_count(images: Array, reconstructions: Array, threshold: float) -> Array:
  """(N,) the authors' count of sensory units (`test_extended_model`): elements (pixel, channel)
  with |x − x̂| > threshold, of H·W·C. It thresholds each channel, whereas storage thresholds the
  channel mean (`sensory_mask`), so it differs from `stored_units` (which is 3 × masked pixels)."""
  check_threshold(threshold)
  _check_pair(images, reconstructions)
  return jnp.sum((jnp.abs(images - reconstructions) > threshold).reshape(images.shape[0], -1), axis=1)


def vae_codec(model: ConvVAE, variables: Any) -> tuple[Encoder, Decoder]:
  """Batched pure (encoder, decoder) of a `ConvVAE` in inference mode: images (N, H, W, C) in
  [0, 1] → posterior means (N, L), and latents (N, L) → images in [0, 1]. `variables` as for
  `model.apply` ({"params", "batch_stats"}); e.g. `vae_codec(memory.model, state_variables(state))`."""
  if not isinstance(model, ConvVAE):
    raise ValueError(f"model must be an assocmem.nn.vae.ConvVAE, got {type(model).__name__}")

  def encoder(x: Array) -> Array:
    return model.apply(variables, x, method=ConvVAE.encode)[0]

  def decoder(z: Array) -> Array:
    return model.apply(variables, z, method=ConvVAE.decode)

  return encoder, decoder


# ----------------------------------------------------------------------------- the memory

@flax.struct.dataclass
class HybridMemory:
  """The extended (hybrid) model under the memory protocol (seed 000's extended model; seed 002 Eq. 25).

  Data are (N, H·W·C) rows (or (N, H, W, C) images) in [0, 1]. The state is the `PatternBank` of
  the (N, H·W·C + L) traces.

  Attributes:
    encoder: batched pure function (N, H, W, C) in [0, 1] → (N, L) latents (e.g. `vae_codec`).
    decoder: batched pure function (N, L) → (N, H, W, C) in [0, 1].
    image_shape: (H, W, C).
    threshold: reconstruction-error threshold in (0, 1) (the authors sweep 0.01 … 0.20).
    beta: inverse temperature β > 0 of the trace network (the authors: 100 in the threshold
      sweep, 5 in the Carmichael demonstration).
    scale_by_sqrt_d: softmax(β Xᵀξ / √d) as the authors' ContinuousHopfield (d = H·W·C + L).
    n_steps: Hopfield updates per recall, at most (the authors: 5).
    tol: stop once max|Δξ| <= tol (0: once the state no longer changes; the authors' rule).
    mode: mixture mode of the bank.
  """
  encoder: Encoder = flax.struct.field(pytree_node=False, default=None)
  decoder: Decoder = flax.struct.field(pytree_node=False, default=None)
  image_shape: tuple[int, int, int] = flax.struct.field(pytree_node=False, default=(64, 64, 3))
  threshold: float = flax.struct.field(pytree_node=False, default=0.01)
  beta: float = flax.struct.field(pytree_node=False, default=100.0)
  scale_by_sqrt_d: bool = flax.struct.field(pytree_node=False, default=True)
  n_steps: int = flax.struct.field(pytree_node=False, default=5)
  tol: float | None = flax.struct.field(pytree_node=False, default=0.0)
  mode: Any = flax.struct.field(pytree_node=False, default=mixture.DENSE)

  def __post_init__(self):
    for name in ("encoder", "decoder"):
      if not callable(getattr(self, name)):
        raise ValueError(f"{name} must be a batched pure function (see hybrid.vae_codec), "
                         f"got {getattr(self, name)!r}")
    shape = tuple(self.image_shape) if isinstance(self.image_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or not all(_checks.is_int(s) and s >= 1 for s in shape):
      raise ValueError(f"image_shape must be (H, W, C) positive integers, got {self.image_shape!r}")
    object.__setattr__(self, "image_shape", tuple(int(s) for s in shape))
    check_threshold(self.threshold)
    if isinstance(self.beta, bool) or not _checks.is_number(self.beta) or self.beta <= 0:
      raise ValueError(f"beta must be a finite number > 0, got {self.beta!r}")
    _checks.check_int("n_steps", self.n_steps)
    if self.tol is not None and not (_checks.is_number(self.tol) and self.tol >= 0):
      raise ValueError(f"tol must be None or a number >= 0, got {self.tol!r}")
    mixture.check_mode(self.mode)

  # ------------------------------------------------------------------ traces

  @property
  def sensory_dim(self) -> int:
    """H·W·C."""
    return int(np.prod(self.image_shape))

  def images(self, name: str, data: Any) -> Array:
    """(N, H·W·C) rows or (N, H, W, C) images → (N, H, W, C) (ValueError for another shape)."""
    return check_images(name, data, self.image_shape)

  def traces(self, data: Any, latents: Array | None = None) -> Array:
    """(N, H·W·C + L) traces of images (the authors' `ims_to_hpc_format`); `latents` (N, L) replace
    the images' own latents (the authors' `fixed_latents`: the Carmichael distortion)."""
    x = self.images("data", data)
    z = self.encoder(x)
    recon = self.decoder(z)
    return hpc_traces(x, recon, z if latents is None else latents, self.threshold)

  def effective_beta(self, dim: int) -> float:
    """β, or β/√d with `scale_by_sqrt_d`."""
    return self.beta / math.sqrt(dim) if self.scale_by_sqrt_d else self.beta

  def store_traces(self, traces: Array) -> PatternBank:
    """A bank of (N, H·W·C + L) traces (e.g. `traces(images, latents=other)`)."""
    traces = _checks.as_float_array("traces", traces)
    split_traces(traces, self.image_shape)
    return mixture.layout_bank(bank_lib.make_bank(traces, capacity=mixture.bank_slots(traces.shape[0], self.mode)),
                               self.mode)

  def retrieve(self, state: PatternBank, cue_traces: Array, *, batch_size: int | None = None) -> Array:
    """Completes (B, H·W·C + L) cue traces in the trace network (≤ n_steps updates)."""
    batch_size = batching.check_batch_size(batch_size)
    cue_traces = _checks.as_float_array("cue_traces", cue_traces)
    if cue_traces.ndim != 2 or cue_traces.shape[1] != state.dim:
      raise ValueError(f"cue_traces must have shape (B, {state.dim}), got {tuple(cue_traces.shape)}")
    beta = self.effective_beta(state.dim)
    one = lambda c: hopfield.mhn_retrieve(state, c, beta, self.n_steps, self.tol, mode=self.mode)
    return batching.map_chunked(jax.vmap(one), (cue_traces,), batch_size)

  def complete(self, traces: Array) -> Array:
    """Recalled traces → (B, H, W, C) images in [0, 1]: recalled elements where stored, the decoded
    recalled latent elsewhere (`combine_recall`)."""
    sensory, z = split_traces(traces, self.image_shape)
    return combine_recall(sensory, self.decoder(z))

  # ------------------------------------------------------------------ protocol

  def store(self, key: Array | None, data: Any) -> PatternBank:
    """Stores the traces of (N, H·W·C) images in [0, 1] (the key is unused: storage is deterministic)."""
    del key
    return self.store_traces(self.traces(data))

  def dim(self, state: PatternBank) -> int:
    """d = H·W·C, the images' dimension (the traces have L more)."""
    del state
    return self.sensory_dim

  def capacity(self, state: PatternBank) -> int:
    """The trace bank's slots."""
    return state.capacity

  def recall(self, state: PatternBank, cues: Any, key: Array | None = None, *,
             batch_size: int | None = None) -> Array:
    """(B, H·W·C) images recalled from (B, H·W·C) cue images (the authors' `recall_memories`): the
    cues' traces completed, then `complete`. Deterministic (the key is unused)."""
    del key
    x = self.images("cues", cues)
    out = self.complete(self.retrieve(state, self.traces(x), batch_size=batch_size))
    return out.reshape(x.shape[0], -1)

  def replay(self, state: PatternBank, key: Array, n: int, *, batch_size: int | None = None) -> Array:
    """(n, H·W·C) recalls from U(−1, 1) noise traces (the authors' recall from noise)."""
    n = _checks.check_int("n", n)
    noise = jax.random.uniform(key, (n, state.dim), state.dtype, -1.0, 1.0)
    return self.complete(self.retrieve(state, noise, batch_size=batch_size)).reshape(n, -1)


__all__ = ["HybridMemory", "STORED_ATOL", "authors_unit_count", "check_images", "check_threshold",
           "combine_recall", "error_map", "hpc_traces", "sensory_mask", "split_traces", "state_variables",
           "stored_units", "vae_codec"]
