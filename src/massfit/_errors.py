"""Helpers shared by the input checks."""

import functools

import jax
import numpy as np


def eager_constants(fn):
    """Run `fn` with constants evaluated eagerly even under `jit`/`vmap`.

    Since JAX 0.4.36 `jnp.asarray(5.0)` inside a traced function is a tracer, so a model or
    network built inside the user's jitted function could not be checked, and a `Network`
    could not read its delay bounds off a constant speed. Under
    `jax.ensure_compile_time_eval` operations on concrete values give concrete arrays, while
    operations on tracers trace as usual.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.ensure_compile_time_eval():
            return fn(*args, **kwargs)

    return wrapper


def is_concrete(*xs) -> bool:
    """Whether every argument holds concrete values (no tracers), so it can be checked now."""
    leaves = jax.tree_util.tree_leaves(xs)
    return not any(isinstance(x, jax.core.Tracer) for x in leaves)


def describe(x) -> str:
    """A short description of a value for error messages: type, and shape/dtype if an array."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{type(x).__name__} of shape {tuple(x.shape)} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"


def check_range(owner: str, name: str, value, *, lower=None, strict: bool = True) -> None:
    """Raise a `ValueError` if a concrete parameter value is not above `lower`.

    Traced values and constraint wrappers (Modules) are not checked: the former can't be, the
    latter hold their own bounds.
    """
    import equinox as eqx

    if isinstance(value, eqx.Module) or not is_concrete(value) or lower is None:
        return
    arr = np.asarray(value)
    bad = ~(arr > lower) if strict else ~(arr >= lower)  # NaN is out of range too
    if np.any(bad):
        op = ">" if strict else ">="
        raise ValueError(
            f"{owner}: `{name}` must be {op} {lower}; got {arr if arr.ndim == 0 else arr[bad]}."
        )


def check_key(name: str, key, *, required: bool = True) -> None:
    """Raise a `TypeError` naming `name` unless `key` is a JAX PRNG key (or None when not
    `required`): a new-style `jax.random.key(seed)` or a legacy `jax.random.PRNGKey(seed)`."""
    if key is None and not required:
        return
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return
    if dtype == np.uint32 and getattr(key, "shape", None) is not None and key.shape[-1:] == (2,):
        return  # a legacy raw key, jax.random.PRNGKey(seed)
    raise TypeError(
        f"`{name}` must be a JAX random key, made with `jax.random.key(seed)` (seed an "
        f"integer); got {describe(key)}."
    )


def check_int(name: str, value, minimum: int) -> int:
    """Raise a `ValueError` naming `name` unless `value` is an integer (not a bool) >= `minimum`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {describe(value)}.")
    return value
