"""Benchmarks: `python -m bench` prints JSON figures. They are measurements, not tests."""
