"""Objectives: builders of (prediction, target) -> scalar callables, and `combine`."""
