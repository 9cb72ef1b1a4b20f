"""Cases and baselines of scripts/benchmark.py (importable as `benchcases` with scripts/ on sys.path)."""
