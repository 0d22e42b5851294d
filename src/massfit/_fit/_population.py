"""What the population searches share: the ask/tell strategy interface, the evaluation of each
generation's population by the executor (`massfit._execute`: vmapped, sharded, chunked, one by
one when a chunk raises), and the generation loop."""

import abc
import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PyTree

from .._errors import check_int
from .._execute import chunk_length, evaluate_chunked
from ._loop import Callback, check_callbacks, Tracker
from ._problem import Loss, Problem
from ._result import FitResult


class AbstractStrategy(eqx.Module):
    """A population search over a flat vector `x`, in ask/tell form."""

    population_size: eqx.AbstractVar[int]

    @abc.abstractmethod
    def init(self, x0: Array, key: Array) -> PyTree:
        """The initial search state around the starting point `x0`."""

    @abc.abstractmethod
    def ask(self, state: PyTree) -> tuple[Array, Any]:
        """Candidates `(population_size, n)` to evaluate, and context for `tell`."""

    @abc.abstractmethod
    def tell(self, state: PyTree, candidates: Array, losses: Array, context: Any) -> PyTree:
        """The next state given the candidates' losses (non-finite ones are `inf`)."""

    @abc.abstractmethod
    def decode(self, x: Array) -> Array:
        """The flat vector of trained (unconstrained) leaves that `x` stands for."""

    @abc.abstractmethod
    def spread(self, state: PyTree) -> Array:
        """How far apart the search still is, compared with `tol` to stop."""


class Unravel(eqx.Module):
    """Rebuilds the trained leaves from a flat vector (a hashable `ravel_pytree` inverse, so
    that compiled generations are reused across calls)."""

    treedef: Any = eqx.field(static=True)
    shapes: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    dtypes: tuple[Any, ...] = eqx.field(static=True)

    def __call__(self, x: Array) -> PyTree:
        sizes = [math.prod(s) for s in self.shapes]
        pieces = jnp.split(x, list(itertools.accumulate(sizes))[:-1])
        leaves = [p.reshape(s).astype(d) for p, s, d in zip(pieces, self.shapes, self.dtypes)]
        return jax.tree.unflatten(self.treedef, leaves)


def ravel(params: PyTree) -> tuple[Array, Unravel]:
    """The trained leaves as one flat vector (in their common dtype), and the way back."""
    leaves, treedef = jax.tree.flatten(params)
    with jax.numpy_dtype_promotion("standard"):
        dtype = jnp.result_type(*leaves)
    x = jnp.concatenate([jnp.ravel(leaf).astype(dtype) for leaf in leaves])
    unravel = Unravel(
        treedef=treedef,
        shapes=tuple(leaf.shape for leaf in leaves),
        dtypes=tuple(leaf.dtype for leaf in leaves),
    )
    return x, unravel


class _CandidateLoss(eqx.Module):
    """The loss of one candidate `x` (the executor's call: the arrays are traced)."""

    strategy: AbstractStrategy
    loss: Loss
    unravel: Unravel
    static: PyTree
    target: PyTree

    def __call__(self, x: Array) -> tuple[Array, Any]:
        return self.loss(self.unravel(self.strategy.decode(x)), self.static, self.target, None)


@eqx.filter_jit
def _conclude(strategy, loss, unravel, state, candidates, context, losses, aux, static):
    """Rank (non-finite last, as `inf`), tell, and pick the generation's best."""
    finite = jnp.isfinite(losses)
    losses = jnp.where(finite, losses, jnp.inf)
    state = strategy.tell(state, candidates, losses, context)
    best = jnp.argmin(losses)
    x_best = candidates[best]
    aux_best = jax.tree.map(lambda a: a[best] if eqx.is_array(a) else a, aux)
    physical = loss.physical(unravel(strategy.decode(x_best)), static)
    n_bad = jnp.sum(~finite)
    return state, losses[best], x_best, aux_best, physical, strategy.spread(state), n_bad


_ask = eqx.filter_jit(lambda strategy, state: strategy.ask(state))


def _generation(strategy, loss, unravel, state, static, target, chunk_size, sharding):
    """One generation: ask, evaluate the population through the executor (a candidate that
    raises gets a NaN loss, so it is ranked last), tell."""
    candidates, context = _ask(strategy, state)
    call = _CandidateLoss(strategy, loss, unravel, static, target)
    (losses, aux), _ = evaluate_chunked(call, candidates, chunk_size=chunk_size, sharding=sharding)
    return _conclude(strategy, loss, unravel, state, candidates, context, losses, aux, static)


def run_population(
    problem: Problem,
    unravel: Unravel,
    strategy: AbstractStrategy,
    x0: Array,
    *,
    key: Array,
    n_generations: int,
    tol: float,
    sharding: Any,
    chunk_size: int | None,
    callbacks: Callback | Sequence[Callback] | None,
    progress: bool,
    method: str,
) -> FitResult:
    """Run a strategy for up to `n_generations`, the population of each generation evaluated
    in chunks of `chunk_size` (all at once when None)."""
    check_int("n_generations", n_generations, 0)
    if chunk_size is not None:
        check_int("chunk_size", chunk_size, 1)
    chunk_size = chunk_length(chunk_size, strategy.population_size, sharding)
    callbacks = check_callbacks(callbacks)

    state = strategy.init(x0, key)
    tracker = Tracker(
        problem.paths,
        callbacks=callbacks,
        n_steps=n_generations,
        start=0,
        progress=progress,
        desc=method,
    )
    reason = None
    warned = False
    n_nonfinite: list[int] = []
    try:
        for g in range(n_generations):
            out = _generation(
                strategy,
                problem.loss,
                unravel,
                state,
                problem.static,
                problem.target,
                chunk_size,
                sharding,
            )
            new_state, loss, x_best, aux, physical, spread, n_bad = out
            loss, physical, spread, n_bad = jax.device_get((loss, physical, spread, n_bad))
            loss, n_bad = float(loss), int(n_bad)
            n_nonfinite.append(n_bad)
            if n_bad and not warned:
                warnings.warn(
                    f"{n_bad} candidate(s) of generation {g} gave a non-finite loss or raised; "
                    "they are ranked last (`result.n_nonfinite` counts them per generation).",
                    RuntimeWarning,
                    stacklevel=3,
                )
                warned = True
            stop = tracker.record(g, loss, physical, x_best, aux)
            state = new_state
            if stop:
                reason = f"stopped by a callback at generation {g}"
                break
            if float(spread) < tol:
                if g + 1 < n_generations:
                    reason = f"converged: search spread {float(spread):.3g} < tol at generation {g}"
                break
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        tracker.close()
    counts = np.asarray(n_nonfinite, dtype=np.int64)
    stopped_early = reason is not None
    if tracker.best_step is None:
        best = problem.model(problem.params)
        if counts.size and reason is None:
            reason = (
                f"every evaluation gave a non-finite loss ({int(counts.sum())} candidates over "
                f"{counts.size} generation(s)); the model is returned as given. Check the "
                "model, its bounds and the data."
            )
            warnings.warn(reason, RuntimeWarning, stacklevel=3)
    else:
        best = problem.model(unravel(strategy.decode(tracker.best_state)))
    return tracker.result(
        best,
        stopped_early=stopped_early,
        reason=reason,
        method=method,
        n_nonfinite=counts,
    )
