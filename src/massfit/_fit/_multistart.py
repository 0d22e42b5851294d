"""`multistart`: several gradient fits from different starting points, vmapped together."""

import warnings
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, PyTree
from tqdm import tqdm

from .._errors import check_int, check_key
from .._execute import evaluate_batch, population_sharding
from .._params import Bounded, is_constraint
from ._gradient import check_optimiser, choose_mode, falls_back_to_reverse, step
from ._problem import Loss, make_problem
from ._result import FitResult, MultistartResult


def _starting_points(params: PyTree, n_starts: int, key: Array) -> PyTree:
    """Start 0 is `params`; the others draw each Bounded parameter uniformly in its bounds."""
    nodes, treedef = jax.tree.flatten(params, is_leaf=is_constraint)
    keys = jr.split(key, len(nodes))
    batched = []
    for node, k in zip(nodes, keys):
        if isinstance(node, Bounded):
            raw = node.raw
            u = jr.uniform(k, (n_starts - 1, *raw.shape), dtype=raw.dtype)
            drawn = jnp.log(u) - jnp.log1p(-u)
            node = eqx.tree_at(lambda c: c.raw, node, jnp.concatenate([raw[None], drawn]))
            batched.append(node)
        else:
            batched.append(jax.tree.map(lambda x: jnp.broadcast_to(x, (n_starts, *x.shape)), node))
    return jax.tree.unflatten(treedef, batched)


def _broadcast_where(cond: np.ndarray, new: PyTree, old: PyTree) -> PyTree:
    def pick(a, b):
        c = cond.reshape(cond.shape + (1,) * (np.ndim(a) - 1))
        return np.where(c, a, b)

    return jax.tree.map(pick, new, old)


class _StartStep(eqx.Module):
    """One optimiser step of one start `(params, opt_state)` (the executor's call)."""

    loss: Loss
    optimiser: Any
    mode: str = eqx.field(static=True)
    static: PyTree
    target: PyTree
    index: Array

    def __call__(self, start: tuple[PyTree, PyTree]):
        params, opt_state = start
        args = (self.static, self.target, None, self.index)
        return step(self.loss, self.optimiser, self.mode, params, opt_state, *args)


