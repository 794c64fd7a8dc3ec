"""Synthetic data for benchmarks and load tests: deterministic, bulk-loaded, with a scale knob."""
