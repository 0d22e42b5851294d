"""The `massfit` command: the model catalogue, the datasets, and simulations, fits and sweeps
run from TOML configurations (see docs/cli.md).

Exit codes: 0 success, 2 a usage or configuration error (the message names the key and the
allowed values; no traceback), 1 a failure while running (`--traceback` shows where).
"""

import argparse
import json
import pathlib
import sys
import time
from typing import Any


EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2

_CONFIG_HELP = (
    "Sections: [model], [connectome], [network], [simulate], [[observers]], [objective], "
    "[fit], [sweep], [output]; see docs/cli.md for every key. Relative file paths are read "
    "from the configuration's folder; the output directory is relative to the working "
    "directory."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="massfit",
        description="Whole-brain neural mass modelling: simulate, fit and sweep networks "
        "described by TOML configurations.",
        epilog="Run `massfit COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    models = commands.add_parser(
        "models",
        help="list the node models (the catalogue), or describe one",
        description="List the node models massfit ships, with their variables, number of "
        "parameters and reference; with a NAME, describe that model: equations, parameters "
        "with defaults and units.",
    )
    models.add_argument("name", nargs="?", help="a model to describe, e.g. Hopf")

    commands.add_parser(
        "datasets",
        help="list the bundled datasets",
        description="List the datasets loadable by name (in [connectome].dataset and "
        "[objective.target].dataset), with what each holds.",
    )

    for name, summary in (
        ("simulate", "simulate the network of CONFIG; write the trajectory, a summary, plots"),
        ("fit", "fit parameters of the network of CONFIG to its target; write the result"),
        ("sweep", "evaluate the objective of CONFIG over a grid of parameter values"),
    ):
        run = commands.add_parser(name, help=summary, description=summary + ". " + _CONFIG_HELP)
        run.add_argument("config", help="the TOML configuration file")
        run.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a configuration value, e.g. --set simulate.duration=500 or "
            "--set observers.0.period=720 (the value is read as TOML; repeatable)",
        )
        run.add_argument(
            "--output", metavar="DIR", help="output directory (instead of [output].directory)"
        )
        run.add_argument("--quiet", action="store_true", help="no progress bars or messages")
        run.add_argument(
            "--traceback", action="store_true", help="show the traceback of a runtime failure"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `massfit` command with `argv` (default: `sys.argv[1:]`); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)  # usage errors exit with code 2
    if args.version:
        import massfit

        print(f"massfit {massfit.__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_CONFIG
    from ._config import ConfigError

    prog = f"massfit {args.command}"
    try:
        if args.command == "models":
            return _models(args.name)
        if args.command == "datasets":
            return _datasets()
        return _run(args)
    except ConfigError as error:
        what = "error" if args.command == "models" else "configuration error"
        print(f"{prog}: {what}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if getattr(args, "traceback", False):
            import traceback

            traceback.print_exc()
        else:
            print("(run with --traceback to see where it failed)", file=sys.stderr)
        print(f"{prog}: error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _models(name: str | None) -> int:
    import massfit

    from ._config import _hint, ConfigError

    if name is None:
        print(massfit.list_models())
        return EXIT_OK
    names = [info.name for info in massfit.list_models()]
    if name not in names:
        raise ConfigError(
            f"no model is named {name!r}{_hint(name, names)}; the models are {', '.join(names)}."
        )
    print(massfit.describe_model(name))
    return EXIT_OK


def _datasets() -> int:
    import massfit

    for name, description in massfit.datasets.list_datasets().items():
        print(f"{name}\n    {description}")
    return EXIT_OK


class _Log:
    def __init__(self, quiet: bool, prog: str):
        self.quiet, self.prog = quiet, prog

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"{self.prog}: {message}", file=sys.stderr, flush=True)


def _run(args) -> int:
    from . import _config

    start = time.perf_counter()
    path = pathlib.Path(args.config)
    config = _config.read_config(path, args.overrides)
    default_output = pathlib.Path(f"{path.stem}_{args.command}")
    plan = _config.plan(config, path.parent, args.command, default_output, args.output)
    log = _Log(args.quiet, f"massfit {args.command}")
    timings = {"setup_s": time.perf_counter() - start}
    plan.output.directory.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"command": args.command, "config": config}
    if args.command == "simulate":
        summary.update(_simulate(plan, log, timings))
    elif args.command == "fit":
        summary.update(_fit(plan, log, timings, progress=not args.quiet))
    else:
        summary.update(_sweep(plan, log, timings, progress=not args.quiet))
    timings["total_s"] = time.perf_counter() - start
    _write_summary(plan, summary, timings)
    log(f"wrote {plan.output.directory}")
    return EXIT_OK


def _write_summary(plan, summary: dict, timings: dict) -> None:
    import massfit

    summary = {
        "massfit_version": massfit.__version__,
        **summary,
        "timings": {key: round(value, 4) for key, value in timings.items()},
    }
    path = plan.output.directory / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=_jsonable) + "\n")


