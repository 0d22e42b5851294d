"""`example_signal`: a target series simulated by massfit from a known network."""

import dataclasses
import functools
import math
import types
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from .._models import Hopf
from .._network import Network
from .._noise import AdditiveNoise
from .._solve import simulate
from ..io._signal import Signal
from ..metrics import fc as functional_connectivity
from ._bundled import example_connectome


#: The ground truth of `example_signal`, by parameter path (as `massfit.select` names them).
TRUTH: dict[str, float] = {
    # Noise-driven damped 10 Hz oscillators, in the linear regime (the noise keeps the
    # amplitude ~0.02, where beta r^2 << |a|), weakly coupled: the usual resting-state setting.
    "k": 0.02,  # global coupling: k * (row sums 0.75-1.7) is comparable to |a|
    "speed": 5.0,  # conduction speed, mm/ms: delays 3-28 ms over the 16-140 mm tracts
    "node.a": -0.01,  # 1/ms: below the bifurcation, damping time 100 ms
    "node.omega": 2 * math.pi * 0.010,  # rad/ms: 10 Hz
    "node.beta": 1.0,
    "noise.sigma": 0.005,  # per sqrt(ms), on x and y
}


@dataclasses.dataclass(frozen=True)
class ExampleSignal:
    """A simulated recording with its ground truth, for fits that can be checked.

    **Fields:**

    - `signal`: a [`massfit.io.Signal`][]: `data` is the `(time, regions)` series of the
        Hopf `x` of every region, sampled every `dt` ms, `labels` the region names.
    - `fc`: its functional connectivity, `(regions, regions)`.
    - `network`: the [`massfit.Network`][] that produced it (the truth).
    - `truth`: the true parameter values by path (`"k"`, `"speed"`, `"node.a"`, ...).
    - `settings`: the `massfit.simulate` arguments that produced it (`duration`, `dt`,
        `save_every`, `transient`, `variables`); a prediction made with the same settings
        has the target's shape and sampling.
    - `seed`: the noise was drawn with `jax.random.key(seed)`.
    """

    signal: Signal
    fc: Float[Array, "regions regions"]
    network: Network
    truth: Mapping[str, float]
    settings: Mapping[str, Any]
    seed: int

    @property
    def data(self) -> Float[Array, "time regions"]:
        """The `(time, regions)` samples, `signal.data`."""
        return self.signal.data

    @property
    def dt(self) -> float:
        """The sampling interval in ms, `signal.dt`."""
        return self.signal.dt

    def simulate(self, network: Network, key: PRNGKeyArray) -> Float[Array, "time regions"]:
        """Simulate `network` with the settings that produced this signal and return `x`,
        shaped and sampled like `data`. Works under `jit`, `grad` and `vmap`.

        **Arguments:**

        - `network`: e.g. `self.network` with some parameters changed or trained.
        - `key`: the noise key (use another key than `seed` to fit without sharing the
            target's noise).
        """
        return simulate(network, key=key, **self.settings)["x"]


def true_network(k: float = TRUTH["k"], speed: float = TRUTH["speed"]) -> Network:
    """The network of `example_signal`, optionally with another `k` or `speed`."""
    node = Hopf(
        a=TRUTH["node.a"], omega=TRUTH["node.omega"], beta=TRUTH["node.beta"], x0=0.0, y0=0.0
    )
    return Network(
        node,
        example_connectome(),
        k=k,
        speed=speed,
        noise=AdditiveNoise(TRUTH["noise.sigma"]),
    )


def example_signal(*, seed: int = 0, duration: float = 20_000.0) -> ExampleSignal:
    """8 regions of noise-driven, damped 10 Hz Hopf oscillators on `example_connectome`,
    coupled diffusively (k = 0.02) with conduction delays (5 mm/ms), sampled every 2 ms for
    `duration` ms after a 1 s transient (Heun, dt = 0.2 ms). Deterministic for a given
    `seed`, precision (x64 or not) and platform; computed on first use (~3 s) and cached."""
    return _example_signal(int(seed), float(duration), bool(jax.config.jax_enable_x64))


@functools.lru_cache(maxsize=4)
def _example_signal(seed: int, duration: float, x64: bool) -> ExampleSignal:
    del x64  # part of the cache key only
    if not (duration > 0 and math.isfinite(duration)) or duration % 2.0 != 0:
        raise ValueError(
            f"`duration` must be a positive whole number of 2 ms samples, in ms; got {duration}."
        )
    network = true_network()
    settings = dict(
        duration=duration + 1000.0, dt=0.2, save_every=2.0, transient=1000.0, variables="x"
    )
    x = jax.jit(lambda key: simulate(network, key=key, **settings)["x"])(jr.key(seed))
    signal = Signal(x, dt=settings["save_every"], labels=network.connectome.labels)
    return ExampleSignal(
        signal=signal,
        fc=functional_connectivity(jnp.asarray(x)),
        network=network,
        truth=types.MappingProxyType(dict(TRUTH)),
        settings=types.MappingProxyType(settings),
        seed=seed,
    )
