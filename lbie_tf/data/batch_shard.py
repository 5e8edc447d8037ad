"""Which rows of every global training batch one input pipeline builds (several machines).

Under `MultiWorkerMirroredStrategy` each worker runs its own input pipeline. The global batch t of the
training stream holds the examples at stream positions `[t·b, (t+1)·b)`; pipeline i of n builds only the rows
`[i·b/n, (i+1)·b/n)` of it, i.e. the positions whose row `position mod b` falls in that range, and nothing
else (no image of another worker's rows is generated, read or decoded). Put back together in pipeline order,
the n shards are the global batch a single process builds, so a cluster trains on the same stream as one
process at the same global batch size.

Every training stream here (`cosal`, `flowers`, `referit`) numbers its examples by stream position and
keeps this pipeline's positions with `BatchShard.select` before it builds any example.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from lbie_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class BatchShard:
    """The share of every global batch that input pipeline `index` of `count` builds.

    Args:
        index: the input pipeline, 0 .. count - 1 (`tf.distribute.InputContext.input_pipeline_id`).
        count: input pipelines in all (`InputContext.num_input_pipelines`); 1 (the default) is the whole batch.
    """

    index: int = 0
    count: int = 1

    def __post_init__(self):
        if not 0 <= self.index < self.count:
            raise ConfigError(f"input pipeline {self.index} of {self.count} does not exist")

    def rows(self, global_batch: int) -> int:
        """Rows of each global batch this pipeline builds: `global_batch / count`."""
        if global_batch % self.count:
            raise ConfigError(f"the global batch size {global_batch} must be divisible by the number of input "
                              f"pipelines ({self.count})")
        return global_batch // self.count

    def keep(self, position: tf.Tensor, global_batch: int) -> tf.Tensor:
        """Whether the example at stream `position` (int64 scalar) is in this pipeline's rows: bool scalar."""
        rows = self.rows(global_batch)
        row = tf.math.floormod(position, global_batch)
        return (row >= self.index * rows) & (row < (self.index + 1) * rows)

    def select(self, stream: tf.data.Dataset, global_batch: int, position=None) -> tf.data.Dataset:
        """The elements of `stream` (starting at a multiple of `global_batch`) in this pipeline's rows; the
        whole stream when `count` is 1. `position(element)` is an element's int64 stream position (default:
        the element itself)."""
        self.rows(global_batch)  # checked here, not inside the traced filter
        if self.count == 1:
            return stream
        position = position or (lambda element: element)
        return stream.filter(lambda element: self.keep(position(element), global_batch))


WHOLE_BATCH = BatchShard()
