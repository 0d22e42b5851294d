"""Gradient cost: an FC loss differentiated through a long simulation, massfit vs plain scan.

The common benchmark network (docs/design.md, no noise) over `--seconds` of simulated time,
every step of x saved; the loss is the mean squared difference between the FC (correlation
matrix of x) and a target FC simulated at k = 0.6, evaluated at k = 0.5. Reported: wall time
(best of `--repeats` after compiling), XLA temporary memory of the compiled computation
(`memory_analysis().temp_size_in_bytes`), and the derivative, for

- the gradient w.r.t. the coupling strength k: massfit in reverse mode (default
  `RecursiveCheckpointAdjoint`) and in forward mode (`diffrax.ForwardMode()` +
  `jax.jacfwd`); the scan reference in reverse mode, with `jax.checkpoint` around chunks of
  `--chunk` steps and plain (the plain one only runs if its memory fits `--max-gb`);
- the same with the FC accumulated online (`massfit.observation.FC` as an observer of the
  solve: no trace stored), reverse and forward mode;
- the gradient w.r.t. the 80 per-region Hopf `a` (reverse mode), as a multiple of a forward
  pass (simulation + loss);
- the first step of a user's fit: `massfit.fit(..., trainable="k", n_steps=1)` called twice
  with the same loss (the second call reuses the compiled step), in forward and reverse mode;
  the difference is the compile time a user waits for before the first step.

    python benchmarks/gradient.py              # 10 s of simulated time
    python benchmarks/gradient.py --quick      # 1 s, one repeat
"""

import argparse
import time

import _common as c
import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import massfit


