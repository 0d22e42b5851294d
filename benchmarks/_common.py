"""Shared pieces of the benchmarks: the common benchmark network of docs/design.md, a plain
per-step `lax.scan` delayed-Heun reference, and timing / memory helpers.

The reference is written here, independently of massfit's solver: a time-major ring buffer
of `x`, read every step with a gather at `(step - lag_ij) mod R`, and Heun's method with the
corrector reading the delayed samples of its own stage time. It is the "plain `lax.scan`
Heun" of docs/design.md ("The common benchmark") that the benchmarks report their ratios against.
"""

import os
import platform
import subprocess
import time
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import massfit
import massfit.datasets


# The common benchmark (docs/design.md, "The common benchmark").
N_REGIONS = 80
A = 0.25  # 1/ms
OMEGA = 2 * np.pi * 0.010  # rad/ms (10 Hz)
K = 0.6
SPEED = 10.0  # mm/ms
DT = 0.1  # ms
SECONDS = 10.0  # simulated seconds
SIGMA = 0.01  # additive noise, state units per sqrt(ms)


def connectome(n_regions: int = N_REGIONS) -> massfit.Connectome:
    """The bundled realistic synthetic connectome (two hemispheres, exponential distance
    rule, log-normal weights with max 1, ~30 % dense, lengths in mm up to ~250)."""
    return massfit.datasets.load_dataset("realistic_connectome", n_regions=n_regions)


def network(n_regions: int = N_REGIONS, *, noise: bool = False) -> massfit.Network:
    """The common benchmark network: Hopf nodes, diffusive coupling on `x`."""
    return massfit.Network(
        massfit.Hopf(a=A, omega=OMEGA),
        connectome(n_regions),
        massfit.Diffusive(),
        k=K,
        speed=SPEED,
        coupled="x",
        noise=massfit.AdditiveNoise(sigma=SIGMA) if noise else None,
    )


def n_steps(seconds: float, dt: float = DT) -> int:
    return round(seconds * 1000.0 / dt)


def massfit_run(
    net: massfit.Network, seconds: float, *, adjoint: diffrax.AbstractAdjoint | None = None
) -> Callable:
    """`run(k, a, key) -> x (T, N)` with massfit: `net` with coupling strength `k` and
    node parameter `a` (scalar or `(N,)`), every step saved."""

    def run(k, a, key):
        n = eqx.tree_at(lambda m: (m.k, m.node.a), net, (k, a))
        traj = massfit.simulate(
            n, duration=seconds * 1000.0, dt=DT, variables="x", key=key, adjoint=adjoint
        )
        return traj["x"]

    return run


def reference_run(net: massfit.Network, seconds: float, *, chunk: int | None = None) -> Callable:
    """`run(k, a, key) -> x (T, N)`: the plain per-step `lax.scan` delayed Heun.

    Same maths as `massfit.Heun` with integer lags: stage 0 at step `n` reads
    `x_j(n - lag_ij)`, the corrector reads `x_j(n + 1 - lag_ij)`; additive noise
    `sigma * sqrt(dt) * normal(fold_in(fold_in(key, n), 0))` enters predictor and
    corrector; the past is constant at the initial state. With `chunk`, the scan runs in
    chunks of that many steps under `jax.checkpoint` (for reverse mode).
    """
    weights = jnp.asarray(net.connectome.weights)
    lengths = np.asarray(net.connectome.lengths)
    lags = np.rint(lengths / float(net.speed) / DT).astype(np.int32)
    size = int(np.ceil(net.max_delay / DT - 1e-9)) + 2
    cols = jnp.arange(weights.shape[0])[None, :]
    omega, beta = net.node.omega, net.node.beta
    sigma = None if net.noise is None else net.noise.sigma
    x0 = net.node.initial_state(weights.shape[0])
    steps = n_steps(seconds)
    dt = jnp.asarray(DT, x0.dtype)

    def run(k, a, key):
        def drift(state, delayed):
            x, y = state
            coupling = k * (jnp.sum(weights * delayed, axis=-1) - jnp.sum(weights, axis=-1) * x)
            radial = a - beta * (x**2 + y**2)
            return jnp.stack([radial * x - omega * y + coupling, radial * y + omega * x])

        def step(carry, n):
            state, buffer = carry
            if sigma is None:
                noise = 0.0
            else:
                z = jr.normal(jr.fold_in(jr.fold_in(key, n), 0), state.shape)
                noise = sigma * (jnp.sqrt(dt) * z)
            f0 = drift(state, buffer[(n - lags) % size, cols])
            predictor = state + dt * f0 + noise
            f1 = drift(predictor, buffer[(n + 1 - lags) % size, cols])
            new = state + 0.5 * dt * (f0 + f1) + noise
            buffer = buffer.at[(n + 1) % size].set(new[0])
            return (new, buffer), new[0]

        carry = (x0, jnp.broadcast_to(x0[0], (size, x0.shape[1])))
        if chunk is None:
            return jax.lax.scan(step, carry, jnp.arange(steps))[1]

        @jax.checkpoint
        def chunk_of_steps(carry, start):
            return jax.lax.scan(step, carry, start + jnp.arange(chunk))

        if steps % chunk:
            raise ValueError(f"{steps} steps are not a whole number of chunks of {chunk}.")
        _, xs = jax.lax.scan(chunk_of_steps, carry, chunk * jnp.arange(steps // chunk))
        return xs.reshape(steps, -1)

    return run


def fc(x: jax.Array) -> jax.Array:
    """Functional connectivity: the `(N, N)` correlation matrix of a `(T, N)` series."""
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    return z.T @ z / x.shape[0]


def compiled(fn: Callable, *args) -> tuple[Callable, float, int]:
    """`(compiled, seconds, temp_bytes)`: `jax.jit(fn)` compiled for `args`, the time the
    lowering and compilation took, and XLA's temporary memory for one call."""
    start = time.perf_counter()
    exe = jax.jit(fn).lower(*args).compile()
    seconds = time.perf_counter() - start
    return exe, seconds, int(exe.memory_analysis().temp_size_in_bytes)


def timed(
    fn: Callable, *args, repeats: int = 3, warmup: bool = True
) -> tuple[float, float, object]:
    """`(best, first, output)`: the best wall time (s) of `repeats` calls, after a first
    call when `warmup` (which compiles, if `fn` does; its time is `first`). Pass
    `warmup=False` for an executable from `compiled` to save a long run."""
    times = []
    out = None
    for _ in range(repeats + warmup):
        start = time.perf_counter()
        out = jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times[warmup:]), times[0], out


def load() -> str:
    """The 1, 5 and 15 minute load averages, e.g. '3.10 2.50 2.00'."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    """One line: date, machine, cores, load, versions."""
    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    return (
        f"{date} | {platform.machine()}, nproc {os.cpu_count()}, load {load()} | "
        f"jax {jax.__version__}, diffrax {diffrax.__version__}, equinox {eqx.__version__}, "
        f"devices {len(jax.devices())} x {jax.devices()[0].platform}, "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}"
    )


def target(value: float, limit: float, *, at_least: bool = False) -> str:
    ok = value >= limit if at_least else value <= limit
    return f"{'meets' if ok else 'MISSES'} {'>=' if at_least else '<='} {limit:g}"
