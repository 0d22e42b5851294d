"""Which diffrax adjoint `simulate` uses by default: forward mode inside a forward-mode fit."""

import contextlib
import contextvars

import diffrax


_FORWARD = contextvars.ContextVar("massfit_forward_mode", default=False)


@contextlib.contextmanager
def forward_mode():
    """While tracing inside this context, `simulate` defaults to `diffrax.ForwardMode()`.

    `fit` traces its loss inside it when it takes gradients with `jax.jacfwd`, so a loss that
    calls `simulate` without an `adjoint` stays forward-differentiable (the default
    `RecursiveCheckpointAdjoint` is a `custom_vjp`, which `jax.jvp` refuses).
    """
    token = _FORWARD.set(True)
    try:
        yield
    finally:
        _FORWARD.reset(token)


def default_adjoint() -> diffrax.AbstractAdjoint:
    if _FORWARD.get():
        return diffrax.ForwardMode()
    return diffrax.RecursiveCheckpointAdjoint()
