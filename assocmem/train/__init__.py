"""Losses, trainers and checkpoints of the trained memories (optax + orbax)."""
