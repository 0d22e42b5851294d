"""GPU check: simulation at N = 80 / 320 / 1280, a batch of 1024 k values, a reverse-mode gradient.

One short prepared script for a machine with an accelerator (it runs on a CPU too, `--quick`
there). The common benchmark network of docs/design.md (Hopf, diffusive coupling on x, the
bundled realistic connectome, speed 10 mm/ms, dt 0.1 ms, Heun, float32, x saved every
step) measured on `jax.devices()[0]`:

- `sim N`: wall s per simulated s at N = 80, 320, 1280: massfit, and at N <= 320 the plain
  `lax.scan` reference of `_common.reference_run` (their ratio; max |Δx| between them on
  the last call);
- `batch`: `--sets` (1024) k values in 0.1 … 1.0 at N = 80, one `jax.vmap`, each run of
  `--batch-seconds` reduced to its FC: simulated s × sets per wall s;
- `grad`: d(FC loss)/dk at N = 80 through `--grad-seconds` (10), reverse mode (massfit's
  default adjoint), the loss being the mean squared FC difference to the FC at k = 0.6,
  evaluated at k = 0.5: wall s, XLA temp MB, compile s.

Every measurement runs in its own process under a hard time cap (`--cap-sim`, `--cap-large`
for N > 320, `--cap-batch`, `--cap-grad`, seconds, start-up and compilation included): a
process that runs past its cap is killed and the measurement printed as skipped. A
simulation compiles one chunk (`--chunk` simulated s; smaller at larger N) and repeats it
until `--seconds` are simulated or 60 % of its cap has passed, so a slow device measures
fewer seconds instead of overrunning. The whole run stops starting measurements once
`--budget` seconds have passed (default: ~8 min in all).

    python3 benchmarks/gpu.py            # on the GPU machine
    python3 benchmarks/gpu.py --quick    # on a CPU: short runs, 64 sets, 0.5 s gradient
"""

import argparse
import json
import os
import subprocess
import sys
import time


HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = (80, 320, 1280)


def chunk_seconds(n, chunk):
    """Simulated s per compiled call at size `n`: `chunk` at N = 80, less above (whole ms)."""
    return max(1, round(chunk * min(1.0, 80 / n) * 1000)) / 1000


def child(args):
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    sys.path.insert(0, HERE)
    import _common as c
    import jax
    import jax.numpy as jnp
    import numpy as np

    start = time.perf_counter()
    what = args.measure
    if what == "info":
        dev = jax.devices()[0]
        print(c.machine())
        print(f"device: {dev.device_kind} ({dev.platform}, {len(jax.devices())} devices), "
              f"jax {jax.__version__}")
        return
    a = jnp.asarray(c.A)
    if what.startswith("sim"):
        _, impl, n = what.split("-")
        n = int(n)
        net = c.network(n)
        seconds = chunk_seconds(n, args.chunk)
        run = (c.massfit_run if impl == "massfit" else c.reference_run)(net, seconds)
        exe, compile_s, _ = c.compiled(run, jnp.asarray(c.K), a, None)
        x = jax.block_until_ready(exe(jnp.asarray(c.K), a, None))  # first call
        wall, done = 0.0, 0.0
        while done < args.seconds and (done == 0 or time.perf_counter() - start < 0.6 * args.cap):
            t0 = time.perf_counter()
            x = jax.block_until_ready(exe(jnp.asarray(c.K), a, None))
            wall += time.perf_counter() - t0
            done += seconds
        np.save(os.path.join(args.workdir, f"{impl}-{n}.npy"), np.asarray(x))
        print(json.dumps({"per": wall / done, "done": done, "chunk": seconds,
                          "compile": compile_s}))
        return
    net = c.network()
    if what == "batch":
        run = c.massfit_run(net, args.batch_seconds)
        ks = jnp.linspace(0.1, 1.0, args.sets)
        exe, compile_s, temp = c.compiled(jax.vmap(lambda k: c.fc(run(k, a, None))), ks)
        wall, first, out = c.timed(exe, ks, repeats=1)
        print(json.dumps({"rate": args.sets * args.batch_seconds / wall, "wall": wall,
                          "compile": compile_s, "temp_mb": temp / 2**20,
                          "finite": bool(jnp.all(jnp.isfinite(out)))}))
        return
    if what == "grad":
        seconds = args.grad_seconds
        target = c.fc(jax.jit(c.massfit_run(net, seconds))(jnp.asarray(c.K), a, None))
        run = c.massfit_run(net, seconds)

        def loss(k):
            return jnp.mean((c.fc(run(k, a, None)) - target) ** 2)

        k = jnp.asarray(0.5)
        exe, compile_s, temp = c.compiled(jax.grad(loss), k)
        wall, _, g = c.timed(exe, k, repeats=1, warmup=False)
        print(json.dumps({"wall": wall, "compile": compile_s, "temp_mb": temp / 2**20,
                          "value": float(g)}))
        return
    raise ValueError(what)


