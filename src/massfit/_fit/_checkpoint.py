"""Saving and resuming a gradient fit: one file, a JSON header line then
`eqx.tree_serialise_leaves` data (never pickle; the layout of `massfit._leaf_files`, which
also checks the file for damage and its structure against the fit resuming it)."""

import hashlib
import math
import os
import pathlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import PyTree

from .._leaf_files import read_leaf_file, write_leaf_file
from ._loop import Tracker


_FORMAT = "massfit fit checkpoint"
_VERSION = 1


def check_checkpoint_path(path: Any) -> None:
    """Refuse a checkpoint path that could not be written, before the first step: its folder
    must exist, be a folder and be writable, and the path must not be a folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`checkpoint` must be a file path; got {type(path).__name__} {path!r}.")
    path = pathlib.Path(path)
    parent = path.parent
    if path.is_dir():
        raise ValueError(
            f"`checkpoint` must be a file path; {str(path)!r} is a folder. Name a file in it, "
            f"e.g. {str(path / 'fit.ckpt')!r}."
        )
    if not parent.exists():
        raise FileNotFoundError(
            f"`checkpoint`: the folder {str(parent)!r} of {str(path)!r} does not exist; "
            "create it first."
        )
    if not parent.is_dir():
        raise NotADirectoryError(
            f"`checkpoint`: {str(parent)!r}, the folder of {str(path)!r}, is not a folder."
        )
    if not os.access(parent, os.W_OK):
        raise PermissionError(
            f"`checkpoint`: the folder {str(parent)!r} is not writable, so {str(path)!r} could "
            "not be written; choose another folder."
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"`checkpoint`: {str(path)!r} exists and is not writable.")


#: Steps of the probe that fingerprints an optimiser (see `optimiser_fingerprint`).
_PROBE_STEPS = 2


def _probe_loss(params: PyTree) -> jax.Array:
    """A fixed quadratic with its minimum at 1 in every coordinate."""
    leaves = jax.tree.leaves(params)
    return sum(0.5 * jnp.sum((x - 1) ** 2) for x in leaves)


def _run_probe(optimiser: optax.GradientTransformation, probe: PyTree) -> tuple[PyTree, Any]:
    """`_PROBE_STEPS` steps of `optimiser` on `_probe_loss` from `probe`: the parameters reached,
    and the first coordinate after each step."""
    state = optimiser.init(probe)
    path = []
    for _ in range(_PROBE_STEPS):
        value, grads = jax.value_and_grad(_probe_loss)(probe)
        kwargs = {}
        if isinstance(optimiser, optax.GradientTransformationExtraArgs):
            kwargs = dict(value=value, grad=grads, value_fn=_probe_loss)
        updates, state = optimiser.update(grads, state, probe, **kwargs)
        probe = optax.apply_updates(probe, updates)
        path.append(jnp.ravel(jax.tree.leaves(probe)[0])[0])
    return probe, jnp.stack(path)


def optimiser_fingerprint(optimiser: optax.GradientTransformation, params: PyTree) -> dict:
    """What identifies an optimiser in a checkpoint: the structure of its state, the
    hyper-parameters it exposes (`optax.inject_hyperparams`) and its **probe**: the parameter
    values after a few steps on a fixed quadratic, starting from 0.

    The probe sees what the state's structure does not: a learning rate or a momentum closed
    over inside `optax.adam(0.05)`. It is compared to 6 significant digits (the last bits of
    a float may differ between machines), through a sha256 of all coordinates; the first
    coordinate's path is kept readable for messages. The probe runs in the parameters' dtype.
    """
    probe = jax.tree.map(lambda x: jnp.zeros(jnp.shape(x), jnp.result_type(x)), params)
    with jax.numpy_dtype_promotion("standard"):
        state = optimiser.init(probe)
        structure = str(jax.tree.structure(state))
        hyperparams = {}
        for node in jax.tree.leaves(state, is_leaf=lambda x: hasattr(x, "hyperparams")):
            if hasattr(node, "hyperparams"):
                for name, value in node.hyperparams.items():
                    if eqx.is_array_like(value) and np.size(value) == 1:
                        hyperparams[name] = float(np.asarray(value).reshape(()))
        try:
            final, path = jax.jit(lambda p: _run_probe(optimiser, p))(probe)
            digits = [f"{v:.5e}" for x in jax.tree.leaves(final) for v in np.ravel(np.asarray(x))]
            digest = hashlib.sha256(",".join(digits).encode()).hexdigest()
            probe_path = [float(f"{v:.5e}") for v in np.asarray(path)]
        except Exception:  # an optimiser that needs what the probe cannot give: structure only
            digest, probe_path = None, None
    return {
        "state": structure,
        "hyperparams": hyperparams,
        "probe": probe_path,
        "probe_sha256": digest,
    }


def _describe_optimiser(fingerprint: dict) -> str:
    parts = []
    if fingerprint.get("hyperparams"):
        parts.append(
            ", ".join(f"{k}={v:g}" for k, v in sorted(fingerprint["hyperparams"].items()))
        )
    if fingerprint.get("probe") is not None:
        parts.append("probe " + " -> ".join(f"{v:g}" for v in fingerprint["probe"]))
    return "; ".join(parts) or fingerprint["state"]


def check_optimiser_fingerprint(source: str, saved: dict | None, current: dict) -> None:
    """Refuse resuming with an optimiser whose fingerprint differs from the saved one."""
    if saved is None:
        return  # written before fingerprints were recorded
    same_probe = (
        saved.get("probe_sha256") is None
        or current.get("probe_sha256") is None
        or saved["probe_sha256"] == current["probe_sha256"]
    )
    if saved.get("hyperparams") == current.get("hyperparams") and same_probe:
        return
    raise ValueError(
        f"The checkpoint {source!r} was written by a fit with another optimiser (or other "
        "hyper-parameters): the same optimiser state, but it moves differently. In the file: "
        f"{_describe_optimiser(saved)}; this fit: {_describe_optimiser(current)} (the probe is "
        "the first parameter over the first steps on a fixed quadratic from 0). Resume with "
        "the optimiser of the checkpointed fit, or start a new fit."
    )


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
    optimiser: dict | None = None,
) -> None:
    """Write the state reached after `step` steps; replaces the file atomically.

    `optimiser` is the optimiser's `optimiser_fingerprint`, checked when resuming."""
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
        "optimiser": optimiser,
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
    optimiser: dict | None = None,
) -> tuple[dict, dict]:
    """Read a checkpoint written by `save_checkpoint` for the same trained paths.

    Refused, naming the file, if it is truncated or damaged, or was written by a fit of
    another model (any class in the model differs), trained paths or optimiser (the
    structure of its state differs).

    `params`, `opt_state` and `physical` are examples of this fit's trained leaves, optimiser
    state and physical values (their shapes and dtypes must match the file); `aux_like` is a
    function returning an example of the loss's aux (only called when the file has a best step);
    `optimiser` this fit's `optimiser_fingerprint`, compared with the file's.
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
    if optimiser is not None:
        check_optimiser_fingerprint(saved.source, header.get("optimiser"), optimiser)
    if key_info is not None and key_info["impl"] is not None:
        state["key"] = jax.random.wrap_key_data(state["key"], impl=key_info["impl"])
    if header["best_loss"] is None:
        header["best_loss"] = math.inf
    return header, state
