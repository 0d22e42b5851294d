"""Saving and resuming a gradient fit: one file, a JSON header line then
`eqx.tree_serialise_leaves` data (never pickle; the layout of `massfit._leaf_files`, which
also checks the file for damage and its structure against the fit resuming it)."""

import math
import os
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

from .._leaf_files import read_leaf_file, write_leaf_file
from ._loop import Tracker


_FORMAT = "massfit fit checkpoint"
_VERSION = 1


def _key_parts(key: Any) -> tuple[Any, dict]:
    if key is None:
        return None, {"key": None}
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        data, impl = jax.random.key_data(key), str(jax.random.key_impl(key))
    else:
        data, impl = jnp.asarray(key), None
    return data, {"key": {"impl": impl, "shape": list(data.shape), "dtype": str(data.dtype)}}


def save_checkpoint(
    path: str | os.PathLike,
    *,
    step: int,
    paths: tuple[str, ...],
    params: PyTree,
    opt_state: PyTree,
    key: Any,
    tracker: Tracker,
) -> None:
    """Write the state reached after `step` steps; replaces the file atomically."""
    losses, history = tracker.history()
    key_data, key_header = _key_parts(key)
    best_loss = tracker.best_loss
    header = {
        "format": _FORMAT,
        "version": _VERSION,
        "step": step,
        "paths": list(paths),
        "n_history": len(losses),
        "best_loss": None if math.isinf(best_loss) else best_loss,
        "best_step": tracker.best_step,
        **key_header,
    }
    tree = {
        "params": params,
        "opt_state": opt_state,
        "key": key_data,
        "losses": losses,
        "history": history,
        "best_params": tracker.best_state,
        "best_aux": tracker.best_aux,
    }
    write_leaf_file(path, header, tree)


def load_checkpoint(
    path: str | os.PathLike,
    *,
    paths: tuple[str, ...],
    params: PyTree,
    opt_state: PyTree,
    physical: dict[str, np.ndarray],
    aux_like: Any,
) -> tuple[dict, dict]:
    """Read a checkpoint written by `save_checkpoint` for the same trained paths.

    Refused, naming the file, if it is truncated or damaged, or was written by a fit of
    another model (any class in the model differs), trained paths or optimiser (the
    structure of its state differs).

    `params`, `opt_state` and `physical` are examples of this fit's trained leaves, optimiser
    state and physical values (their shapes and dtypes must match the file); `aux_like` is a
    function returning an example of the loss's aux (only called when the file has a best step).
    Returns (header, state).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {str(path)!r} to resume from.")
    saved = read_leaf_file(path, _FORMAT, version_key="version", version=_VERSION)
    header = saved.header
    if tuple(header["paths"]) != tuple(paths):
        raise ValueError(
            f"The checkpoint {saved.source!r} trains {header['paths']} but this fit trains "
            f"{list(paths)}; resume with the same model and `trainable`."
        )
    n = header["n_history"]
    has_best = header["best_step"] is not None
    key_info = header["key"]
    like = {
        "params": params,
        "opt_state": opt_state,
        "key": None
        if key_info is None
        else jax.ShapeDtypeStruct(tuple(key_info["shape"]), jnp.dtype(key_info["dtype"])),
        "losses": np.zeros((n,), np.float64),
        "history": {
            p: np.zeros((n, *np.shape(v)), np.asarray(v).dtype) for p, v in physical.items()
        },
        "best_params": params if has_best else None,
        "best_aux": aux_like() if has_best else None,
    }
    state = saved.load(
        like,
        like_name="this fit",
        hint="resume with the same model, `trainable`, optimiser and loss",
    )
    if key_info is not None and key_info["impl"] is not None:
        state["key"] = jax.random.wrap_key_data(state["key"], impl=key_info["impl"])
    if header["best_loss"] is None:
        header["best_loss"] = math.inf
    return header, state
