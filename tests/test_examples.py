"""The examples run and print what they promise (slow: they are real fits)."""

import pathlib
import re
import subprocess
import sys

import pytest


ROOT = pathlib.Path(__file__).resolve().parents[1]
# brainmass's "Compose a Custom Objective" page, for the same inputs (float32 there).
SEED_VALUES = {
    "timeseries_rmse": 1.433825135231018,
    "fc_corr (score)": -0.19663743674755096,
    "fc_corr (loss)": 1.1966373920440674,
    "cosine_sim": -0.025183098390698433,
    "fcd (loss)": 0.5260788798332214,
    "combined loss": 2.0321438312530518,
}


def _run_example(name: str, timeout: float) -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout


def _number(text: str, label: str) -> float:
    match = re.search(re.escape(label) + r"\s*:?\s*([-+0-9.e]+)", text)
    assert match, f"{label!r} not printed"
    return float(match.group(1))


@pytest.mark.slow
def test_compose_objective_example_recovers_the_truth():
    out = _run_example("compose_objective.py", timeout=900)
    for label, value in SEED_VALUES.items():
        assert _number(out, label) == pytest.approx(value, rel=1e-6), label
    assert "(2.0 + 0.5) * 1.0 = 2.5" in out
    assert "refused: Term 0 (fc_corr) is a score" in out
    # Peaks 5, 10, 20, 30 Hz against 8, 16, 28, 40 Hz: mean of 3², 6², 8², 10².
    assert _number(out, "hand-written peak loss (pred vs fast), Hz^2") == 52.25
    # The limit cycle of the Hopf normal form has amplitude sqrt(a / beta): a = 1.2² = 1.44.
    assert _number(out, "fitted a") == pytest.approx(1.44, abs=2e-3)
    # k of example_signal, fitted with another noise realisation than the target's.
    for method in ("gradient", "CMA-ES"):
        line = re.search(rf"k by {method}\s*: fitted ([0-9.]+)\s+true ([0-9.]+)", out)
        assert line, f"k by {method} not printed"
        fitted, true = float(line.group(1)), float(line.group(2))
        assert true == 0.02
        assert fitted == pytest.approx(true, rel=0.1), method


@pytest.mark.slow
def test_readme_python_example_runs_and_recovers_k():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=900, check=True
    ).stdout
    fitted, true = (float(v) for v in out.split()[-2:])
    assert fitted == pytest.approx(true, rel=0.1)


@pytest.mark.slow
def test_fit_bold_fc_example_recovers_the_coupling():
    out = _run_example("fit_bold_fc.py", timeout=1800)
    assert "805 BOLD samples of 80 regions" in out  # 10 min at TR 720 ms, less 20 s
    for method in ("gradient", "CMA-ES"):
        line = re.search(
            rf"k by {method}\s*: fitted ([0-9.]+)\s+true ([0-9.]+)\s+FC correlation ([0-9.]+)",
            out,
        )
        assert line, f"k by {method} not printed"
        fitted, true, corr = (float(g) for g in line.groups())
        assert true == 0.01
        assert fitted == pytest.approx(true, rel=0.1), method
        assert 0.5 < corr < 1.0, method
