"""The documentation site builds with `mkdocs build --strict` (warnings fail it: a broken
link, a missing page, a docstring mkdocstrings cannot render), offline; the API pages cover
the public API; the figures the pages show exist. The pages' code blocks are run by
test_docs.py, not here."""

import os
import pathlib
import re
import subprocess
import sys

import pytest


ROOT = pathlib.Path(__file__).resolve().parents[1]
SUBMODULES = (
    "metrics", "objectives", "observation", "io", "datasets", "stimuli", "viz", "designs"
)


def _exported(path: pathlib.Path) -> list[str]:
    """The names an `__init__` re-exports (`from ._x import Y as Y`), public ones only."""
    return [n for n in re.findall(r"\b(\w+) as \1\b", path.read_text()) if not n.startswith("_")]


def _documented() -> set[str]:
    text = "\n".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md"))
    return set(re.findall(r"^::: ([\w.]+)", text, re.M))


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    pytest.importorskip("material")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "WARNING" not in output, output[-4000:]
    page = (tmp_path / "api" / "viz" / "index.html").read_text()
    assert 'id="massfit.viz.timeseries"' in page  # the reference is rendered, not empty


def test_api_pages_cover_the_public_api():
    documented = _documented()
    top = [n for n in _exported(ROOT / "src" / "massfit" / "__init__.py") if n not in SUBMODULES]
    missing = [
        f"massfit.{n}"
        for n in top
        if f"massfit.{n}" not in documented
        and not any(f"massfit.{m}.{n}" in documented for m in SUBMODULES)  # e.g. BOLD
    ]
    for module in SUBMODULES:
        init = ROOT / "src" / "massfit" / f"{module}.py"
        if not init.exists():
            init = ROOT / "src" / "massfit" / module / "__init__.py"
        missing += [
            f"massfit.{module}.{n}"
            for n in _exported(init)
            if f"massfit.{module}.{n}" not in documented and f"massfit.{n}" not in documented
        ]
    assert not missing, f"not in docs/api/*.md: {missing}"


def test_pages_show_figures_that_exist():
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    for page in pages:
        for target in re.findall(r'(?:!\[[^\]]*\]\(|src=")([^)"]+\.png)', page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} shows missing {target}"
