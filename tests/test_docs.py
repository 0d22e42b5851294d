"""Every ```python block of the guides runs as written: the blocks of a page run in order, in
one namespace, in a fresh directory (as a reader would paste them)."""

import pathlib
import re
import subprocess
import sys

import pytest


ROOT = pathlib.Path(__file__).resolve().parents[1]
# Pages whose blocks run real fits or long simulations (a minute or more) run with -m slow.
SLOW = {
    "brainmass.md", "compose_objective.md", "data.md", "fitting.md", "gallery.md",
    "getting_started.md", "models.md", "observation.md", "reliability.md", "sweeps.md",
}
PAGES = sorted(p.name for p in (ROOT / "docs").glob("*.md") if not p.name.startswith("_"))

RUNNER = """
import re, sys
text = open(sys.argv[1]).read()
namespace = {"__name__": "__main__"}
for i, block in enumerate(re.findall(r"```python\\n(.*?)```", text, re.S)):
    exec(compile(block, f"{sys.argv[1]}, block {i + 1}", "exec"), namespace)
"""


def _run(page: pathlib.Path, cwd: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(page)], cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-4000:]


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in PAGES]
)
def test_guide_blocks_run(name, tmp_path):
    _run(ROOT / "docs" / name, tmp_path)


def test_every_guide_block_is_python_that_parses():
    # Cheap and in the default suite for every page, slow ones included.
    for name in PAGES:
        text = (ROOT / "docs" / name).read_text()
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
            compile(block, f"{name}, block {i + 1}", "exec")
