"""Evaluating many models: the one executor under population searches, multi-start and sweeps.

It knows nothing of fits or sweeps: a batch is a pytree of arrays with a leading axis, a
call is a function of one element. It shards the leading axis over the host's devices (a
1-D mesh, `AxisType.Auto`), evaluates a fixed-size chunk in one compiled, vmapped call
(a short chunk is padded, so a call is compiled once), and when the compiled call raises
(an `eqx.error_if` under `vmap` fails the whole chunk) evaluates the chunk's elements one
at a time, so that only the failing ones are lost.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec
from jaxtyping import PyTree


#: What evaluating a model may raise at run time: a traced check (`eqx.error_if`, e.g. a
#: delay beyond `Network.max_delay`) or another runtime failure of the compiled call.
RUNTIME_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


def population_sharding(shard: Any, size: int, *, round_up: bool) -> tuple[Any, int]:
    """A sharding of a leading batch axis over this process's devices (1-D mesh, `Auto`).

    `shard` is "auto" (shard when there are several devices), True or False. With
    `round_up`, `size` is rounded up to a multiple of the device count; otherwise a size that
    does not divide evenly is not sharded ("auto") or refused (True).
    """
    if shard not in ("auto", True, False):
        raise ValueError(f"`shard` must be 'auto', True or False; got {shard!r}.")
    devices = jax.local_devices()
    n = len(devices)
    if shard == "auto":
        shard = n > 1
    if not shard:
        return None, size
    if size % n:
        if round_up:
            size = -(-size // n) * n
        elif shard is True and n > 1:
            raise ValueError(f"Cannot shard {size} starts over {n} devices: use a multiple of {n}.")
        else:
            return None, size
    mesh = jax.make_mesh(
        (n,), ("population",), axis_types=(jax.sharding.AxisType.Auto,), devices=devices
    )
    return NamedSharding(mesh, PartitionSpec("population")), size


@eqx.filter_jit
def _call_batched(call: Callable, sharding: Any, batch: PyTree) -> PyTree:
    if sharding is not None:
        batch = jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, sharding), batch)
    return eqx.filter_vmap(call)(batch)


_call_one = eqx.filter_jit(lambda call, element: call(element))


def output_shape(call: Callable, batch: PyTree) -> PyTree:
    """The `jax.ShapeDtypeStruct`s of `call` on one element of `batch`."""
    element = jax.tree.map(lambda x: x[0], batch)
    return eqx.filter_eval_shape(call, element)


def filler(shape: PyTree, n: int) -> PyTree:
    """NaN (0 for integers and booleans) shaped like `n` outputs."""

    def fill(s):
        if not isinstance(s, jax.ShapeDtypeStruct):
            return s  # a Python constant: the same for every element
        value = np.nan if np.issubdtype(s.dtype, np.inexact) else 0
        return np.full((n, *s.shape), value, dtype=s.dtype)

    return jax.tree.map(fill, shape)


def evaluate_batch(
    call: Callable, batch: PyTree, *, size: int, sharding: Any = None
) -> tuple[PyTree, np.ndarray]:
    """Evaluate `call` on every element of `batch` (leading axis `n <= size`).

    The batch is padded to `size` by repeating its last element (so every call has the
    same shapes and is compiled once), evaluated in one vmapped call sharded by `sharding`,
    and cut back to `n`. If that call raises a runtime error, the elements are evaluated one
    at a time: those that raise get NaN outputs (0 for integer outputs).

    `call` is a function of one element (static under `eqx.filter_jit`: pass an
    `eqx.Module` holding its arrays, so that they are traced rather than baked in).

    **Returns:** the outputs as NumPy arrays (leading axis `n`), and a boolean mask of the
    elements that raised.
    """
    n = jax.tree.leaves(batch)[0].shape[0]
    if not 0 < n <= size:
        raise ValueError(f"A batch of {n} elements does not fit a chunk of {size}.")
    padded = jax.tree.map(
        lambda x: np.concatenate([x, np.repeat(x[-1:], size - n, axis=0)]) if size > n else x,
        batch,
    )
    if sharding is not None:
        padded = jax.device_put(padded, sharding)
    try:
        out = jax.block_until_ready(_call_batched(call, sharding, padded))
    except RUNTIME_ERRORS:
        return _evaluate_one_by_one(call, batch, n)
    # Python constants in the output (`vmap` leaves them unbatched) pass through.
    cut = lambda x: np.asarray(x)[:n] if eqx.is_array(x) else x  # noqa: E731
    return jax.tree.map(cut, out), np.zeros(n, dtype=bool)


def evaluate_chunked(
    call: Callable, batch: PyTree, *, chunk_size: int, sharding: Any = None
) -> tuple[PyTree, np.ndarray]:
    """`evaluate_batch` over a batch of any length, `chunk_size` elements per compiled call
    (one compile: the last, short chunk is padded), the outputs joined in order."""
    n = jax.tree.leaves(batch)[0].shape[0]
    if n <= chunk_size:
        return evaluate_batch(call, batch, size=chunk_size, sharding=sharding)
    pieces = [
        evaluate_batch(
            call,
            jax.tree.map(lambda x: x[start : start + chunk_size], batch),
            size=chunk_size,
            sharding=sharding,
        )
        for start in range(0, n, chunk_size)
    ]
    join = lambda *xs: np.concatenate(xs) if isinstance(xs[0], np.ndarray) else xs[0]  # noqa: E731
    return jax.tree.map(join, *pieces)


def chunk_length(chunk_size: int | None, size: int, sharding: Any) -> int:
    """Elements per compiled call for a batch of `size`: `chunk_size` rounded up to a
    multiple of the devices `sharding` spans, at most `size` (all of it when None)."""
    if chunk_size is None:
        return size
    devices = 1 if sharding is None else sharding.mesh.size
    return min(size, -(-chunk_size // devices) * devices)


def _evaluate_one_by_one(call: Callable, batch: PyTree, n: int) -> tuple[PyTree, np.ndarray]:
    out = filler(output_shape(call, batch), n)
    failed = np.zeros(n, dtype=bool)
    for i in range(n):
        element = jax.tree.map(lambda x: x[i], batch)
        try:
            value = jax.block_until_ready(_call_one(call, element))
        except RUNTIME_ERRORS:
            failed[i] = True
            continue
        for o, v in zip(jax.tree.leaves(out), jax.tree.leaves(value)):
            if isinstance(o, np.ndarray):
                o[i] = np.asarray(v)
    return out, failed
