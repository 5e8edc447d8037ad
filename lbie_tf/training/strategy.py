"""Choosing a `tf.distribute.Strategy` for the training loop, and whether XLA can be used under it."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from lbie_tf.configs.choices import STRATEGIES
from lbie_tf.errors import ConfigError


def select_strategy(name: str = "auto", devices: Sequence[str] | None = None) -> tf.distribute.Strategy:
    """Returns the distribution strategy named by `--strategy`.

    Args:
        name: one of
            "auto": `MirroredStrategy` over all visible GPUs when there are at least two,
                `OneDeviceStrategy("/gpu:0")` with one GPU, the default strategy otherwise;
            "default": `tf.distribute.get_strategy()` (no distribution, TensorFlow places ops);
            "one_device": `OneDeviceStrategy` on `devices[0]` if given, else the first GPU, else the CPU;
            "mirrored": `MirroredStrategy` over `devices` if given (e.g. `["/cpu:0", "/cpu:1"]` on logical
                CPU devices), else over all visible GPUs.
        devices: device names for "one_device" (exactly one) and "mirrored"; not accepted by the others.

    Raises:
        ConfigError: an unknown name, `devices` where they are not used, or "mirrored" with neither GPUs
            nor devices.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"--strategy={name!r} is not one of {', '.join(STRATEGIES)}")
    if devices is not None and name not in ("one_device", "mirrored"):
        raise ConfigError(f"devices {list(devices)} are only used with --strategy=one_device or mirrored, "
                          f"not {name}")
    gpus = [f"/gpu:{i}" for i in range(len(tf.config.list_logical_devices("GPU")))]
    if name == "auto":
        if len(gpus) >= 2:
            return tf.distribute.MirroredStrategy(gpus)
        if len(gpus) == 1:
            return tf.distribute.OneDeviceStrategy(gpus[0])
        return tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(_single_device(devices, gpus))
    return tf.distribute.MirroredStrategy(_mirrored_devices(devices, gpus))


def jit_compile_supported(strategy: tf.distribute.Strategy) -> bool:
    """Whether `tf.function(jit_compile=True)` can run under `strategy`.

    False with more than one replica: an XLA cluster runs on exactly one device, and under MirroredStrategy
    the compiled step reaches for the other replicas' variables ("Trying to access resource ... located in
    device CPU:1 from device CPU:0"), see docs/tensorflow_notes.md, "XLA".
    """
    return strategy.num_replicas_in_sync == 1


def _single_device(devices: Sequence[str] | None, gpus: list[str]) -> str:
    """The device of a one-device strategy: the one given, else the first GPU, else the CPU."""
    if devices is None:
        return gpus[0] if gpus else "/cpu:0"
    if len(devices) != 1:
        raise ConfigError(f"--strategy=one_device takes exactly one device, got {list(devices)}")
    return devices[0]


def _mirrored_devices(devices: Sequence[str] | None, gpus: list[str]) -> list[str]:
    """The replicas of a mirrored strategy: the devices given, else all GPUs."""
    if devices is not None:
        if not devices:
            raise ConfigError("--strategy=mirrored was given an empty device list; name at least one device")
        return list(devices)
    if not gpus:
        raise ConfigError("--strategy=mirrored needs GPUs and this machine has none visible; use "
                          "--strategy=auto or default, or name devices (e.g. /cpu:0,/cpu:1)")
    return gpus