def multistart(
    model: PyTree,
    optimiser: Any,
    *,
    trainable: Any,
    n_starts: int,
    key: Any,
    n_steps: int,
    loss_fn: Callable | None = None,
    objective: Callable | None = None,
    predict: Callable | None = None,
    target: PyTree | None = None,
    penalty: Callable[[PyTree], Any] | None = None,
    mode: str = "auto",
    shard: bool | str = "auto",
    progress: bool = True,
) -> MultistartResult:
    """Run `n_starts` gradient fits from different starting points at once; keep the best.

    Start 0 is the model as given. In the others every trained `Bounded` parameter is drawn
    uniformly within its bounds (each element independently); other trained parameters
    (`Positive` or plain) start from their given value in every start. The fits run
    **vmapped together**: each step is one compiled call for all starts (sharded over the
    host's devices when there are several and `n_starts` is a multiple of their number).

    Each start behaves as in `fit` (same loss arguments, gradient `mode`, best-seen
    tracking); a start whose loss or gradient turns non-finite, or whose evaluation raises
    (an `eqx.error_if`), stops moving (its update is not applied) while the others go on.

    **Arguments:**

    - `model`, `optimiser`, `trainable`, `loss_fn`, `objective`, `predict`, `target`,
        `penalty`, `mode`, `progress`: as in `fit` (the loss is called without a key).
    - `n_starts`: how many fits, at least 1.
    - `key`: PRNG key for drawing the starting points.
    - `n_steps`: steps per fit.
    - `shard`: "auto", True or False, as in `cma_es`.

    **Returns:**

    A `MultistartResult`: `best` (the `FitResult` of the best start), `best_index`, and
    every start's best loss, parameters and starting point.
    """
    check_optimiser(optimiser)
    check_int("n_starts", n_starts, 1)
    check_int("n_steps", n_steps, 0)
    check_key("key", key)
    problem = make_problem(model, trainable, loss_fn, objective, predict, target, penalty)
    chosen = choose_mode(mode, problem.n_scalars)
    sharding, _ = population_sharding(shard, n_starts, round_up=False)
    params = _starting_points(problem.params, n_starts, key)
    with jax.numpy_dtype_promotion("standard"):
        opt_state = eqx.filter_vmap(optimiser.init)(params)
    first_physical = jax.device_get(eqx.filter_vmap(lambda p: problem.physical(p))(params))
    best_params = params
    best_loss = np.full(n_starts, np.inf, dtype=jnp.zeros((), float).dtype)
    best_step = np.full((n_starts,), -1)
    losses: list[np.ndarray] = []
    n_nonfinite: list[int] = []
    history: dict[str, list[np.ndarray]] = {p: [] for p in problem.paths}
    reason = None
    bar = tqdm(total=n_steps, disable=not progress, desc="multistart")
    i = 0
    try:
        while i < n_steps:
            call = _StartStep(
                problem.loss, optimiser, chosen, problem.static, problem.target, jnp.int32(i)
            )
            try:
                out, raised = evaluate_batch(
                    call, (params, opt_state), size=n_starts, sharding=sharding
                )
            except TypeError as e:
                if not falls_back_to_reverse(e, mode, chosen):
                    raise
                chosen = "reverse"
                continue
            # A start that raised (its outputs are NaN) stays where it was, like a non-finite one.
            out = out._replace(
                params=_broadcast_where(raised, params, out.params),
                opt_state=_broadcast_where(raised, opt_state, out.opt_state),
            )
            improved = out.loss_finite & (out.loss < best_loss)
            best_params = _broadcast_where(improved, params, best_params)
            best_loss = np.where(improved, out.loss.astype(best_loss.dtype), best_loss)
            step_losses = np.asarray(out.loss, dtype=np.float64)
            physical = jax.device_get(out.physical)
            losses.append(step_losses)
            n_nonfinite.append(int(np.sum(~np.isfinite(step_losses))))
            for p in problem.paths:
                history[p].append(np.asarray(physical[p]))
            best_step = np.where(np.asarray(improved), i, best_step)
            params, opt_state, i = out.params, out.opt_state, i + 1
            bar.update(1)
            bar.set_postfix_str(f"best {float(np.min(best_loss)):.4g}", refresh=False)
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        bar.close()

    n_done = len(losses)
    loss_history = np.stack(losses) if losses else np.zeros((0, n_starts))
    param_history = {
        p: np.stack(v) if v else np.zeros((0, n_starts, *np.shape(first_physical[p])[1:]))
        for p, v in history.items()
    }
    final_losses = np.asarray(best_loss, dtype=np.float64)
    # With no finite loss anywhere every entry is inf, and start 0 stands for them all.
    index = int(np.argmin(final_losses))
    steps_of_best = np.maximum(best_step, 0)
    per_start = {
        p: v[steps_of_best, np.arange(n_starts)] if n_done else first_physical[p]
        for p, v in param_history.items()
    }
    found = bool(best_step[index] >= 0)
    stopped_early = reason is not None
    if not found and n_done and reason is None:
        reason = (
            f"every evaluation gave a non-finite loss ({n_starts} starts over {n_done} "
            "step(s)); the model is returned as given. Check the model, its bounds and the data."
        )
        warnings.warn(reason, RuntimeWarning, stacklevel=2)
    trained, aux = None, None
    if found:
        trained = jax.tree.map(lambda x: jnp.asarray(x[index]), best_params)
        aux = eqx.filter_jit(problem.loss)(trained, problem.static, problem.target, None)[1]
    best = FitResult(
        model=problem.model(trained) if found else model,
        best_loss=float(final_losses[index]),
        best_step=int(best_step[index]) if found else None,
        best_params={p: np.asarray(v[index]) for p, v in per_start.items()} if found else {},
        history=loss_history[:, index],
        param_history={p: v[:, index] for p, v in param_history.items()},
        aux=aux,
        n_steps=n_done,
        stopped_early=stopped_early,
        reason=reason,
        method=f"multistart ({chosen} mode)",
        n_nonfinite=np.asarray(n_nonfinite, dtype=np.int64),
    )
    return MultistartResult(
        best=best,
        best_index=index,
        losses=final_losses,
        params=per_start,
        initial_params={p: np.asarray(v) for p, v in first_physical.items()},
        history=loss_history,
    )
