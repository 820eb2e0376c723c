"""Benchmarks: parameter and MAC counts, latency tables."""
