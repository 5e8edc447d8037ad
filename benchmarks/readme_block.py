"""A benchmark's generated table inside the README, between two marker comments.

    text = replace_block(readme, "latency", lines)   # the lines between the latency block's markers replaced
"""

from __future__ import annotations


def markers(name: str) -> tuple[str, str]:
    """The begin and end comments of benchmark `name`'s block, e.g. `<!-- benchmarks.latency table: begin -->`."""
    return f"<!-- benchmarks.{name} table: begin -->", f"<!-- benchmarks.{name} table: end -->"


def replace_block(readme: str, name: str, lines: list[str]) -> str:
    """`readme` with the text between benchmark `name`'s markers replaced by `lines`.

    Raises:
        ValueError: the README has no such block.
    """
    begin_marker, end_marker = markers(name)
    begin, end = readme.find(begin_marker), readme.find(end_marker)
    if begin < 0 or end < begin:
        raise ValueError(f"the README has no {begin_marker} ... {end_marker} block")
    return readme[:begin + len(begin_marker)] + "\n" + "\n".join(lines) + "\n" + readme[end:]
