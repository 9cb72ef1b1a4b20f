"""Benchmark case `vae_train`: training steps of seed 000's large conv VAE (§A.2.1) at batch 32.

`vae_train_case()` returns the case for scripts/benchmark.py:

  fn       runs STEPS training steps of `ConvVAE(shapes3d_config())` at batch 32 the way
           `fit_vae` runs them (one straight-line jit call per step on CPU, one `lax.scan` call on
           GPU/TPU) and returns the final parameters;
  flops    XLA's cost analysis of one compiled step (`.lower(...).compile().cost_analysis()`),
           times STEPS;
  matmul   ((512, 2304), (2304, 512)): the decoder's first conv as the GEMM it is (batch 32 × 4 × 4
           output pixels, 3·3·256 inputs, 4 phases × 128 filters);
  extra    images/s of this variant, of the plain Flax port (upsample-then-conv, strided convs) and,
           when TensorFlow is importable, of the authors' Keras model (TF/Keras, `fit`, batch 32,
           Adam amsgrad, no XLA as in their code), all timed in this process in interleaved rounds
           (the order alternating between rounds); the figures to compare are the medians over
           rounds of each round's ratio, in wall time (`speedup_vs_keras_round_median`) and in CPU
           time (`speedup_vs_keras_cpu_round_median`), since the machine is shared. All of these
           in `training_mode="paper_text"` against Keras with `training=True`; under
           extra["authors_code"] the same figures with both sides as the authors' `train_step` runs
           them (no dropout, BatchNorm frozen: the consolidation experiments' default).

Run alone: `.venv/bin/python scripts/benchcases/vae.py` logs the case's `extra`.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from assocmem.nn.vae import ConvVAE, shapes3d_config
from assocmem.train.vae import TrainConfig, create_train_state, train_step, train_steps

STEPS = 8            # training steps per timed call
BATCH = 32
MATMUL = ((BATCH * 4 * 4, 9 * 256), (9 * 256, 4 * 128))


def _flax_runner(model: ConvVAE, steps: int, seed: int = 0,
                 training_mode: str = "paper_text") -> tuple[Callable[[], Any], Any]:
  """(fn, compiled executable of one call) running `steps` training steps of `model` as `fit_vae`
  does with its default `steps_per_call`: on CPU one `train_step` call per step on a batch gathered
  on the host; on GPU/TPU one `train_steps` call (a `lax.scan`) gathering on the device."""
  config = TrainConfig(batch_size=BATCH, training_mode=training_mode)
  state = create_train_state(model, jax.random.PRNGKey(seed), config)
  data = np.random.default_rng(seed).uniform(
      size=(steps * BATCH,) + model.config.image_shape).astype(np.float32)
  order = np.arange(steps * BATCH, dtype=np.int32).reshape(steps, BATCH)
  if jax.default_backend() == "cpu":
    compiled = train_step.lower(state, data[order[0]], model=model, config=config).compile()

    def fn():
      st = state
      for batch in order:
        st, _ = compiled(st, data[batch])
      return st.params
  else:
    data_dev, order_dev = jax.device_put(data), jnp.asarray(order)
    compiled = train_steps.lower(state, data_dev, order_dev, model=model, config=config).compile()

    def fn():
      return compiled(state, data_dev, order_dev)[0].params

  return fn, compiled


def _cost_flops(compiled: Any) -> float | None:
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else None
  return float(cost["flops"]) if cost and "flops" in cost else None


def keras_vae(latent_dim: int = 20, training: bool = True):
  """The authors' Keras model of §A.2.1 (ellie-as/generative-memory `generative_model.py`), compiled
  with Adam(1e-3, amsgrad) and their `train_step` (MAE summed over pixels + KL); no XLA. `training`:
  the encoder and decoder are called with training=True (dropout, batch statistics: our
  "paper_text") or False (what the authors' `train_step` computes: our "authors_code")."""
  import keras                                          # pylint: disable=import-outside-toplevel
  import tensorflow as tf                               # pylint: disable=import-outside-toplevel
  from keras import layers                              # pylint: disable=import-outside-toplevel

  class Sampling(layers.Layer):
    def call(self, inputs):
      mean, logvar = inputs
      return mean + tf.exp(0.5 * logvar) * tf.random.normal(tf.shape(mean))

  inp = layers.Input(shape=(64, 64, 3))
  x = layers.Dropout(0.2)(inp)
  for f in (32, 64, 128, 256):
    x = layers.LeakyReLU()(layers.BatchNormalization()(layers.Conv2D(f, 4, strides=(2, 2))(x)))
  x = layers.GlobalAveragePooling2D()(x)
  mean, logvar = layers.Dense(latent_dim)(x), layers.Dense(latent_dim)(x)
  encoder = keras.Model(inp, [mean, logvar, Sampling()([mean, logvar])])
  z_in = layers.Input(shape=(latent_dim,))
  x = layers.Reshape((4, 4, 256))(layers.Dense(4096)(z_in))
  for f in (128, 64, 32):
    x = layers.UpSampling2D((2, 2), interpolation="nearest")(x)
    x = layers.LeakyReLU()(layers.BatchNormalization()(layers.Conv2D(f, 3, padding="same")(x)))
  x = layers.UpSampling2D((2, 2), interpolation="nearest")(x)
  decoder = keras.Model(z_in, layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x))

  class VAE(keras.Model):
    def __init__(self, enc, dec, **kw):
      super().__init__(**kw)
      self.enc, self.dec = enc, dec

    def train_step(self, data):
      with tf.GradientTape() as tape:
        m, lv, z = self.enc(data, training=training)
        r = self.dec(z, training=training)
        rec = tf.reduce_mean(tf.reduce_sum(tf.reduce_mean(tf.abs(data - r), axis=-1), axis=(1, 2)))
        kl = tf.reduce_mean(-0.5 * tf.reduce_sum(1 + lv - tf.square(m) - tf.exp(lv), axis=-1))
        loss = rec + kl
      grads = tape.gradient(loss, self.trainable_weights)
      self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
      return {"loss": loss}

  vae = VAE(encoder, decoder)
  vae.compile(optimizer=keras.optimizers.Adam(1e-3, amsgrad=True), jit_compile=False)
  return vae