def _jsonable(x: Any) -> Any:
    import numpy as np

    if hasattr(x, "tolist"):
        return np.asarray(x).tolist()
    if isinstance(x, pathlib.Path):
        return str(x)
    return str(x)


def _noise_key(plan):
    import jax.random as jr

    return jr.key(plan.simulate.seed) if plan.network.noise is not None else None


def _simulate(plan, log, timings: dict) -> dict:
    import massfit

    kwargs = plan.simulate.kwargs
    log(
        f"simulating {kwargs['duration']} ms of {type(plan.network.node).__name__} on "
        f"{plan.network.n_regions} regions (dt = {kwargs['dt']} ms)"
    )
    start = time.perf_counter()
    trajectory = massfit.simulate(
        plan.network, key=_noise_key(plan), observers=plan.observers or None, **kwargs
    )
    trajectory.ys.block_until_ready()
    timings["simulate_s"] = time.perf_counter() - start
    log(f"simulated in {timings['simulate_s']:.2f} s")
    files = []
    if plan.output.trajectory:
        massfit.io.save_result(plan.output.directory / "trajectory.npz", trajectory)
        files.append("trajectory.npz")
    out = {
        "trajectory": {
            "variables": list(trajectory.variables),
            "shape": list(trajectory.ys.shape),
            "observed": {name: list(v.shape) for name, v in trajectory.observed.items()},
            "diverged": bool(trajectory.diverged),
        },
        "files": files,
    }
    out.update(_plots(plan, _simulation_plots(plan, trajectory)))
    return out


def _simulation_plots(plan, trajectory) -> list:
    from . import metrics

    dt = plan.simulate.interval
    plots = []
    if trajectory.variables and trajectory.ys.shape[0] > 0:
        first = trajectory.variables[0]
        plots.append((f"timeseries_{first}.png", "timeseries", (trajectory[first],), {"dt": dt}))
        if trajectory.ys.shape[0] > 2:
            plots.append((f"fc_{first}.png", "fc", (metrics.fc(trajectory[first]),), {}))
    for name, samples in trajectory.observed.items():
        if samples.ndim == 2 and samples.shape[0] > 0:
            period = plan.observers[name].period
            plots.append((f"timeseries_{name}.png", "timeseries", (samples,), {"dt": period}))
    return plots


def _plots(plan, plots: list) -> dict:
    """Draw `(file, viz function, args, kwargs)` plots with `massfit.viz` when it is there;
    otherwise (or with `[output] plots = false`) say why none were drawn."""
    if not plan.output.plots:
        return {"plots": [], "plot_note": "[output] plots = false"}
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from . import viz
    except ImportError as error:
        return {"plots": [], "plot_note": f"plots skipped: massfit.viz is not available ({error})"}
    written, failed = [], {}
    for file, function, args, kwargs in plots:
        try:
            fig, _ = getattr(viz, function)(*args, **kwargs)
            fig.savefig(plan.output.directory / file, dpi=100)
            plt.close(fig)
            written.append(file)
        except Exception as error:  # a plot is a by-product: never fail the run for it
            failed[file] = f"{type(error).__name__}: {error}"
    out: dict[str, Any] = {"plots": written}
    if failed:
        out["plot_errors"] = failed
    return out


def _predictor(plan):
    import massfit

    prediction = plan.objective.prediction
    kwargs = dict(plan.simulate.kwargs)
    key = _noise_key(plan)
    if prediction in plan.observers:
        observers = {prediction: plan.observers[prediction]}
        return lambda net: massfit.simulate(net, key=key, observers=observers, **kwargs).observed[
            prediction
        ]
    kwargs["variables"] = (prediction,)
    return lambda net: massfit.simulate(net, key=key, **kwargs)[prediction]