K_TARGETS = (1.5, 100.0)  # s, MB (docs/design.md, targets for 10 s)
A_TARGETS = (10.0, 1000.0)  # multiple of a forward pass, MB


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=c.SECONDS, help="simulated s")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=1000, help="steps per checkpoint")
    parser.add_argument("--max-gb", type=float, default=4.0, help="skip runs needing more")
    parser.add_argument("--quick", action="store_true", help="1 s, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeats = 1.0, 1

    print(c.machine())
    seconds = args.seconds
    net = c.network()
    n = net.n_regions
    target = c.fc(jax.jit(c.massfit_run(net, seconds))(jnp.asarray(c.K), jnp.asarray(c.A), None))

    def loss_of(run):
        return lambda k, a: jnp.mean((c.fc(run(k, a, None)) - target) ** 2)

    def online_loss(adjoint=None):
        # The FC accumulated inside the solve (`observation.FC`): no (T, N) trace is stored.
        def loss(k, a):
            n = eqx.tree_at(lambda m: (m.k, m.node.a), net, (k, a))
            observer = massfit.observation.FC(period=seconds * 1000.0, drive="x")
            kw = {} if adjoint is None else {"adjoint": adjoint}
            out = massfit.simulate(
                n, duration=seconds * 1000.0, dt=c.DT, observers={"fc": observer}, **kw
            )
            return jnp.mean((out.observed["fc"][0] - target) ** 2)

        return loss

    forward = loss_of(c.massfit_run(net, seconds, adjoint=diffrax.ForwardMode()))
    traced = loss_of(c.massfit_run(net, seconds))
    plain = loss_of(c.reference_run(net, seconds))
    chunked = loss_of(c.reference_run(net, seconds, chunk=args.chunk))

    k = jnp.asarray(0.5)
    a_scalar = jnp.asarray(c.A)
    a_regions = jnp.full((n,), c.A)
    cases = [
        ("forward pass (loss), massfit", traced, (k, a_scalar)),
        ("forward pass (loss), scan ref", plain, (k, a_scalar)),
        ("d/dk massfit reverse", jax.grad(traced), (k, a_scalar)),
        ("d/dk massfit forward (jacfwd)", jax.jacfwd(forward), (k, a_scalar)),
        (f"d/dk scan ref reverse, checkpoint/{args.chunk}", jax.grad(chunked), (k, a_scalar)),
        ("d/dk scan ref reverse, plain", jax.grad(plain), (k, a_scalar)),
        ("forward pass (loss), online FC", online_loss(), (k, a_scalar)),
        ("d/dk online FC reverse", jax.grad(online_loss()), (k, a_scalar)),
        ("d/dk online FC forward (jacfwd)",
         jax.jacfwd(online_loss(diffrax.ForwardMode())), (k, a_scalar)),
        ("forward pass (loss), massfit, a (N,)", traced, (k, a_regions)),
        ("d/da (N,) massfit reverse", jax.grad(traced, argnums=1), (k, a_regions)),
        (f"d/da (N,) scan ref reverse, ckpt/{args.chunk}", jax.grad(chunked, argnums=1),
         (k, a_regions)),
    ]
    print(f"N = {n}, {seconds:g} s simulated, {c.n_steps(seconds)} steps, float32")
    header = (
        f"{'case':<42} {'wall s':>8} {'compile s':>9} {'temp MB':>9} {'value':>12}"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for name, fn, fn_args in cases:
        exe, compile_s, temp = c.compiled(fn, *fn_args)
        mb = temp / 2**20
        if mb > args.max_gb * 1024:
            print(f"{name:<42} {'skipped':>8} {compile_s:>9.1f} {mb:>9.1f} (over --max-gb)")
            results[name] = (np.nan, mb, None)
            continue
        wall, _, value = c.timed(exe, *fn_args, repeats=args.repeats, warmup=False)
        value = np.asarray(value)
        shown = f"{float(value):.5g}" if value.ndim == 0 else f"|g| {np.linalg.norm(value):.4g}"
        print(f"{name:<42} {wall:>8.3f} {compile_s:>9.1f} {mb:>9.1f} {shown:>12}", flush=True)
        results[name] = (wall, mb, value)

    fwd = results["forward pass (loss), massfit"][0]
    rev_k, mem_k, g_k = results["d/dk massfit reverse"]
    _, _, g_fwd = results["d/dk massfit forward (jacfwd)"]
    ckpt_k, _, g_ref = results[f"d/dk scan ref reverse, checkpoint/{args.chunk}"]
    fwd_a = results["forward pass (loss), massfit, a (N,)"][0]
    rev_a, mem_a, g_a = results["d/da (N,) massfit reverse"]
    ckpt_a, _, g_a_ref = results[f"d/da (N,) scan ref reverse, ckpt/{args.chunk}"]
    scale = c.SECONDS / seconds
    scaled = "" if scale == 1 else f" (scaled x{scale:g} to 10 s)"
    print()
    print(f"d/dk: massfit reverse {g_k:.6g}, forward {g_fwd:.6g}, scan ref {g_ref:.6g} "
          f"(rel. diff {abs(g_k - g_ref) / abs(g_ref):.1e})")
    print(f"d/da: max rel. diff massfit vs scan ref "
          f"{np.max(np.abs(g_a - g_a_ref)) / np.max(np.abs(g_a_ref)):.1e}")
    print(f"d/dk massfit reverse: {rev_k / fwd:.2f}x its forward pass, "
          f"{rev_k / ckpt_k:.2f}x the checkpointed scan ref; "
          f"target {c.target(rev_k * scale, K_TARGETS[0])} s, "
          f"{c.target(mem_k * scale, K_TARGETS[1])} MB{scaled}")
    fwd_mode = results["d/dk massfit forward (jacfwd)"]
    print(f"d/dk massfit forward mode: {fwd_mode[0] / fwd:.2f}x its forward pass, "
          f"{fwd_mode[1]:.1f} MB; target {c.target(fwd_mode[0] * scale, K_TARGETS[0])} s, "
          f"{c.target(fwd_mode[1] * scale, K_TARGETS[1])} MB{scaled}")
    fwd_o = results["forward pass (loss), online FC"][0]
    for mode in ("reverse", "forward (jacfwd)"):
        wall, mb, _ = results[f"d/dk online FC {mode}"]
        print(f"d/dk online FC {mode}: {wall / fwd_o:.2f}x its forward pass, {mb:.1f} MB "
              f"(compile the 10 s one for its memory: the checkpoints are capped)")
    print(f"d/da massfit reverse: {rev_a / fwd_a:.2f}x its forward pass "
          f"({c.target(rev_a / fwd_a, A_TARGETS[0])}), {rev_a / ckpt_a:.2f}x the scan ref; "
          f"{c.target(mem_a * scale, A_TARGETS[1])} MB{scaled}")
    first_step_of_fit(net, seconds, target)
    print(f"load after: {c.load()}")


def first_step_of_fit(net, seconds, target):
    """The wall time of `massfit.fit(..., n_steps=1)` cold (compiling its step) and warm."""
    start = eqx.tree_at(lambda m: m.k, net, massfit.Positive(0.5))

    def loss_fn(model):
        x = massfit.simulate(model, duration=seconds * 1000.0, dt=c.DT, variables="x")["x"]
        return jnp.mean((c.fc(x) - target) ** 2)

    optimiser = optax.adam(1e-2)
    print()
    print(f"{'first step of a fit (n_steps=1)':<42} {'cold s':>8} {'warm s':>8} {'compile s':>9}")
    for mode in ("forward", "reverse"):
        walls = []
        for _ in range(2):
            t0 = time.perf_counter()
            massfit.fit(
                start, optimiser, trainable="k", n_steps=1, loss_fn=loss_fn, mode=mode,
                progress=False,
            )
            walls.append(time.perf_counter() - t0)
        name = f"fit, trainable k, mode={mode!r}"
        print(f"{name:<42} {walls[0]:>8.1f} {walls[1]:>8.1f} {walls[0] - walls[1]:>9.1f}",
              flush=True)


if __name__ == "__main__":
    main()
