"""Implementation of `massfit.objectives` (public names are re-exported there)."""
