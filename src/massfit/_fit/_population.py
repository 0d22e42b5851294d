"""What the population searches share: the ask/tell strategy interface, one vmapped (and
sharded) evaluation of a whole population per generation, and the generation loop."""

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
from .._execute import RUNTIME_ERRORS
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


def _evaluate(strategy, loss, unravel, static, target, x):
    return loss(unravel(strategy.decode(x)), static, target, None)


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


@eqx.filter_jit
def _generation(
    strategy: AbstractStrategy,
    loss: Loss,
    unravel: Unravel,
    sharding: Any,
    state: PyTree,
    static: PyTree,
    target: PyTree,
):
    """One generation: ask, evaluate the whole population in one vmapped call, tell."""
    candidates, context = strategy.ask(state)
    if sharding is not None:
        candidates = jax.lax.with_sharding_constraint(candidates, sharding)
    losses, aux = eqx.filter_vmap(lambda x: _evaluate(strategy, loss, unravel, static, target, x))(
        candidates
    )
    return _conclude(strategy, loss, unravel, state, candidates, context, losses, aux, static)


_ask = eqx.filter_jit(lambda strategy, state: strategy.ask(state))
_evaluate_one = eqx.filter_jit(_evaluate)
_conclude_jit = eqx.filter_jit(_conclude)


def _generation_one_by_one(strategy, loss, unravel, state, static, target):
    """The same generation as `_generation`, evaluating the candidates one at a time, so that
    one that raises is ranked last (loss `inf`) instead of losing the whole search."""
    candidates, context = _ask(strategy, state)
    losses, auxes = [], []
    for x in candidates:
        try:
            value, aux = _evaluate_one(strategy, loss, unravel, static, target, x)
        except RUNTIME_ERRORS:
            value, aux = jnp.asarray(jnp.inf, dtype=candidates.dtype), None
        losses.append(jnp.asarray(value, dtype=candidates.dtype))
        auxes.append(aux)
    good = next((a for a in auxes if a is not None), None)
    if good is None:
        aux = None
    else:
        # A candidate that raised has no aux; it is ranked last, so its filler is never read.
        filler = jax.tree.map(lambda a: jnp.zeros_like(a) if eqx.is_array(a) else a, good)
        stacked = [filler if a is None else a for a in auxes]
        aux = jax.tree.map(lambda *xs: jnp.stack(xs) if eqx.is_array(xs[0]) else xs[0], *stacked)
    return _conclude_jit(
        strategy, loss, unravel, state, candidates, context, jnp.stack(losses), aux, static
    )


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
    callbacks: Callback | Sequence[Callback] | None,
    progress: bool,
    method: str,
) -> FitResult:
    """Run a strategy for up to `n_generations`, one compiled call per generation."""
    check_int("n_generations", n_generations, 0)
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
            args = (strategy, problem.loss, unravel)
            try:
                out = _generation(*args, sharding, state, problem.static, problem.target)
                out = jax.block_until_ready(out)
            except RUNTIME_ERRORS:
                out = _generation_one_by_one(*args, state, problem.static, problem.target)
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
