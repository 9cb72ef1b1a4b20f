"""The two VAE training modes (assocmem.nn.vae.training_flags, TrainConfig.training_mode).

"paper_text" (§A.2.1's text): input dropout and batch-statistics BatchNorm whose moving statistics
move. "authors_code" (the authors' Keras `VAE.train_step`, which calls encoder and decoder without
`training=True`): no dropout, BatchNorm in inference mode on moving statistics that stay exactly at
their initial 0 / 1, so a step is the inference-mode network with a sampled z. Both train; a bad
mode name is a ValueError naming the setting; the consolidation setting reaches the trainer and
the run's identity.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from assocmem.nn import vae as V
from assocmem.train import vae as T

# A tiny VAE of the large architecture's layer types (BatchNorm in encoder and decoder, dropout 0.2).
CFG = V.VAEConfig(image_shape=(16, 16, 1), latent_dim=4, arch="large", encoder_filters=(8, 16),
                  decoder_filters=(8,), decoder_base_channels=8, dropout_rate=0.2)
MODEL = V.ConvVAE(CFG)
AUTHORS = T.TrainConfig(batch_size=8, epochs=4, patience=None, training_mode="authors_code")
PAPER = T.TrainConfig(batch_size=8, epochs=4, patience=None, training_mode="paper_text")


def _images(n: int, seed: int = 0) -> np.ndarray:
  """Gaussian blobs at random places in [0, 1], (n, 16, 16, 1)."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:16, 0:16]
  cy, cx = rng.uniform(4, 12, (2, n, 1, 1))
  return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)[..., None].astype(np.float32)


DATA = _images(32)


def _stats_leaves(state: T.TrainState) -> dict[str, np.ndarray]:
  flat = jax.tree_util.tree_flatten_with_path(state.batch_stats)[0]
  return {jax.tree_util.keystr(p): np.asarray(v) for p, v in flat}


def test_flags_of_each_mode_and_bad_names():
  assert V.TRAINING_MODES == ("paper_text", "authors_code")
  assert V.training_flags("paper_text") == {"dropout": True, "batch_stats": True}
  assert V.training_flags("authors_code") == {"dropout": False, "batch_stats": False}
  for make in (lambda: V.training_flags("keras"), lambda: T.TrainConfig(training_mode="keras")):
    with pytest.raises(ValueError, match="training_mode"):
      make()
  assert T.step_config(AUTHORS).training_mode == "authors_code"     # a step sees the mode


def test_authors_code_step_freezes_batch_stats_and_ignores_dropout_key():
  state = T.create_train_state(MODEL, jax.random.PRNGKey(0), AUTHORS)
  stats = _stats_leaves(state)
  assert stats and all(np.all(v == (0.0 if k.endswith("['mean']") else 1.0)) for k, v in stats.items())
  sc = T.step_config(AUTHORS)
  s = state
  for i in range(3):
    s, _ = T.train_step(s, jnp.asarray(DATA[8 * i:8 * i + 8]), model=MODEL, config=sc)
  after = _stats_leaves(s)
  assert all(np.array_equal(after[k], stats[k]) for k in stats)          # exactly 0 / 1 still
  assert not np.allclose(np.asarray(s.params["decoder"]["dense"]["kernel"]),
                         np.asarray(state.params["decoder"]["dense"]["kernel"]))  # but it trained
  # The forward pass of a step does not depend on the dropout key, and equals the inference-mode
  # network decoding a sampled z (what the authors' train_step computes).
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  x = jnp.asarray(DATA[:8])
  run = jax.jit(lambda kd: MODEL.apply(variables, x, train=True, rngs={"dropout": kd, "sample": jax.random.PRNGKey(5)},
                                       **V.training_flags("authors_code")))
  a, b = run(jax.random.PRNGKey(1)), run(jax.random.PRNGKey(2))
  assert all(np.array_equal(np.asarray(u), np.asarray(v)) for u, v in zip(a, b))
  inference = jax.jit(lambda: MODEL.apply(variables, x, sample=True, rngs={"sample": jax.random.PRNGKey(5)}))()
  np.testing.assert_allclose(np.asarray(a[0]), np.asarray(inference[0]), rtol=0, atol=1e-6)


def test_paper_text_step_moves_batch_stats_and_uses_dropout_key():
  state = T.create_train_state(MODEL, jax.random.PRNGKey(0), PAPER)
  stats = _stats_leaves(state)
  s, _ = T.train_step(state, jnp.asarray(DATA[:8]), model=MODEL, config=T.step_config(PAPER))
  after = _stats_leaves(s)
  assert all(not np.array_equal(after[k], stats[k]) for k in stats)
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  run = jax.jit(lambda kd: MODEL.apply(variables, jnp.asarray(DATA[:8]), train=True, mutable=["batch_stats"],
                                       rngs={"dropout": kd, "sample": jax.random.PRNGKey(5)})[0][0])
  assert not np.allclose(np.asarray(run(jax.random.PRNGKey(1))), np.asarray(run(jax.random.PRNGKey(2))))


@pytest.mark.parametrize("config", [PAPER, AUTHORS], ids=["paper_text", "authors_code"])
def test_both_modes_lower_the_loss(config):
  result = T.fit_vae(MODEL, DATA, jax.random.PRNGKey(0), config=config)
  losses = result.losses
  assert len(losses) == 4 and losses[-1] < 0.95 * losses[0], losses     # measured: 0.90 (paper_text)
  fresh = T.create_train_state(MODEL, jax.random.PRNGKey(0), config)
  assert T.evaluate(MODEL, result.state, DATA)["loss"] < T.evaluate(MODEL, fresh, DATA)["loss"]


def test_consolidation_setting_reaches_trainer_flag_and_identity():
  from assocmem.experiments.consolidation import config as C, pipeline
  authors = C.PRESETS["quick"]
  assert authors.vae.training_mode == "authors_code" == C.PRESETS["paper"].vae.training_mode   # the default
  base = C.with_overrides(authors, {"vae.training_mode": "paper_text"})
  assert pipeline.make_student(authors).train.training_mode == "authors_code"
  assert pipeline.make_student(base).train.training_mode == "paper_text"
  # At the legacy value (paper_text, what runs computed before the setting existed) the setting stays
  # out of the identity, so older runs keep their hash; the other value changes the identity.
  assert "vae.training_mode" not in base.identity()
  assert authors.identity()["vae.training_mode"] == "authors_code"
  assert authors.identity_hash() != base.identity_hash()
  assert C.ConsolidationConfig.from_dict(authors.to_dict()) == authors
  with pytest.raises(ValueError, match="training_mode"):
    C.VAESettings(training_mode="keras")