def measure(args, what, cap, workdir):
    """Run one measurement in its own process; `(result dict or None, message)`."""
    cmd = [sys.executable, os.path.abspath(__file__), "--measure", what, "--workdir", workdir,
           "--cap", str(cap)] + args.forward
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return None, f"skipped: over its {cap:g} s cap"
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
        return None, f"failed (exit {proc.returncode}): {tail}"
    lines = proc.stdout.strip().splitlines()
    if what == "info":
        return None, "\n".join(lines)
    return json.loads(lines[-1]), ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated s per size")
    parser.add_argument("--chunk", type=float, default=1.0, help="simulated s per call, N=80")
    parser.add_argument("--sets", type=int, default=1024)
    parser.add_argument("--batch-seconds", type=float, default=1.0)
    parser.add_argument("--grad-seconds", type=float, default=10.0)
    parser.add_argument("--cap-sim", type=float, default=40.0, help="s per simulation")
    parser.add_argument("--cap-large", type=float, default=90.0, help="s, N > 320")
    parser.add_argument("--cap-batch", type=float, default=100.0)
    parser.add_argument("--cap-grad", type=float, default=120.0)
    parser.add_argument("--budget", type=float, default=480.0, help="s for the whole run")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--quick", action="store_true",
                        help="CPU-sized: 0.5 s per size in 0.1 s chunks, 64 sets x 0.1 s, "
                             "0.5 s gradient")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--cap", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        parser.set_defaults(seconds=0.5, chunk=0.1, sets=64, batch_seconds=0.1,
                            grad_seconds=0.5)
        args = parser.parse_args()
    if args.measure:
        return child(args)
    args.forward = [f"--seconds={args.seconds}", f"--chunk={args.chunk}",
                    f"--sets={args.sets}", f"--batch-seconds={args.batch_seconds}",
                    f"--grad-seconds={args.grad_seconds}"]

    import tempfile

    import numpy as np

    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as workdir:
        _, info = measure(args, "info", 120.0, workdir)
        print(info, flush=True)

        def room(cap):
            left = args.budget - (time.perf_counter() - begin)
            return left >= min(cap, 20.0), left

        for n in args.sizes:
            per = {}
            large = n > 320  # massfit only, a longer cap (the connectome alone takes a while)
            for impl in ("massfit",) if large else ("massfit", "scan"):
                ok, left = room(args.cap_sim)
                cap = min(args.cap_large if large else args.cap_sim, left)
                r, msg = measure(args, f"sim-{impl}-{n}", cap, workdir) if ok else (
                    None, "skipped: --budget spent")
                name = f"sim N={n:<5} {'massfit' if impl == 'massfit' else 'scan ref':<8}"
                if r is None:
                    print(f"{name} {msg}", flush=True)
                    continue
                per[impl] = r["per"]
                extra = ""
                if impl == "scan" and "massfit" in per:
                    x = np.load(os.path.join(workdir, f"massfit-{n}.npy"))
                    x_ref = np.load(os.path.join(workdir, f"scan-{n}.npy"))
                    extra = (f" | massfit {per['massfit'] / per['scan']:.2f}x the scan ref, "
                             f"max|dx| {np.max(np.abs(x - x_ref)):.1e}")
                print(f"{name} {r['per']:9.4f} s per simulated s ({r['done']:g} s simulated "
                      f"in {r['chunk']:g} s calls; compile {r['compile']:.1f} s){extra}",
                      flush=True)
        ok, left = room(args.cap_batch)
        r, msg = measure(args, "batch", min(args.cap_batch, left), workdir) if ok else (
            None, "skipped: --budget spent")
        name = f"batch N=80, {args.sets} sets x {args.batch_seconds:g} s"
        print(f"{name} {msg}" if r is None else
              f"{name}: {r['rate']:.1f} simulated s x sets per wall s (wall {r['wall']:.2f} s, "
              f"compile {r['compile']:.1f} s, temp {r['temp_mb']:.0f} MB, "
              f"all finite: {r['finite']})", flush=True)
        ok, left = room(args.cap_grad)
        r, msg = measure(args, "grad", min(args.cap_grad, left), workdir) if ok else (
            None, "skipped: --budget spent")
        name = f"grad N=80, d(FC loss)/dk through {args.grad_seconds:g} s, reverse"
        print(f"{name} {msg}" if r is None else
              f"{name}: {r['wall']:.3f} s, temp {r['temp_mb']:.1f} MB, compile "
              f"{r['compile']:.1f} s, value {r['value']:.6g}", flush=True)
    print(f"total {time.perf_counter() - begin:.0f} s; load after: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
