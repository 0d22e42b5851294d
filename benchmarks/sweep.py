"""Sweep throughput and memory: a k x speed sweep of FC on the N = 80 benchmark network.

`massfit.sweep` over a k x speed grid of the common benchmark network (docs/design.md, no
noise), `fn` = the RMSE between the point's FC (of x over a short run, Heun, dt 0.1 ms) and
a target FC (the network at its own k and speed), one number per point. Each measurement runs
in its own process:

- throughput on 1 device, on 2 host devices (`--xla_force_host_platform_device_count=2`,
  the chunk sharded), and with 2 processes (`jax.distributed` on 127.0.0.1, gloo; each
  process evaluates every other chunk): points/s and simulated-seconds x sets per wall
  second, after a warm-up sweep that compiles (the compile time is reported apart);
- overhead per chunk: a trivial `fn` (`k * speed`) over many chunks of 8 points;
- peak RSS (`os.wait4` of the child) of 1,000 vs 10,000 points: the scalar FC-RMSE, the
  whole (80, 80) FC per point kept in memory, and the FC per point with `directory=` (the
  values memory-mapped files). The memory runs simulate `--mem-ms` (2 ms) per point.

    python benchmarks/sweep.py            # 10,000 points x 50 ms
    python benchmarks/sweep.py --quick    # 1,000 points x 20 ms
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def maxrss_mb(usage) -> float:
    return usage.ru_maxrss / 1024  # Linux: kB


def grid(points: int):
    from massfit import designs

    n_k = max(1, round(points**0.5))
    n_speed = points // n_k
    return {"k": designs.linear(0.0, 1.2, n_k), "speed": designs.log(2.0, 20.0, n_speed)}


def child(args) -> None:
    """One measurement in this process; prints one JSON line."""
    if args.processes > 1:
        import jax

        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(
            f"127.0.0.1:{args.port}", num_processes=args.processes, process_id=args.rank
        )
    import _common as c
    import jax
    import jax.numpy as jnp

    import massfit

    net = c.network()
    duration = args.ms

    def fc_of(n):
        traj = massfit.simulate(n, duration=duration, dt=c.DT, solver=massfit.Heun(), variables="x")
        return c.fc(traj["x"])

    target = jax.jit(fc_of)(net)
    upper = jnp.triu_indices(net.n_regions, 1)

    if args.child == "trivial":
        fn = lambda n: n.k * n.speed  # noqa: E731
    elif args.child == "fc":
        fn = fc_of
    else:
        fn = lambda n: jnp.sqrt(jnp.mean((fc_of(n) - target)[upper] ** 2))  # noqa: E731
    axes = grid(args.points)
    directory = tempfile.mkdtemp(dir=args.tmp) if args.directory else None
    start = time.perf_counter()
    massfit.sweep(fn, net, grid(args.chunk), chunk_size=args.chunk, progress=False)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    result = massfit.sweep(
        fn, net, axes, chunk_size=args.chunk, directory=directory, progress=False
    )
    wall = time.perf_counter() - start
    leaves = jax.tree.leaves(result.values)
    print(
        json.dumps(
            {
                "points": int(result.done.size),
                "chunks": -(-int(result.done.size) // args.chunk),
                "wall_s": wall,
                "warmup_s": compile_s,
                "devices": len(jax.local_devices()),
                "finite": bool(all(jnp.isfinite(jnp.asarray(x[:1])).all() for x in leaves)),
                "memmap": type(leaves[0]).__name__,
                "dtype": str(leaves[0].dtype),
            }
        )
    )


def run_child(kind, points, ms, chunk, *, env=None, directory=False, processes=1, rank=0,
              port=0, tmp="") -> subprocess.Popen:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, "--points", str(points),
           "--ms", str(ms), "--chunk", str(chunk), "--processes", str(processes), "--rank",
           str(rank), "--port", str(port), "--tmp", tmp]
    if directory:
        cmd.append("--directory")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env,
                            cwd=os.path.dirname(os.path.abspath(__file__)))


def finish(proc) -> dict:
    stdout = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"child failed:\n{stdout}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["rss_peak_mb"] = maxrss_mb(usage)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--ms", type=float, default=50.0, help="simulated ms per point")
    parser.add_argument("--chunk", type=int, default=256, help="chunk_size")
    parser.add_argument("--mem-ms", type=float, default=2.0, help="ms per point, memory runs")
    parser.add_argument("--quick", action="store_true", help="1,000 points x 20 ms")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--directory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--rank", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.quick:
        args.points, args.ms = 1_000, 20.0
    import _common as c

    print(c.machine())
    print(f"N = 80, k x speed grid of {args.points} points, {args.ms:g} ms per point, "
          f"Heun dt {c.DT} ms, chunk_size {args.chunk}")
    base = dict(os.environ, JAX_PLATFORMS="cpu")
    base.pop("XLA_FLAGS", None)
    two = dict(base, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    sim_s = args.ms / 1000.0

    print("| run | points | wall s | warm-up s | points/s | sim-s x sets / s | load |")
    print("|---|---|---|---|---|---|---|")

    def row(name, r, wall=None):
        wall = r["wall_s"] if wall is None else wall
        rate = r["points"] / wall
        print(f"| {name} | {r['points']} | {wall:.1f} | {r['warmup_s']:.1f} | {rate:.1f} | "
              f"{rate * sim_s:.2f} | {c.load().split()[0]} |", flush=True)

    row("1 device", finish(run_child("rmse", args.points, args.ms, args.chunk, env=base)))
    row("2 host devices", finish(run_child("rmse", args.points, args.ms, args.chunk, env=two)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [run_child("rmse", args.points, args.ms, args.chunk, env=base, processes=2, rank=i,
                       port=port) for i in range(2)]
    results = [finish(p) for p in procs]
    row("2 processes", results[0], wall=max(r["wall_s"] for r in results))

    n_chunks = 2_500 if not args.quick else 500
    r = finish(run_child("trivial", n_chunks * 8, args.ms, 8, env=base))
    print(f"\noverhead per chunk (fn = k * speed, {r['chunks']} chunks of 8): "
          f"{1000 * r['wall_s'] / r['chunks']:.2f} ms")

    print(f"\npeak RSS, {args.mem_ms:g} ms per point, chunk_size {args.chunk}:")
    print("| fn | values | 1,000 points MB | 10,000 points MB | ratio |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, directory, label in [
            ("rmse", False, "host memory"),
            ("fc", False, "host memory"),
            ("fc", True, "`directory=` (memmap)"),
        ]:
            runs = [finish(run_child(kind, p, args.mem_ms, args.chunk, env=base,
                                     directory=directory, tmp=tmp)) for p in (1_000, 10_000)]
            mb = [r["rss_peak_mb"] for r in runs]
            dtype = runs[0]["dtype"]
            name = f"FC-RMSE (scalar, {dtype})" if kind == "rmse" else f"FC (80, 80) {dtype}"
            print(f"| {name} | {label} | {mb[0]:.0f} | {mb[1]:.0f} | {mb[1] / mb[0]:.2f} |",
                  flush=True)
    print(f"\nload after: {c.load()}")


if __name__ == "__main__":
    main()