def _fit(plan, log, timings: dict, progress: bool) -> dict:
    import jax
    import jax.random as jr
    import numpy as np

    import massfit

    from ._config import optimiser

    settings = plan.fit
    predict = _predictor(plan)
    objective, target = plan.objective.loss, plan.objective.target

    def loss_fn(network):
        # The prediction rides along as `aux`: the result keeps the best one (no second run).
        prediction = predict(network)
        return objective(prediction, target), prediction

    common = dict(trainable=list(settings.trainable), loss_fn=loss_fn, progress=progress)
    key = jr.key(settings.seed)
    initial = {
        path: np.asarray(massfit.unwrap(massfit.get_by_path(plan.network, path)))
        for path in massfit.parameter_paths(plan.network)
        if any(_matches(path, pattern) for pattern in settings.trainable)
    }
    log(f"fitting {', '.join(initial)} by {settings.method} ({settings.n_steps} steps)")
    start = time.perf_counter()
    options = dict(settings.options)
    extra: dict[str, Any] = {}
    if settings.method == "gradient":
        result = massfit.fit(
            plan.network, optimiser(settings), n_steps=settings.n_steps, mode=options["mode"],
            **common,
        )
    elif settings.method == "multistart":
        many = massfit.multistart(
            plan.network, optimiser(settings), n_steps=settings.n_steps,
            n_starts=options["n_starts"], key=key, mode=options["mode"], **common,
        )
        result = many.best
        extra["multistart"] = {"best_index": many.best_index, "losses": many.losses}
    else:
        search = massfit.cma_es if settings.method == "cma_es" else massfit.differential_evolution
        kwargs = {k: v for k, v in options.items() if k in ("population_size", "sigma0")}
        result = search(
            plan.network, key=key, n_generations=settings.n_steps, **kwargs, **common
        )
    timings["fit_s"] = time.perf_counter() - start
    log(f"best loss {result.best_loss:.6g} at step {result.best_step} ({timings['fit_s']:.1f} s)")

    directory = plan.output.directory
    massfit.io.save_result(directory / "fit_result.npz", result)
    massfit.io.save_model(directory / "best_model.eqx", result.model)
    files = ["fit_result.npz", "best_model.eqx"]
    best = None if result.aux is None else np.asarray(jax.device_get(result.aux))
    target_values = getattr(target, "values", None)
    if plan.output.trajectory and best is not None:
        arrays = {"prediction": best}
        if target_values is not None:
            arrays["target"] = np.asarray(target_values)
        np.savez(directory / "prediction.npz", **arrays)
        files.append("prediction.npz")
    truth = plan.objective.truth
    out = {
        "fit": {
            "method": result.method,
            "trainable": list(initial),
            "initial": initial,
            "best_params": result.best_params,
            "truth": {p: truth[p] for p in initial if p in truth} if truth else None,
            "best_loss": result.best_loss,
            "best_step": result.best_step,
            "n_steps": result.n_steps,
            "stopped_early": result.stopped_early,
            "reason": result.reason,
            "history": result.history,
            **extra,
        },
        "objective": {
            "prediction": plan.objective.prediction,
            "terms": list(plan.objective.terms),
        },
        "files": files,
    }
    out.update(_plots(plan, _fit_plots(plan, result, best, target, truth)))
    return out


def _matches(path: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(path, pattern) or path == pattern


def _fit_plots(plan, result, best, target, truth) -> list:
    from . import metrics

    plots = [("fit_history.png", "fit_history", (result,), {"truth": truth} if truth else {})]
    if best is not None and best.ndim == 2 and best.shape[0] > 2:
        target_fc = getattr(target, "matrix", None)
        if target_fc is None and getattr(target, "values", None) is not None:
            target_fc = metrics.fc(target.values)
        if target_fc is not None:
            plots.append(("fc_scatter.png", "fc_scatter", (metrics.fc(best), target_fc), {}))
        dt = plan.objective.target_dt or plan.simulate.interval
        plots.append(("prediction.png", "timeseries", (best,), {"dt": dt}))
    return plots


def _sweep(plan, log, timings: dict, progress: bool) -> dict:
    import numpy as np

    import massfit

    predict = _predictor(plan)
    loss, target, sweep = plan.objective.loss, plan.objective.target, plan.sweep

    def fn(network):
        return loss(predict(massfit.unwrap(network)), target)

    log(f"sweeping {', '.join(sweep.axes)} ({sweep.n_points} points)")
    start = time.perf_counter()
    result = massfit.sweep(
        fn, plan.network, sweep.axes, chunk_size=sweep.chunk_size,
        directory=plan.output.directory / "chunks", progress=progress,
    )
    timings["sweep_s"] = time.perf_counter() - start
    values = np.asarray(result.values)
    coords = {name: np.asarray(c) for name, c in result.coords.items()}
    arrays = {f"coords.{name}": c for name, c in coords.items()}
    np.savez(plan.output.directory / "sweep.npz", loss=values, **arrays)
    finite = np.isfinite(values)
    try:
        point = result.best()  # never a failed or non-finite point
        best = {
            "index": list(point.index),
            "loss": float(point.value),
            "coords": {name: np.asarray(v).tolist() for name, v in point.coords.items()},
        }
    except ValueError:  # no finite point
        best = None
    out = {
        "sweep": {"axes": list(sweep.axes), "shape": list(values.shape), "best": best,
                  "n_nonfinite": int((~finite).sum())},
        "files": ["sweep.npz"],
    }
    out.update(_plots(plan, [("sweep_map.png", "sweep_map", (values, coords), {})]))
    return out


if __name__ == "__main__":
    sys.exit(main())
