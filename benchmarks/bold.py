"""BOLD cost: minutes of BOLD observed online vs post hoc, and an FC loss's gradient through it.

The common benchmark network (docs/design.md: N = 80 Hopf on the bundled realistic connectome,
k = 0.6, speed 10 mm/ms, dt 0.1 ms, float32) with `a = -0.05 /ms` (a noise-driven focus
instead of a limit cycle, so that the BOLD signal is a stationary, stable fluctuation for
minutes) and additive noise sigma = 0.01, observed by `massfit.BOLD(period=720.0, drive="x")`:

- `--minutes` (10) of BOLD, **online** (`simulate(..., observers={"bold": ...})`: the
  hemodynamics advance inside the solver, no neural trace kept) vs **post hoc** (x saved every
  step, `6e6 x 80` float32 = 1.9 GB for 10 min, then the observer run on the trajectory), each
  one `jax.jit` of the whole pipeline. Reported: compile time, wall time of one call after
  compiling, XLA temporary memory of the compiled computation
  (`memory_analysis().temp_size_in_bytes`), the peak RSS of the process (each variant runs in
  its own subprocess; the parent reads its `ru_maxrss` with `os.wait4`, and the child reports
  its own after setup and after compiling), and max |online - post hoc|.
- the gradient of an FC loss through `--grad-minutes` (5) of BOLD (online observer) w.r.t. k:
  loss = mean squared difference between the FC of the BOLD samples (after the first
  `SKIP` samples) and a target FC simulated at k = 0.6 with the same noise, at k = 0.5. Reverse
  mode (default adjoint) and forward mode (`diffrax.ForwardMode()` + `jax.jacfwd`), as
  multiples of a forward pass (the loss) in the same run, and their temp memory; goals
  <= 3x and <= 200 MB.
- `neural`: the simulation alone (no observer, x saved once per second), to split the online time
  into simulation and hemodynamics.

    python benchmarks/bold.py              # 10 min of BOLD, 5 min for the gradient
    python benchmarks/bold.py --quick      # 1 min and 30 s
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import _common as c
import numpy as np


TR = 720.0  # ms
A_BOLD = -0.05  # 1/ms: a stable focus, driven by the noise
SKIP = 10  # BOLD samples (7.2 s) left out of the FC: the hemodynamics settle from rest
GRAD_TARGETS = (3.0, 200.0)  # multiple of a forward pass, MB
VARIANTS = ("online", "posthoc", "neural", "loss", "reverse", "jacfwd")


def maxrss_mb(usage) -> float:
    return usage.ru_maxrss / 1024  # Linux: kB


def child(variant: str, minutes: float, grad_minutes: float, out: str) -> None:
    """One variant, compiled and run once in this process; prints one JSON line."""
    import resource

    import diffrax
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jax.random as jr

    import massfit

    net = c.network(noise=True)
    net = eqx.tree_at(lambda n: n.node.a, net, jnp.asarray(A_BOLD, net.node.a.dtype))
    observer = massfit.BOLD(period=TR, drive="x")
    key = jr.key(0)
    result = {"variant": variant}

    def bold(n, minutes, adjoint=None):
        traj = massfit.simulate(
            n,
            duration=minutes * 60_000.0,
            dt=c.DT,
            key=key,
            observers={"bold": observer},
            adjoint=adjoint,
        )
        return traj.observed["bold"]

    def loss_and_fc(k, target, adjoint=None):
        f = c.fc(bold(eqx.tree_at(lambda n: n.k, net, k), grad_minutes, adjoint)[SKIP:])
        return jnp.mean((f - target) ** 2), f

    if variant == "online":
        fn, args = (lambda: bold(net, minutes)), ()
    elif variant == "posthoc":

        def fn():
            traj = massfit.simulate(
                net, duration=minutes * 60_000.0, dt=c.DT, key=key, variables="x"
            )
            return observer(traj, dt=c.DT)

        args = ()
    elif variant == "neural":
        # The simulation alone: no observer, x saved once per second (what the BOLD adds).
        def fn():
            traj = massfit.simulate(
                net, duration=minutes * 60_000.0, dt=c.DT, key=key, variables="x", save_every=1000.0
            )
            return traj["x"]

        args = ()
    else:
        k = jnp.asarray(0.5)
        n = net.n_regions
        target_file = os.path.join(out, "fc_target.npy")
        target = jnp.asarray(np.load(target_file)) if variant != "loss" else jnp.zeros((n, n))
        args = (k, target)
        if variant == "loss":
            fn = loss_and_fc
        elif variant == "reverse":
            fn = jax.grad(lambda k, t: loss_and_fc(k, t)[0])
        else:
            fn = jax.jacfwd(lambda k, t: loss_and_fc(k, t, diffrax.ForwardMode())[0])

    result["rss_setup_mb"] = maxrss_mb(resource.getrusage(resource.RUSAGE_SELF))
    exe, result["compile_s"], temp = c.compiled(fn, *args)
    memory = exe.memory_analysis()
    result["temp_mb"] = temp / 2**20
    result["output_mb"] = memory.output_size_in_bytes / 2**20
    result["rss_compiled_mb"] = maxrss_mb(resource.getrusage(resource.RUSAGE_SELF))
    if variant == "loss":
        # The target: the FC at k = 0.6 with the same noise (a first call, not timed).
        _, fc_target = jax.block_until_ready(exe(jnp.asarray(c.K), target))
        fc_target = np.asarray(fc_target)
        np.save(os.path.join(out, "fc_target.npy"), fc_target)
        off = fc_target[~np.eye(n, dtype=bool)]
        result["fc_target_offdiag"] = [float(off.min()), float(off.mean()), float(off.max())]
    start = time.perf_counter()
    value = jax.block_until_ready(exe(*args))
    result["wall_s"] = time.perf_counter() - start
    if variant in ("online", "posthoc", "neural"):
        value = np.asarray(value)
        np.save(os.path.join(out, f"{variant}.npy"), value)
        result["shape"] = list(value.shape)
        result["bold_sd"] = float(value[SKIP:].std(axis=0).mean())
    elif variant == "loss":
        result["value"] = float(value[0])
    else:
        result["value"] = float(value)
    print(json.dumps(result), flush=True)


def run_variant(variant: str, args, out: str) -> dict:
    """`variant` in a fresh Python process; its result with the process's peak RSS."""
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        variant,
        "--minutes",
        str(args.minutes),
        "--grad-minutes",
        str(args.grad_minutes),
        "--out",
        out,
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    stdout = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"variant {variant!r} failed (exit {proc.returncode}):\n{stdout}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["rss_peak_mb"] = maxrss_mb(usage)
    result["process_s"] = time.perf_counter() - start
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of BOLD")
    parser.add_argument(
        "--grad-minutes", type=float, default=5.0, help="minutes of BOLD for the gradient"
    )
    parser.add_argument("--quick", action="store_true", help="1 min of BOLD, 30 s gradient")
    parser.add_argument("--only", choices=VARIANTS, nargs="+", default=VARIANTS)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.grad_minutes = 1.0, 0.5
    if args.child:
        child(args.child, args.minutes, args.grad_minutes, args.out)
        return

    print(c.machine(), flush=True)
    print(
        f"N = {c.N_REGIONS}, Hopf a = {A_BOLD} /ms, sigma = {c.SIGMA}, k = {c.K}, "
        f"dt = {c.DT} ms, float32; BOLD(period={TR}, drive='x'); "
        f"{args.minutes:g} min of BOLD ({c.n_steps(args.minutes * 60)} steps), gradient "
        f"through {args.grad_minutes:g} min",
        flush=True,
    )
    if "reverse" in args.only or "jacfwd" in args.only:
        args.only = tuple(v for v in VARIANTS if v in args.only or v == "loss")
    header = (
        f"{'variant':<30} {'compile s':>9} {'wall s':>8} {'temp MB':>9} {'out MB':>8} "
        f"{'RSS setup':>9} {'RSS compiled':>12} {'RSS peak MB':>11} {'value':>11}"
    )
    names = {
        "online": f"{args.minutes:g} min BOLD, online",
        "posthoc": f"{args.minutes:g} min BOLD, post hoc",
        "neural": f"{args.minutes:g} min, no BOLD, x per s",
        "loss": f"FC loss, {args.grad_minutes:g} min (forward)",
        "reverse": "d/dk reverse (default adjoint)",
        "jacfwd": "d/dk forward (ForwardMode+jacfwd)",
    }
    print(header)
    print("-" * len(header))
    results = {}
    with tempfile.TemporaryDirectory() as out:
        for variant in VARIANTS:
            if variant not in args.only:
                continue
            r = results[variant] = run_variant(variant, args, out)
            value = f"{r['value']:.5g}" if "value" in r else ""
            print(
                f"{names[variant]:<30} {r['compile_s']:>9.1f} {r['wall_s']:>8.2f} "
                f"{r['temp_mb']:>9.1f} {r['output_mb']:>8.2f} {r['rss_setup_mb']:>9.0f} "
                f"{r['rss_compiled_mb']:>12.0f} {r['rss_peak_mb']:>11.0f} {value:>11}",
                flush=True,
            )
        print()
        if "online" in results:
            r = results["online"]
            seconds = args.minutes * 60
            print(
                f"online: {r['wall_s'] / seconds:.4f} s per simulated s; BOLD {r['shape']}, "
                f"mean sd over regions {r['bold_sd']:.3g}"
            )
        if "online" in results and "posthoc" in results:
            on, post = (np.load(os.path.join(out, f"{v}.npy")) for v in ("online", "posthoc"))
            diff = float(np.max(np.abs(on - post)))
            print(
                f"post hoc / online: wall {results['posthoc']['wall_s'] / r['wall_s']:.2f}x, "
                f"peak RSS {results['posthoc']['rss_peak_mb'] / r['rss_peak_mb']:.1f}x "
                f"(+{results['posthoc']['rss_peak_mb'] - r['rss_peak_mb']:.0f} MB); "
                f"max |online - post hoc| = {diff:.2e} (max |BOLD| {np.max(np.abs(on)):.2e}, "
                f"same shape: {on.shape == post.shape})"
            )
        if "online" in results and "neural" in results:
            r = results["online"]
            sim = results["neural"]["wall_s"]
            print(
                f"simulation alone (no observer, x saved per s): {sim:.2f} s; the online BOLD "
                f"adds {r['wall_s'] - sim:.2f} s ({r['wall_s'] / sim:.2f}x the simulation)"
            )
    if "loss" in results:
        lo, hi = results["loss"]["fc_target_offdiag"][0], results["loss"]["fc_target_offdiag"][2]
        print(
            f"target FC (k = {c.K}) off-diagonal: min {lo:.3f}, mean "
            f"{results['loss']['fc_target_offdiag'][1]:.3f}, max {hi:.3f}; "
            f"loss at k = 0.5: {results['loss']['value']:.4g}"
        )
        fwd = results["loss"]["wall_s"]
        for variant in ("reverse", "jacfwd"):
            if variant in results:
                r = results[variant]
                print(
                    f"{names[variant]}: {r['wall_s'] / fwd:.2f}x the forward pass "
                    f"({fwd:.2f} s), target {c.target(r['wall_s'] / fwd, GRAD_TARGETS[0])}; "
                    f"{r['temp_mb']:.0f} MB temp, target "
                    f"{c.target(r['temp_mb'], GRAD_TARGETS[1])} MB"
                )
        if "reverse" in results and "jacfwd" in results:
            g_r, g_f = results["reverse"]["value"], results["jacfwd"]["value"]
            print(
                f"d/dk: reverse {g_r:.6g}, forward {g_f:.6g} "
                f"(rel. diff {abs(g_r - g_f) / abs(g_f):.1e})"
            )
    print(f"load after: {c.load()}")


if __name__ == "__main__":
    main()
