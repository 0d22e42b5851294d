"""Make the gallery's figures: run the Python blocks of docs/gallery.md, in order and in one
namespace, inside docs/figures/ (each block saves its figure there). The README shows two
of them. About two minutes on a 2-core CPU.

    python3 examples/gallery.py
"""

import os
import pathlib
import re
import time


ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "gallery.md"
FIGURES = ROOT / "docs" / "figures"


def main() -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    FIGURES.mkdir(exist_ok=True)
    os.chdir(FIGURES)
    namespace = {"__name__": "__main__"}
    for i, block in enumerate(blocks, start=1):
        start = time.perf_counter()
        exec(compile(block, f"{PAGE.name}, block {i}", "exec"), namespace)
        print(f"block {i}/{len(blocks)}: {time.perf_counter() - start:.1f} s")
    made = sorted(p.name for p in FIGURES.glob("*.png"))
    print(f"figures in {FIGURES.relative_to(ROOT)}: {', '.join(made)}")


if __name__ == "__main__":
    main()
