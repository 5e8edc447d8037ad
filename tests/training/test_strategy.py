"""Tests of strategy selection (conftest.py provides the logical devices /cpu:0 and /cpu:1)."""

import pytest
import tensorflow as tf

from lbie_tf.errors import ConfigError
from lbie_tf.training import strategy as strategy_lib
from lbie_tf.training.strategy import jit_compile_supported, select_strategy


@pytest.fixture
def fake_gpus(monkeypatch):
    """Pretends `n` GPUs are visible and records the strategies built instead of building them."""
    built = []

    def install(n):
        real = tf.config.list_logical_devices
        monkeypatch.setattr(strategy_lib.tf.config, "list_logical_devices",
                            lambda kind=None: [object()] * n if kind == "GPU" else real(kind))
        monkeypatch.setattr(strategy_lib.tf.distribute, "MirroredStrategy",
                            lambda devices: built.append(("mirrored", devices)) or "mirrored")
        monkeypatch.setattr(strategy_lib.tf.distribute, "OneDeviceStrategy",
                            lambda device: built.append(("one_device", device)) or "one_device")
        return built

    return install


def test_auto_without_gpu_is_the_default_strategy():
    assert select_strategy("auto") is tf.distribute.get_strategy()
    assert select_strategy("default") is tf.distribute.get_strategy()


@pytest.mark.parametrize("num_gpus, expected", [
    (1, [("one_device", "/gpu:0")]),
    (2, [("mirrored", ["/gpu:0", "/gpu:1"])]),
    (3, [("mirrored", ["/gpu:0", "/gpu:1", "/gpu:2"])]),
])
def test_auto_uses_the_gpus(fake_gpus, num_gpus, expected):
    built = fake_gpus(num_gpus)
    select_strategy("auto")
    assert built == expected


def test_mirrored_and_one_device_default_to_gpus(fake_gpus):
    built = fake_gpus(2)
    select_strategy("mirrored")
    select_strategy("one_device")
    assert built == [("mirrored", ["/gpu:0", "/gpu:1"]), ("one_device", "/gpu:0")]


def test_one_device_without_gpu_uses_the_cpu():
    strategy = select_strategy("one_device")
    assert isinstance(strategy, tf.distribute.OneDeviceStrategy)
    assert strategy.extended.worker_devices[0].endswith("CPU:0")
    assert jit_compile_supported(strategy)


def test_mirrored_on_logical_cpus():
    strategy = select_strategy("mirrored", ["/cpu:0", "/cpu:1"])
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert strategy.num_replicas_in_sync == 2
    assert not jit_compile_supported(strategy)
    # No cross-replica reduction here: only one MirroredStrategy per process may run collectives.
    replica_id = lambda: tf.distribute.get_replica_context().replica_id_in_sync_group  # noqa: E731
    ids = tf.function(lambda: strategy.run(replica_id))()
    assert sorted(int(x) for x in strategy.experimental_local_results(ids)) == [0, 1]


def test_jit_supported_on_the_default_strategy():
    assert jit_compile_supported(tf.distribute.get_strategy())


@pytest.mark.parametrize("name, devices, message", [
    ("mirored", None, "is not one of"),
    ("mirrored", None, "needs GPUs"),
    ("mirrored", [], "empty device list"),
    ("one_device", ["/cpu:0", "/cpu:1"], "exactly one device"),
    ("default", ["/cpu:0"], "only used with"),
])
def test_config_errors_are_one_line(name, devices, message):
    with pytest.raises(ConfigError, match=message) as info:
        select_strategy(name, devices)
    assert "\n" not in str(info.value)
