"""Shared check of `lbie_tf.data.batch_shard` for every training stream: the shards of each global batch,
put back together in pipeline order, are the global batch; each shard holds only its own rows."""

import numpy as np

from lbie_tf.data.batch_shard import BatchShard


def assert_shards_rebuild_the_global_batches(make_dataset, global_batch: int, count: int, steps: int,
                                             start_step: int = 0) -> None:
    """`make_dataset(start_step, shard)` -> batches; compares `steps` batches from `start_step` on."""
    whole = [b for b in make_dataset(start_step, BatchShard()).take(steps)]
    shards = [[b for b in make_dataset(start_step, BatchShard(i, count)).take(steps)] for i in range(count)]
    rows = global_batch // count
    for step, batch in enumerate(whole):
        for key, value in batch.items():
            parts = [shards[i][step][key].numpy() for i in range(count)]
            assert all(part.shape[0] == rows for part in parts), key
            np.testing.assert_array_equal(np.concatenate(parts), value.numpy(), err_msg=f"step {step}, {key}")
        positions = (start_step + step) * global_batch + np.arange(global_batch)
        if "example_id" in batch and np.array_equal(batch["example_id"].numpy(), positions):
            for i in range(count):  # ids that are stream positions: pipeline i got rows [i·rows, (i+1)·rows)
                np.testing.assert_array_equal(shards[i][step]["example_id"], positions[i * rows:(i + 1) * rows])
