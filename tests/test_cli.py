"""The `massfit` command: each subcommand through a subprocess (exit codes, files written,
`--help`), the example configurations at tiny size, and a bad configuration for every section
(checked in-process through the configuration reader, where a subprocess adds nothing)."""

import copy
import json
import math
import os
import pathlib
import subprocess
import sys
import tomllib

import numpy as np
import pytest

import massfit
from massfit import _config
from massfit.cli import main


ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "examples" / "configs"
SIMULATE = CONFIGS / "simulate_hopf.toml"
FIT = CONFIGS / "fit_example_signal.toml"
# Tiny sizes: 2 s with a 1 s transient (500 samples of x every 2 ms, one 720 ms BOLD sample at
# 1440 ms); the fit compares 400 ms (200 samples) over 2 steps.
TINY_SIMULATE = ["--set", "simulate.duration=2000"]
SWEEP = CONFIGS / "sweep_example_signal.toml"
TINY_SWEEP = [
    "--set", "simulate.duration=600",
    "--set", "simulate.transient=200",
    "--set", "objective.target.options.duration=400",
    "--set", "sweep.axes.k.linear=[0.01, 0.03, 3]",
    "--set", "sweep.axes.speed.log=[2.0, 8.0, 2]",
    "--set", "sweep.chunk_size=4",
]
TINY_FIT = [
    "--set", "simulate.duration=600",
    "--set", "simulate.transient=200",
    "--set", "objective.target.options.duration=400",
    "--set", "fit.n_steps=2",
]


def _massfit(*args, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [sys.executable, "-m", "massfit", *map(str, args)],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=600,
    )


# --- subcommands through a subprocess --------------------------------------------------------


