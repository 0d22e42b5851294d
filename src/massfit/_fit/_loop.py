"""Bookkeeping shared by the fitting loops: history, best-seen state, callbacks, progress bar."""

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jaxtyping import PyTree
from tqdm import tqdm

from .._errors import describe
from ._result import FitResult


Callback = Callable[[int, float, dict[str, np.ndarray]], Any]


def check_callbacks(callbacks: Any) -> tuple[Callback, ...]:
    """Accept one callable or a sequence of them."""
    if callbacks is None:
        return ()
    if callable(callbacks):
        return (callbacks,)
    if isinstance(callbacks, Sequence) and all(callable(c) for c in callbacks):
        return tuple(callbacks)
    raise TypeError(
        "`callbacks` must be a callable (step, loss, params) -> bool | None, or a sequence of "
        f"them; got {describe(callbacks)}."
    )


class Tracker:
    """History of losses and physical parameter values, the best state seen, and callbacks.

    `state` is whatever the method needs to rebuild the best model (the trained leaves, or a
    candidate vector); the tracker only keeps a reference to it.
    """

    def __init__(
        self,
        paths: Sequence[str],
        *,
        callbacks: Sequence[Callback],
        n_steps: int,
        start: int,
        progress: bool,
        desc: str,
    ):
        self.paths = tuple(paths)
        self.callbacks = tuple(callbacks)
        self.losses: list[float] = []
        self.params: dict[str, list[np.ndarray]] = {p: [] for p in self.paths}
        self.best_loss = math.inf
        self.best_step: int | None = None
        self.best_state: PyTree = None
        self.best_aux: Any = None
        self.bar = tqdm(total=n_steps, initial=start, disable=not progress, desc=desc)

    def record(self, step: int, loss: float, physical: dict, state: PyTree, aux: Any) -> bool:
        """Add one evaluated point; returns True if a callback asks to stop."""
        physical = {p: np.asarray(v) for p, v in jax.device_get(physical).items()}
        self.losses.append(loss)
        for p in self.paths:
            self.params[p].append(physical[p])
        if math.isfinite(loss) and loss < self.best_loss:  # a non-finite loss is never best
            self.best_loss, self.best_step = loss, step
            self.best_state, self.best_aux = state, aux
        self.bar.update(1)
        self.bar.set_postfix_str(f"loss {loss:.4g} best {self.best_loss:.4g}", refresh=False)
        stop = False
        for callback in self.callbacks:
            stop = bool(callback(step, loss, physical)) or stop
        return stop

    def history(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        losses = np.asarray(self.losses, dtype=np.float64)
        params = {p: np.stack(v) if v else np.zeros((0,)) for p, v in self.params.items()}
        return losses, params

    def restore(
        self,
        losses: np.ndarray,
        params: dict[str, np.ndarray],
        *,
        best_loss: float,
        best_step: int | None,
        best_state: PyTree,
        best_aux: Any,
    ) -> None:
        """Continue from a saved history (resume)."""
        self.losses = [float(x) for x in np.asarray(losses)]
        self.params = {p: list(np.asarray(params[p])) for p in self.paths}
        self.best_loss, self.best_step = best_loss, best_step
        self.best_state, self.best_aux = best_state, best_aux

    def close(self) -> None:
        self.bar.close()

    def result(
        self,
        model: PyTree,
        *,
        stopped_early: bool,
        reason: str | None,
        method: str,
        n_nonfinite: np.ndarray | None = None,
    ) -> FitResult:
        losses, params = self.history()
        if self.best_step is None:
            best_params = {}
        else:
            best_params = {p: np.asarray(v[self.best_step]) for p, v in params.items()}
        return FitResult(
            model=model,
            best_loss=float(self.best_loss),
            best_step=self.best_step,
            best_params=best_params,
            history=losses,
            param_history=params,
            aux=self.best_aux,
            n_steps=len(self.losses),
            stopped_early=stopped_early,
            reason=reason,
            method=method,
            n_nonfinite=n_nonfinite,
        )
