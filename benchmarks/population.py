"""Population evaluation: one vmapped call per generation vs the same candidates one by one.

What `massfit.cma_es` / `differential_evolution` do each generation — evaluate every
candidate's loss in **one** compiled, vmapped call — against a Python loop that calls the
same loss, compiled once with `jax.jit`, on the candidates one at a time. The candidates
are `--population` coupling strengths k; the two must give the same losses.

Problems:
- `example_signal`: the README's fit — 8 regions, 20 s at dt 0.2 ms, loss
  `psd_distance + fc_rmse` against the bundled target;
- `benchmark N=80`: the common benchmark network (docs/design.md, `_common.network`), 0.5 s
  at dt 0.1 ms, loss `fc_rmse` against its own FC at k = 0.6.

Also `massfit.cma_es` itself: its cost per generation (the difference between runs of
`--generations` and twice as many, after a first call that compiles) and that first call's
compile and setup time.

    python benchmarks/population.py            # population 16
    python benchmarks/population.py --quick    # population 8, fewer repeats
"""

import argparse
import time

import _common as c
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import massfit
from massfit import objectives


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--population", type=int, default=16)
parser.add_argument("--generations", type=int, default=4)
parser.add_argument("--repeats", type=int, default=2)
parser.add_argument("--quick", action="store_true")
ARGS = parser.parse_args()


def example_problem():
    data = massfit.datasets.load_dataset("example_signal")
    loss = objectives.combine(
        (1.0, objectives.psd_distance(dt=data.dt, band=(2.0, 40.0))), (1.0, objectives.fc_rmse())
    )
    key = jr.key(1)

    def candidate_loss(k):
        net = eqx.tree_at(lambda n: n.k, data.network, k)
        return loss(data.simulate(net, key), data.data)

    return (
        "example_signal (N=8, 20 s)",
        data.network,
        candidate_loss,
        (0.005, 0.05),
        loss,
        (lambda net: data.simulate(net, key)),
        data.data,
    )


def benchmark_problem():
    net = c.network()
    settings = dict(duration=500.0, dt=c.DT, variables="x")
    loss = objectives.fc_rmse()
    target = massfit.simulate(net, **settings)["x"]

    def predict(n):
        return massfit.simulate(n, **settings)["x"]

    def candidate_loss(k):
        return loss(predict(eqx.tree_at(lambda n: n.k, net, k)), target)

    return "benchmark N=80 (0.5 s)", net, candidate_loss, (0.1, 1.0), loss, predict, target


def run(problem, population, repeats):
    name, net, candidate_loss, (lo, hi), loss, predict, target = problem
    ks = jnp.linspace(lo, hi, population)

    one = jax.jit(candidate_loss)
    batch = jax.jit(jax.vmap(candidate_loss))

    def loop(ks):
        return jnp.stack([one(k) for k in ks])

    t_loop, first_loop, out_loop = c.timed(loop, ks, repeats=repeats)
    t_batch, first_batch, out_batch = c.timed(batch, ks, repeats=repeats)
    agree = float(np.max(np.abs(np.asarray(out_loop) - np.asarray(out_batch))))

    start_net = eqx.tree_at(lambda n: n.k, net, massfit.Bounded(0.5 * (lo + hi), lo, hi))

    def cma_es_time(generations):
        start = time.perf_counter()
        massfit.cma_es(
            start_net,
            trainable="k",
            key=jr.key(0),
            n_generations=generations,
            population_size=population,
            objective=loss,
            predict=predict,
            target=target,
            progress=False,
        )
        return time.perf_counter() - start

    # The first call compiles (later ones reuse it): the difference of two run lengths after
    # it is the cost per generation.
    first = cma_es_time(1)
    short, long = cma_es_time(ARGS.generations), cma_es_time(2 * ARGS.generations)
    per_generation = (long - short) / ARGS.generations
    setup = first - per_generation
    print(
        f"| {name} | {population} | {t_loop:.3f} | {t_batch:.3f} | {t_loop / t_batch:.1f}x | "
        f"{first_batch - t_batch:.1f} | {per_generation:.3f} | {setup:.1f} | "
        f"{agree:.1e} |"
    )


def main():
    population = 8 if ARGS.quick else ARGS.population
    repeats = 1 if ARGS.quick else ARGS.repeats
    print(c.machine())
    print(
        "| problem | population | Python loop of jitted calls, s | one vmapped call, s | "
        "loop / vmapped | vmapped compile, s | cma_es s per generation | cma_es first-call "
        "compile and setup, s | max |Δloss| |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for problem in (example_problem(), benchmark_problem()):
        run(problem, population, repeats)
    print(f"load at the end: {c.load()}")


if __name__ == "__main__":
    main()
