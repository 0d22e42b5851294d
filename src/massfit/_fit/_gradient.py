"""`fit`: gradient-based fitting with any optax transformation."""

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, PyTree

from .._errors import check_key, describe
from ._checkpoint import (
    check_checkpoint_path,
    load_checkpoint,
    optimiser_fingerprint,
    save_checkpoint,
)
from ._loop import Callback, check_callbacks, Tracker
from ._problem import Loss, make_problem, Problem
from ._result import FitResult


#: With `mode="auto"`, gradients are taken in forward mode when at most this many scalars train.
FORWARD_MODE_MAX_PARAMS = 8


def check_optimiser(optimiser: Any) -> None:
    """Refuse anything that is not an optax `GradientTransformation`, saying how to fix it."""
    if isinstance(optimiser, optax.GradientTransformation):
        return
    if isinstance(optimiser, (int, float)) and not isinstance(optimiser, bool):
        hint = f"It looks like a learning rate: pass e.g. `optax.adam({optimiser!r})` instead."
    elif "brain" in type(optimiser).__module__:
        hint = (
            "brainstate/braintools optimisers are not supported; use the optax equivalent, "
            "e.g. `optax.adam(learning_rate)` for `braintools.optim.Adam(lr=...)`."
        )
    else:
        hint = "Build one with optax, e.g. `optax.adam(0.05)` or `optax.lbfgs()`."
    raise TypeError(
        f"`optimiser` must be an optax GradientTransformation; got {describe(optimiser)}. " + hint
    )


def choose_mode(mode: str, n_scalars: int) -> Literal["forward", "reverse"]:
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"`mode` must be 'auto', 'forward' or 'reverse'; got {mode!r}.")
    if mode == "auto":
        return "forward" if n_scalars <= FORWARD_MODE_MAX_PARAMS else "reverse"
    return mode


def _all_finite(tree: PyTree) -> Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def _where(cond: Array, new: PyTree, old: PyTree) -> PyTree:
    return jax.tree.map(lambda a, b: jnp.where(cond, a, b), new, old)


class StepOutput(NamedTuple):
    loss: Array
    aux: Any
    loss_finite: Array
    grad_finite: Array
    physical: dict[str, Array]
    params: PyTree
    opt_state: PyTree


def step(
    loss: Loss,
    optimiser: optax.GradientTransformation,
    mode: str,
    params: PyTree,
    opt_state: PyTree,
    static: PyTree,
    target: PyTree,
    key: Any,
    index: Array,
) -> StepOutput:
    """One optimiser step: evaluate loss and gradient at `params`, update, skip if non-finite.

    `key` is None or the base key, folded with the step `index` here.
    """
    step_key = None if key is None else jr.fold_in(key, index)

    def loss_at(p):
        return loss(p, static, target, step_key)

    if mode == "forward":
        flat, unravel = ravel_pytree(params)

        def loss_flat(v):
            value, aux = loss_at(unravel(v))
            return value, (value, aux)

        # `simulate` sees forward-mode tracers and defaults to diffrax.ForwardMode().
        flat_grad, (value, aux) = jax.jacfwd(loss_flat, has_aux=True)(flat)
        grads = unravel(flat_grad)
    else:
        (value, aux), grads = jax.value_and_grad(loss_at, has_aux=True)(params)
    kwargs = {}
    if isinstance(optimiser, optax.GradientTransformationExtraArgs):
        # L-BFGS (and e.g. reduce_on_plateau) read these; other transformations ignore them.
        kwargs = dict(value=value, grad=grads, value_fn=lambda p: loss_at(p)[0])
    # optax is not written for strict dtype promotion (e.g. `decay**count` in Adam).
    with jax.numpy_dtype_promotion("standard"):
        updates, new_opt_state = optimiser.update(grads, opt_state, params, **kwargs)
        new_params = optax.apply_updates(params, updates)
    loss_finite = jnp.isfinite(value)
    grad_finite = _all_finite(grads)
    ok = loss_finite & grad_finite
    return StepOutput(
        loss=value,
        aux=aux,
        loss_finite=loss_finite,
        grad_finite=grad_finite,
        physical=loss.physical(params, static),
        params=_where(ok, new_params, params),
        opt_state=_where(ok, new_opt_state, opt_state),
    )


