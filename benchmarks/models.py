"""Every node family on the common benchmark connectome: N = 80, 1 s simulated, Heun.

One row per node model class that `massfit` exports (from `massfit.list_models()`, which walks
`massfit`'s namespace, so a new family gets a row without editing this script): the family with
its default parameters on the bundled realistic connectome (N = 80), `Linear` coupling of
strength `--k` on its default coupled variables, speed 10 mm/ms, dt 0.1 ms, float32, no noise,
every step of the coupled variables saved. Reported: compile s, wall s per simulated s (best of
`--repeats` after compiling), the ratio to `Hopf` in the same run, and whether the run stayed
finite.

    python benchmarks/models.py              # 1 s simulated per family
    python benchmarks/models.py --quick      # 0.2 s, one repeat
    python benchmarks/models.py --only Hopf Epileptor
"""

import argparse

import _common as c
import numpy as np

import massfit


def families() -> list[type]:
    """The node model classes `massfit` exports, by name."""
    return [info.model for info in massfit.list_models()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="simulated s per family")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=float, default=0.01, help="Linear coupling strength")
    parser.add_argument("--only", nargs="+", help="family names")
    parser.add_argument("--quick", action="store_true", help="0.2 s, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeats = 0.2, 1

    print(c.machine())
    conn = c.connectome()
    header = f"{'family':<24} {'vars':>4} {'compile s':>9} {'s/sim-s':>9} {'x Hopf':>7} finite"
    print(f"N = {conn.n_regions}, {args.seconds:g} s simulated, dt {c.DT} ms, Linear k = {args.k}")
    print(header)
    print("-" * len(header))
    rows = []
    for cls in families():
        if args.only and cls.__name__ not in args.only and cls.__name__ != "Hopf":
            continue
        net = massfit.Network(cls(), conn, massfit.Linear(), k=args.k, speed=c.SPEED)

        def run(network):
            traj = massfit.simulate(
                network,
                duration=args.seconds * 1000.0,
                dt=c.DT,
                variables=network.coupled,
                check_finite=False,
            )
            return traj.ys

        exe, compile_s, _ = c.compiled(run, net)
        best, _, out = c.timed(exe, net, repeats=args.repeats, warmup=False)
        per_s = best / args.seconds
        finite = bool(np.isfinite(out).all())
        rows.append((cls.__name__, len(cls.variables), compile_s, per_s, finite))
    hopf = {name: per_s for name, _, _, per_s, _ in rows}["Hopf"]
    for name, n_vars, compile_s, per_s, finite in rows:
        print(
            f"{name:<24} {n_vars:>4} {compile_s:>9.1f} {per_s:>9.4f} {per_s / hopf:>7.2f} "
            f"{'yes' if finite else 'NO'}"
        )
    print(f"load after: {c.load()}")


if __name__ == "__main__":
    main()
