"""The one training state and the one optimizer factory of every trained network (flax + optax).

`TrainState` is what a run carries between steps: a pytree that orbax saves whole, so an
interrupted run resumes bitwise (see `assocmem.train.checkpoint`). Both trainers use it:
`train.score` (the score network of seed 002 §7; `losses` holds its loss curve) and `train.vae`
(the VAE of seed 000 §A.2.1; `batch_stats` holds its BatchNorm statistics). A field a trainer does
not use stays an empty dict, which has no leaves (nothing to jit, vmap or save).
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import numpy as np
import optax

Array = jax.Array
PyTree = Any


@flax.struct.dataclass
class TrainState:
  """Everything a training run carries between steps (a pytree; saved whole by orbax).

  For an ensemble of score networks every leaf has a leading axis E.

  Attributes:
    params: the model's "params" collection.
    opt_state: the optax state (`make_optimizer`).
    step: int32 scalar, number of steps taken.
    rng: uint32 (2,) PRNG key of the run (never changes; each trainer folds in the step).
    batch_stats: the model's "batch_stats" collection ({} for models without BatchNorm).
    losses: (n_iterations,) float32 loss of every step taken so far (zeros after `step`), for
      trainers that keep the curve in the state (`train.score`); {} otherwise.
  """
  params: PyTree
  opt_state: PyTree
  step: Array
  rng: Array
  batch_stats: PyTree = flax.struct.field(default_factory=dict)
  losses: PyTree = flax.struct.field(default_factory=dict)


def make_optimizer(learning_rate: float | optax.Schedule, eps: float = 1e-8,
                   amsgrad: bool = False) -> optax.GradientTransformation:
  """Adam (optax defaults b1 = 0.9, b2 = 0.999) with step size `learning_rate` and `eps`.

  `learning_rate` is a number > 0 or an optax schedule (a callable of the step count).
  `amsgrad=True` gives `optax.amsgrad` (the VAE of seed 000's code, Keras' `amsgrad=True`).
  The score network of seed 002 (App. A) uses plain Adam at 1e-3 with eps 1e-8.
  """
  checks = (("eps", eps),) if callable(learning_rate) else (("learning_rate", learning_rate), ("eps", eps))
  for name, value in checks:
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
        or not np.isfinite(value) or value <= 0):
      raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
  if amsgrad:
    return optax.amsgrad(learning_rate, eps=eps)
  return optax.adam(learning_rate, eps=eps)


class NonFiniteLossError(FloatingPointError, ValueError):
  """Training stopped because the loss became NaN or inf (the message names the step and the
  learning rate). A `FloatingPointError` and a `ValueError` (the usual cause is a bad setting,
  most often a learning rate too large for the data)."""


def check_finite_losses(losses: Any, first_step: int, learning_rate: float, label: str) -> None:
  """Raises `NonFiniteLossError` if any loss of steps first_step + 1, … (the columns of `losses`,
  (n_steps,) or (n_networks, n_steps), already on the host) is NaN or inf.

  Steps are counted from 1 (step s is the s-th update); the message names the first bad step, the
  network of an ensemble, the value and the learning rate.
  """
  losses = np.asarray(losses)
  finite = np.isfinite(losses)
  if finite.all():
    return
  rows = losses.reshape(-1, losses.shape[-1]) if losses.ndim else losses.reshape(1, 1)
  bad = ~np.isfinite(rows)
  col = int(np.argmax(bad.any(axis=0)))
  net = int(np.argmax(bad[:, col]))
  where = f" (network {net} of {rows.shape[0]})" if rows.shape[0] > 1 else ""
  raise NonFiniteLossError(
      f"{label}: the loss became {rows[net, col]} at step {first_step + col + 1}{where} with "
      f"learning_rate={learning_rate:g}; training stopped instead of returning a non-finite network. "
      "Lower the learning rate (or check the data)")