# Module level, so that a fit with the same loss functions, optimiser object and model structure
# reuses the compiled step.
_jit_step = eqx.filter_jit(step)


def falls_back_to_reverse(error: Exception, mode: str, chosen: str) -> bool:
    """Whether `mode="auto"` should retry in reverse mode after `error` (and warn if so)."""
    if not (mode == "auto" and chosen == "forward" and "custom_vjp" in str(error)):
        return False
    warnings.warn(
        "The loss cannot be differentiated in forward mode (it contains a custom_vjp, e.g. "
        "diffrax's default adjoint); using reverse mode. Pass mode='reverse' to skip this "
        "attempt, or use diffrax.ForwardMode() in the solve to keep forward mode.",
        RuntimeWarning,
        stacklevel=3,
    )
    return True


def fit(
    model: PyTree,
    optimiser: Any,
    *,
    trainable: Any,
    n_steps: int,
    loss_fn: Callable | None = None,
    objective: Callable | None = None,
    predict: Callable | None = None,
    target: PyTree | None = None,
    penalty: Callable[[PyTree], Any] | None = None,
    mode: str = "auto",
    key: Any = None,
    callbacks: Callback | Sequence[Callback] | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
) -> FitResult:
    """Fit parameters of a model by gradient descent with an optax optimiser.

    The loss is built one of two ways, as in brainmass's `Fitter`:

    - `objective=` + `predict=` + `target=`: the loss is
        `objective(predict(model), target) + penalty(model)`; or
    - `loss_fn=`: the loss is `loss_fn(model) + penalty(model)`, where `loss_fn` returns a
        scalar or `(scalar, aux)` (e.g. a derived summary compared with its target).

    `loss_fn`, `predict` and `penalty` receive the model **with constraints unwrapped**
    (physical values); calling `massfit.unwrap` on it again is harmless.

    The step (loss, gradient, optimiser update) is compiled once with `eqx.filter_jit` and
    driven by a Python loop with a tqdm progress bar. Step `i` evaluates the loss at the current
    parameters, records it with their physical values, then updates them; the returned model
    is the best one evaluated. A later call with the same loss functions, the same optimiser
    object and a model of the same structure reuses the compiled step.

    **Arguments:**

    - `model`: an equinox Module (or any pytree) holding the parameters, some of them
        possibly `Bounded`/`Positive`.
    - `optimiser`: any optax `GradientTransformation`, e.g. `optax.adam(0.05)`. Gradient
        clipping is composition: `optax.chain(optax.clip_by_global_norm(1.0),
        optax.adam(0.05))`. `optax.lbfgs()` works (it gets the `value`, `grad` and
        `value_fn` it needs).
    - `trainable`: what trains: a path or glob (`"k"`, `"node.*"`), a list of them,
        a `where` callable (`lambda m: (m.node.a, m.k)`), or a filter spec from
        `massfit.select`. See `massfit.select`.
    - `n_steps`: total number of steps (with `resume`, including those already done).
    - `loss_fn`: `model -> loss` or `model -> (loss, aux)`; or with `key`,
        `(model, key) -> ...`.
    - `objective`: `(prediction, target) -> loss`, e.g. built by `massfit.objectives`. A
        score (an objective with `is_score=True`, such as `fc_corr()`) is refused: pass its
        loss form (`as_loss=True`).
    - `predict`: `model -> prediction` (or `(model, key) -> prediction` with `key`).
    - `target`: the data; a pytree matching the prediction's structure and shapes (checked
        when the step is first traced).
    - `penalty`: `model -> scalar` added to the loss, e.g. `massfit.l2_prior({...})`.
    - `mode`: how gradients are taken: `"reverse"` (`jax.grad`), `"forward"` (`jax.jacfwd`
        over the flattened trained vector: cheapest in memory for a handful of parameters,
        needs a forward-differentiable loss: `massfit.simulate` called without `adjoint=`
        then uses `diffrax.ForwardMode()` by itself), or `"auto"`: forward when at most
        `FORWARD_MODE_MAX_PARAMS` (8) scalars train, reverse otherwise; if the loss cannot be
        differentiated in forward mode (a `custom_vjp`, e.g. an explicit
        `diffrax.RecursiveCheckpointAdjoint()`), `"auto"` warns and uses reverse mode.
    - `key`: optional PRNG key. If given, `loss_fn`/`predict` are called with a second
        argument, the key `jax.random.fold_in(key, step)` (fresh noise every step; the same
        at the same step of a resumed run). For fixed noise, close over a key instead.
    - `callbacks`: callables `(step, loss, params) -> bool | None`, called after each step
        with the loss and the physical values by path (NumPy arrays); returning True stops
        the fit (`stopped_early=True`).
    - `progress`: show a tqdm progress bar.
    - `checkpoint`, `checkpoint_every`: save the state to this file every `checkpoint_every`
        steps and when the fit ends (however it ends).
    - `resume`: continue from a checkpoint file written by a fit of the same model and
        `trainable` (and, to reproduce a run exactly, the same optimiser, loss and key). The
        result is identical to an uninterrupted run.

    **Returns:**

    A `FitResult`: the best model (constraints kept), `best_loss`, `best_step`,
    `best_params` by path (physical), `history` (loss per step), `param_history`, `aux`,
    `n_steps`, `stopped_early`, `reason`, `method`.

    **Non-finite values.** When the loss or gradient at a step is not finite, the update is
    not applied, a `RuntimeWarning` names the step, and the fit stops
    (`stopped_early=True`, `reason="non-finite ... at step i"`), returning the best model
    so far (repeating the same step would give the same value). A non-finite loss at the
    starting parameters raises a `ValueError`, since there is nothing to return.

    **Interrupting.** Ctrl-C (`KeyboardInterrupt`) during the loop returns the result so far,
    with `reason="interrupted"` (and writes the checkpoint, if one was asked for).

    **Example:**

    ```python
    result = massfit.fit(
        net, optax.adam(0.05), trainable="k",
        objective=massfit.objectives.fc_corr(as_loss=True), predict=simulate_fc_series,
        target=data, n_steps=200,
    )
    result.best_params["k"]
    ```
    """
    check_optimiser(optimiser)
    if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 0:
        raise ValueError(f"`n_steps` must be a non-negative integer; got {n_steps!r}.")
    if checkpoint_every is not None:
        if checkpoint is None:
            raise TypeError("`checkpoint_every` needs `checkpoint=`, the file to write.")
        if not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise ValueError(
                f"`checkpoint_every` must be a positive integer; got {checkpoint_every!r}."
            )
    if checkpoint is not None:
        check_checkpoint_path(checkpoint)
    check_key("key", key, required=False)
    callbacks = check_callbacks(callbacks)
    problem = make_problem(
        model, trainable, loss_fn, objective, predict, target, penalty, with_key=key is not None
    )
    chosen = choose_mode(mode, problem.n_scalars)
    params, static = problem.params, problem.static
    with jax.numpy_dtype_promotion("standard"):
        opt_state = optimiser.init(params)
    start = 0
    resumed = None
    fingerprint = None
    if checkpoint is not None or resume is not None:
        fingerprint = optimiser_fingerprint(optimiser, params)
    if resume is not None:
        resumed = _load(resume, problem, opt_state, key, fingerprint)
        start, params, opt_state, key = (
            resumed["step"],
            resumed["params"],
            resumed["opt_state"],
            resumed["key"],
        )
    tracker = Tracker(
        problem.paths,
        callbacks=callbacks,
        n_steps=n_steps,
        start=start,
        progress=progress,
        desc="fit",
    )
    if resumed is not None:
        tracker.restore(**resumed["tracker"])

    def save(at_step, p, s):
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                step=at_step,
                paths=problem.paths,
                params=p,
                opt_state=s,
                key=key,
                tracker=tracker,
                optimiser=fingerprint,
            )

    reason = None
    i = start
    try:
        while i < n_steps:
            try:
                out = _jit_step(
                    problem.loss,
                    optimiser,
                    chosen,
                    params,
                    opt_state,
                    static,
                    problem.target,
                    key,
                    jnp.int32(i),
                )
            except TypeError as e:
                if not falls_back_to_reverse(e, mode, chosen):
                    raise
                chosen = "reverse"
                continue
            loss, loss_finite, grad_finite, physical = jax.device_get(
                (out.loss, out.loss_finite, out.grad_finite, out.physical)
            )
            loss = float(loss)
            if not loss_finite:
                if tracker.best_step is None and i == 0:
                    raise ValueError(
                        f"The loss at the starting parameters is {loss}; fix the model, its "
                        "initial values or the data before fitting (the physical values were "
                        f"{physical})."
                    )
                reason = f"non-finite loss ({loss}) at step {i}; the update was not applied"
                warnings.warn(reason, RuntimeWarning, stacklevel=2)
                break
            stop = tracker.record(i, loss, physical, params, out.aux)
            if not grad_finite:
                reason = f"non-finite gradient at step {i}; the update was not applied"
                warnings.warn(reason, RuntimeWarning, stacklevel=2)
                i += 1
                break
            params, opt_state, i = out.params, out.opt_state, i + 1
            if checkpoint_every is not None and i % checkpoint_every == 0 and i < n_steps:
                save(i, params, opt_state)
            if stop:
                reason = f"stopped by a callback at step {i - 1}"
                break
    except BaseException as error:
        if len(tracker.losses) > i:
            # Interrupted in a callback: step i was recorded, so complete it.
            params, opt_state, i = out.params, out.opt_state, i + 1
        if not isinstance(error, KeyboardInterrupt):
            # However the fit ends, the steps done are not lost; then the error goes on.
            tracker.close()
            save(i, params, opt_state)
            raise
        reason = "interrupted"
    finally:
        tracker.close()
    save(i, params, opt_state)
    best = problem.model(tracker.best_state) if tracker.best_step is not None else model
    return tracker.result(
        best,
        stopped_early=reason is not None,
        reason=reason,
        method=f"fit ({chosen} mode)",
    )


