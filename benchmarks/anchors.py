"""Anchors: the common benchmark with massfit and other libraries side by side, one process each.

The common benchmark of docs/design.md (N = 80 Hopf, a = 0.25 /ms, ω = 2π·0.010 rad/ms, β = 1,
diffusive coupling on x with k = 0.6, the bundled realistic connectome, speed 10 mm/ms,
dt 0.1 ms, Heun, float32, x saved every step) run by

- `massfit`: `massfit.simulate` (via `_common.massfit_run`);
- `scan ref`: the plain per-step `lax.scan` delayed Heun of `_common.reference_run`;
- `numba`: a single-threaded numba loop written here: the same delayed Heun with integer lags
  (rounded to the nearest step), the corrector reading the samples of its own stage time,
  a time-major ring buffer, the afferent sums over each region's non-zero weights only;
- `brainmass` and `tvboptim` when importable (skipped with a message otherwise), each
  building the same network (weights, lengths, speed; delays rounded the way the library
  does, printed in the notes) with its own API.

Each library's part runs in its own subprocess (`anchors.py --part NAME`), so their imports
and jax configurations cannot interfere; the parent only builds the connectome, hands it over
in a temporary `.npz` and prints the table. Measured for each (best of `--repeats` after a
first, compiling call):

- `sim`: wall s per simulated s, `--seconds` (10) simulated, no noise;
- `noise`: the same with additive noise σ = 0.01 (state units per √ms);
- `batch`: `--sets` (64) k values in 0.1 … 1.0, `--batch-seconds` (1) each, each run reduced
  to its FC; simulated s × sets per wall s (JAX libraries: one `jax.vmap` on one device;
  numba: a Python loop over the sets);
- `grad`: d(FC loss)/dk through `--grad-seconds` (10), the loss being the mean squared
  difference between the FC at k = 0.5 and massfit's FC at k = 0.6 (no noise): wall s and,
  for JAX libraries, XLA temp MB (`jit(...).lower(...).compile().memory_analysis()`). massfit
  reverse mode (default adjoint) and forward mode (`ForwardMode` + `jacfwd`); the scan
  reference reverse mode with `jax.checkpoint` on 1000-step chunks; numba has no autodiff:
  a central finite difference in float64 (two runs), for its time and as a check of the
  value;

with the ratio of each to massfit (× massfit's time; for the batch, massfit's throughput
over the library's), the derivative's value, and max |Δx| of the noiseless x trace against
massfit's where the maths is the same (the scan reference sees the same noise increments as
massfit, so it is compared with noise too).

Environments. The parent and the massfit / scan parts run under the python that runs this
script (`sys.executable`, which must import massfit: `python3 benchmarks/anchors.py` from a
checkout whose `src` is installed or on `PYTHONPATH`). Every other part takes its own
interpreter, `--python-numba`, `--python-brainmass`, `--python-tvboptim` (default
`sys.executable`), so a library with conflicting pins lives in its own venv; those venvs
need only that library (the part reads the network from the `.npz` and imports neither
massfit nor this folder's `_common`):

    python3 -m venv /tmp/venv-numba && /tmp/venv-numba/bin/pip install numba
    python3 -m venv /tmp/venv-bm && /tmp/venv-bm/bin/pip install brainmass
    python3 -m venv /tmp/venv-tvb && /tmp/venv-tvb/bin/pip install tvboptim
    python3 benchmarks/anchors.py --quick --python-numba /tmp/venv-numba/bin/python \
        --python-brainmass /tmp/venv-bm/bin/python --python-tvboptim /tmp/venv-tvb/bin/python

    python3 benchmarks/anchors.py           # 10 s, 64 sets x 1 s, 10 s gradient
    python3 benchmarks/anchors.py --quick   # 1 s, 8 sets x 1 s, 1 s gradient
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback


HERE = os.path.dirname(os.path.abspath(__file__))
PARTS = ("massfit", "scan", "numba", "brainmass", "tvboptim")
LABELS = {"scan": "scan ref"}
K_GRAD = 0.5  # where d(loss)/dk is evaluated
CHUNK = 1000  # steps per jax.checkpoint chunk of the scan reference's gradient


# ----------------------------------------------------------------------------------------
# Pieces shared by the parts (numpy only: every part's interpreter has numpy).


def load_setup(workdir):
    import numpy as np

    with np.load(os.path.join(workdir, "setup.npz")) as f:
        setup = {name: f[name] for name in f.files}
    with open(os.path.join(workdir, "settings.json")) as f:
        setup.update(json.load(f))
    return setup


def integer_lags(setup):
    """The lags in steps, rounded to the nearest step (as massfit and the scan ref do)."""
    import numpy as np

    return np.rint(setup["lengths"] / setup["speed"] / setup["dt"]).astype(np.int64)


def fc_numpy(x):
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    return z.T @ z / x.shape[0]


def best_of(fn, repeats):
    """`(best, first, output)`: wall times of `repeats` calls after a first one."""
    times, out = [], None
    for _ in range(repeats + 1):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times[1:]), times[0], out


def jax_measure(fn, args, repeats):
    """For JAX parts: `(wall, compile_s, temp_mb, output)` of `jax.jit(fn)` on `args`."""
    import jax

    start = time.perf_counter()
    exe = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - start
    temp_mb = exe.memory_analysis().temp_size_in_bytes / 2**20
    wall, _, out = best_of(lambda: jax.block_until_ready(exe(*args)), repeats)
    return wall, compile_s, temp_mb, out


def save_trace(workdir, name, x):
    import numpy as np

    np.save(os.path.join(workdir, f"{name}.npy"), np.asarray(x, dtype=np.float32))


# ----------------------------------------------------------------------------------------
# The parts.


def part_massfit(setup, workdir, reference=False):
    """massfit (or, with `reference`, the plain `lax.scan` of `_common`): all four measures."""
    sys.path.insert(0, HERE)
    import _common as c
    import diffrax
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    import numpy as np

    name = "scan" if reference else "massfit"
    repeats = setup["repeats"]
    a = jnp.asarray(c.A)
    key = jr.key(0)
    out = {"python": sys.executable, "version": f"jax {jax.__version__}", "notes": []}

    def runner(net, seconds, **kw):
        if reference:
            return c.reference_run(net, seconds, **kw)
        return c.massfit_run(net, seconds, **kw)

    for label, noise in (("sim", False), ("noise", True)):
        net = c.network(noise=noise)
        run = runner(net, setup["seconds"])
        wall, compile_s, _, x = jax_measure(run, (jnp.asarray(c.K), a, key), repeats)
        out[label] = wall / setup["seconds"]
        out[label + "_compile"] = compile_s
        save_trace(workdir, f"{name}_{label}", x)

    net = c.network()
    run = runner(net, setup["batch_seconds"])
    ks = jnp.asarray(setup["ks"], jnp.float32)
    wall, compile_s, _, _ = jax_measure(
        jax.vmap(lambda k: c.fc(run(k, a, None))), (ks,), repeats
    )
    out["batch"] = len(setup["ks"]) * setup["batch_seconds"] / wall

    seconds = setup["grad_seconds"]
    if reference:
        target = jnp.asarray(np.load(os.path.join(workdir, "target_fc.npy")))
    else:
        target = jax.jit(c.fc)(jax.jit(runner(net, seconds))(jnp.asarray(c.K), a, None))
        np.save(os.path.join(workdir, "target_fc.npy"), np.asarray(target))

    def loss_of(run):
        return lambda k: jnp.mean((c.fc(run(k, a, None)) - target) ** 2)

    k = jnp.asarray(K_GRAD)
    if reference:
        grads = {"grad": jax.grad(loss_of(runner(net, seconds, chunk=CHUNK)))}
        out["notes"].append(f"gradient: reverse mode, jax.checkpoint on {CHUNK}-step chunks")
    else:
        grads = {
            "grad": jax.grad(loss_of(runner(net, seconds))),
            "grad_fwd": jax.jacfwd(loss_of(runner(net, seconds, adjoint=diffrax.ForwardMode()))),
        }
        out["notes"].append("gradient: reverse mode (default adjoint); 2nd row forward mode")
    for label, grad in grads.items():
        wall, compile_s, temp_mb, value = jax_measure(grad, (k,), repeats)
        out[label] = wall
        out[label + "_mb"] = temp_mb
        out[label + "_value"] = float(value)
    return out


def part_scan(setup, workdir):
    return part_massfit(setup, workdir, reference=True)


def part_numba(setup, workdir):
    import numba
    import numpy as np

    @numba.njit(cache=False)
    def heun(indptr, cols, w, lags, rowsum, x0, y0, k, a, omega, beta, dt, half, zero, steps,
             sigma, seed, out):
        # Delayed Heun, integer lags, time-major ring buffer of x (size R > max lag + 1):
        # stage 0 at step n reads x_j(n - lag_ij), the corrector x_j(n + 1 - lag_ij); the
        # past is constant at x0. All scalars come in the arrays' dtype (half = 0.5).
        n_regions = x0.shape[0]
        size = np.int64(lags.max()) + 2
        buf = np.empty((size, n_regions), x0.dtype)
        for r in range(size):
            buf[r] = x0
        x, y = x0.copy(), y0.copy()
        xp, yp = np.empty_like(x), np.empty_like(y)
        fx, fy = np.empty_like(x), np.empty_like(y)
        sq = np.sqrt(dt) * sigma
        nx, ny = np.zeros_like(x), np.zeros_like(y)
        if sigma != 0:
            np.random.seed(seed)
        for n in range(steps):
            if sigma != 0:
                for i in range(n_regions):
                    nx[i] = sq * np.random.standard_normal()
                    ny[i] = sq * np.random.standard_normal()
            pos = n % size
            for i in range(n_regions):
                acc = zero
                for e in range(indptr[i], indptr[i + 1]):
                    r = pos - lags[e]
                    if r < 0:
                        r += size
                    acc += w[e] * buf[r, cols[e]]
                radial = a - beta * (x[i] * x[i] + y[i] * y[i])
                fx[i] = radial * x[i] - omega * y[i] + k * (acc - rowsum[i] * x[i])
                fy[i] = radial * y[i] + omega * x[i]
                xp[i] = x[i] + dt * fx[i] + nx[i]
                yp[i] = y[i] + dt * fy[i] + ny[i]
            nxt = pos + 1
            for i in range(n_regions):
                acc = zero
                for e in range(indptr[i], indptr[i + 1]):
                    r = nxt - lags[e]
                    if r < 0:
                        r += size
                    acc += w[e] * buf[r, cols[e]]
                radial = a - beta * (xp[i] * xp[i] + yp[i] * yp[i])
                gx = radial * xp[i] - omega * yp[i] + k * (acc - rowsum[i] * xp[i])
                gy = radial * yp[i] + omega * xp[i]
                x[i] = x[i] + half * dt * (fx[i] + gx) + nx[i]
                y[i] = y[i] + half * dt * (fy[i] + gy) + ny[i]
            row = (n + 1) % size
            for i in range(n_regions):
                buf[row, i] = x[i]
                out[n, i] = x[i]
        return out

    weights = setup["weights"].astype(np.float64)
    lags = integer_lags(setup)
    on = weights != 0
    if np.any(lags[on] < 1):
        raise ValueError("a non-zero weight with a lag under one step: this loop needs >= 1")
    indptr = np.concatenate([[0], np.cumsum(on.sum(axis=1))]).astype(np.int64)
    rows, cols = np.nonzero(on)

    def simulate(k, seconds, sigma=0.0, dtype=np.float32, seed=0):
        t = dtype
        steps = round(seconds * 1000.0 / setup["dt"])
        out = np.empty((steps, len(weights)), t)
        return heun(indptr, cols.astype(np.int64), weights[rows, cols].astype(t),
                    lags[rows, cols], weights.sum(axis=1).astype(t),
                    setup["x0"][0].astype(t), setup["x0"][1].astype(t), t(k),
                    t(setup["a"]), t(setup["omega"]), t(setup["beta"]), t(setup["dt"]),
                    t(0.5), t(0.0), steps, t(sigma), seed, out)

    repeats = setup["repeats"]
    out = {"python": sys.executable, "version": f"numba {numba.__version__}",
           "notes": ["single thread; afferent sums over non-zero weights (CSR)",
                     "noise: numpy's generator (other increments than massfit)",
                     "gradient: central finite difference in float64 (h 1e-4), 2 runs"]}
    start = time.perf_counter()
    simulate(setup["k"], 0.01)
    simulate(setup["k"], 0.01, dtype=np.float64)
    out["sim_compile"] = time.perf_counter() - start
    seconds = setup["seconds"]
    wall, _, x = best_of(lambda: simulate(setup["k"], seconds), repeats)
    out["sim"] = wall / seconds
    save_trace(workdir, "numba_sim", x)
    wall, _, _ = best_of(lambda: simulate(setup["k"], seconds, sigma=setup["sigma"]), repeats)
    out["noise"] = wall / seconds

    def batch():
        return [fc_numpy(simulate(k, setup["batch_seconds"])) for k in setup["ks"]]

    wall, _, _ = best_of(batch, repeats)
    out["batch"] = len(setup["ks"]) * setup["batch_seconds"] / wall

    target = np.load(os.path.join(workdir, "target_fc.npy")).astype(np.float64)
    h = 1e-4

    def loss(k):
        x = simulate(k, setup["grad_seconds"], dtype=np.float64)
        return np.mean((fc_numpy(x) - target) ** 2)

    wall, _, value = best_of(lambda: (loss(K_GRAD + h) - loss(K_GRAD - h)) / (2 * h), repeats)
    out["grad"] = wall
    out["grad_value"] = float(value)
    return out


def part_brainmass(setup, workdir):
    """Simulation only: see the notes for what is left out and why."""
    import importlib.metadata

    import brainmass
    import brainstate
    import braintools
    import brainunit as u
    import jax
    import numpy as np

    x0 = setup["x0"]
    n = len(x0[0])
    brainstate.environ.set(dt=float(setup["dt"]) * u.ms)
    node = brainmass.HopfStep(
        n, a=float(setup["a"]), w=float(setup["omega"]), beta=float(setup["beta"]),
        init_x=braintools.init.Constant(x0[0]), init_y=braintools.init.Constant(x0[1]),
        method="heun",
    )
    net = brainmass.Network(
        node, conn=np.asarray(setup["weights"]), distance=np.asarray(setup["lengths"]),
        speed=float(setup["speed"]), coupled_var="x", k=float(setup["k"]),
        delay_init=braintools.init.Constant(x0[0]),  # the past: constant at x0, as massfit
    )
    sim = brainmass.Simulator(net, dt=float(setup["dt"]) * u.ms)
    seconds = setup["seconds"]

    def core():
        out = sim.run(seconds * 1000.0 * u.ms, monitors=lambda m: m.node.x.value, jit=False)
        return out["output"]

    run = brainstate.transform.jit(core)
    start = time.perf_counter()
    jax.block_until_ready(run())
    compile_s = time.perf_counter() - start
    wall, _, x = best_of(lambda: jax.block_until_ready(run()), setup["repeats"])
    save_trace(workdir, "brainmass_sim", x)
    lags = np.ceil(setup["lengths"] / setup["speed"] / setup["dt"] - 1e-6)
    changed = np.mean((lags != integer_lags(setup))[setup["weights"] != 0])
    return {
        "python": sys.executable, "sim": wall / seconds, "sim_compile": compile_s,
        "version": f"brainmass {importlib.metadata.version('brainmass')}, "
                   f"brainstate {importlib.metadata.version('brainstate')}, jax {jax.__version__}",
        "notes": [
            "HopfStep(method='heun') in brainmass.Network (diffusive on x), Simulator under "
            "brainstate.transform.jit; the coupling current is computed once per step and "
            "held over both Heun stages",
            f"delays rounded up (brainstate: ceil(delay / dt)): {changed:.0%} of the "
            "non-zero-weight lags differ from the nearest-step lags of massfit; other maths, "
            "max|dx| for information",
            "noise, batch and gradient not written in the time this script had: its noise "
            "lacks the sqrt(dt) (docs/brainmass.md), and k would have to become a brainstate "
            "state for vmap/grad (docs/design.md, 'The common benchmark', has earlier numbers)",
        ],
    }


def jax_part(setup, workdir, name, make_run, version, notes):
    """The four measures for a JAX library given `make_run(seconds, noise, grad=False)`,
    which returns `run(k) -> x (T, N)`."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    def fc(x):
        z = (x - x.mean(axis=0)) / x.std(axis=0)
        return z.T @ z / x.shape[0]

    repeats = setup["repeats"]
    out = {"python": sys.executable, "version": f"{version}, jax {jax.__version__}",
           "notes": notes}
    k = jnp.asarray(setup["k"], jnp.float32)
    for label, noise in (("sim", False), ("noise", True)):
        wall, compile_s, _, x = jax_measure(make_run(setup["seconds"], noise), (k,), repeats)
        out[label] = wall / setup["seconds"]
        out[label + "_compile"] = compile_s
        save_trace(workdir, f"{name}_{label}", x)
    run = make_run(setup["batch_seconds"], False)
    ks = jnp.asarray(setup["ks"], jnp.float32)
    wall, _, _, _ = jax_measure(jax.vmap(lambda k: fc(run(k))), (ks,), repeats)
    out["batch"] = len(setup["ks"]) * setup["batch_seconds"] / wall
    target = jnp.asarray(np.load(os.path.join(workdir, "target_fc.npy")))
    run = make_run(setup["grad_seconds"], False, grad=True)
    grad = jax.grad(lambda k: jnp.mean((fc(run(k)) - target) ** 2))
    wall, _, temp_mb, value = jax_measure(grad, (jnp.asarray(K_GRAD, jnp.float32),), repeats)
    out["grad"], out["grad_mb"], out["grad_value"] = wall, temp_mb, float(value)
    return out