def _main(capsys, *args) -> tuple[int, str, str]:
    """The command in-process (where a subprocess would only add a second of start-up)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exit:  # argparse: --help and usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["models", "datasets", "simulate", "fit", "sweep"])
def test_help_of_every_command(capsys, command):
    code, out, _ = _main(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: massfit {command}")
    if command in ("simulate", "fit", "sweep"):
        assert "--set KEY=VALUE" in out and "config" in out and "[objective]" in out


def test_help_through_the_installed_module():
    done = _massfit("fit", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: massfit fit")


def test_models_lists_the_catalogue_and_describes_one(capsys):
    done = _massfit("models")
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()[2:] if line[:1].isalpha()]
    assert {"Hopf", "JansenRit", "WilsonCowan"} <= set(names)
    assert set(names) - {"massfit.describe_model(name):"} == {
        info.name for info in massfit.list_models()
    }
    code, out, _ = _main(capsys, "models", "Hopf")
    assert code == 0 and "omega" in out and "rad/ms" in out
    code, _, err = _main(capsys, "models", "Hopff")
    assert code == 2 and 'did you mean "Hopf"' in err


def test_datasets_lists_every_registered_dataset():
    done = _massfit("datasets")
    assert done.returncode == 0, done.stderr
    listed = [line for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert listed == list(massfit.datasets.list_datasets())


def test_usage_errors_exit_2(capsys, tmp_path):
    done = _massfit("simulate")  # no CONFIG
    assert done.returncode == 2 and "required: config" in done.stderr
    assert _main(capsys)[0] == 2  # no command: the help, exit 2
    code, _, err = _main(capsys, "simulate", SIMULATE, "--set", "simulate.duration")
    assert code == 2 and "KEY.PATH=VALUE" in err
    code, _, err = _main(capsys, "fit", tmp_path / "nope.toml")
    assert code == 2 and "cannot read the configuration" in err
    (tmp_path / "bad.toml").write_text("[model\nname = 1")
    code, _, err = _main(capsys, "fit", tmp_path / "bad.toml")
    assert code == 2 and "not valid TOML" in err


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("simulate") / "out"
    done = _massfit("simulate", SIMULATE, "--output", out, *TINY_SIMULATE)
    return done, out


def test_simulate_example_writes_trajectory_and_summary(simulated):
    done, out = simulated
    assert done.returncode == 0, done.stderr
    assert "simulated in" in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "simulate"
    assert summary["massfit_version"] == massfit.__version__
    assert summary["config"]["simulate"]["duration"] == 2000  # the override, echoed
    assert summary["timings"]["simulate_s"] > 0
    trajectory = massfit.io.load_result(out / "trajectory.npz", massfit.Trajectory)
    # (2000 - 1000) / 2 samples of x after the transient, every 2 ms, 8 regions.
    assert trajectory.variables == ("x",)
    assert trajectory.ys.shape == (500, 1, 8)
    np.testing.assert_allclose(np.asarray(trajectory.ts), 1000.0 + 2.0 * np.arange(1, 501))
    assert np.all(np.isfinite(np.asarray(trajectory.ys)))
    # BOLD every 720 ms: the one sample after the transient is at 1440 ms.
    assert trajectory.observed["bold"].shape == (1, 8)
    np.testing.assert_allclose(np.asarray(trajectory.observed_ts["bold"]), [1440.0])
    assert summary["trajectory"]["observed"] == {"bold": [1, 8]}


def test_simulate_plots_or_says_why_not(simulated):
    _, out = simulated
    summary = json.loads((out / "summary.json").read_text())
    try:
        import massfit.viz  # noqa: F401
    except ImportError:
        assert summary["plots"] == [] and "massfit.viz" in summary["plot_note"]
        pytest.skip("massfit.viz is not in this build")
    assert "timeseries_x.png" in summary["plots"]
    for name in summary["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runtime_failure_exits_1(tmp_path):
    # A valid configuration whose run fails (the output directory is a file): exit 1, the
    # error on stderr, no traceback unless asked for.
    blocker = tmp_path / "taken"
    blocker.write_text("")
    done = _massfit("simulate", SIMULATE, "--output", blocker, *TINY_SIMULATE)
    assert done.returncode == 1, done.stderr
    assert "massfit simulate: error: FileExistsError" in done.stderr
    assert "Traceback" not in done.stderr and "--traceback" in done.stderr


def test_fit_example_writes_result_and_summary(tmp_path):
    out = tmp_path / "out"
    done = _massfit("fit", FIT, "--output", out, *TINY_FIT)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())["fit"]
    assert summary["trainable"] == ["k"]
    assert summary["initial"]["k"] == pytest.approx(0.005, rel=1e-6)
    assert summary["truth"] == {"k": 0.02}
    assert len(summary["history"]) == 2
    assert summary["best_loss"] == pytest.approx(min(summary["history"]))
    result = massfit.io.load_result(out / "fit_result.npz", massfit.FitResult)
    assert result.best_loss == pytest.approx(summary["best_loss"])
    assert float(result.best_params["k"]) == pytest.approx(summary["best_params"]["k"])
    k = massfit.unwrap(result.model).k
    assert float(k) == pytest.approx(summary["best_params"]["k"], rel=1e-6)
    assert isinstance(result.model.k, massfit.Positive)  # [fit] positive = ["k"]
    arrays = np.load(out / "prediction.npz")
    # (600 - 200) / 2 samples of the 8 regions, like the 400 ms target.
    assert arrays["prediction"].shape == arrays["target"].shape == (200, 8)
    assert np.all(np.isfinite(arrays["prediction"]))
    header = massfit.io.read_model_header(out / "best_model.eqx")
    assert header["class"].endswith("Network")


def test_fit_bad_config_exits_2_through_the_command(tmp_path):
    done = _massfit("fit", FIT, "--set", 'fit.method="adam"')
    assert done.returncode == 2
    assert '[fit].method = "adam": allowed values are "gradient", "cma_es"' in done.stderr
    assert "Traceback" not in done.stderr


def test_sweep_bad_axis_exits_2(tmp_path):
    done = _massfit("sweep", SWEEP, "--set", "sweep.axes.kk=[0.01, 0.02]")
    assert done.returncode == 2
    assert "[sweep.axes].kk: not a parameter path" in done.stderr and '"k"' in done.stderr


def _sweep_example(out):
    done = _massfit("sweep", SWEEP, "--output", out, *TINY_SWEEP)
    assert done.returncode == 0, done.stderr
    return json.loads((out / "summary.json").read_text()), np.load(out / "sweep.npz")


def test_sweep_example_writes_the_map(tmp_path):
    summary, arrays = _sweep_example(tmp_path / "out")
    ks, speeds = arrays["coords.k"], arrays["coords.speed"]
    np.testing.assert_allclose(ks, np.linspace(0.01, 0.03, 3))
    np.testing.assert_allclose(speeds, np.geomspace(2.0, 8.0, 2))
    loss = arrays["loss"]
    assert loss.shape == (3, 2) and np.all(np.isfinite(loss))
    best = summary["sweep"]["best"]
    i, j = np.unravel_index(np.argmin(loss), loss.shape)
    assert best["index"] == [int(i), int(j)] and best["loss"] == pytest.approx(loss[i, j])
    assert best["coords"]["k"] == pytest.approx(ks[i])
    assert "sweep_map.png" in summary["plots"]


@pytest.mark.slow
def test_sweep_example_resumes_from_its_chunks(tmp_path):
    out = tmp_path / "out"
    _, first = _sweep_example(out)
    # The same command again resumes from the finished chunks: the same numbers.
    _, again = _sweep_example(out)
    np.testing.assert_array_equal(again["loss"], first["loss"])


# --- the configuration, in-process: a bad value in each section --------------------------------


def _plan(config: dict, command: str = "fit") -> _config.Plan:
    return _config.plan(config, CONFIGS, command, pathlib.Path("unused"))


@pytest.fixture(scope="module")
def fit_config(tmp_path_factory):
    # The example fit with its target read from a file (the subprocess test above loads the
    # dataset; here nothing is simulated): 200 samples of 8 regions, every 2 ms.
    path = tmp_path_factory.mktemp("target") / "target.npz"
    rng = np.random.default_rng(0)
    np.savez(path, data=rng.standard_normal((200, 8)), dt=2.0)
    config = tomllib.loads(FIT.read_text())
    config["objective"]["target"] = {"file": str(path), "time_axis": 0}
    config["simulate"].update(duration=600.0, transient=200.0)
    return config


def _with(config: dict, path: str, value) -> dict:
    config = copy.deepcopy(config)
    keys = path.split(".")
    node = config
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return config


_DELETE = object()

# (key path, bad value, words the message must hold: the key and the allowed values)
BAD = [
    ("model.name", "Hopff", ['[model].name = "Hopff"', '"Hopf"', '"JansenRit"', "did you mean"]),
    ("model.omegaa", 1.0, ['[model]: unknown key "omegaa"', '"omega"', '"beta"']),
    ("model.a", "fast", ["[model].a", "expected a number"]),
    ("connectome.dataset", "example", ["[connectome].dataset", '"example_connectome"']),
    ("connectome.file", "w.npz", ["[connectome] needs exactly one of", "`dataset`", "`file`"]),
    ("network.coupling", "tanhh", ['[network].coupling = "tanhh"', '"diffusive"', '"tanh"']),
    ("network.kk", 1.0, ['[network]: unknown key "kk"', '"k"', '"speed"']),
    ("network.speed", -5.0, ["[network].speed = -5.0", "positive number"]),
    ("network.noise.type", "white", ['[network.noise].type = "white"', '"additive"']),
    ("network.noise.sigmaa", 0.1, ['[network.noise]: unknown key "sigmaa"', '"sigma"']),
    ("network.coupled", ["z"], ["[network]", "'z'"]),
    ("simulate.solver", "rk45", ['[simulate].solver = "rk45"', '"heun", "euler", "rk4"']),
    ("simulate.transient", 600.0, ["[simulate].transient = 600.0", "less than"]),
    ("simulate.dt", 0.0, ["[simulate].dt = 0.0", "positive number"]),
    ("simulate.duration", 600.1, ["[simulate].duration = 600.1", "whole number of steps"]),
    ("simulate.variables", ["q"], ['"q" is not a variable of Hopf', '"x", "y"']),
    ("objective.terms.0.name", "fc", ['[[objective.terms]][0].name = "fc"', '"fc_corr"']),
    ("objective.terms.0.bands", [1, 2], ['[[objective.terms]][0]: unknown key "bands"', '"band"']),
    ("objective.prediction", "bold", ['[objective].prediction = "bold"', '"x"']),
    ("objective.target.dataset", "example_sig", ["[objective.target].dataset", "example_signal"]),
    ("objective.target.kind", "fcd", ['[objective.target].kind = "fcd"', '"series", "fc"']),
    ("simulate.duration", 800.0, ["[objective.target] has shape (200, 8)", "(300, 8)"]),
    ("simulate.save_every", 4.0, ["sampled every 2.0 ms", '"x" every 4.0 ms', "save_every"]),
    ("objective.terms", [], ["[objective].terms is required", '"psd_distance"']),
    ("fit.method", "bfgs", ['[fit].method = "bfgs"', '"gradient", "cma_es"', "multistart"]),
    ("fit.optimiser", "adamm", ['[fit].optimiser = "adamm"', '"adam"', '"sgd"']),
    ("fit.trainable", ["kk"], ["[fit].trainable", "'kk'", "'k'"]),
    ("fit.bounds", {"k": [0.1, 0.01]}, ["[fit.bounds].k", "lower < upper"]),
    ("fit.population_size", 8, ['[fit].population_size applies to method "cma_es"']),
    ("fit.n_steps", 0, ["[fit].n_steps = 0", "positive integer"]),
    ("fit.schedule", "step", ['[fit].schedule = "step"', '"constant", "cosine"']),
    ("output.plot", False, ['[output]: unknown key "plot"', '"plots"']),
    ("output.plots", "no", ['[output].plots = "no"', "true or false"]),
    ("outputs.directory", "x", ["unknown section [outputs]", '"output"']),
]


@pytest.mark.parametrize("path, value, words", BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_bad_config_names_key_and_allowed_values(fit_config, path, value, words):
    config = _with(fit_config, path, value)
    if path == "connectome.file":  # both a dataset and a file
        config["connectome"]["dataset"] = "example_connectome"
    if path == "objective.target.dataset":
        del config["objective"]["target"]["file"]
    if path == "fit.bounds":
        config["fit"]["positive"] = []
    with pytest.raises(_config.ConfigError) as info:
        _plan(config)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_bad_observer_config(fit_config):
    config = tomllib.loads(SIMULATE.read_text())
    bad = [
        ("observers.0.type", "bolt", ['[[observers]][0].type = "bolt"', '"bold"', '"subsample"']),
        ("observers.0.drive", "z", ['[[observers]][0].drive = "z"', '"x", "y"']),
        ("observers.0.periods", 1.0, ['[[observers]][0]: unknown key "periods"', '"period"']),
        ("observers.0.period", _DELETE, ["[[observers]][0].period is required"]),
    ]
    for path, value, words in bad:
        with pytest.raises(_config.ConfigError) as info:
            _plan(_with(config, path, value), "simulate")
        for word in words:
            assert word in str(info.value), str(info.value)


def test_bad_sweep_config(fit_config):
    config = _with(fit_config, "fit", _DELETE)
    bad = [
        ({"axes": {"k": {"logg": [1, 2, 3]}}}, ['[sweep.axes].k.logg', '"linear", "log"']),
        ({"axes": {"k": {"log": [0.0, 1.0, 3]}}}, ["[sweep.axes].k.log", "positive lower"]),
        ({"axes": {"k": [0.1]}, "chunk": 4}, ['[sweep]: unknown key "chunk"', '"chunk_size"']),
        ({}, ["[sweep].axes is required"]),
    ]
    for sweep, words in bad:
        with pytest.raises(_config.ConfigError) as info:
            _plan({**config, "sweep": sweep}, "sweep")
        for word in words:
            assert word in str(info.value), str(info.value)


# --- what the configuration builds ------------------------------------------------------------


def test_config_builds_the_documented_objects(fit_config):
    config = _with(fit_config, "fit.bounds", {"node.a": [-0.05, -0.001]})
    config["fit"]["trainable"] = ["k", "node.a"]
    plan = _plan(config)
    net = plan.network
    assert isinstance(net.node, massfit.Hopf) and isinstance(net.coupling, massfit.Diffusive)
    assert isinstance(net.noise, massfit.AdditiveNoise)
    assert float(net.noise.sigma) == 0.005 and float(net.speed) == 5.0
    assert isinstance(net.k, massfit.Positive) and isinstance(net.node.a, massfit.Bounded)
    # The constraints hold the configured starting values.
    physical = massfit.unwrap(net)
    assert float(physical.k) == pytest.approx(0.005, rel=1e-6)
    assert float(physical.node.a) == pytest.approx(-0.01, rel=1e-6)
    assert float(net.node.a.lower) == -0.05 and float(net.node.a.upper) == -0.001
    assert plan.simulate.kwargs["dt"] == 0.2 and plan.simulate.seed == 1
    # Spectral terms take the prediction's sampling interval; scores become losses.
    assert plan.objective.terms[0] == {
        "name": "psd_distance", "weight": 1.0, "band": (2.0, 40.0), "dt": 2.0
    }
    config["objective"]["terms"].append({"name": "fc_corr", "weight": 0.5})
    plan = _plan(config)
    assert plan.objective.terms[-1]["as_loss"] is True
    assert not massfit.objectives.is_score(plan.objective.loss)
    config["objective"]["terms"][-1]["as_loss"] = False
    with pytest.raises(_config.ConfigError, match=r"\]\[2\]\.as_loss = False: fc_corr is a score"):
        _plan(config)


def test_sweep_axes_are_the_configured_values(fit_config):
    config = _with(fit_config, "fit", _DELETE)
    config["sweep"] = {
        "axes": {"k": {"linear": [0.0, 0.1, 5]}, "speed": {"log": [1.0, 100.0, 3]}},
        "chunk_size": 2,
    }
    sweep = _plan(config, "sweep").sweep
    np.testing.assert_allclose(sweep.axes["k"], [0.0, 0.025, 0.05, 0.075, 0.1])
    np.testing.assert_allclose(sweep.axes["speed"], [1.0, 10.0, 100.0])
    assert sweep.n_points == 15 and sweep.chunk_size == 2


def test_overrides_set_values_tables_and_list_items():
    config = {"simulate": {"dt": 0.1}, "observers": [{"type": "bold", "period": 720.0}]}
    _config.apply_override(config, "simulate.duration=500")
    _config.apply_override(config, "observers.0.period=1000.5")
    _config.apply_override(config, "output.directory=runs/a")
    _config.apply_override(config, 'simulate.variables=["x", "y"]')
    assert config["simulate"] == {"dt": 0.1, "duration": 500, "variables": ["x", "y"]}
    assert config["observers"][0]["period"] == 1000.5
    assert config["output"] == {"directory": "runs/a"}
    with pytest.raises(_config.ConfigError, match="not an index"):
        _config.apply_override(config, "observers.3.period=1")


def _toml(config: dict) -> str:
    """A minimal TOML writer for the tests' configurations (tables, arrays of tables)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, float):
            return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else "inf")
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        return str(v)

    lines = []
    for section, table in config.items():
        entries = table if isinstance(table, list) else [table]
        for entry in entries:
            lines.append(f"[[{section}]]" if isinstance(table, list) else f"[{section}]")
            for key, v in entry.items():
                lines.append(f"{key} = {value(v)}")
    text = "\n".join(lines) + "\n"
    assert tomllib.loads(text) == config
    return text