def _load(path, problem: Problem, opt_state: PyTree, key: Any, fingerprint: dict) -> dict:
    physical = jax.device_get(problem.physical(problem.params))

    def aux_like():
        shapes = eqx.filter_eval_shape(
            problem.loss, problem.params, problem.static, problem.target, key
        )
        return shapes[1]

    header, state = load_checkpoint(
        path,
        paths=problem.paths,
        params=problem.params,
        opt_state=opt_state,
        physical=physical,
        aux_like=aux_like,
        optimiser=fingerprint,
    )
    saved_key = state["key"]
    if (saved_key is None) != (key is None):
        raise ValueError(
            "Resume with the same `key` argument as the checkpointed fit: it was "
            f"{'given' if saved_key is not None else 'not given'} there."
        )
    if key is not None:
        same = np.array_equal(_key_data(saved_key), _key_data(key))
        if not same:
            raise ValueError("`key` differs from the key of the checkpointed fit.")
    return {
        "step": header["step"],
        "params": state["params"],
        "opt_state": state["opt_state"],
        "key": key,
        "tracker": dict(
            losses=state["losses"],
            params=state["history"],
            best_loss=header["best_loss"],
            best_step=header["best_step"],
            best_state=state["best_params"],
            best_aux=state["best_aux"],
        ),
    }


def _key_data(key: Any) -> np.ndarray:
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.asarray(key)