def part_tvboptim(setup, workdir):
    import importlib.metadata

    import jax
    import jax.numpy as jnp
    import numpy as np
    from tvboptim.experimental.network_dynamics import DenseLengthGraph, Network, prepare
    from tvboptim.experimental.network_dynamics.coupling.linear import (
        DelayedDifferenceCoupling,
    )
    from tvboptim.experimental.network_dynamics.dynamics.tvb.sup_hopf import SupHopf
    from tvboptim.experimental.network_dynamics.noise.gaussian import AdditiveNoise
    from tvboptim.experimental.network_dynamics.solvers.native import Heun

    x0 = setup["x0"]
    if np.ptp(x0[0]) or np.ptp(x0[1]) or setup["beta"] != 1.0:
        raise NotImplementedError("SupHopf has beta = 1 and one initial state for all nodes")

    class Hopf(SupHopf):  # massfit's Hopf starts at (0.5, 0); SupHopf at (0.1, 0)
        INITIAL_STATE = (float(x0[0, 0]), float(x0[1, 0]))

    def make_run(seconds, noise, grad=False):
        graph = DenseLengthGraph(jnp.asarray(setup["weights"]), jnp.asarray(setup["lengths"]),
                                 float(setup["speed"]))
        coupling = DelayedDifferenceCoupling(incoming_states="x", local_states="x",
                                             G=float(setup["k"]), buffer_strategy="circular")
        net = Network(Hopf(a=float(setup["a"]), omega=float(setup["omega"])),
                      {"instant": coupling}, graph,
                      noise=AdditiveNoise(sigma=float(setup["sigma"]), key=jax.random.key(0))
                      if noise else None)
        solver = Heun(recompute_coupling_per_stage=True, block_size=CHUNK if grad else None)
        solve, config = prepare(net, solver, t0=0.0,
                                t1=seconds * 1000.0, dt=float(setup["dt"]))

        def run(k):
            cfg = jax.tree_util.tree_map(lambda leaf: leaf, config)
            cfg.coupling.instant.G = k
            return solve(cfg).ys[:, 0, :]

        return run

    notes = [
        "SupHopf + DelayedDifferenceCoupling (x), DenseLengthGraph, native Heun with "
        "recompute_coupling_per_stage=True, circular buffer",
        "delays rounded to the nearest step (rint), as massfit; but both Heun stages read "
        "the delayed x_j at the step's start (no stage-time read): other maths, max|dx| "
        "for information",
        f"noise: its own increments; gradient: jax.grad with block_size={CHUNK} "
        "(jax.checkpoint on blocks, as the scan ref)",
    ]
    return jax_part(setup, workdir, "tvboptim", make_run,
                    f"tvboptim {importlib.metadata.version('tvboptim')}", notes)


