"""Fit the global coupling of a whole-brain network to the FC of a BOLD recording.

The "empirical" recording is simulated with a known truth, so the fit can be checked:
80 regions on the bundled realistic connectome, noise-driven Hopf oscillators at 0.05 Hz
(Deco et al. 2017, in ms), observed through the Balloon–Windkessel BOLD model sampled at
TR = 720 ms for 10 minutes, band-passed at 0.01–0.1 Hz like a resting-state pipeline. The
target is the recording's FC matrix (and its FCD values); the model's FC is the mean over
4 noise realisations, none of them the recording's. The coupling is fitted by gradient
(forward mode through the whole simulation) and by CMA-ES.
"""

import time

import equinox as eqx
import jax
import jax.random as jr
import numpy as np
import optax

import massfit
from massfit import metrics, objectives


DT = 10.0  # ms: the nodes are slow (0.05 Hz), the hemodynamics slower
TR = 720.0  # ms
DURATION = 10 * 60_000.0  # 10 minutes
SKIP = 28  # the first 20 s of BOLD (28 TRs): the network and the hemodynamics settle
N_REALISATIONS = 4
TRUE_K = 0.01

# Delays of 2-40 ms are negligible against a 20 s oscillation: no lengths, no delays.
weights = massfit.datasets.load_dataset("realistic_connectome").weights
connectome = massfit.Connectome(weights)
node = massfit.Hopf(a=-1e-4, omega=2 * np.pi * 0.05e-3, x0=0.0, y0=0.0)  # 1/ms, rad/ms
noise = massfit.AdditiveNoise(np.sqrt(2e-4) * 0.1)  # stationary sd of x about 0.1
bold = massfit.BOLD(period=TR, drive="x")


def network(k):
    return massfit.Network(node, connectome, k=k, noise=noise)


def record(net, key):
    """The band-passed BOLD signal, (time, regions), of one run. The hemodynamics advance
    inside the solver; only the BOLD samples are kept, never the neural trace."""
    traj = massfit.simulate(net, duration=DURATION, dt=DT, key=key, observers={"bold": bold})
    signal = traj.observed["bold"][SKIP:]
    return metrics.bandpass(signal, dt=TR, low=0.01, high=0.1)


def predict(net):
    """BOLD of N_REALISATIONS runs with other noise than the recording's, (R, T, N)."""
    keys = jr.split(jr.key(1), N_REALISATIONS)
    return jax.vmap(lambda key: record(net, key))(keys)


def main():
    t = time.perf_counter()
    recording = jax.jit(record)(network(TRUE_K), jr.key(0))
    print(f"recording: {recording.shape[0]} BOLD samples of {recording.shape[1]} regions "
          f"({time.perf_counter() - t:.1f} s)")
    fc_target = objectives.FCMatrix.from_series(recording)
    fcd_target = objectives.FCDValues.from_series(recording, window_size=40, step_size=5)
    target = objectives.Targets(fc_target, fcd_target)
    loss = objectives.combine(
        (1.0, objectives.fc_rmse()),
        (0.2, objectives.fcd_wasserstein(window_size=40, step_size=5)),
    )
    report = objectives.fc_corr()

    t = time.perf_counter()
    start = eqx.tree_at(lambda n: n.k, network(0.004), massfit.Positive(0.004))
    result = massfit.fit(
        start, optax.adam(0.08), trainable="k", objective=loss, predict=predict,
        target=target, n_steps=25, progress=False,
    )
    k = float(result.best_params["k"])
    fc_corr = float(report(predict(network(k)), fc_target))
    print(f"k by gradient: fitted {k:.5f}  true {TRUE_K:.5f}  FC correlation {fc_corr:.3f} "
          f"({time.perf_counter() - t:.0f} s)")

    t = time.perf_counter()
    start = eqx.tree_at(lambda n: n.k, network(0.004), massfit.Bounded(0.004, 0.0, 0.03))
    result = massfit.cma_es(
        start, trainable="k", key=jr.key(2), n_generations=10, population_size=6,
        objective=loss, predict=predict, target=target,
    )
    k = float(result.best_params["k"])
    fc_corr = float(report(predict(network(k)), fc_target))
    print(f"k by CMA-ES  : fitted {k:.5f}  true {TRUE_K:.5f}  FC correlation {fc_corr:.3f} "
          f"({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
