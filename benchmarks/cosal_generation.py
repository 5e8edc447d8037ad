"""Measures CoSaL generation throughput (images per second) of `lbie_tf.data.cosal.train_dataset`.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.cosal_generation --batch_sizes 64,128,256 --seconds 5
"""

from __future__ import annotations

import argparse
import time

import tensorflow as tf

from lbie_tf.data import cosal


def images_per_second(dataset: tf.data.Dataset, batch_size: int, seconds: float, warmup_batches: int = 5) -> float:
    """Iterates an endless batched `dataset` for about `seconds` after a warm-up; returns examples/s."""
    iterator = iter(dataset)
    for _ in range(warmup_batches):
        next(iterator)
    batches, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(iterator)
        batches += 1
    return batches * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_sizes", default="64,128,256")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--num_direct", type=int, default=4)
    parser.add_argument("--image_size", type=int, default=48)
    args = parser.parse_args()
    config = cosal.CosalConfig(num_direct=args.num_direct, image_size=args.image_size)
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        rate = images_per_second(cosal.train_dataset(config, batch_size), batch_size, args.seconds)
        print(f"batch {batch_size:4d}: {rate:9.0f} images/s")


if __name__ == "__main__":
    main()
