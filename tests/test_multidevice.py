"""Table 1's "sharded" mixture mode on 8 forced CPU devices equals its dense mode.

On one device a `Sharded` mode has a single shard, so a bug in combining the shards' partials
(the max rescaling, a psum over the wrong axis, padded slots taking part) cannot show. Here a
subprocess starts JAX with XLA_FLAGS=--xla_force_host_platform_device_count=8 (the flag must be
set before JAX starts, hence the subprocess) and runs Table 1 (seed 002, §7) at a tiny size:

  * whole table rows (`table1.run_row`) in "dense" and "sharded" mode are equal;
  * the unbinarised outputs behind them (the modern Hopfield retrieval of seed 000 Eq. 3 and the
    probability-flow ODE with the exact score, seed 002 Eqs. 28 and A3–A4) agree to 1e-9 in float64
    (`assocmem.testing.assert_modes_agree`), for a bank of 10 patterns that 8 shards split unevenly
    (padded to 16 slots) and for a sharded-streaming layout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp
    from assocmem import hopfield, make_bank, mixture, samplers, scores, testing
    from assocmem.sde import VPSDE
    from assocmem.experiments import table1

    assert len(jax.devices()) == 8, jax.devices()
    cfg = table1.get_preset("quick", repeats=2, n_patterns=(10,), mhn_steps=20, ode_steps=30)

    # 1. whole rows, the way the experiment runs them
    rows = {}
    for mode in ("dense", "sharded"):
      c = table1.get_preset("quick", repeats=2, n_patterns=(10,), mhn_steps=20, ode_steps=30, mixture_mode=mode)
      rows[mode] = [table1.run_row(c, task, 10) for task in c.tasks]
    testing.assert_trees_allclose(rows["sharded"], rows["dense"], rtol=0, atol=1e-12)

    # 2. the raw outputs of one repeat, before binarisation
    sharded = mixture.mode_from_name("sharded")
    assert sharded.mesh.shape["bank"] == 8
    modes = {"dense": mixture.Dense(), "sharded": sharded,
             "sharded_streaming": mixture.mode_from_name("sharded_streaming", chunk_size=1)}
    sde = VPSDE(cfg.gamma)
    with jax.enable_x64(True):
      for task in cfg.tasks:
        inputs = table1.sample_inputs(cfg, task, 10)
        pats = jnp.asarray(inputs["patterns"][0], jnp.float64)
        cues = jnp.asarray(inputs["cues"][0], jnp.float64)
        bank = make_bank(pats)
        placed = mixture.shard_bank(bank, sharded.mesh)
        assert placed.capacity == 16 and len(placed.centered.sharding.device_set) == 8
        t0 = cfg.t_start(task)

        def outputs(mode):
          score_fn = scores.exact_score_fn(sde, mode)
          mhn = jax.vmap(lambda c: hopfield.mhn_retrieve(bank, c, cfg.beta, cfg.mhn_steps, mode=mode))(cues)
          ode = jax.vmap(lambda c: samplers.ode_sample(score_fn, bank, sde, c, t0, cfg.t_end, cfg.ode_steps))(cues)
          return {"mhn": mhn, "diffusion": ode}

        testing.assert_modes_agree(jax.jit(outputs, static_argnums=0), modes, rtol=1e-9, atol=1e-9)
        # the outputs are not trivially equal: the cues are not yet the patterns they retrieve
        assert float(jnp.max(jnp.abs(outputs(mixture.DENSE)["mhn"] - cues))) > 0.1
    print("MULTIDEVICE_OK")
""")


def test_table1_sharded_mode_on_8_devices_equals_dense():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu",
             PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
  res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=REPO, capture_output=True, text=True,
                       timeout=900)
  assert res.returncode == 0 and "MULTIDEVICE_OK" in res.stdout, res.stderr[-4000:]
