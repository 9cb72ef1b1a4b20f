"""Memories that store, recall and replay through one protocol (`assocmem.memories.base.Memory`)."""

from assocmem.memories.base import LearningMemory, Memory
from assocmem.memories.diffusion import ExactDiffusion
from assocmem.memories.hopfield import ClassicalHopfield, ModernHopfield
from assocmem.memories.learned import LearnedDiffusion
from assocmem.memories.vae import VAEMemory
