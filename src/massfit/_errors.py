"""Helpers shared by the input checks."""

import jax
import numpy as np


def is_concrete(*xs) -> bool:
    """Whether every argument holds concrete values (no tracers), so it can be checked now."""
    leaves = jax.tree_util.tree_leaves(xs)
    return not any(isinstance(x, jax.core.Tracer) for x in leaves)


def describe(x) -> str:
    """A short description of a value for error messages: type, and shape/dtype if an array."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{type(x).__name__} of shape {tuple(x.shape)} and dtype {x.dtype}"
    if isinstance(x, np.generic):
        return f"{type(x).__name__} {x!r}"
    return f"{type(x).__name__} {x!r}"
