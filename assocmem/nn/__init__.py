"""Flax (linen) modules of the trained memories: the score MLP (seed 002 §7) and the conv VAEs (seed 000 §A.2.1).

Every trained network in assocmem uses `flax.linen`: `Module.init` returns the parameters as a plain
pytree, so one `jax.vmap` over `init`/`apply` trains and samples an ensemble of independent networks,
and parameters are the explicit `state` of a score function `score_fn(state, x, t)`.
"""
