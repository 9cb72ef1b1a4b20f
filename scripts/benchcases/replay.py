"""Benchmark case `replay`: seed 000's hippocampal replay at full size, as a fraction of a matmul.

A bank of 10,000 stored 64×64×3 images (procedural Shapes3D scenes mapped to [−1, 1], d = 12,288)
replays from U(−1, 1) noise through the modern Hopfield update of seed 000 Eq. 3 with β = 20/√d,
streaming over the bank in chunks (`mixture.Streaming`), `REPLAY_SHAPE["batch"]` replays per call.
The timed call runs exactly `updates` = 10 updates (the authors' maximum; their stopping rule,
"until unchanged", usually stops earlier, see `mean_updates_until_unchanged`), so the flop count
4·B·N·d per update is exact: per chunk of C slots one (B×d)·(d×C) matmul for the similarities and
one (B×C)·(C×d) for the weighted sum. The reference matmul is (B×d)·(d×C) of the same run.

    from benchcases import replay
    spec = replay.replay_case()      # {"fn", "flops", "matmul", "extra"}

scripts/benchmark.py runs it as `--cases=replay`.
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from assocmem import data as data_lib, hopfield, mixture
from assocmem.memories import ModernHopfield

REPLAY_SHAPE = dict(batch=256, n_stored=10_000, image=(64, 64, 3), updates=10, chunk=2500, beta=20.0)


def _bank_images(n: int, seed: int = 0) -> np.ndarray:
  """(n, d) procedural Shapes3D scenes in [−1, 1] (the offline default of seed 000's data)."""
  images = data_lib.load("shapes3d", n=n, seed=seed).images
  return data_lib.flatten(data_lib.to_signed(images))


def _updates_until_unchanged(bank: Any, beta: float, mode: Any, noise: jax.Array, max_updates: int) -> float:
  """Mean number of updates after which the state stops changing (the authors' rule), ≤ max_updates."""
  run = jax.jit(jax.vmap(lambda q: hopfield.mhn_retrieve(bank, q, beta, max_updates, return_trajectory=True,
                                                         mode=mode)[1]))
  traj = np.asarray(run(noise))                                     # (B, updates + 1, d)
  changed = np.any(traj[:, 1:] != traj[:, :-1], axis=-1)            # (B, updates)
  steps = np.where(changed.any(axis=1), changed.shape[1] - np.argmax(changed[:, ::-1], axis=1), 0)
  return float(np.mean(steps))


def replay_case(shape: dict[str, Any] | None = None) -> dict[str, Any]:
  """The replay benchmark: {"fn", "flops", "matmul", "extra"} (see the module docstring).

  Building it generates the bank, compiles the replay (`extra["replay_compile_seconds"]`) and
  times one call (`extra["replays_per_second"]`); benchmark.py then times its own runs.
  """
  s = {**REPLAY_SHAPE, **(shape or {})}
  b, n, updates, chunk = s["batch"], s["n_stored"], s["updates"], s["chunk"]
  d = int(np.prod(s["image"]))
  start = time.perf_counter()
  patterns = _bank_images(n)
  build_seconds = time.perf_counter() - start
  mode = mixture.Streaming(chunk)
  memory = ModernHopfield(beta=s["beta"], scale_by_sqrt_d=True, n_steps=updates, tol=None,
                          replay_steps=updates, replay_tol=None, mode=mode)   # store pads to whole chunks
  bank = memory.store(None, jnp.asarray(patterns))
  del patterns
  replay = jax.jit(lambda st, k: memory.replay(st, k, b))
  keys = iter(range(1, 1 << 30))

  def fn():
    return replay(bank, jax.random.PRNGKey(next(keys)))

  noise = jax.random.uniform(jax.random.PRNGKey(0), (64, d), jnp.float32, -1.0, 1.0)
  until = _updates_until_unchanged(bank, memory.effective_beta(d), mode, noise, updates)
  bank_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(bank))
  flops = 4.0 * b * n * d * updates
  compile_seconds = _timed(lambda: replay.lower(bank, jax.random.PRNGKey(0)).compile())
  jax.block_until_ready(fn())
  seconds = min(_timed(fn) for _ in range(s.get("rate_repeats", 1)))
  return {"fn": fn, "flops": flops, "matmul": ((b, d), (d, min(chunk, n))),
          "extra": {"shape": {"B": b, "N": n, "d": d, "updates": updates, "chunk": chunk,
                              "beta": s["beta"], "beta_effective": memory.effective_beta(d)},
                    # measured once while building the case; benchmark.py's `seconds` gives
                    # replays/s = B / seconds for its own best run
                    "replays_per_second": b / seconds, "replays_per_call": b,
                    "bank_bytes": int(bank_bytes), "bank_build_seconds": build_seconds,
                    "replay_compile_seconds": compile_seconds,
                    "mean_updates_until_unchanged": until, "flops_per_replay": flops / b}}


def _timed(fn) -> float:
  t = time.perf_counter()
  jax.block_until_ready(fn())
  return time.perf_counter() - t
