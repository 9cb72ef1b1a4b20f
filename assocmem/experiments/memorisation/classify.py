"""Classification of generated samples: memorised, spurious (a shared non-pattern attractor) or other.

Following Pham et al. (2025), with Euclidean radii δ_m and δ_s (both 1 by default, half the
distance between neighbouring corners of the hypercube; see the package docstring).
"""

from __future__ import annotations

import numpy as np

MEMORISED, SPURIOUS, OTHER = 0, 1, 2

# Up to this many (S × N × d) elements the distances are exact differences (the sweep's sizes);
# above it (image-sized replays) they come from Gram products in row blocks (float64), so memory
# stays O(block · N) instead of O(S · N · d).
EXACT_ELEMENTS = 1 << 22
_BLOCK = 256


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """(A, B) Euclidean distances between the rows of a (A, d) and b (B, d), both float64."""
  if a.shape[0] * b.shape[0] * a.shape[1] <= EXACT_ELEMENTS:
    return np.sqrt(np.maximum(((a[:, None] - b[None]) ** 2).sum(-1), 0.0))
  b_sq = (b * b).sum(1)
  out = np.empty((a.shape[0], b.shape[0]))
  for start in range(0, a.shape[0], _BLOCK):
    q = a[start:start + _BLOCK]
    out[start:start + _BLOCK] = np.sqrt(np.maximum((q * q).sum(1)[:, None] - 2.0 * q @ b.T + b_sq[None], 0.0))
  return out


def classify(samples: np.ndarray, patterns: np.ndarray, delta_m: float = 1.0,
             delta_s: float = 1.0) -> tuple[np.ndarray, int]:
  """Labels (S,) MEMORISED / SPURIOUS / OTHER and the number of distinct spurious attractors.

  Args:
    samples: (S, d) generated samples.
    patterns: (N, d) training patterns.
    delta_m: a sample within δ_m (Euclidean) of a training pattern is memorised.
    delta_s: a non-memorised sample within δ_s of another non-memorised sample is spurious.
  Returns:
    (labels, n_attractors): the spurious samples linked at distance ≤ δ_s form n_attractors
    connected components (single linkage).
  """
  samples = np.asarray(samples, np.float64)
  patterns = np.asarray(patterns, np.float64)
  if samples.ndim != 2 or patterns.ndim != 2 or samples.shape[1] != patterns.shape[1]:
    raise ValueError(f"samples (S, d) and patterns (N, d) must share d, got {samples.shape} and {patterns.shape}")
  if not delta_m > 0 or not delta_s > 0:
    raise ValueError(f"delta_m and delta_s must be > 0, got {delta_m}, {delta_s}")
  d_pat = _distances(samples, patterns).min(axis=1)
  labels = np.full(samples.shape[0], OTHER, np.int64)
  labels[d_pat <= delta_m] = MEMORISED
  rest = np.flatnonzero(labels != MEMORISED)
  if rest.size < 2:
    return labels, 0
  x = samples[rest]
  dist = _distances(x, x)
  np.fill_diagonal(dist, np.inf)
  close = dist <= delta_s
  spurious = close.any(axis=1)
  labels[rest[spurious]] = SPURIOUS
  # connected components among the spurious samples
  idx = np.flatnonzero(spurious)
  seen = np.zeros(rest.size, bool)
  n_att = 0
  for i in idx:
    if seen[i]:
      continue
    n_att += 1
    stack = [i]
    seen[i] = True
    while stack:
      j = stack.pop()
      for k in np.flatnonzero(close[j] & ~seen):
        seen[k] = True
        stack.append(k)
  return labels, n_att


def fractions(labels: np.ndarray) -> dict[str, float]:
  """Fractions of memorised, spurious and other samples."""
  n = max(labels.size, 1)
  return {"memorised": float(np.sum(labels == MEMORISED) / n), "spurious": float(np.sum(labels == SPURIOUS) / n),
          "other": float(np.sum(labels == OTHER) / n)}