def _keras_runner(steps: int, seed: int = 0, training: bool = True) -> Callable[[], Any] | None:
  try:
    import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
  except ImportError:
    return None
  vae = keras_vae(training=training)
  data = np.random.default_rng(seed).uniform(size=(steps * BATCH, 64, 64, 3)).astype(np.float32)
  fn = lambda: vae.fit(data, epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
  fn()                                                  # trace the tf.function
  return fn


PLAIN = {"upsample_impl": "plain", "downsample_impl": "plain", "fold_first_conv": False}


def compare(rounds: int = 7, steps: int = STEPS, keras: bool = True,
            variants: dict[str, dict[str, Any]] | None = None,
            training_mode: str = "paper_text") -> dict[str, Any]:
  """Images/s of Flax VAE variants (`shapes3d_config(**kwargs)`; "flax" is the default config,
  "flax_plain" the plain port) and of Keras, timed in interleaved rounds in this process, all in
  `training_mode` ("paper_text": dropout and batch statistics, Keras `training=True`; "authors_code":
  neither, Keras `training=False` as in the authors' `train_step`)."""
  variants = {"flax": {}, "flax_plain": PLAIN} if variants is None else variants
  runners: dict[str, Callable[[], Any]] = {
      name: _flax_runner(ConvVAE(shapes3d_config(**kw)), steps, training_mode=training_mode)[0]
      for name, kw in variants.items()}
  if keras:
    k = _keras_runner(steps, training=training_mode == "paper_text")
    if k is not None:
      runners["keras"] = k
  for fn in runners.values():
    jax.block_until_ready(fn())
  walls: dict[str, list[float]] = {k: [] for k in runners}
  cpus: dict[str, list[float]] = {k: [] for k in runners}
  order = list(runners)
  for r in range(rounds):
    # Alternate the order so that a slow drift of the machine's speed favours neither side.
    for name in (order if r % 2 == 0 else order[::-1]):
      w, c = time.perf_counter(), time.process_time()
      jax.block_until_ready(runners[name]())
      walls[name].append(time.perf_counter() - w)
      cpus[name].append(time.process_time() - c)
  n = steps * BATCH
  out: dict[str, Any] = {"rounds": rounds, "images_per_call": n, "load_average": os.getloadavg()[0],
                         "training_mode": training_mode}
  first = next(iter(runners))
  for name in runners:
    key = "images_per_second" if name == "flax" else f"{name}_images_per_second"
    out[key] = n / min(walls[name])
    out[key.replace("images_per_second", "images_per_second_median")] = n / statistics.median(walls[name])
    out[key.replace("images_per_second", "cpu_ms_per_image")] = 1e3 * min(cpus[name]) / n
  for other in runners:
    if other != first:
      out[f"speedup_vs_{other}"] = min(walls[other]) / min(walls[first])
      out[f"speedup_vs_{other}_median"] = statistics.median(walls[other]) / statistics.median(walls[first])
      out[f"speedup_vs_{other}_cpu"] = min(cpus[other]) / min(cpus[first])
      # The figure to quote: the median over rounds of each round's ratio (both timed within
      # seconds of each other), in wall and in CPU time.
      wall_ratios = [o / f for o, f in zip(walls[other], walls[first])]
      cpu_ratios = [o / f for o, f in zip(cpus[other], cpus[first])]
      out[f"speedup_vs_{other}_round_ratios"] = wall_ratios
      out[f"speedup_vs_{other}_round_median"] = statistics.median(wall_ratios)
      out[f"speedup_vs_{other}_cpu_round_median"] = statistics.median(cpu_ratios)
  return out


def vae_train_case(rounds: int = 7, keras: bool = True) -> dict[str, Any]:
  """The `vae_train` benchmark case (see the module docstring)."""
  model = ConvVAE(shapes3d_config())
  fn, compiled = _flax_runner(model, STEPS)
  per_call = _cost_flops(compiled)
  calls = STEPS if jax.default_backend() == "cpu" else 1
  extra = compare(rounds=rounds, keras=keras)
  # The consolidation experiments' default mode (the authors' train_step: no dropout, BatchNorm frozen),
  # against the Keras model run the same way.
  ac = compare(rounds=rounds, keras=keras, variants={"flax": {}}, training_mode="authors_code")
  extra["authors_code"] = {k: v for k, v in ac.items() if not k.endswith("round_ratios")}
  extra.update({
      "steps": STEPS, "batch": BATCH, "config": "ConvVAE(shapes3d_config()), TrainConfig()",
      "flops_source": "XLA cost_analysis of the compiled training call, times the calls per fn",
      "variant": {"upsample_impl": model.config.upsample_impl,
                  "downsample_impl": model.config.downsample_impl},
  })
  jax.block_until_ready(fn())
  return {"fn": fn, "flops": None if per_call is None else per_call * calls,
          "matmul": MATMUL, "extra": extra}


if __name__ == "__main__":
  logging.set_verbosity(logging.INFO)
  case = vae_train_case()
  logging.info("vae_train: flops %s, extra %s", case["flops"], case["extra"])
