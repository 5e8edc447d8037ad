"""The files a benchmark writes: its JSON measurement (or the committed one read back) and its pages.

    report = measured_or_committed(f"{output}.json", measure, render_only)   # measure() unless render_only
    write_text(f"{output}.md", render(report))
    update_readme("README.md", "latency", table(report))                      # the README's generated block
"""

from __future__ import annotations

import json
from collections.abc import Callable

from benchmarks import readme_block


def measured_or_committed(json_path: str, measure: Callable[[], dict], render_only: bool) -> dict:
    """`measure()` written to `json_path` (indented, keys sorted) and read back; with `render_only`, only read."""
    if not render_only:
        report = measure()
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, sort_keys=True)
            f.write("\n")
    with open(json_path, encoding="utf-8") as f:
        return json.load(f)


def write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def update_readme(readme_path: str, name: str, lines: list[str]) -> None:
    """Replace benchmark `name`'s block of the README at `readme_path` by `lines` (`readme_block`)."""
    with open(readme_path, encoding="utf-8") as f:
        readme = readme_block.replace_block(f.read(), name, lines)
    write_text(readme_path, readme)
    print(f"updated the {name} table in {readme_path}")
