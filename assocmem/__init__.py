"""assocmem: associative memory and memory consolidation in JAX.

The public API is re-exported here; see docs/api.md for the map from each seed
equation to its function.
"""

__version__ = "0.2.0"   # the one place; setup.cfg reads it (version = attr: assocmem.__version__)

from assocmem import extended, mixture, quadrature, registry, reconstructive, semantic, special, testing
from assocmem.bank import PatternBank, empty_bank, make_bank, write, write_many
from assocmem.energies import (classical_energy, dense_energy, diffusion_energy, hebbian_weights,
                               mhn_energy, ve_energy, vp_energy)
from assocmem.guards import CheckError, checked
from assocmem.hopfield import (classical_retrieve, classical_step, dense_flip_gains, dense_retrieve,
                               dense_step, mhn_retrieve, mhn_update)
from assocmem.memories import (ClassicalHopfield, ExactDiffusion, LearnedDiffusion, LearningMemory,
                               Memory, ModernHopfield, ScoreMemory, VAEMemory, make_memory, memory_names,
                               register_memory)
from assocmem.metrics import binarize, hamming_error, pearson
from assocmem.mixture import Dense, Sharded, Streaming
from assocmem.patterns import completion_cue, denoising_cue, random_binary_patterns, uniform_noise
from assocmem.samplers import em_sample, forward_sample, ode_drift, ode_sample, sde_drift, time_grid
from assocmem.scores import denoiser, exact_score_fn, log_density, posterior, score
from assocmem.sde import SDE, VESDE, VPSDE

__all__ = [
    "__version__",
    "binarize",
    "checked",
    "CheckError",
    "classical_energy",
    "classical_retrieve",
    "classical_step",
    "ClassicalHopfield",
    "completion_cue",
    "denoiser",
    "denoising_cue",
    "Dense",
    "dense_energy",
    "dense_flip_gains",
    "dense_retrieve",
    "dense_step",
    "diffusion_energy",
    "em_sample",
    "empty_bank",
    "exact_score_fn",
    "ExactDiffusion",
    "extended",
    "forward_sample",
    "hamming_error",
    "hebbian_weights",
    "LearnedDiffusion",
    "LearningMemory",
    "log_density",
    "make_bank",
    "make_memory",
    "Memory",
    "memory_names",
    "mhn_energy",
    "mhn_retrieve",
    "mhn_update",
    "mixture",
    "ModernHopfield",
    "ode_drift",
    "ode_sample",
    "PatternBank",
    "pearson",
    "posterior",
    "quadrature",
    "random_binary_patterns",
    "reconstructive",
    "register_memory",
    "registry",
    "score",
    "ScoreMemory",
    "SDE",
    "sde_drift",
    "semantic",
    "Sharded",
    "special",
    "Streaming",
    "testing",
    "time_grid",
    "uniform_noise",
    "VAEMemory",
    "ve_energy",
    "VESDE",
    "vp_energy",
    "VPSDE",
    "write",
    "write_many",
]
