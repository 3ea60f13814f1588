"""Evaluation: robustness and quality sweeps, benchmarks, reports from result files."""
