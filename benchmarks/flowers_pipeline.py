"""Flowers data: build speed, training-pipeline throughput, and the colorization metrics of trivial colorizers.

Without `--manual_dir` it writes a synthetic manual dir in the real layout (tests/datasets/flowers_fixture.py:
6 classes, photo-sized JPEGs of one-colour flowers on green, 10 captions each) and measures on that; with
`--manual_dir` pointing at the real downloads it measures the real data. The metrics table scores three
colorizers that need no training on the test split: the ground truth itself, "grey" (ab = 0, what a
text-free model that hedges tends towards) and "mean ab" (the training split's mean ab everywhere).

Usage (from the repository root):
    .venv/bin/python -m benchmarks.flowers_pipeline --images_per_class 20 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from benchmarks.cosal_generation import images_per_second  # noqa: E402
from lbie_tf.data import color_space, flowers  # noqa: E402
from lbie_tf.evaluation import colorization_metrics as metrics  # noqa: E402
from tests.datasets.flowers_fixture import write_flowers_fixture  # noqa: E402


def to_rgb(gray: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Network scaling `[batch, S, S, 1]` + `[batch, S, S, 2]` -> sRGB `[batch, S, S, 3]` in [0, 1]."""
    lab = color_space.denormalize_lab(tf.concat([gray, ab], axis=-1))
    return color_space.lab_to_rgb(lab).numpy()


def trivial_colorizer_metrics(config: flowers.FlowersConfig, batches: int) -> dict[str, dict[str, float]]:
    mean_ab = np.mean([b["ab"].numpy().mean(axis=(0, 1, 2)) for b in flowers.train_dataset(config, 16).take(4)],
                      axis=0)
    scores: dict[str, dict[str, list]] = {name: {} for name in ("ground truth", "grey (ab = 0)", "mean ab")}
    for batch in flowers.test_dataset(config, 16).take(batches):
        gray, ab = batch["gray"].numpy(), batch["ab"].numpy()
        truth = to_rgb(gray, ab)
        captions = [c.decode() for c in batch["caption"].numpy()]
        outputs = {"ground truth": truth, "grey (ab = 0)": to_rgb(gray, np.zeros_like(ab)),
                   "mean ab": to_rgb(gray, np.broadcast_to(mean_ab, ab.shape).astype(np.float32))}
        for name, rgb in outputs.items():
            consistency = metrics.caption_colour_consistency(rgb, captions)
            values = {"PSNR": metrics.psnr(rgb, truth), "SSIM": metrics.ssim(rgb, truth),
                      "colourfulness": metrics.colourfulness(rgb)}
            for key, value in values.items():
                scores[name].setdefault(key, []).extend(value)  # PSNR of identical images: inf
            scores[name].setdefault("matches", []).append(consistency["num_matches"])
            scores[name].setdefault("words", []).append(consistency["num_words"])
    return {name: {"PSNR": float(np.mean(s["PSNR"])), "SSIM": float(np.mean(s["SSIM"])),
                   "colourfulness": float(np.mean(s["colourfulness"])),
                   "consistency": sum(s["matches"]) / max(sum(s["words"]), 1)} for name, s in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manual_dir", default="", help="real downloads; default: a synthetic fixture")
    parser.add_argument("--images_per_class", type=int, default=20, help="synthetic fixture size")
    parser.add_argument("--scale", type=int, default=12, help="synthetic image size multiplier (12: ~500x600)")
    parser.add_argument("--image_size", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--metric_batches", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        manual = args.manual_dir or write_flowers_fixture(root, images_per_class=args.images_per_class,
                                                          scale=args.scale)
        config = flowers.FlowersConfig(data_dir=os.path.join(root, "data"), manual_dir=manual,
                                       image_size=args.image_size)
        start = time.perf_counter()
        builder = flowers.load_builder(config)
        build_seconds = time.perf_counter() - start
        images = sum(split.num_examples for split in builder.info.splits.values())
        print(f"data: {'real' if args.manual_dir else 'synthetic fixture'}, {images} images")
        print(f"build: {images / build_seconds:.1f} images/s ({build_seconds:.1f} s)")
        rate = images_per_second(flowers.train_dataset(config, args.batch_size), args.batch_size, args.seconds)
        print(f"train_dataset at {args.image_size}x{args.image_size}, batch {args.batch_size}: {rate:.1f} examples/s")
        print(f"{'colorizer':<16}{'PSNR dB':>9}{'SSIM':>7}{'colourful':>11}{'consistency':>13}")
        for name, row in trivial_colorizer_metrics(config, args.metric_batches).items():
            print(f"{name:<16}{row['PSNR']:>9.2f}{row['SSIM']:>7.3f}{row['colourfulness']:>11.1f}"
                  f"{row['consistency']:>13.3f}")


if __name__ == "__main__":
    main()
