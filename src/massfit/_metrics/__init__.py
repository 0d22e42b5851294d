"""Implementation of `massfit.metrics` (public names are re-exported there)."""
