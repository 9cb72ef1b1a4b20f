"""Experiments: the papers' algorithms at quick and paper presets (above the math and models layers)."""