def test_plots_are_drawn_by_massfit_viz_and_failures_recorded(monkeypatch, tmp_path):
    # The plot helper against a stand-in `massfit.viz` (the real one may not be in this build):
    # each requested plot is drawn with the named function and saved; one that raises is
    # recorded, not fatal.
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import types

    import matplotlib.pyplot as plt

    calls = []

    def timeseries(data, *, dt):
        calls.append(("timeseries", np.shape(data), dt))
        fig, ax = plt.subplots()
        ax.plot(np.asarray(data))
        return fig, ax

    def fc(matrix):
        raise ValueError("no FC today")

    viz = types.ModuleType("massfit.viz")
    viz.timeseries, viz.fc = timeseries, fc
    monkeypatch.setitem(sys.modules, "massfit.viz", viz)
    monkeypatch.setattr(massfit, "viz", viz, raising=False)
    from massfit import cli

    output = _config.OutputSettings(tmp_path, plots=True, trajectory=True)
    plan = types.SimpleNamespace(output=output)
    series = np.ones((5, 3))
    out = cli._plots(
        plan, [("a.png", "timeseries", (series,), {"dt": 2.0}), ("b.png", "fc", (series,), {})]
    )
    assert out["plots"] == ["a.png"]
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert calls == [("timeseries", (5, 3), 2.0)]
    assert out["plot_errors"] == {"b.png": "ValueError: no FC today"}
    off = types.SimpleNamespace(output=_config.OutputSettings(tmp_path, False, True))
    assert cli._plots(off, [("c.png", "timeseries", (series,), {"dt": 2.0})]) == {
        "plots": [], "plot_note": "[output] plots = false"
    }


@pytest.mark.slow
def test_fit_cma_es_example(tmp_path):
    out = tmp_path / "out"
    config = CONFIGS / "fit_example_signal_cma_es.toml"
    done = _massfit("fit", config, "--output", out, *TINY_FIT, "--set", "fit.population_size=4")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())["fit"]
    assert summary["method"] == "cma_es" and len(summary["history"]) == 2
    result = massfit.io.load_result(out / "fit_result.npz", massfit.FitResult)
    assert isinstance(result.model.k, massfit.Bounded)
    assert 0.001 <= float(result.best_params["k"]) <= 0.1
    assert result.best_loss == pytest.approx(min(summary["history"]))


def test_every_example_config_has_a_test():
    tested = {SIMULATE.name, FIT.name, SWEEP.name, "fit_example_signal_cma_es.toml"}
    assert {p.name for p in CONFIGS.glob("*.toml")} == tested