# ----------------------------------------------------------------------------------------
# The parent.


def run_part(name, python, workdir, timeout):
    """Run one part in its own process; its result dict, or `{"skipped": reason}`."""
    cmd = [python, os.path.abspath(__file__), "--part", name, "--workdir", workdir]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"skipped": f"over --timeout {timeout} s"}
    except OSError as err:
        return {"skipped": f"cannot start {python}: {err}"}
    path = os.path.join(workdir, f"{name}.json")
    if proc.returncode != 0 or not os.path.exists(path):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"skipped": f"exit {proc.returncode}: " + " | ".join(tail)}
    with open(path) as f:
        result = json.load(f)
    result["process_s"] = time.perf_counter() - start
    return result


def child(name, workdir):
    setup = load_setup(workdir)
    path = os.path.join(workdir, f"{name}.json")
    try:
        result = globals()[f"part_{name}"](setup, workdir)
    except ImportError as err:
        result = {"skipped": f"not importable with {sys.executable}: {err}"}
    except NotImplementedError as err:
        result = {"skipped": f"not written: {err}" if str(err) else "not written"}
    except Exception:
        traceback.print_exc()
        raise
    with open(path, "w") as f:
        json.dump(result, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated s (sim, noise)")
    parser.add_argument("--sets", type=int, default=64, help="k values in the batch")
    parser.add_argument("--batch-seconds", type=float, default=1.0, help="simulated s per set")
    parser.add_argument("--grad-seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--timeout", type=float, default=None, help="s per library process")
    parser.add_argument("--quick", action="store_true", help="1 s, 8 sets x 1 s, 1 s gradient")
    for name in PARTS[2:]:
        parser.add_argument(f"--python-{name}", default=sys.executable,
                            help=f"interpreter for the {name} part")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        return child(args.part, args.workdir)
    if args.quick:  # new defaults; options given explicitly still win
        parser.set_defaults(seconds=1.0, sets=8, batch_seconds=1.0, grad_seconds=1.0)
        args = parser.parse_args()

    sys.path.insert(0, HERE)
    import _common as c
    import numpy as np

    print(c.machine(), flush=True)
    net = c.network()
    conn = net.connectome
    setup = {
        "weights": np.asarray(conn.weights, np.float32),
        "lengths": np.asarray(conn.lengths, np.float32),
        "x0": np.asarray(net.node.initial_state(net.n_regions), np.float32),
        "ks": np.linspace(0.1, 1.0, args.sets),
    }
    settings = {
        "k": c.K, "a": c.A, "omega": c.OMEGA, "beta": 1.0, "speed": c.SPEED, "dt": c.DT,
        "sigma": c.SIGMA, "seconds": args.seconds, "batch_seconds": args.batch_seconds,
        "grad_seconds": args.grad_seconds, "repeats": args.repeats,
    }
    lags = integer_lags({**setup, **settings})
    on = setup["weights"] != 0
    print(f"N = {net.n_regions}, lags {lags[on].min()}-{lags[on].max()} steps (nearest), "
          f"{on.mean():.0%} dense; sim/noise {args.seconds:g} s, batch {args.sets} x "
          f"{args.batch_seconds:g} s, gradient {args.grad_seconds:g} s at k = {K_GRAD}; "
          f"best of {args.repeats} after a first call", flush=True)

    results = {}
    with tempfile.TemporaryDirectory(prefix="anchors-") as workdir:
        np.savez(os.path.join(workdir, "setup.npz"), **setup)
        with open(os.path.join(workdir, "settings.json"), "w") as f:
            json.dump({**settings, "ks": setup["ks"].tolist()}, f)
        for name in ["massfit"] + [p for p in args.only if p != "massfit"]:
            python = getattr(args, f"python_{name}", None) or sys.executable
            results[name] = run_part(name, python, workdir, args.timeout)
            r = results[name]
            state = r.get("skipped") or f"done in {r['process_s']:.0f} s"
            print(f"  {LABELS.get(name, name)}: {state}", flush=True)
            if name == "massfit" and "skipped" in r:
                print("massfit failed: nothing to compare against.")
                return
        diffs = {}
        for name in results:
            for label in ("sim", "noise"):
                path = os.path.join(workdir, f"{name}_{label}.npy")
                if name != "massfit" and os.path.exists(path):
                    x = np.load(path)
                    ref = np.load(os.path.join(workdir, f"massfit_{label}.npy"))
                    diffs[name, label] = (float(np.max(np.abs(x - ref))) if x.shape == ref.shape
                                          else f"shape {x.shape} vs {ref.shape}")
    report(results, diffs)
    print(f"load after: {c.load()}")


def report(results, diffs):
    mf = results["massfit"]
    header = (f"{'library':<10} | {'sim s/sim-s':>16} | {'noise s/sim-s':>16} | "
              f"{'batch sim-s*sets/s':>19} | {'grad s':>15} {'temp MB':>8} {'d loss/dk':>10} | "
              f"{'max|dx| sim':>11} {'noise':>8}")
    print()
    print(header)
    print("-" * len(header))

    def cell(value, ref, width, fmt, inverse=False):
        if value is None:
            return f"{'-':>{width}}"
        ratio = (ref / value) if inverse else (value / ref)
        return f"{value:{fmt}} ({ratio:5.2f}x)".rjust(width)

    def dx(name, label):
        d = diffs.get((name, label))
        return "-" if d is None else (f"{d:.1e}" if isinstance(d, float) else d)

    notes = []
    for name, r in results.items():
        label = LABELS.get(name, name)
        if "skipped" in r:
            print(f"{label:<10} | skipped: {r['skipped']}")
            continue
        rows = [("grad", "")] + ([("grad_fwd", " fwd")] if "grad_fwd" in r else [])
        for i, (g, suffix) in enumerate(rows):
            first = i == 0
            mb = r.get(g + "_mb")
            value = r.get(g + "_value")
            print(
                f"{(label if first else suffix):<10} | "
                f"{cell(r['sim'] if first else None, mf['sim'], 16, '8.4f')} | "
                f"{cell(r.get('noise') if first else None, mf['noise'], 16, '8.4f')} | "
                f"{cell(r.get('batch') if first else None, mf['batch'], 19, '10.2f', True)} | "
                f"{cell(r.get(g), mf['grad'], 15, '7.3f')} "
                f"{'-' if mb is None else f'{mb:.1f}':>8} "
                f"{'-' if value is None else f'{value:.5g}':>10} | "
                f"{dx(name, 'sim') if first else '':>11} {dx(name, 'noise') if first else '':>8}"
            )
        notes.append(f"{label}: {r['version']} ({r['python']}); compile {r['sim_compile']:.1f} s"
                     + "".join(f"; {n}" for n in r["notes"]))
    print()
    print("(x): time as a multiple of massfit's (batch: massfit's throughput over the "
          "library's); grad ratios against massfit's reverse mode")
    for line in notes:
        print(line)


if __name__ == "__main__":
    main()
