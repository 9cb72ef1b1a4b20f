"""Benchmark case of scripts/benchmark.py: training 8 score networks at once (seed 002, App. A sizes).

`score_mlp_train_case()` returns the dict the benchmark harness turns into a `Case`:

  fn       runs K = 50 Adam steps of 8 independent ScoreMLPs (d = 16, N = 31 patterns each, hidden
           80·d = 1,280: the largest learned-capacity network, n_top = 27 + 4) through the library's
           compiled chunk (`assocmem.train.score.chunk_function`: one jit call, one `lax.scan` over the
           steps, donated state, networks batched by `ScoreTrainConfig.ensemble`); returns the losses
  flops    matmul FLOPs of that call (`train_flops`): per step and network, 2·N·(in·out) for each
           forward product, with in counting the appended θ (17·1280, 1281·1280, 1281·16), plus
           the backward products: the weight gradient of every layer and the input gradient of
           the hidden and output layers (the input layer needs none), i.e. 2 products for the
           input layer and 3 for the other two. Adam and elementwise work are not counted.
  matmul   ((8, 31, 1280), (8, 1280, 1280)): the step's dominant product, the hidden layer's
           batched forward matmul, whose plain jit-compiled f32 throughput is the yardstick
  extra    shapes, the ensemble mode, and steps/s of one warm-up call

`score_mlp_train_baseline_case()` is the plain version to compare with: the same 50 steps as a
Python loop of one jitted vmapped step each (no scan, no donation, a host sync per step).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from assocmem.nn.score_mlp import ScoreMLP
from assocmem.train import score as ts

SHAPE = dict(networks=8, n_patterns=31, dim=16, hidden=80 * 16, steps=50)


def _problem(ensemble: str):
  e, n, d, h = (SHAPE[k] for k in ("networks", "n_patterns", "dim", "hidden"))
  model = ScoreMLP(dim=d, hidden=h)
  cfg = ts.ScoreTrainConfig(n_iterations=100_000, ensemble=ensemble)   # room for 2,000 calls of 50 steps
  keys = jax.random.split(jax.random.PRNGKey(0), e)
  patterns = jnp.sign(jax.random.normal(jax.random.PRNGKey(1), (e, n, d)))
  masks = jnp.ones((e, n), jnp.float32)
  return model, cfg, keys, patterns, masks


def _finish(fn: Callable[[], Any], model: ScoreMLP, mode: str) -> dict[str, Any]:
  e, n, d, h, k = (SHAPE[x] for x in ("networks", "n_patterns", "dim", "hidden", "steps"))
  jax.block_until_ready(fn())                      # compile
  start = time.perf_counter()
  jax.block_until_ready(fn())
  warm = time.perf_counter() - start
  return {"fn": fn, "flops": ts.train_flops(model, n, k, e), "matmul": ((e, n, h), (e, h, h)),
          "extra": {"shape": dict(SHAPE), "ensemble": mode, "steps_per_call": k,
                    "steps_per_second": round(k / warm, 2),
                    "flops_note": "matmuls only: 2 per step for the input layer, 3 for the hidden and "
                                  "output layers (forward, input gradient, weight gradient); in = n + 1"}}


def score_mlp_train_case(ensemble: str = "auto") -> dict[str, Any]:
  """K = 50 training steps of 8 vmapped (or mapped) networks in one jit call; see the module docstring."""
  model, cfg, keys, patterns, masks = _problem(ensemble)
  chunk = ts.chunk_function(model, cfg, SHAPE["steps"])
  holder = {"state": ts.init_ensemble(model, keys, cfg)}

  def fn():
    holder["state"] = chunk(holder["state"], patterns, masks)    # the state is donated: keep the new one
    return holder["state"].losses[:, :8]

  return _finish(fn, model, ts.resolved_ensemble(cfg))


def score_mlp_train_baseline_case() -> dict[str, Any]:
  """The same 50 steps as a Python loop of one jitted `jax.vmap`ped step (no scan, no donation)."""
  model, cfg, keys, patterns, masks = _problem("vmap")

  def one(state, p, m):
    new, loss = ts.train_step(model, cfg, state, p, m)
    return new, loss

  step = jax.jit(jax.vmap(one))
  holder = {"state": ts.init_ensemble(model, keys, cfg)}

  def fn():
    losses = []
    for _ in range(SHAPE["steps"]):
      holder["state"], loss = step(holder["state"], patterns, masks)
      losses.append(np.asarray(loss))               # per-step host sync, as a plain loop does
    return np.stack(losses)

  return _finish(fn, model, "vmap, Python loop")
