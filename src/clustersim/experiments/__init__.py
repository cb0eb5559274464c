"""Experiments: designs, the runner, provenance, aggregation, analysis, reports and commands."""
