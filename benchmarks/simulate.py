"""Simulation speed: wall seconds per simulated second, massfit vs a plain `lax.scan` Heun.

The common benchmark of docs/design.md (Hopf, diffusive coupling on x, realistic connectome,
speed 10 mm/ms, dt 0.1 ms, x saved every step, float32) at N = 20, 80, 320, without and
with additive noise. massfit is timed as a user calls it (`massfit.simulate(...)`, which
compiles once and then hits diffrax's cache) and inside a user's `jax.jit`; the reference is
the per-step scan of `_common.reference_run`. Both see the same noise increments, so their
outputs are compared too.

    python benchmarks/simulate.py            # N = 20, 80 over 10 s; N = 320 over 0.5 s
    python benchmarks/simulate.py --quick    # 1 s (N = 320: 0.2 s), one repeat
"""

import argparse

import _common as c
import jax.numpy as jnp
import jax.random as jr


TARGETS = {(80, False): 0.025, (80, True): 0.035, (320, False): 0.5}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 80, 320])
    parser.add_argument("--seconds", type=float, default=c.SECONDS, help="simulated s")
    parser.add_argument("--seconds-large", type=float, default=0.5, help="simulated s, N > 80")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1 s (0.2 s for N > 80), 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.seconds_large, args.repeats = 1.0, 0.2, 1

    print(c.machine())
    header = (
        f"{'N':>4} {'noise':>5} {'sim s':>5} | {'massfit':>8} {'in jit':>8} {'scan ref':>8} | "
        f"{'ratio':>5} {'jit ratio':>9} | {'max|dx|':>8} | target (massfit, s per sim s)"
    )
    print(header)
    print("-" * len(header))
    key = jr.key(0)
    for n in args.sizes:
        seconds = args.seconds if n <= 80 else args.seconds_large
        for noise in (False, True):
            net = c.network(n, noise=noise)
            params = (jnp.asarray(c.K), jnp.asarray(c.A), key)
            run = c.massfit_run(net, seconds)
            direct, _, x = c.timed(run, *params, repeats=args.repeats)
            exe, _, _ = c.compiled(run, *params)
            jitted, _, _ = c.timed(exe, *params, repeats=args.repeats, warmup=False)
            exe, _, _ = c.compiled(c.reference_run(net, seconds), *params)
            ref, _, x_ref = c.timed(exe, *params, repeats=args.repeats, warmup=False)
            diff = float(jnp.max(jnp.abs(x - x_ref)))
            per = [t / seconds for t in (direct, jitted, ref)]
            limit = TARGETS.get((n, noise))
            verdict = "" if limit is None else c.target(per[0], limit)
            print(
                f"{n:>4} {'yes' if noise else 'no':>5} {seconds:>5g} | {per[0]:>8.4f} "
                f"{per[1]:>8.4f} {per[2]:>8.4f} | {per[0] / per[2]:>5.2f} "
                f"{per[1] / per[2]:>9.2f} | {diff:>8.1e} | {verdict}",
                flush=True,
            )
    print(f"load after: {c.load()}")


if __name__ == "__main__":
    main()
