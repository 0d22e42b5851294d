"""Batch throughput: 64 coupling strengths in one vmapped call, on one device and sharded.

The common benchmark network (docs/design.md, no noise) for a batch of k values, vmapped
over `eqx.tree_at(lambda n: n.k, net, k)`; each set's x (every step) is reduced to its FC,
as a parameter sweep would. Throughput is simulated seconds × sets per wall second, for
massfit and the scan reference, on one CPU device and sharded over `--devices` host devices
(`--xla_force_host_platform_device_count`, one per core; a 1-D `Auto` mesh and
`jax.device_put` of the k batch with a `NamedSharding`, docs/design.md, "Known traps").

    python benchmarks/batch.py             # 64 sets x 0.5 s
    python benchmarks/batch.py --quick     # 64 sets x 0.2 s, one repeat
"""

import argparse
import os


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--sets", type=int, default=64)
parser.add_argument("--seconds", type=float, default=0.5, help="simulated s per set")
parser.add_argument("--devices", type=int, default=os.cpu_count() or 1)
parser.add_argument("--repeats", type=int, default=1)
parser.add_argument("--quick", action="store_true", help="0.2 s per set, 1 repeat")
ARGS = parser.parse_args()
# Before jax is imported: one host device per core.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={ARGS.devices}"
)

import _common as c
import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec


TARGET = 100.0  # simulated seconds x sets per wall second


def main(args):
    if args.quick:
        args.seconds, args.repeats = 0.2, 1
    print(c.machine())
    seconds = args.seconds
    net = c.network()
    ks = jnp.linspace(0.1, 1.0, args.sets)
    a = jnp.asarray(c.A)

    simulate = c.massfit_run(net, seconds)  # eqx.tree_at(lambda n: n.k, net, k), simulate

    def massfit_fc(k):
        return c.fc(simulate(k, a, None))

    reference = c.reference_run(net, seconds)

    def reference_fc(k):
        return c.fc(reference(k, a, None))

    mesh = jax.make_mesh((len(jax.devices()),), ("sets",), axis_types=(jax.sharding.AxisType.Auto,))
    sharded = jax.device_put(ks, NamedSharding(mesh, PartitionSpec("sets")))
    print(f"N = {net.n_regions}, {args.sets} sets x {seconds:g} s simulated, "
          f"{len(jax.devices())} devices")
    header = (
        f"{'case':<30} {'wall s':>8} {'compile s':>9} {'temp MB':>8} "
        f"{'sim-s x sets / s':>17} {'vs 1 set':>8}"
    )
    print(header)
    print("-" * len(header))
    single = {}
    outputs = {}
    for impl, fn in (("massfit", massfit_fc), ("scan ref", reference_fc)):
        exe, _, _ = c.compiled(fn, ks[0])
        single[impl], _, _ = c.timed(exe, ks[0], repeats=args.repeats)
        print(f"{impl + ', one set':<30} {single[impl]:>8.3f} {'':>9} {'':>8} "
              f"{seconds / single[impl]:>17.2f} {1.0:>8.2f}", flush=True)
        for where, batch in (("vmap, 1 device", ks), (f"vmap, sharded x{len(jax.devices())}",
                                                       sharded)):
            exe, compile_s, temp = c.compiled(jax.vmap(fn), batch)
            wall, _, out = c.timed(exe, batch, repeats=args.repeats, warmup=False)
            outputs[impl, where] = out
            rate = args.sets * seconds / wall
            print(f"{impl + ', ' + where:<30} {wall:>8.3f} {compile_s:>9.1f} "
                  f"{temp / 2**20:>8.1f} {rate:>17.2f} {rate * single[impl] / seconds:>8.2f}  "
                  f"{c.target(rate, TARGET, at_least=True) if impl == 'massfit' else ''}",
                  flush=True)
    first = outputs["massfit", "vmap, 1 device"]
    diff = max(float(jnp.max(jnp.abs(out - first))) for out in outputs.values())
    print(f"max |FC difference| between all batched runs: {diff:.1e}")
    print(f"load after: {c.load()}")


if __name__ == "__main__":
    main(ARGS)
