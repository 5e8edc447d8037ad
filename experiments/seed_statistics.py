"""Statistics over model seeds for the campaign reports (`benchmarks/cosal_*.py`).

A campaign cell trained with several seeds is summarised by its mean IoU, the sample standard deviation over
seeds and the standard error of the mean; two cells are compared by the difference of their means and that
difference's standard error, sqrt(se_a² + se_b²) (independent seeds). With one seed there is no spread.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import NamedTuple


class SeedStatistics(NamedTuple):
    """Summary of one cell's values over seeds; `sd` and `se` are None with a single seed."""
    n: int
    mean: float
    sd: float | None
    se: float | None


def over_seeds(values: Sequence[float]) -> SeedStatistics:
    """Mean, sample standard deviation (n − 1) and standard error (sd / √n) of one or more values."""
    values = list(values)
    if not values:
        raise ValueError("over_seeds needs at least one value")
    if len(values) == 1:
        return SeedStatistics(1, values[0], None, None)
    sd = statistics.stdev(values)
    return SeedStatistics(len(values), statistics.mean(values), sd, sd / math.sqrt(len(values)))


def difference(first: SeedStatistics, second: SeedStatistics) -> tuple[float, float | None]:
    """`first.mean − second.mean` and its standard error (None when either side has a single seed)."""
    gap = first.mean - second.mean
    if first.se is None or second.se is None:
        return gap, None
    return gap, math.sqrt(first.se ** 2 + second.se ** 2)
