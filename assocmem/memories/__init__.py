"""Memories that store, recall and replay through one protocol (`assocmem.memories.base.Memory`).

Memories are made by name (`make_memory("modern_hopfield", beta=20.0)`); a user's own memory is
registered with `register_memory(name, factory)` and is then made the same way.
"""

from assocmem.memories.base import LearningMemory, Memory
from assocmem.memories.diffusion import ExactDiffusion
from assocmem.memories.hopfield import ClassicalHopfield, ModernHopfield
from assocmem.memories.hybrid import HybridMemory
from assocmem.memories.learned import LearnedDiffusion
from assocmem.memories.registry import make as make_memory, names as memory_names, register as register_memory
from assocmem.memories.score_memory import ScoreMemory
from assocmem.memories.vae import VAEMemory

__all__ = ["ClassicalHopfield", "ExactDiffusion", "HybridMemory", "LearnedDiffusion", "LearningMemory", "Memory", "ModernHopfield",
           "ScoreMemory", "VAEMemory", "make_memory", "memory_names", "register_memory"]
